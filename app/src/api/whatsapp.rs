//! Server functions of Settings → WhatsApp and the webhook log. Reads use GET; every mutating
//! function takes `csrf_token`, which the server's middleware checks before the function runs.
// `#[server]` generates an argument struct per function whose fields cannot carry docs; every
// item written here is documented.
#![allow(missing_docs)]

use domain::whatsapp::connection::{ConnectionDraft, SandboxSettings};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A connection as the UI shows it: ids in full, secrets masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionSummary {
    /// Connection id.
    pub id: String,
    /// Name.
    pub name: String,
    /// `cloud_api`, `dialog360` or `sandbox`.
    pub kind: String,
    /// Human label of the kind.
    pub kind_label: String,
    /// True for the sandbox: everything it does is simulated.
    pub simulated: bool,
    /// Non-secret settings, label → value.
    pub facts: Vec<(String, String)>,
    /// Secrets, label → masked value.
    pub secrets: Vec<(String, String)>,
    /// The URL to register at Meta or 360dialog.
    pub webhook_url: String,
    /// The simulation knobs (sandbox only).
    pub sandbox: Option<SandboxSettings>,
}

/// The result of "Test connection".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionCheckReport {
    /// Whether the read succeeded.
    pub ok: bool,
    /// One plain sentence.
    pub summary: String,
    /// What was read.
    pub facts: Vec<(String, String)>,
}

/// A message sent from Herald, with its delivery so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentMessageView {
    /// Herald's id of the attempt.
    pub id: String,
    /// Recipient as entered.
    pub to: String,
    /// Short summary.
    pub summary: String,
    /// `sending`, `accepted`, `refused`, `unknown`.
    pub state: String,
    /// `sent`, `delivered`, `read`, `failed`, once WhatsApp reported.
    pub delivery: Option<String>,
    /// Why it was refused or failed.
    pub problem: Option<String>,
    /// Unix ms.
    pub created_at_ms: i64,
}

/// An inbound message, for the sandbox panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundView {
    /// The user's WhatsApp id.
    pub from: String,
    /// Meta's type.
    pub kind: String,
    /// Text, button payload, …
    pub text: String,
    /// Unix seconds.
    pub timestamp: i64,
}

/// One row of the webhook log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookLogEntry {
    /// Inbox id.
    pub id: String,
    /// Connection name (or id when deleted).
    pub connection: String,
    /// Unix ms.
    pub received_at_ms: i64,
    /// Body size.
    pub size: u32,
    /// `pending`, `processed`, `failed`.
    pub state: String,
    /// Events in it, once processed.
    pub events: Option<u32>,
    /// Why it failed.
    pub error: Option<String>,
}

#[cfg(feature = "ssr")]
fn port() -> Result<std::sync::Arc<dyn crate::ports::WhatsAppPort>, ServerFnError> {
    Ok(crate::ports::services()?.whatsapp)
}

/// Every connection.
#[server(endpoint = "whatsapp/connections", input = leptos::server_fn::codec::GetUrl)]
pub async fn list_connections() -> Result<Vec<ConnectionSummary>, ServerFnError> {
    port()?
        .connections(&super::caller()?)
        .await
        .map_err(super::refused)
}

/// Adds a connection after checking `draft` with `draft_problems`.
#[server(endpoint = "whatsapp/connections/add")]
pub async fn add_connection(
    csrf_token: String,
    draft: ConnectionDraft,
) -> Result<ConnectionSummary, ServerFnError> {
    let _ = csrf_token;
    port()?
        .add_connection(&super::caller()?, draft)
        .await
        .map_err(super::refused)
}

/// Deletes a connection (its history stays).
#[server(endpoint = "whatsapp/connections/delete")]
pub async fn delete_connection(csrf_token: String, id: String) -> Result<(), ServerFnError> {
    let _ = csrf_token;
    port()?
        .delete_connection(&super::caller()?, super::parse_id(&id)?)
        .await
        .map_err(super::refused)
}

/// Changes how a sandbox's simulated users behave.
#[server(endpoint = "whatsapp/sandbox/settings")]
pub async fn configure_sandbox(
    csrf_token: String,
    id: String,
    settings: SandboxSettings,
) -> Result<(), ServerFnError> {
    let _ = csrf_token;
    port()?
        .configure_sandbox(&super::caller()?, super::parse_id(&id)?, settings)
        .await
        .map_err(super::refused)
}

/// Calls a harmless read endpoint with the connection's credentials.
#[server(endpoint = "whatsapp/connections/test")]
pub async fn test_connection(
    csrf_token: String,
    id: String,
) -> Result<ConnectionCheckReport, ServerFnError> {
    let _ = csrf_token;
    port()?
        .check_connection(&super::caller()?, super::parse_id(&id)?)
        .await
        .map_err(super::refused)
}

/// Sends a text message through a connection.
#[server(endpoint = "whatsapp/send-test")]
pub async fn send_test_message(
    csrf_token: String,
    id: String,
    to: String,
    text: String,
) -> Result<SentMessageView, ServerFnError> {
    let _ = csrf_token;
    port()?
        .send_test(&super::caller()?, super::parse_id(&id)?, to, text)
        .await
        .map_err(super::refused)
}

/// The latest messages sent through a connection.
#[server(endpoint = "whatsapp/sent", input = leptos::server_fn::codec::GetUrl)]
pub async fn recent_sent_messages(id: String) -> Result<Vec<SentMessageView>, ServerFnError> {
    port()?
        .recent_sends(&super::caller()?, super::parse_id(&id)?)
        .await
        .map_err(super::refused)
}

/// Makes a simulated user write to a sandbox number: `kind` is `text`, `button` (a tap on the
/// last message it got), `photo`, `location`, `reaction` (to the last message it got), `choose`
/// (one of its reply buttons or list rows, by title), `stop_marketing` or `resume_marketing`;
/// `text` is the text, payload, caption, place, emoji or title.
#[server(endpoint = "whatsapp/sandbox/inbound")]
pub async fn simulate_inbound(
    csrf_token: String,
    id: String,
    from: String,
    kind: String,
    text: String,
) -> Result<(), ServerFnError> {
    let _ = csrf_token;
    port()?
        .simulate_inbound(&super::caller()?, super::parse_id(&id)?, from, kind, text)
        .await
        .map_err(super::refused)
}

/// The latest inbound messages.
#[server(endpoint = "whatsapp/inbound", input = leptos::server_fn::codec::GetUrl)]
pub async fn recent_inbound() -> Result<Vec<InboundView>, ServerFnError> {
    port()?
        .recent_inbound(&super::caller()?)
        .await
        .map_err(super::refused)
}

/// The latest received webhooks.
#[server(endpoint = "whatsapp/webhooks", input = leptos::server_fn::codec::GetUrl)]
pub async fn webhook_log() -> Result<Vec<WebhookLogEntry>, ServerFnError> {
    port()?
        .webhook_log(&super::caller()?)
        .await
        .map_err(super::refused)
}

/// Queues a stored webhook for processing again.
#[server(endpoint = "whatsapp/webhooks/reprocess")]
pub async fn reprocess_webhook(csrf_token: String, id: String) -> Result<(), ServerFnError> {
    let _ = csrf_token;
    port()?
        .reprocess_webhook(&super::caller()?, super::parse_id(&id)?)
        .await
        .map_err(super::refused)
}
