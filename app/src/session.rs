//! The signed-in user and the CSRF token of the current page.
//!
//! The server's middleware decides both and attaches a [`PageSession`] to the request; the shell
//! writes them into `<meta>` tags, and the hydrated app reads them back from there. Sign-in and
//! sign-out are full-page form posts, so the values never change under a hydrated page.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Name of the hidden form field (and of the `x-csrf-token` header's value) that carries the
/// CSRF token on every state-changing request.
pub const CSRF_FIELD: &str = "csrf_token";

/// What a page may know about the session behind it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageSession {
    /// The signed-in account, if any.
    pub username: Option<String>,
    /// Token to echo back in state-changing requests.
    pub csrf_token: String,
}

impl PageSession {
    /// The session of the request being rendered (server) or of the loaded page (browser).
    pub fn current() -> Self {
        #[cfg(feature = "ssr")]
        {
            use_context::<http::request::Parts>()
                .and_then(|parts| parts.extensions.get::<PageSession>().cloned())
                .unwrap_or_default()
        }
        #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
        {
            let meta = |name: &str| {
                document()
                    .query_selector(&format!("meta[name={name}]"))
                    .ok()
                    .flatten()
                    .and_then(|el| el.get_attribute("content"))
                    .unwrap_or_default()
            };
            let username = meta("herald-user");
            PageSession {
                username: (!username.is_empty()).then_some(username),
                csrf_token: meta("herald-csrf"),
            }
        }
        #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
        {
            PageSession::default()
        }
    }
}

/// The hidden input that every state-changing `<form>` must contain.
#[component]
pub fn CsrfField() -> impl IntoView {
    view! { <input type="hidden" name=CSRF_FIELD value=PageSession::current().csrf_token /> }
}
