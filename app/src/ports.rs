//! Use-case traits the `server` crate implements and provides as Leptos context. Server functions
//! reach the backend only through these, so this crate never depends on storage, HTTP clients or
//! the engine, and backend edits never recompile the UI.

use std::sync::Arc;

use leptos::prelude::*;

use crate::api::templates::{TemplateSummary, TemplateView};
use crate::api::whatsapp::{
    ConnectionCheckReport, ConnectionSummary, InboundView, SentMessageView, WebhookLogEntry,
};
use crate::api::InstallationOverview;
use domain::whatsapp::connection::{ConnectionDraft, SandboxSettings};
use domain::whatsapp::graph::TemplateDefinition;

/// Facts about the running installation shown on the dashboard.
#[async_trait::async_trait]
pub trait SystemPort: Send + Sync {
    /// Version, server clock and storage health, read fresh.
    async fn overview(&self) -> Result<InstallationOverview, String>;
}

/// WhatsApp connections, test sends, the sandbox and the webhook log. Errors are sentences for
/// the user.
#[async_trait::async_trait]
pub trait WhatsAppPort: Send + Sync {
    /// Every connection, oldest first.
    async fn connections(&self) -> Result<Vec<ConnectionSummary>, String>;
    /// Validates and saves a new connection.
    async fn add_connection(&self, draft: ConnectionDraft) -> Result<ConnectionSummary, String>;
    /// Deletes a connection.
    async fn delete_connection(&self, id: String) -> Result<(), String>;
    /// Validates and stores a sandbox's simulation settings.
    async fn configure_sandbox(&self, id: String, settings: SandboxSettings) -> Result<(), String>;
    /// Calls a harmless read endpoint and explains the result.
    async fn check_connection(&self, id: String) -> Result<ConnectionCheckReport, String>;
    /// Sends a text message, recording the attempt durably first.
    async fn send_test(
        &self,
        id: String,
        to: String,
        text: String,
    ) -> Result<SentMessageView, String>;
    /// Latest sends of a connection, newest first.
    async fn recent_sends(&self, id: String) -> Result<Vec<SentMessageView>, String>;
    /// Posts a simulated user message to a sandbox connection.
    async fn simulate_inbound(
        &self,
        id: String,
        from: String,
        kind: String,
        text: String,
    ) -> Result<(), String>;
    /// Latest inbound messages, newest first.
    async fn recent_inbound(&self) -> Result<Vec<InboundView>, String>;
    /// Latest webhooks, newest first.
    async fn webhook_log(&self) -> Result<Vec<WebhookLogEntry>, String>;
    /// Queues a stored webhook again.
    async fn reprocess_webhook(&self, id: String) -> Result<(), String>;
}

/// Message templates: drafts, submission, sync with the WABA, deletion.
#[async_trait::async_trait]
pub trait TemplatesPort: Send + Sync {
    /// Every template, newest change first.
    async fn templates(&self) -> Result<Vec<TemplateSummary>, String>;
    /// One template with its history.
    async fn template(&self, id: String) -> Result<TemplateView, String>;
    /// Saves a draft; returns its id.
    async fn save(
        &self,
        id: Option<String>,
        kind: String,
        connection_id: Option<String>,
        definition: TemplateDefinition,
    ) -> Result<String, String>;
    /// Submits for review (refused while the lint reports errors).
    async fn submit(&self, id: String) -> Result<TemplateView, String>;
    /// Imports and refreshes the WABA's templates; returns how many were read.
    async fn sync(&self, connection_id: String) -> Result<usize, String>;
    /// Deletes here and at Meta.
    async fn delete(&self, id: String) -> Result<(), String>;
}

/// Every port, cloned into each request's context.
#[derive(Clone)]
pub struct Services {
    /// See [`SystemPort`].
    pub system: Arc<dyn SystemPort>,
    /// See [`WhatsAppPort`].
    pub whatsapp: Arc<dyn WhatsAppPort>,
    /// See [`TemplatesPort`].
    pub templates: Arc<dyn TemplatesPort>,
}

/// The request's [`Services`]; a typed error rather than a panic if the server forgot them.
pub fn services() -> Result<Services, ServerFnError> {
    use_context::<Services>()
        .ok_or_else(|| ServerFnError::new("server misconfigured: services are not in context"))
}
