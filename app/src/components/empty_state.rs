//! The honest placeholder for a section that has no data (or no feature) yet.

use leptos::prelude::*;

/// A titled box explaining what will appear here and why it is empty now.
#[component]
pub fn EmptyState(
    /// Headline, e.g. "No templates yet".
    title: &'static str,
    /// What will live here and how it gets filled.
    children: Children,
) -> impl IntoView {
    view! {
        <section class="empty-state">
            <h2>{title}</h2>
            {children()}
        </section>
    }
}
