//! The page for any unknown path.

use leptos::prelude::*;
use leptos_meta::Title;

/// 404 body.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found" />
        <main class="auth-page">
            <div class="card">
                <h1>"Page not found"</h1>
                <p>"There is nothing at this address. " <a href="/">"Go to the dashboard"</a></p>
            </div>
        </main>
    }
}
