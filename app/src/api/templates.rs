//! Server functions of the Templates section. Definitions travel as JSON (their components are
//! nested), so these use the JSON codec; the CSRF middleware reads `csrf_token` from the body.
// `#[server]` generates an argument struct per function whose fields cannot carry docs; every
// item written here is documented.
#![allow(missing_docs)]

use domain::template::lifecycle::StatusLabel;
use domain::whatsapp::graph::TemplateDefinition;
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};
use serde::{Deserialize, Serialize};

/// A row of the template list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateSummary {
    /// Herald's id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Language code.
    pub language: String,
    /// Category.
    pub category: String,
    /// `approved` or `session_reply`.
    pub kind: String,
    /// Connection name.
    pub connection: Option<String>,
    /// Status as users know it.
    pub status: StatusLabel,
    /// Quality score (GREEN/YELLOW/RED/UNKNOWN).
    pub quality: Option<String>,
    /// Unix ms of the last change.
    pub updated_at_ms: i64,
    /// Campaigns that send it (any status).
    #[serde(default)]
    pub campaigns: u32,
    /// When a campaign last started sending it, Unix ms.
    #[serde(default)]
    pub last_used_ms: Option<i64>,
}

/// One history entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// Unix ms.
    pub at_ms: i64,
    /// What happened.
    pub status: String,
    /// Meta's reason code.
    pub reason: Option<String>,
    /// Meta's words.
    pub detail: Option<String>,
}

/// A template as the editor shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateView {
    /// Herald's id.
    pub id: String,
    /// `approved` or `session_reply`.
    pub kind: String,
    /// The connection it belongs to.
    pub connection_id: Option<String>,
    /// The definition.
    pub definition: TemplateDefinition,
    /// Status as users know it.
    pub status: StatusLabel,
    /// Meta's status (`None` for a draft).
    pub meta_status: Option<String>,
    /// Meta's template id.
    pub meta_id: Option<String>,
    /// Meta's rejection reason.
    pub rejected_reason: Option<String>,
    /// Meta's recommendation or notice.
    pub status_detail: Option<String>,
    /// Every change, newest first.
    pub history: Vec<HistoryEntry>,
    /// Whether it can be changed now.
    pub editable: bool,
    /// For approved templates: edits left in Meta's 30-day window.
    pub edits_left: Option<usize>,
    /// A saved session reply's file, in words ("Photo menu.png").
    #[serde(default)]
    pub file: Option<String>,
}

/// A form's template kind; anything else is refused on the `kind` field.
pub fn parse_kind(kind: &str) -> Result<domain::template::TemplateKind, ServerFnError> {
    domain::template::TemplateKind::parse(kind).map_err(|p| super::refused(p.into()))
}

#[cfg(feature = "ssr")]
fn port() -> Result<std::sync::Arc<dyn crate::ports::TemplatesPort>, ServerFnError> {
    Ok(crate::ports::services()?.templates)
}

/// Every template.
#[server(endpoint = "templates/list", input = GetUrl)]
pub async fn list_templates() -> Result<Vec<TemplateSummary>, ServerFnError> {
    port()?
        .templates(&super::caller()?)
        .await
        .map_err(super::refused)
}

/// One template.
#[server(endpoint = "templates/get", input = GetUrl)]
pub async fn get_template(id: String) -> Result<TemplateView, ServerFnError> {
    port()?
        .template(&super::caller()?, super::parse_id(&id)?)
        .await
        .map_err(super::refused)
}

/// Saves a draft (new when `id` is `None`); returns its id.
#[server(endpoint = "templates/save", input = Json)]
pub async fn save_template(
    csrf_token: String,
    id: Option<String>,
    kind: String,
    connection_id: Option<String>,
    definition: TemplateDefinition,
) -> Result<String, ServerFnError> {
    let _ = csrf_token;
    port()?
        .save(
            &super::caller()?,
            super::parse_optional_id(id.as_deref())?,
            parse_kind(&kind)?,
            super::parse_optional_id(connection_id.as_deref())?,
            definition,
        )
        .await
        .map(|id| id.to_string())
        .map_err(super::refused)
}

/// Submits a saved template to its connection for Meta's review (or, once approved, its edit).
#[server(endpoint = "templates/submit", input = Json)]
pub async fn submit_template(
    csrf_token: String,
    id: String,
) -> Result<TemplateView, ServerFnError> {
    let _ = csrf_token;
    port()?
        .submit(&super::caller()?, super::parse_id(&id)?)
        .await
        .map_err(super::refused)
}

/// Copies a template into a new draft named `<name>_copy`; returns the copy's id.
#[server(endpoint = "templates/clone", input = Json)]
pub async fn clone_template(csrf_token: String, id: String) -> Result<String, ServerFnError> {
    let _ = csrf_token;
    port()?
        .clone_template(&super::caller()?, super::parse_id(&id)?)
        .await
        .map(|id| id.to_string())
        .map_err(super::refused)
}

/// Reads every template of a connection's WABA, importing those created elsewhere.
#[server(endpoint = "templates/sync", input = Json)]
pub async fn sync_templates(
    csrf_token: String,
    connection_id: String,
) -> Result<usize, ServerFnError> {
    let _ = csrf_token;
    port()?
        .sync(&super::caller()?, super::parse_id(&connection_id)?)
        .await
        .map_err(super::refused)
}

/// Deletes a template here and, when submitted, at Meta.
#[server(endpoint = "templates/delete", input = Json)]
pub async fn delete_template(csrf_token: String, id: String) -> Result<(), ServerFnError> {
    let _ = csrf_token;
    port()?
        .delete(&super::caller()?, super::parse_id(&id)?)
        .await
        .map_err(super::refused)
}
