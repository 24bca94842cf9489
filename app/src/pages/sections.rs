//! Sections whose features have not landed yet. Each says plainly what will live there; none shows
//! invented data.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::empty_state::EmptyState;

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
