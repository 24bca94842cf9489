//! The setup, sign-in and sign-out form posts. They answer with redirects (post/redirect/get), so
//! they work as plain HTML forms with or without the wasm.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::{client_ip, cookies, AppState};
use crate::accounts::{LoginError, SessionToken, SetupError, SESSION_TTL_MS};

/// Setup form fields.
#[derive(Deserialize)]
pub struct SetupForm {
    username: String,
    password: String,
    password_confirm: String,
}

/// Sign-in form fields.
#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: String,
}

/// `POST /auth/setup`: creates the owner account, then sends them to sign in.
pub async fn setup(State(state): State<AppState>, Form(form): Form<SetupForm>) -> Response {
    match state
        .accounts
        .create_owner(&form.username, &form.password, &form.password_confirm)
        .await
    {
        Ok(account) => {
            tracing::info!(account = %account.username, "owner account created");
            Redirect::to("/login?notice=created").into_response()
        }
        Err(SetupError::Invalid(problems)) => {
            let rules: Vec<_> = problems.iter().map(|p| p.rule).collect();
            tracing::info!(?rules, "setup form rejected");
            Redirect::to("/setup?error=invalid").into_response()
        }
        Err(SetupError::AlreadySetUp) => Redirect::to("/login").into_response(),
        Err(SetupError::Internal(error)) => internal(&error),
    }
}

/// `POST /auth/login`: throttled per client address and per account name.
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = safe_next(&form.next);
    let ip = client_ip(&state.config, peer, &headers);
    let account_key = form.username.trim().to_lowercase();
    if let Err(wait) = state.throttle.check(ip, &account_key) {
        let seconds = wait.as_secs().max(1);
        tracing::warn!(%ip, retry_after_s = seconds, "sign-in throttled");
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("error", "throttled")
            .append_pair("retry_after", &seconds.to_string())
            .append_pair("next", next)
            .finish();
        return Redirect::to(&format!("/login?{query}")).into_response();
    }
    match state.accounts.login(&form.username, &form.password).await {
        Ok((account, token)) => {
            tracing::info!(account = %account.username, %ip, "signed in");
            let secure = cookies::must_be_secure(&state.config, &headers);
            let cookie = cookies::set(
                cookies::SESSION,
                token.expose(),
                secure,
                Some(SESSION_TTL_MS / 1000),
            );
            ([(header::SET_COOKIE, cookie)], Redirect::to(next)).into_response()
        }
        Err(LoginError::Invalid) => {
            tracing::info!(%ip, "sign-in failed: wrong username or password");
            let query = form_urlencoded::Serializer::new(String::new())
                .append_pair("error", "invalid")
                .append_pair("next", next)
                .finish();
            Redirect::to(&format!("/login?{query}")).into_response()
        }
        Err(LoginError::Internal(error)) => internal(&error),
    }
}

/// `POST /auth/logout`: ends the session (if any) and clears the cookie.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = cookies::read(&headers, cookies::SESSION) {
        if let Err(error) = state
            .accounts
            .logout(&SessionToken::from_cookie(&token))
            .await
        {
            return internal(&error.to_string());
        }
    }
    let secure = cookies::must_be_secure(&state.config, &headers);
    let clear = cookies::set(cookies::SESSION, "", secure, Some(0));
    (
        [(header::SET_COOKIE, clear)],
        Redirect::to("/login?notice=signed_out"),
    )
        .into_response()
}

/// Where to go after sign-in: a path of this site, so the form cannot be used as an open redirect.
/// Only printable ASCII without spaces or backslashes is accepted: browsers drop tabs and newlines
/// from a `Location` (`/\t/evil.example` becomes `//evil.example`) and a header cannot carry CR,
/// LF or DEL at all; anything else goes to `/`.
fn safe_next(next: &str) -> &str {
    let printable = next.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    let local = next.starts_with('/') && !next.starts_with("//");
    if printable && local && !next.starts_with("/auth/") {
        next
    } else {
        "/"
    }
}

fn internal(error: &str) -> Response {
    tracing::error!(%error, "account operation failed");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal error; see the server log",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next("/campaigns?page=2"), "/campaigns?page=2");
        for hostile in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "",
            "/auth/logout",
            "/\t/evil.example",
            "/\n/evil.example",
            "/campaigns\r\nSet-Cookie: x=y",
            "/campaigns\u{7f}",
            "/ /evil.example",
            "/caf\u{e9}",
        ] {
            assert_eq!(safe_next(hostile), "/", "{hostile}");
        }
    }
}
