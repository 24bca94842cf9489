//! Use-case traits the `server` crate implements and provides as Leptos context. Server functions
//! reach the backend only through these, so this crate never depends on storage, HTTP clients or
//! the engine, and backend edits never recompile the UI.

use std::sync::Arc;

use leptos::prelude::*;

use crate::api::campaigns::{
    CampaignSummary, CampaignView, Preflight, PreviewMessage, Progress, SenderLimitsView,
    WizardOptions,
};
use crate::api::contacts::{ContactDetail, ContactEdit, ContactPage, ImportView, SegmentSummary};
use crate::api::templates::{TemplateSummary, TemplateView};
use crate::api::whatsapp::{
    ConnectionCheckReport, ConnectionSummary, InboundView, SentMessageView, WebhookLogEntry,
};
use crate::api::InstallationOverview;
use domain::campaign::estimate::PriceTable;
use domain::campaign::lifecycle::CampaignCommand;
use domain::campaign::{CampaignDraft, Schedule};
use domain::contacts::import::ImportSettings;
use domain::contacts::segment::SegmentDefinition;
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
    /// Copies a template into a new draft; returns its id.
    async fn clone_template(&self, id: String) -> Result<String, String>;
    /// Imports and refreshes the WABA's templates; returns how many were read.
    async fn sync(&self, connection_id: String) -> Result<usize, String>;
    /// Deletes here and at Meta.
    async fn delete(&self, id: String) -> Result<(), String>;
}

/// Contacts, consent, imports and segments. `by` is the signed-in account, recorded in consent
/// history.
#[async_trait::async_trait]
pub trait ContactsPort: Send + Sync {
    /// A page of contacts matching `query` (number or name prefix; empty: all) and, if given,
    /// the saved segment `segment`, after `after`.
    async fn page(
        &self,
        query: String,
        after: Option<String>,
        segment: Option<String>,
    ) -> Result<ContactPage, String>;
    /// One contact.
    async fn contact(&self, phone: String) -> Result<ContactDetail, String>;
    /// Creates or updates a contact; returns its E.164 number.
    async fn save(&self, by: String, existing: bool, edit: ContactEdit) -> Result<String, String>;
    /// Records a user's opt-in or opt-out for the contact.
    async fn set_consent(
        &self,
        by: String,
        phone: String,
        action: String,
        categories: Vec<String>,
    ) -> Result<(), String>;
    /// Erases the contact, keeping an anonymous consent tombstone.
    async fn delete(&self, phone: String) -> Result<(), String>;
    /// Imports, newest first.
    async fn imports(&self) -> Result<Vec<ImportView>, String>;
    /// One import.
    async fn import(&self, id: String) -> Result<ImportView, String>;
    /// Validates the mapping and queues the import.
    async fn start_import(&self, id: String, settings: ImportSettings) -> Result<(), String>;
    /// Saved segments.
    async fn segments(&self) -> Result<Vec<SegmentSummary>, String>;
    /// Validates and saves a segment; returns its id.
    async fn save_segment(
        &self,
        id: Option<String>,
        definition: SegmentDefinition,
    ) -> Result<String, String>;
    /// Deletes a segment.
    async fn delete_segment(&self, id: String) -> Result<(), String>;
    /// Contacts the definition selects now.
    async fn count_segment(&self, definition: SegmentDefinition) -> Result<u64, String>;
}

/// Campaigns: the wizard, launch and control, live progress, sender limits and prices.
#[async_trait::async_trait]
pub trait CampaignsPort: Send + Sync {
    /// Every campaign, newest first.
    async fn campaigns(&self) -> Result<Vec<CampaignSummary>, String>;
    /// One campaign.
    async fn campaign(&self, id: String) -> Result<CampaignView, String>;
    /// Its live figures.
    async fn progress(&self, id: String) -> Result<Progress, String>;
    /// The wizard's choices.
    async fn options(&self) -> Result<WizardOptions, String>;
    /// Validates and saves a draft; returns its id.
    async fn save(&self, id: Option<String>, draft: CampaignDraft) -> Result<String, String>;
    /// Rendered messages for the first contacts, or those matching `query`.
    async fn preview(
        &self,
        draft: CampaignDraft,
        query: String,
    ) -> Result<Vec<PreviewMessage>, String>;
    /// Recipients, exclusions, cost and duration before launch.
    async fn preflight(&self, draft: CampaignDraft) -> Result<Preflight, String>;
    /// Launches a draft.
    async fn launch(&self, id: String) -> Result<(), String>;
    /// Pause, resume, cancel, confirm an overdue start, or resend unknown recipients (as
    /// `CampaignStatus::apply` permits); returns a sentence saying what happened.
    async fn act(&self, id: String, command: CampaignCommand) -> Result<String, String>;
    /// New start time for a scheduled or overdue campaign.
    async fn reschedule(&self, id: String, schedule: Schedule) -> Result<(), String>;
    /// Copies a campaign into a draft; returns the new id.
    async fn clone_campaign(&self, id: String) -> Result<String, String>;
    /// Deletes a draft or finished campaign.
    async fn delete(&self, id: String) -> Result<(), String>;
    /// Every sender number's limits.
    async fn limits(&self) -> Result<Vec<SenderLimitsView>, String>;
    /// Changes a number's pace and limit override.
    async fn set_limits(
        &self,
        connection_id: String,
        messages_per_second: u32,
        limit_override: String,
    ) -> Result<(), String>;
    /// The price table.
    async fn prices(&self) -> Result<PriceTable, String>;
    /// Replaces the price table.
    async fn set_prices(&self, table: PriceTable) -> Result<(), String>;
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
    /// See [`ContactsPort`].
    pub contacts: Arc<dyn ContactsPort>,
    /// See [`CampaignsPort`].
    pub campaigns: Arc<dyn CampaignsPort>,
}

/// The request's [`Services`]; a typed error rather than a panic if the server forgot them.
pub fn services() -> Result<Services, ServerFnError> {
    use_context::<Services>()
        .ok_or_else(|| ServerFnError::new("server misconfigured: services are not in context"))
}
