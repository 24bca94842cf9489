//! `/`: the installation at a glance.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::system_overview;
use crate::components::{clock::ServerClockView, empty_state::EmptyState};

/// Dashboard page.
#[component]
pub fn DashboardPage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| system_overview());
    view! {
        <Title text="Dashboard" />
        <h1>"Dashboard"</h1>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(o) => view! {
                        <div class="grid">
                            <section class="card">
                                <h2>"Server time"</h2>
                                <ServerClockView clock=o.clock />
                            </section>
                            <section class="card" data-testid="storage-card">
                                <h2>"Storage"</h2>
                                <dl class="facts">
                                    <dt>"Data directory"</dt><dd><code>{o.storage.data_dir}</code></dd>
                                    <dt>"Size on disk"</dt><dd>{format_bytes(o.storage.size_on_disk)}</dd>
                                    <dt>"Schema version"</dt><dd>{o.storage.schema_version}</dd>
                                    <dt>"Herald version"</dt><dd>{o.version}</dd>
                                </dl>
                            </section>
                        </div>
                    }.into_any(),
                    Err(e) => view! {
                        <p class="error" role="alert">"Could not load the overview: " {e.to_string()}</p>
                    }.into_any(),
                }
            })}
        </Suspense>
        <EmptyState title="No campaigns yet">
            <p>"Delivery, read and reply figures of your campaigns will appear here once you "
               "connect a WhatsApp number and launch a campaign."</p>
        </EmptyState>
    }
}

/// `1536` → `1.5 KiB`.
fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn bytes_are_shown_in_binary_units() {
        assert_eq!(super::format_bytes(512), "512 B");
        assert_eq!(super::format_bytes(1536), "1.5 KiB");
        assert_eq!(super::format_bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }
}
