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
    services.system.overview().await.map_err(ServerFnError::new)
}

pub mod campaigns;
pub mod contacts;
pub mod templates;
pub mod whatsapp;
