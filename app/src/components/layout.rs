//! The frame around every signed-in page: brand, navigation, account menu.

use leptos::prelude::*;
use leptos_router::components::{Outlet, A};

use crate::components::theme_toggle::ThemeToggle;
use crate::session::{CsrfField, PageSession};

/// The sections of Herald, in navigation order.
pub const SECTIONS: [(&str, &str); 6] = [
    ("/", "Dashboard"),
    ("/templates", "Templates"),
    ("/contacts", "Contacts"),
    ("/campaigns", "Campaigns"),
    ("/conversations", "Conversations"),
    ("/settings", "Settings"),
];

/// Navigation plus the routed page.
#[component]
pub fn Layout() -> impl IntoView {
    let session = PageSession::current();
    view! {
        <div class="app">
            <header class="topbar">
                <a class="brand" href="/">
                    <span class="brand-mark" aria-hidden="true">"H"</span>
                    "Herald"
                </a>
                <nav class="nav" aria-label="Sections">
                    {SECTIONS
                        .into_iter()
                        .map(|(href, label)| view! { <A href=href exact=true>{label}</A> })
                        .collect_view()}
                </nav>
                <div class="account">
                    <ThemeToggle />
                    <span class="account-name" data-testid="account-name">
                        {session.username.unwrap_or_default()}
                    </span>
                    <form method="post" action="/auth/logout">
                        <CsrfField />
                        <button type="submit" class="button button-quiet">"Log out"</button>
                    </form>
                </div>
            </header>
            <main class="content">
                <Outlet />
            </main>
        </div>
    }
}
