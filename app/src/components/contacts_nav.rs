//! The tabs of the Contacts section.

use leptos::prelude::*;

/// Links between the Contacts pages.
#[component]
pub fn ContactsNav() -> impl IntoView {
    view! {
        <nav class="subnav" aria-label="Contacts">
            <a href="/contacts">"All contacts"</a>
            <a href="/contacts/new">"Add a contact"</a>
            <a href="/contacts/import">"Import"</a>
            <a href="/contacts/segments">"Segments"</a>
        </nav>
    }
}
