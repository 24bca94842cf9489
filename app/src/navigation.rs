//! Full-page navigation and confirmation dialogs for actions that run in the browser. On the
//! server these do nothing (event handlers and actions never run there), so pages can call them
//! without `cfg` of their own.

/// The browser window, when there is one.
fn window() -> Option<web_sys::Window> {
    #[cfg(feature = "hydrate")]
    {
        web_sys::window()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        None
    }
}

/// Loads `path` as a new page: after a change that alters what the page shows as a whole
/// (created, cloned, deleted), a fresh server render is simpler and surer than patching state.
pub fn go_to(path: &str) {
    if let Some(w) = window() {
        let _ = w.location().set_href(path);
    }
}

/// Renders the current page again from the server.
pub fn reload() {
    if let Some(w) = window() {
        let _ = w.location().reload();
    }
}

/// Asks the user to confirm `message`; false when there is no browser or they decline.
pub fn confirm(message: &str) -> bool {
    window()
        .and_then(|w| w.confirm_with_message(message).ok())
        .unwrap_or(false)
}
