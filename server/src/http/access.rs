//! The route policy: which paths anyone may reach, in one table, and the refusal of path spellings
//! that another layer would read differently.
//!
//! Every decision about a request — this table, the CSRF exemption, axum's routing and Leptos's
//! router — must see the same path. Leptos parses the request URL the WHATWG way, which resolves
//! `..`, `%2e%2e` and `\`; a gate that looked at the raw prefix could therefore open
//! `/webhooks/%2e%2e/contacts` while the page router served `/contacts`. So a path is served only in
//! its canonical form ([`check_canonical`]), and the table matches whole segment shapes, never
//! prefixes: a path not listed needs a session.

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode;

/// How a path is guarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No session needed: assets, health, metrics (own guard), webhooks (own signature), the
    /// sandbox's Graph API (own bearer token).
    Open,
    /// First-run setup: only while no account exists.
    Setup,
    /// The sign-in page and form.
    Login,
    /// Sign-out works with or without a live session.
    Logout,
    /// Everything else needs a session.
    Protected,
}

/// The paths that do not need a session, as segment shapes: `*` is one non-empty segment, a final
/// `**` one or more. Anything that matches no row is [`Access::Protected`].
pub const POLICY: &[(&str, Access)] = &[
    ("/healthz", Access::Open),
    ("/metrics", Access::Open),
    ("/assets/**", Access::Open),
    ("/webhooks/whatsapp/*", Access::Open),
    ("/sandbox/**", Access::Open),
    ("/setup", Access::Setup),
    ("/auth/setup", Access::Setup),
    ("/login", Access::Login),
    ("/auth/login", Access::Login),
    ("/auth/logout", Access::Logout),
];

/// Classifies a request path by [`POLICY`].
pub fn access(path: &str) -> Access {
    POLICY
        .iter()
        .find(|(shape, _)| matches_shape(shape, path))
        .map_or(Access::Protected, |(_, access)| *access)
}

fn matches_shape(shape: &str, path: &str) -> bool {
    let mut shape = shape.split('/');
    let mut path = path.split('/');
    loop {
        match (shape.next(), path.next()) {
            (None, None) => return true,
            (Some("**"), Some(segment)) => {
                return !segment.is_empty() || path.clone().any(|s| !s.is_empty())
            }
            (Some("*"), Some(segment)) if !segment.is_empty() => {}
            (Some(expected), Some(segment)) if expected == segment => {}
            _ => return false,
        }
    }
}

/// Why a path spelling is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PathRefusal {
    /// `.` or `..` as a segment, in any encoding.
    #[error("it contains a `.` or `..` segment")]
    DotSegment,
    /// `/` or `\` inside a segment (`%2f`, `%5c`), or a raw `\`.
    #[error("it contains an encoded `/` or a `\\`")]
    Separator,
    /// `//` somewhere before the end.
    #[error("it contains an empty segment (`//`)")]
    EmptySegment,
    /// A control character (tab, NUL, DEL …) in any encoding.
    #[error("it contains a control character")]
    ControlCharacter,
}

/// How many times a segment is percent-decoded when looking for hidden dots and separators:
/// enough for double and triple encodings (`%252e`) that a proxy or a second parser might undo.
const DECODE_ROUNDS: usize = 3;

/// Accepts a path only if no parser could read it as a different path: no dot segments, no
/// encoded separators, no backslashes, no empty segments before the end, no control characters,
/// looking through up to [`DECODE_ROUNDS`] levels of percent-encoding.
pub fn check_canonical(path: &str) -> Result<(), PathRefusal> {
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let last = segments.len().saturating_sub(1);
    for (index, segment) in segments.iter().enumerate() {
        if segment.is_empty() && index != last {
            return Err(PathRefusal::EmptySegment);
        }
        let mut decoded = segment.as_bytes().to_vec();
        for _ in 0..=DECODE_ROUNDS {
            check_segment(&decoded)?;
            let next: Vec<u8> = percent_decode(&decoded).collect();
            if next == decoded {
                break;
            }
            decoded = next;
        }
    }
    Ok(())
}

fn check_segment(segment: &[u8]) -> Result<(), PathRefusal> {
    if segment == b"." || segment == b".." {
        return Err(PathRefusal::DotSegment);
    }
    if segment.iter().any(|b| *b == b'/' || *b == b'\\') {
        return Err(PathRefusal::Separator);
    }
    if segment.iter().any(|b| b.is_ascii_control()) {
        return Err(PathRefusal::ControlCharacter);
    }
    Ok(())
}

/// Middleware, outside every other decision: answers 400 to a path that is not canonical.
pub async fn refuse_non_canonical(req: Request, next: Next) -> Response {
    match check_canonical(req.uri().path()) {
        Ok(()) => next.run(req).await,
        Err(reason) => {
            tracing::warn!(%reason, "refused a request whose path is not canonical");
            (
                StatusCode::BAD_REQUEST,
                format!("This address cannot be served: {reason}. Use the plain path."),
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_paths_are_exact_shapes_not_prefixes() {
        assert_eq!(access("/assets/herald.abc.wasm"), Access::Open);
        assert_eq!(access("/assets/a/b"), Access::Open);
        assert_eq!(access("/webhooks/whatsapp/x"), Access::Open);
        assert_eq!(access("/sandbox/v21.0/123/messages"), Access::Open);
        assert_eq!(access("/healthz"), Access::Open);
        assert_eq!(access("/setup"), Access::Setup);
        assert_eq!(access("/auth/login"), Access::Login);
        for protected in [
            "/",
            "/api/system/overview",
            "/assetsx",
            "/assets",
            "/assets/",
            "/webhooks/contacts",
            "/webhooks/whatsapp/x/contacts",
            "/webhooks/whatsapp/",
            "/webhooks/x/../contacts",
            "/sandbox",
            "/Healthz",
            "/login/x",
        ] {
            assert_eq!(access(protected), Access::Protected, "{protected}");
        }
    }

    #[test]
    fn dot_segments_are_refused_in_every_spelling() {
        for path in [
            "/webhooks/../contacts",
            "/webhooks/./contacts",
            "/webhooks/%2e%2e/contacts",
            "/webhooks/%2E%2E/contacts",
            "/webhooks/.%2e/contacts",
            "/webhooks/%2e./contacts",
            "/webhooks/%252e%252e/contacts",
            "/webhooks/%25252e%25252e/contacts",
            "/assets/..",
        ] {
            assert_eq!(
                check_canonical(path),
                Err(PathRefusal::DotSegment),
                "{path}"
            );
        }
    }

    #[test]
    fn separators_empty_segments_and_controls_are_refused() {
        for (path, reason) in [
            ("/webhooks/..%2fcontacts", PathRefusal::Separator),
            ("/webhooks/..%2Fcontacts", PathRefusal::Separator),
            ("/webhooks/..%5ccontacts", PathRefusal::Separator),
            ("/webhooks/..\\contacts", PathRefusal::Separator),
            ("/webhooks/%252fcontacts", PathRefusal::Separator),
            ("//contacts", PathRefusal::EmptySegment),
            ("/webhooks//../contacts", PathRefusal::EmptySegment),
            ("/webhooks/%09/contacts", PathRefusal::ControlCharacter),
            ("/webhooks/%00", PathRefusal::ControlCharacter),
        ] {
            assert_eq!(check_canonical(path), Err(reason), "{path}");
        }
    }

    #[test]
    fn ordinary_paths_pass() {
        for path in [
            "/",
            "/contacts",
            "/contacts/",
            "/contacts/%2B905321234567",
            "/assets/herald.0123abcd.wasm",
            "/templates/file.name",
            "/campaigns/...",
            "/contacts/Ay%C5%9Fe",
        ] {
            assert_eq!(check_canonical(path), Ok(()), "{path}");
        }
    }
}
