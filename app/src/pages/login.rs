//! Sign-in form. It posts to `/auth/login` as a plain HTML form, so it works before (or without)
//! the wasm; the server redirects back here with `?error=` when sign-in fails.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::session::CsrfField;

/// Explains an `error` code the server redirected with.
fn error_message(code: &str, retry_after: Option<String>) -> Option<String> {
    Some(match code {
        "invalid" => "Wrong username or password.".to_string(),
        "throttled" => format!(
            "Too many sign-in attempts. Wait {} seconds and try again.",
            retry_after.unwrap_or_else(|| "a few".into())
        ),
        "csrf" => "The form expired. Please sign in again.".to_string(),
        "" => return None,
        _ => "Sign-in failed. Please try again.".to_string(),
    })
}

/// `/login`.
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let read = move |key: &str| query.with_untracked(|q| q.get(key)).unwrap_or_default();
    let error = error_message(
        &read("error"),
        Some(read("retry_after")).filter(|s| !s.is_empty()),
    );
    let notice = match read("notice").as_str() {
        "created" => Some("Your account is ready. Sign in to continue."),
        "signed_out" => Some("You have signed out."),
        _ => None,
    };
    let next = read("next");
    view! {
        <Title text="Sign in" />
        <main class="auth-page">
            <form class="card auth-card" method="post" action="/auth/login">
                <h1>"Sign in to Herald"</h1>
                {notice.map(|n| view! { <p class="notice" role="status">{n}</p> })}
                {error.map(|e| view! { <p class="error" role="alert" data-testid="login-error">{e}</p> })}
                <CsrfField />
                <input type="hidden" name="next" value=next />
                <label for="username">"Username"</label>
                <input id="username" name="username" autocomplete="username" required autofocus />
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="current-password" required />
                <button type="submit" class="button button-primary">"Sign in"</button>
            </form>
        </main>
    }
}
