//! Server functions: each takes the request's [`caller`], parses the ids that arrived as text,
//! calls one port, and maps its [`PortError`] to an HTTP status. Authentication is enforced by the
//! server's middleware before any of these run.

use std::str::FromStr;

use domain::access::Caller;
use domain::clock::ServerClock;
use domain::ids::UnknownId;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::refusal::PortError;

/// Dashboard facts about the installation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallationOverview {
    /// Herald's version.
    pub version: String,
    /// The server's clock, so the browser can keep ticking it.
    pub clock: ServerClock,
    /// Storage health.
    pub storage: StorageOverview,
}

/// What the storage layer reports about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageOverview {
    /// Schema version of the data directory.
    pub schema_version: u32,
    /// Bytes used on disk.
    pub size_on_disk: u64,
    /// Where the data lives.
    pub data_dir: String,
}

/// Reads [`InstallationOverview`] from the server.
// A read, so GET: safe methods need no CSRF token.
#[server(endpoint = "system/overview", input = leptos::server_fn::codec::GetUrl)]
pub async fn system_overview() -> Result<InstallationOverview, ServerFnError> {
    let services = crate::ports::services()?;
    services.system.overview(&caller()?).await.map_err(refused)
}

/// A port's refusal as a server-function error with the HTTP status its variant deserves (see
/// [`PortError::status`]): a rule the input broke is 422 with the rule's sentence, a missing thing
/// 404, a state that does not allow the action 409, and only Herald's own failure 500. The body
/// is the sentence itself, in UTF-8.
pub fn refused(error: PortError) -> ServerFnError {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        use http::{header, HeaderValue, StatusCode};
        response.set_status(
            StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        );
        response.insert_header(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
    }
    ServerFnError::ServerError(error.to_string())
}

/// Who sent the request being served: the server's session gate decides it and attaches it to
/// the request before any server function runs.
pub fn caller() -> Result<Caller, ServerFnError> {
    #[cfg(feature = "ssr")]
    if let Some(caller) = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Caller>().cloned())
    {
        return Ok(caller);
    }
    Err(refused(PortError::Forbidden(
        "sign in first: this request needs a session".into(),
    )))
}

/// An id that arrived as text (a URL, a form); text that names nothing is "no such …" (404).
pub fn parse_id<T: FromStr<Err = UnknownId>>(text: &str) -> Result<T, ServerFnError> {
    text.parse().map_err(|e: UnknownId| refused(e.into()))
}

/// [`parse_id`] for an optional id (`None`: a new thing).
pub fn parse_optional_id<T: FromStr<Err = UnknownId>>(
    text: Option<&str>,
) -> Result<Option<T>, ServerFnError> {
    text.map(parse_id).transpose()
}

pub mod campaigns;
pub mod contacts;
pub mod conversations;
pub mod templates;
pub mod whatsapp;
