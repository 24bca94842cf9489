//! Sections whose features have not landed yet. Each says plainly what will live there; none shows
//! invented data.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::empty_state::EmptyState;

/// `/campaigns`.
#[component]
pub fn CampaignsPage() -> impl IntoView {
    view! {
        <Title text="Campaigns" />
        <h1>"Campaigns"</h1>
        <EmptyState title="No campaigns yet">
            <p>"Send an approved template to a segment, now or on a schedule, throttled to your "
               "number's throughput and messaging limit, and follow delivery live here."</p>
        </EmptyState>
    }
}

/// `/conversations`.
#[component]
pub fn ConversationsPage() -> impl IntoView {
    view! {
        <Title text="Conversations" />
        <h1>"Conversations"</h1>
        <EmptyState title="No conversations yet">
            <p>"Replies from your contacts will arrive here, with the 24-hour customer-service "
               "window shown for each, so you can answer with free text or a session reply."</p>
        </EmptyState>
    }
}
