//! Server functions: each looks up [`crate::ports::services`] first, calls one port, and maps the
//! error. Authentication is enforced by the server's middleware before any of these run.

use domain::clock::ServerClock;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

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
    services.system.overview().await.map_err(refused)
}

/// The one sentence a port answers when Herald's own storage failed (the detail is in the
/// server log). It is the only refusal that is the server's fault; see [`refused`].
pub const STORAGE_FAILED: &str = "Herald could not read or write its data; see the server log.";

/// A port's refusal as a server-function error with the HTTP status it deserves: `500` only when
/// Herald itself failed ([`STORAGE_FAILED`]), `404` for something that does not exist ("no such
/// …"), `422` for everything else — a rule the input broke, or an action the current state does
/// not allow. The body is the sentence itself, in UTF-8.
pub fn refused(message: String) -> ServerFnError {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        use http::{header, HeaderValue, StatusCode};
        let status = if message == STORAGE_FAILED {
            StatusCode::INTERNAL_SERVER_ERROR
        } else if message.starts_with("no such ") {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        response.set_status(status);
        response.insert_header(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
    }
    ServerFnError::ServerError(message)
}

pub mod campaigns;
pub mod contacts;
pub mod templates;
pub mod whatsapp;
