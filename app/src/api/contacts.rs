//! Server functions of the Contacts section: the contact table, a contact's page, imports (the
//! file itself is uploaded by `POST /contacts/imports/upload`, reports and exports download from
//! plain GET routes), and segments with their live count.
// `#[server]` generates an argument struct per function whose fields cannot carry docs; every
// item written here is documented.
#![allow(missing_docs)]

use domain::contacts::consent::ConsentAction;
use domain::contacts::import::{ColumnTarget, ImportSettings};
use domain::contacts::segment::SegmentDefinition;
use domain::contacts::Contact;
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};
use serde::{Deserialize, Serialize};

/// A row of the contact table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactRow {
    /// E.164.
    pub phone: String,
    /// Full name (may be empty).
    pub name: String,
    /// ISO country of the number.
    pub country: String,
    /// Tags.
    pub tags: Vec<String>,
    /// `opted_in`, `opted_out` or empty.
    pub marketing: String,
    /// `opted_in`, `opted_out` or empty.
    pub utility: String,
}

/// One page of the contact table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactPage {
    /// The rows.
    pub rows: Vec<ContactRow>,
    /// Cursor of the next page.
    pub next_after: Option<String>,
}

/// Fields the contact form edits; empty strings clear optional fields.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ContactEdit {
    /// The number as typed (new contacts) or the E.164 key (existing ones).
    pub phone: String,
    /// Country for a number typed without `+`.
    pub default_country: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Language code.
    pub language: String,
    /// IANA time zone.
    pub time_zone: String,
    /// Comma-separated tags.
    pub tags: String,
    /// Categories the contact agreed to when added by hand (new contacts only).
    pub consent: Vec<String>,
}

/// A consent event as the contact page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentLine {
    /// Unix ms.
    pub at_ms: i64,
    /// `opted in` or `opted out`.
    pub action: String,
    /// `marketing, utility`.
    pub categories: String,
    /// Where it came from.
    pub source: String,
}

/// A contact page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactDetail {
    /// The record.
    pub contact: Contact,
    /// Consent history, newest first.
    pub consent: Vec<ConsentLine>,
}

/// An import as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportView {
    /// Id.
    pub id: String,
    /// Uploaded file name.
    pub file_name: String,
    /// `uploaded`, `queued`, `running`, `done` or `failed`.
    pub state: String,
    /// Why it failed.
    pub error: Option<String>,
    /// Data rows in the file.
    pub total_rows: u64,
    /// Rows read so far.
    pub read: u64,
    /// New contacts.
    pub created: u64,
    /// Changed contacts.
    pub updated: u64,
    /// Rows that changed nothing.
    pub unchanged: u64,
    /// Rejected rows.
    pub rejected: u64,
    /// Header cells.
    pub headers: Vec<String>,
    /// Sample rows.
    pub samples: Vec<Vec<String>>,
    /// Guessed (before start) or chosen mapping.
    pub columns: Vec<ColumnTarget>,
    /// First rejected rows: line, number as written, reason.
    pub rejects: Vec<(u64, String, String)>,
    /// Unix ms.
    pub created_at_ms: i64,
}

/// A segment in lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentSummary {
    /// Id.
    pub id: String,
    /// Definition.
    pub definition: SegmentDefinition,
}

#[cfg(feature = "ssr")]
fn port() -> Result<std::sync::Arc<dyn crate::ports::ContactsPort>, ServerFnError> {
    Ok(crate::ports::services()?.contacts)
}

/// A page of contacts; `query` is a number (prefix) or a name (prefix); `segment` a saved
/// segment's id to filter by.
#[server(endpoint = "contacts/list", input = GetUrl)]
pub async fn list_contacts(
    query: String,
    after: Option<String>,
    segment: Option<String>,
) -> Result<ContactPage, ServerFnError> {
    port()?
        .page(
            &super::caller()?,
            query,
            after,
            super::parse_optional_id(segment.as_deref())?,
        )
        .await
        .map_err(super::refused)
}

/// One contact with its consent history.
#[server(endpoint = "contacts/get", input = GetUrl)]
pub async fn get_contact(phone: String) -> Result<ContactDetail, ServerFnError> {
    port()?
        .contact(&super::caller()?, phone)
        .await
        .map_err(super::refused)
}

/// Creates (`existing == false`) or updates a contact; returns its E.164 number.
#[server(endpoint = "contacts/save", input = Json)]
pub async fn save_contact(
    csrf_token: String,
    existing: bool,
    edit: ContactEdit,
) -> Result<String, ServerFnError> {
    let _ = csrf_token;
    port()?
        .save(&super::caller()?, existing, edit)
        .await
        .map_err(super::refused)
}

/// Records an opt-in or opt-out (`action`: `opt_in` / `opt_out`) made by the signed-in user.
#[server(endpoint = "contacts/consent", input = Json)]
pub async fn set_consent(
    csrf_token: String,
    phone: String,
    action: ConsentAction,
    categories: Vec<String>,
) -> Result<(), ServerFnError> {
    let _ = csrf_token;
    port()?
        .set_consent(&super::caller()?, phone, action, categories)
        .await
        .map_err(super::refused)
}

/// Deletes a contact's personal data (an anonymous consent record stays).
#[server(endpoint = "contacts/delete", input = Json)]
pub async fn delete_contact(csrf_token: String, phone: String) -> Result<(), ServerFnError> {
    let _ = csrf_token;
    port()?
        .delete(&super::caller()?, phone)
        .await
        .map_err(super::refused)
}

/// Every import, newest first.
#[server(endpoint = "contacts/imports", input = GetUrl)]
pub async fn list_imports() -> Result<Vec<ImportView>, ServerFnError> {
    port()?
        .imports(&super::caller()?)
        .await
        .map_err(super::refused)
}

/// One import with its progress and first rejected rows.
#[server(endpoint = "contacts/import", input = GetUrl)]
pub async fn get_import(id: String) -> Result<ImportView, ServerFnError> {
    port()?
        .import(&super::caller()?, super::parse_id(&id)?)
        .await
        .map_err(super::refused)
}

/// Confirms the mapping and queues the import.
#[server(endpoint = "contacts/import/start", input = Json)]
pub async fn start_import(
    csrf_token: String,
    id: String,
    settings: ImportSettings,
) -> Result<(), ServerFnError> {
    let _ = csrf_token;
    port()?
        .start_import(&super::caller()?, super::parse_id(&id)?, settings)
        .await
        .map_err(super::refused)
}

/// Every segment.
#[server(endpoint = "contacts/segments", input = GetUrl)]
pub async fn list_segments() -> Result<Vec<SegmentSummary>, ServerFnError> {
    port()?
        .segments(&super::caller()?)
        .await
        .map_err(super::refused)
}

/// Saves a segment (new when `id` is `None`); returns its id.
#[server(endpoint = "contacts/segments/save", input = Json)]
pub async fn save_segment(
    csrf_token: String,
    id: Option<String>,
    definition: SegmentDefinition,
) -> Result<String, ServerFnError> {
    let _ = csrf_token;
    port()?
        .save_segment(
            &super::caller()?,
            super::parse_optional_id(id.as_deref())?,
            definition,
        )
        .await
        .map(|id| id.to_string())
        .map_err(super::refused)
}

/// Deletes a segment.
#[server(endpoint = "contacts/segments/delete", input = Json)]
pub async fn delete_segment(csrf_token: String, id: String) -> Result<(), ServerFnError> {
    let _ = csrf_token;
    port()?
        .delete_segment(&super::caller()?, super::parse_id(&id)?)
        .await
        .map_err(super::refused)
}

/// How many contacts a (possibly unsaved) definition selects right now. A read, but its
/// argument is nested, so it travels as JSON in a POST.
#[server(endpoint = "contacts/segments/count", input = Json)]
pub async fn count_segment(
    csrf_token: String,
    definition: SegmentDefinition,
) -> Result<u64, ServerFnError> {
    let _ = csrf_token;
    port()?
        .count_segment(&super::caller()?, definition)
        .await
        .map_err(super::refused)
}
