//! The tabs of the Campaigns section.

use leptos::prelude::*;

/// Links between the Campaigns pages.
#[component]
pub fn CampaignsNav() -> impl IntoView {
    view! {
        <nav class="subnav" aria-label="Campaigns">
            <a href="/campaigns">"All campaigns"</a>
            <a href="/campaigns/new" data-testid="new-campaign">"New campaign"</a>
            <a href="/campaigns/settings">"Sending limits and prices"</a>
        </nav>
    }
}
