//! Server functions of the Campaigns section (JSON: drafts are nested). Programs use the same
//! endpoints under `/api/campaigns/…`; the CSRF middleware reads `csrf_token` from the body.
// `#[server]` generates an argument struct per function whose fields cannot carry docs; every
// item written here is documented.
#![allow(missing_docs)]

use domain::campaign::backoff::SlowedPace;
use domain::campaign::estimate::{DurationEstimate, PriceTable};
use domain::campaign::lifecycle::CampaignCommand;
use domain::campaign::state::Counts;
use domain::campaign::{CampaignDraft, Schedule, Slot};
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};
use serde::{Deserialize, Serialize};

/// A row of the campaign list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignSummary {
    /// Herald's id.
    pub id: String,
    /// Name.
    pub name: String,
    /// `draft`, `scheduled`, `overdue`, `preparing`, `running`, `paused`, `completed`, `cancelled`.
    pub status: String,
    /// Why it is paused, when it starts, … — one sentence.
    pub status_detail: Option<String>,
    /// What may be done to it now (`CampaignStatus::commands`), in page order.
    pub commands: Vec<CampaignCommand>,
    /// Template name and language.
    pub template: String,
    /// Sender connection name.
    pub connection: String,
    /// Recipients per state.
    pub counts: Counts,
    /// Unix ms.
    pub created_at_ms: i64,
}

/// A campaign's history entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignEventView {
    /// Unix ms.
    pub at_ms: i64,
    /// What happened.
    pub what: String,
}

/// Failures of one error code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureRow {
    /// Meta's code (0: none given).
    pub code: i64,
    /// What Meta says it means.
    pub meaning: String,
    /// How many recipients.
    pub count: u64,
}

/// A point of the progress chart is drawn on the server; this is the rest of the live view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Lifecycle status (see [`CampaignSummary::status`]).
    pub status: String,
    /// One sentence about the status, if it needs one.
    pub status_detail: Option<String>,
    /// What may be done to it now, in page order.
    pub commands: Vec<CampaignCommand>,
    /// Recipients per state.
    pub counts: Counts,
    /// Cost so far, from billable status reports.
    pub cost: f64,
    /// Currency of `cost`.
    pub currency: String,
    /// Sends per second now.
    pub rate: f64,
    /// Why sending waits and until when (Unix ms).
    pub waiting: Option<(String, i64)>,
    /// New conversations the messaging limit still allows now (`None`: unlimited).
    pub headroom: Option<u32>,
    /// The number's messaging limit, in words.
    pub limit: String,
    /// The pace WhatsApp's "too fast" refusals (130429) hold the number to, if under its own.
    #[serde(default)]
    pub slowed: Option<SlowedPace>,
    /// Seconds until every pending recipient is sent at the current pace, if sending.
    pub eta_secs: Option<u64>,
    /// Failures by code.
    pub failures: Vec<FailureRow>,
    /// Skips by reason.
    pub skipped: Vec<(String, u64)>,
    /// Numbers in the audience twice, messaged once (not skips).
    #[serde(default)]
    pub merged: u64,
    /// What happened, oldest first (in the live figures so that a pause, resume or cancel shows
    /// without a reload).
    #[serde(default)]
    pub history: Vec<CampaignEventView>,
    /// Last change of the chart's data (to refresh it only when needed).
    pub version: u64,
    /// Where the follow-ups stand, for a campaign that has them.
    #[serde(default)]
    pub follow_ups: Option<FollowUpReport>,
}

/// A campaign's follow-ups by branch: who chose what, and what became of each follow-up.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUpReport {
    /// One line per reply branch, in the wizard's order.
    pub branches: Vec<BranchLine>,
    /// Recipients still within the wait, without a reply that took a branch.
    pub waiting: u64,
    /// Recipients whose wait ended without such a reply.
    pub no_reply: u64,
    /// Recipients who replied something no branch takes (they may also be counted above).
    pub other_replies: u64,
}

/// One branch of the follow-up report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BranchLine {
    /// What starts it, in words ("replied “1”").
    pub label: String,
    /// What it does, in words.
    pub action: String,
    /// Recipients whose reply took it.
    pub chosen: u64,
    /// Their follow-ups sent (or their tag added).
    pub done: u64,
    /// Follow-ups still to go out.
    pub pending: u64,
    /// Follow-ups that could not be sent.
    pub failed: u64,
}

/// A campaign as its page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignView {
    /// Herald's id.
    pub id: String,
    /// The draft.
    pub draft: CampaignDraft,
    /// The template's variables.
    pub slots: Vec<Slot>,
    /// The list row.
    pub summary: CampaignSummary,
    /// Live figures.
    pub progress: Progress,
    /// Oldest first.
    pub history: Vec<CampaignEventView>,
    /// The campaign it was cloned from, whose recipients it skips.
    pub excludes: Option<String>,
}

/// A template the wizard offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateChoice {
    /// Herald's id.
    pub id: String,
    /// `name (language)`.
    pub label: String,
    /// MARKETING, UTILITY, AUTHENTICATION.
    pub category: String,
    /// Its connection.
    pub connection_id: Option<String>,
    /// Variables to bind.
    pub slots: Vec<Slot>,
    /// The body with placeholders.
    pub body: String,
}

/// Everything the wizard's choices come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WizardOptions {
    /// (id, name) of every connection.
    pub connections: Vec<(String, String)>,
    /// (id, name) of every segment.
    pub segments: Vec<(String, String)>,
    /// (id, label) of every finished import.
    pub imports: Vec<(String, String)>,
    /// Approved templates.
    pub templates: Vec<TemplateChoice>,
    /// Custom attribute names seen on contacts.
    pub attributes: Vec<String>,
    /// (id, name) of every saved session reply without a file, for follow-ups.
    #[serde(default)]
    pub saved_replies: Vec<(String, String)>,
}

/// One rendered message for the preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewMessage {
    /// E.164.
    pub phone: String,
    /// Display name.
    pub name: String,
    /// The body as the recipient reads it, or why they are excluded.
    pub body: Result<String, String>,
}

/// Cost of one country and category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostRow {
    /// ISO country (`?` when unknown).
    pub country: String,
    /// Template category.
    pub category: String,
    /// Recipients.
    pub count: u64,
    /// Price per message.
    pub unit: f64,
    /// `count × unit`.
    pub total: f64,
}

/// The pre-flight check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preflight {
    /// Who will be sent to.
    pub recipients: u64,
    /// Excluded, by reason (sentence, count).
    pub excluded: Vec<(String, u64)>,
    /// Numbers in the audience twice (segment and list, or repeated in the list), messaged once.
    #[serde(default)]
    pub merged: u64,
    /// Estimated cost by country.
    pub cost: Vec<CostRow>,
    /// Sum of `cost`.
    pub total_cost: f64,
    /// Currency.
    pub currency: String,
    /// Sending time and tier wait.
    pub duration: DurationEstimate,
    /// Pace used for the estimate.
    pub messages_per_second: u32,
    /// The messaging limit, in words.
    pub limit: String,
}

/// A sender number's limits as the settings show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SenderLimitsView {
    /// Connection id.
    pub connection_id: String,
    /// Connection name.
    pub name: String,
    /// Pace in force.
    pub messages_per_second: u32,
    /// What the number's throughput level allows, once read.
    pub number_mps: Option<u32>,
    /// Why the pace a user chose is risky (above what the number allows).
    pub pace_warning: Option<String>,
    /// Meta's limit as read (`TIER_…`), if read.
    pub meta_limit: Option<String>,
    /// A user's override (`TIER_…`), if any.
    pub limit_override: Option<String>,
    /// Meta's quality rating.
    pub quality: Option<String>,
}

#[cfg(feature = "ssr")]
fn port() -> Result<std::sync::Arc<dyn crate::ports::CampaignsPort>, ServerFnError> {
    Ok(crate::ports::services()?.campaigns)
}

/// Every campaign, newest first.
#[server(endpoint = "campaigns/list", input = GetUrl)]
pub async fn list_campaigns() -> Result<Vec<CampaignSummary>, ServerFnError> {
    port()?
        .campaigns(&super::caller()?)
        .await
        .map_err(super::refused)
}

/// One campaign.
#[server(endpoint = "campaigns/get", input = GetUrl)]
pub async fn get_campaign(id: String) -> Result<CampaignView, ServerFnError> {
    port()?
        .campaign(&super::caller()?, super::parse_id(&id)?)
        .await
        .map_err(super::refused)
}

/// Live figures of a campaign (the page also streams them from `/campaigns/{id}/events`).
#[server(endpoint = "campaigns/progress", input = GetUrl)]
pub async fn campaign_progress(id: String) -> Result<Progress, ServerFnError> {
    port()?
        .progress(&super::caller()?, super::parse_id(&id)?)
        .await
        .map_err(super::refused)
}

/// The wizard's choices.
#[server(endpoint = "campaigns/options", input = GetUrl)]
pub async fn get_wizard_options() -> Result<WizardOptions, ServerFnError> {
    port()?
        .options(&super::caller()?)
        .await
        .map_err(super::refused)
}

/// Saves a draft (new when `id` is `None`); returns its id.
#[server(endpoint = "campaigns/save", input = Json)]
pub async fn save_campaign(
    csrf_token: String,
    id: Option<String>,
    draft: CampaignDraft,
) -> Result<String, ServerFnError> {
    let _ = csrf_token;
    port()?
        .save(
            &super::caller()?,
            super::parse_optional_id(id.as_deref())?,
            draft,
        )
        .await
        .map(|id| id.to_string())
        .map_err(super::refused)
}

/// Renders the message for the first contacts of the audience, or those matching `query`.
#[server(endpoint = "campaigns/preview", input = Json)]
pub async fn preview_campaign(
    csrf_token: String,
    draft: CampaignDraft,
    query: String,
) -> Result<Vec<PreviewMessage>, ServerFnError> {
    let _ = csrf_token;
    port()?
        .preview(&super::caller()?, draft, query)
        .await
        .map_err(super::refused)
}

/// What is wrong with a schedule now (a start that has passed), shown live in the wizard.
#[server(endpoint = "campaigns/schedule_problems", input = Json)]
pub async fn campaign_schedule_problems(
    csrf_token: String,
    schedule: Schedule,
) -> Result<Vec<String>, ServerFnError> {
    let _ = csrf_token;
    port()?
        .schedule_problems(&super::caller()?, schedule)
        .await
        .map_err(super::refused)
}

/// Counts recipients and exclusions and estimates cost and duration.
#[server(endpoint = "campaigns/preflight", input = Json)]
pub async fn preflight_campaign(
    csrf_token: String,
    draft: CampaignDraft,
) -> Result<Preflight, ServerFnError> {
    let _ = csrf_token;
    port()?
        .preflight(&super::caller()?, draft)
        .await
        .map_err(super::refused)
}

/// Launches a saved draft (now or at its scheduled time).
#[server(endpoint = "campaigns/launch", input = Json)]
pub async fn launch_campaign(csrf_token: String, id: String) -> Result<(), ServerFnError> {
    let _ = csrf_token;
    port()?
        .launch(&super::caller()?, super::parse_id(&id)?)
        .await
        .map_err(super::refused)
}

/// Pause, resume, cancel, confirm an overdue start, or resend unknown recipients.
#[server(endpoint = "campaigns/act", input = Json)]
pub async fn act_on_campaign(
    csrf_token: String,
    id: String,
    command: CampaignCommand,
) -> Result<String, ServerFnError> {
    let _ = csrf_token;
    port()?
        .act(&super::caller()?, super::parse_id(&id)?, command)
        .await
        .map_err(super::refused)
}

/// Moves a scheduled or overdue campaign to a new start.
#[server(endpoint = "campaigns/reschedule", input = Json)]
pub async fn reschedule_campaign(
    csrf_token: String,
    id: String,
    schedule: Schedule,
) -> Result<(), ServerFnError> {
    let _ = csrf_token;
    port()?
        .reschedule(&super::caller()?, super::parse_id(&id)?, schedule)
        .await
        .map_err(super::refused)
}

/// Copies a campaign into a new draft that skips whoever the original messaged.
#[server(endpoint = "campaigns/clone", input = Json)]
pub async fn clone_campaign(csrf_token: String, id: String) -> Result<String, ServerFnError> {
    let _ = csrf_token;
    port()?
        .clone_campaign(&super::caller()?, super::parse_id(&id)?)
        .await
        .map(|id| id.to_string())
        .map_err(super::refused)
}

/// Deletes a draft or a finished campaign.
#[server(endpoint = "campaigns/delete", input = Json)]
pub async fn delete_campaign(csrf_token: String, id: String) -> Result<(), ServerFnError> {
    let _ = csrf_token;
    port()?
        .delete(&super::caller()?, super::parse_id(&id)?)
        .await
        .map_err(super::refused)
}

/// Every sender number's limits.
#[server(endpoint = "campaigns/limits", input = GetUrl)]
pub async fn sender_limits() -> Result<Vec<SenderLimitsView>, ServerFnError> {
    port()?
        .limits(&super::caller()?)
        .await
        .map_err(super::refused)
}

/// Changes a number's pace and, optionally, overrides its messaging limit (`TIER_…`, empty: none).
/// Running campaigns follow at once.
#[server(endpoint = "campaigns/set_limits", input = Json)]
pub async fn set_sender_limits(
    csrf_token: String,
    connection_id: String,
    messages_per_second: u32,
    limit_override: String,
) -> Result<(), ServerFnError> {
    let _ = csrf_token;
    port()?
        .set_limits(
            &super::caller()?,
            super::parse_id(&connection_id)?,
            messages_per_second,
            limit_override,
        )
        .await
        .map_err(super::refused)
}

/// The price table used for estimates and costs.
#[server(endpoint = "campaigns/prices", input = GetUrl)]
pub async fn get_price_table() -> Result<PriceTable, ServerFnError> {
    port()?
        .prices(&super::caller()?)
        .await
        .map_err(super::refused)
}

/// Replaces the price table.
#[server(endpoint = "campaigns/set_prices", input = Json)]
pub async fn set_price_table(csrf_token: String, table: PriceTable) -> Result<(), ServerFnError> {
    let _ = csrf_token;
    port()?
        .set_prices(&super::caller()?, table)
        .await
        .map_err(super::refused)
}
