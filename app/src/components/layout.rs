//! The frame around every signed-in page: brand, navigation, account menu.

use leptos::prelude::*;
use leptos_router::components::{Outlet, A};

use crate::api::conversations::unread_conversations;
use crate::components::live_changes::follow_changes;
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
    // Conversations with unread messages, counted in the browser (no page waits for it) and
    // recounted whenever one changes.
    let unread = RwSignal::new(0usize);
    let changes = follow_changes("/conversations/events".into(), false);
    Effect::new(move |_| {
        changes.track();
        leptos::task::spawn_local(async move {
            if let Ok(count) = unread_conversations().await {
                unread.set(count);
            }
        });
    });
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
                        .map(|(href, label)| {
                            let badge = (href == "/conversations").then(|| view! {
                                {move || (unread.get() > 0).then(|| view! {
                                    " "<span class="badge badge-unread" data-testid="nav-unread"
                                        aria-label=format!("{} conversations unread", unread.get())>{unread.get()}</span>
                                })}
                            });
                            view! { <A href=href exact=true>{label}{badge}</A> }
                        })
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
