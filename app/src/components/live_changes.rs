//! Follows the inbox's change stream (`/conversations/events`) in the browser: every `changed`
//! event bumps a counter, which the page's resources read, so a new message shows without a
//! reload or a polling loop. Optionally tells the user with a browser notification.

use leptos::prelude::*;

/// A counter bumped on each change to the conversations `url` streams (never on the server).
/// `notify`: show a browser notification for each change while the page is hidden, when the
/// user allowed them.
pub fn follow_changes(url: String, notify: bool) -> ReadSignal<u32> {
    let (version, set_version) = signal(0u32);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        use wasm_bindgen::closure::Closure;
        use wasm_bindgen::JsCast;
        let Ok(source) = web_sys::EventSource::new(&url) else {
            return;
        };
        let on_change = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
            move |_event: web_sys::MessageEvent| {
                set_version.update(|v| *v = v.wrapping_add(1));
                if notify {
                    tell_if_hidden();
                }
            },
        );
        let _ =
            source.add_event_listener_with_callback("changed", on_change.as_ref().unchecked_ref());
        on_change.forget();
        let source = StoredValue::new_local(source);
        on_cleanup(move || source.with_value(web_sys::EventSource::close));
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (url, notify, set_version);
    version
}

/// A browser notification, when the page is hidden and the user allowed them.
#[cfg(feature = "hydrate")]
fn tell_if_hidden() {
    let hidden = web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.hidden());
    if hidden && web_sys::Notification::permission() == web_sys::NotificationPermission::Granted {
        let _ = web_sys::Notification::new("Herald: a conversation changed");
    }
}

/// Asks the browser for permission to notify (a click handler calls it: browsers ask only
/// after a user gesture).
pub fn ask_to_notify() {
    #[cfg(feature = "hydrate")]
    if let Ok(promise) = web_sys::Notification::request_permission() {
        let _ = promise;
    }
}
