//! `/settings/webhooks`: what arrived at the webhook endpoints, whether it was applied, why not,
//! and a button to process a failed payload again (after an upgrade that understands it).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::whatsapp::{webhook_log, ReprocessWebhook, WebhookLogEntry};
use crate::components::settings_nav::SettingsNav;
use crate::session::PageSession;

/// `/settings/webhooks`.
#[component]
pub fn WebhookLogPage() -> impl IntoView {
    let reprocess = ServerAction::<ReprocessWebhook>::new();
    let log = Resource::new(move || reprocess.version().get(), |_| webhook_log());
    view! {
        <Title text="Webhook log" />
        <h1>"Settings"</h1>
        <SettingsNav />
        <h2>"Webhook log"</h2>
        <p class="muted">"The latest 50 payloads received, newest first. Every signed payload is stored before it is acknowledged, then applied by a background worker; one that could not be read stays here with its error."</p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match log.await {
                    Ok(rows) if rows.is_empty() => view! {
                        <p class="notice">"Nothing received yet. Send a test message from a connection to see its delivery reports arrive."</p>
                    }.into_any(),
                    Ok(rows) => view! {
                        <table class="table" data-testid="webhook-log">
                            <thead><tr><th>"Received"</th><th>"Connection"</th><th>"Size"</th><th>"State"</th><th></th></tr></thead>
                            <tbody>{rows.into_iter().map(|e| view! { <LogRow entry=e reprocess=reprocess /> }).collect_view()}</tbody>
                        </table>
                    }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn LogRow(entry: WebhookLogEntry, reprocess: ServerAction<ReprocessWebhook>) -> impl IntoView {
    let csrf = PageSession::current().csrf_token;
    let id = entry.id.clone();
    let state = match (&entry.state[..], entry.events) {
        ("processed", Some(n)) => format!("processed ({n} events)"),
        (other, _) => other.to_string(),
    };
    let failed = entry.state == "failed";
    view! {
        <tr data-testid="webhook-row" data-state=entry.state.clone()>
            <td><time data-ms=entry.received_at_ms.to_string()>{format_utc(entry.received_at_ms)}</time></td>
            <td>{entry.connection}</td>
            <td>{format!("{} B", entry.size)}</td>
            <td>
                <span class=format!("status status-{}", entry.state)>{state}</span>
                {entry.error.map(|e| view! { <pre class="error">{e}</pre> })}
            </td>
            <td>
                {failed.then(|| view! {
                    <button class="button" on:click=move |_| {
                        reprocess.dispatch(ReprocessWebhook { csrf_token: csrf.clone(), id: id.clone() });
                    }>"Process again"</button>
                })}
            </td>
        </tr>
    }
}

/// Unix ms → `2026-11-23 14:05:09 UTC`, identical on server and browser.
/// `YYYY-MM-DD HH:MM:SS UTC`.
pub fn format_utc(ms: i64) -> String {
    format!(
        "{} {} UTC",
        domain::clock::iso_date(ms),
        domain::clock::format_time_of_day(ms, 0)
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_render_as_utc_dates() {
        assert_eq!(super::format_utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(
            super::format_utc(1_795_442_709_000),
            "2026-11-23 14:05:09 UTC"
        );
    }
}
