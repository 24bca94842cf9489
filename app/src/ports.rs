//! Use-case traits the `server` crate implements and provides as Leptos context. Server functions
//! reach the backend only through these, so this crate never depends on storage, HTTP clients or
//! the engine, and backend edits never recompile the UI.

use std::sync::Arc;

use leptos::prelude::*;

use crate::api::InstallationOverview;

/// Facts about the running installation shown on the dashboard.
#[async_trait::async_trait]
pub trait SystemPort: Send + Sync {
    /// Version, server clock and storage health, read fresh.
    async fn overview(&self) -> Result<InstallationOverview, String>;
}

/// Every port, cloned into each request's context.
#[derive(Clone)]
pub struct Services {
    /// See [`SystemPort`].
    pub system: Arc<dyn SystemPort>,
}

/// The request's [`Services`]; a typed error rather than a panic if the server forgot them.
pub fn services() -> Result<Services, ServerFnError> {
    use_context::<Services>()
        .ok_or_else(|| ServerFnError::new("server misconfigured: services are not in context"))
}
