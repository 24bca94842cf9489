//! The tabs of the Settings section.

use leptos::prelude::*;

/// Links between the Settings pages.
#[component]
pub fn SettingsNav() -> impl IntoView {
    view! {
        <nav class="subnav" aria-label="Settings">
            <a href="/settings">"WhatsApp connections"</a>
            <a href="/settings/webhooks">"Webhook log"</a>
        </nav>
    }
}
