//! Light/dark switch; the choice is kept in the browser's local storage.

use leptos::prelude::*;

/// A button that flips `data-theme` on `<html>`.
#[component]
pub fn ThemeToggle() -> impl IntoView {
    let dark = RwSignal::new(false);
    Effect::new(move |_| {
        let current = document()
            .document_element()
            .and_then(|el| el.get_attribute("data-theme"));
        dark.set(current.as_deref() == Some("dark"));
    });
    let toggle = move |_| {
        let next = !dark.get_untracked();
        dark.set(next);
        let theme = if next { "dark" } else { "light" };
        if let Some(el) = document().document_element() {
            let _ = el.set_attribute("data-theme", theme);
        }
        if let Ok(Some(storage)) = window().local_storage() {
            let _ = storage.set_item("herald-theme", theme);
        }
    };
    view! {
        <button
            type="button"
            class="button button-quiet theme-toggle"
            data-testid="theme-toggle"
            aria-pressed=move || dark.get().to_string()
            on:click=toggle
        >
            {move || if dark.get() { "Light theme" } else { "Dark theme" }}
        </button>
    }
}
