//! Cross-site request forgery protection for every state-changing request.
//!
//! Double-submit token: each browser gets a random token in the HttpOnly `herald_csrf` cookie;
//! pages embed the same token (see `app::session`), and every POST, PUT, PATCH or DELETE must echo
//! it: in the `x-csrf-token` header, or as the `csrf_token` field of a url-encoded form or of a
//! JSON object body (server functions with JSON input).
//! A cross-site page can make the browser send the cookie but cannot read it to echo it. Meta's
//! webhooks are exempt: they authenticate by signature instead; so is the sandbox's Graph API,
//! which authenticates by bearer token.

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rand::RngCore;
use subtle::ConstantTimeEq;

use super::access::{access, Access};
use super::{cookies, AppState};

/// Largest form body inspected for the token; forms that need more send the header instead.
const FORM_LIMIT_BYTES: usize = 256 * 1024;
/// Header alternative to the form field, for `fetch` callers.
pub const HEADER: &str = "x-csrf-token";
/// How long the browser keeps the token cookie.
const COOKIE_MAX_AGE_S: i64 = 365 * 24 * 3600;

/// The request's CSRF token, for pages to embed.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Open paths authenticate without cookies (signed webhooks, the sandbox's bearer token), so a
/// forged cross-site request gains nothing there.
fn is_exempt(path: &str) -> bool {
    access(path) == Access::Open
}

/// Middleware: issues the token cookie and rejects unsafe requests that do not echo it.
pub async fn protect(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let existing = cookies::read(req.headers(), cookies::CSRF).filter(|t| t.len() == 43);
    let token = existing.clone().unwrap_or_else(generate);
    req.extensions_mut().insert(CsrfToken(token.clone()));

    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method && !is_exempt(req.uri().path()) {
        let (parts, body) = req.into_parts();
        let (supplied, body) = match supplied_token(&parts, body).await {
            Ok(found) => found,
            Err(response) => return response,
        };
        let valid = match (&existing, &supplied) {
            (Some(expected), Some(given)) => {
                bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
            }
            _ => false,
        };
        if !valid {
            tracing::warn!(path = %parts.uri.path(), "rejected a request without a valid CSRF token");
            return rejection();
        }
        req = Request::from_parts(parts, body);
    }

    let secure = cookies::must_be_secure(&state.config, req.headers());
    // Open paths (assets, health, webhooks) never need the token: no cookie on cacheable files.
    let wants_cookie = !is_exempt(req.uri().path());
    let mut response = next.run(req).await;
    if existing.is_none() && wants_cookie {
        response.headers_mut().append(
            header::SET_COOKIE,
            cookies::set(cookies::CSRF, &token, secure, Some(COOKIE_MAX_AGE_S)),
        );
    }
    response
}

/// The token from the header or the url-encoded body, and the body to pass on unchanged.
async fn supplied_token(
    parts: &axum::http::request::Parts,
    body: Body,
) -> Result<(Option<String>, Body), Response> {
    if let Some(value) = parts.headers.get(HEADER).and_then(|v| v.to_str().ok()) {
        return Ok((Some(value.to_string()), body));
    }
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let is_form = content_type.starts_with("application/x-www-form-urlencoded");
    let is_json = content_type.starts_with("application/json");
    if !is_form && !is_json {
        return Ok((None, body));
    }
    let bytes = to_bytes(body, FORM_LIMIT_BYTES)
        .await
        .map_err(|_| (StatusCode::PAYLOAD_TOO_LARGE, "form body too large").into_response())?;
    let token = if is_form {
        form_urlencoded::parse(&bytes)
            .find(|(key, _)| key == app::session::CSRF_FIELD)
            .map(|(_, value)| value.into_owned())
    } else {
        // JSON server functions carry the token as their top-level `csrf_token` argument.
        serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| {
                v.get(app::session::CSRF_FIELD)?
                    .as_str()
                    .map(str::to_string)
            })
    };
    Ok((token, Body::from(bytes)))
}

fn rejection() -> Response {
    (
        StatusCode::FORBIDDEN,
        Html(
            "<!DOCTYPE html><title>Request refused</title><h1>Request refused</h1>\
             <p>This form expired or was sent from another site. \
             <a href=\"/\">Reload Herald</a> and try again.</p>",
        ),
    )
        .into_response()
}
