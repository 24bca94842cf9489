//! Herald's cookies: how they are read and the attributes they are always set with.

use axum::http::{header, HeaderMap, HeaderValue};
use cookie::{Cookie, SameSite};

use crate::config::Config;

/// Holds the session token.
pub const SESSION: &str = "herald_session";
/// Holds the CSRF token (double-submit: forms echo it back).
pub const CSRF: &str = "herald_csrf";

/// The value of cookie `name` from the request, if present.
pub fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// Whether cookies must be `Secure`: Herald's public URL is https, or the reverse proxy in front
/// says the request arrived over https.
pub fn must_be_secure(config: &Config, headers: &HeaderMap) -> bool {
    config.is_https()
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/, Secure when required; `max_age_s` of
/// `Some(0)` deletes the cookie, `None` makes it last for the browser session.
pub fn set(name: &str, value: &str, secure: bool, max_age_s: Option<i64>) -> HeaderValue {
    let mut cookie = Cookie::build((name, value))
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/")
        .secure(secure);
    if let Some(seconds) = max_age_s {
        cookie = cookie.max_age(cookie::time::Duration::seconds(seconds));
    }
    // Names and values are ours (base64url tokens), so the header is always valid.
    HeaderValue::from_str(&cookie.build().to_string()).unwrap_or(HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; herald_session=tok; b=2"),
        );
        assert_eq!(read(&headers, SESSION).as_deref(), Some("tok"));
        assert_eq!(read(&headers, CSRF), None);
    }

    #[test]
    fn set_cookie_carries_the_protective_attributes() {
        let value = set(SESSION, "tok", true, Some(60));
        let text = value.to_str().unwrap();
        for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Secure", "Max-Age=60"] {
            assert!(text.contains(attribute), "{text} lacks {attribute}");
        }
        assert!(!set(SESSION, "tok", false, None)
            .to_str()
            .unwrap()
            .contains("Secure"));
    }
}
