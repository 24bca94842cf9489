//! Use-case traits the `server` crate implements and provides as Leptos context. Server functions
//! reach the backend only through these, so this crate never depends on storage, HTTP clients or
//! the engine, and backend edits never recompile the UI.
//!
//! Every method takes the [`Caller`] first (the server checks its permission in one layer before
//! the use case runs), names things by typed ids, and refuses with a [`PortError`] whose variant
//! decides the HTTP status.

pub use crate::refusal::{refuse_problems, PortError};

use std::sync::Arc;

use leptos::prelude::*;

use crate::api::campaigns::{
    CampaignSummary, CampaignView, Preflight, PreviewMessage, Progress, SenderLimitsView,
    WizardOptions,
};
use crate::api::contacts::{ContactDetail, ContactEdit, ContactPage, ImportView, SegmentSummary};
use crate::api::conversations::{ContactHistory, InboxPage, ThreadView};
use crate::api::templates::{TemplateSummary, TemplateView};
use crate::api::whatsapp::{
    ConnectionCheckReport, ConnectionSummary, InboundView, SentMessageView, WebhookLogEntry,
};
use crate::api::InstallationOverview;
use domain::access::Caller;
use domain::campaign::estimate::PriceTable;
use domain::campaign::lifecycle::CampaignCommand;
use domain::campaign::{CampaignDraft, Schedule};
use domain::contacts::consent::ConsentAction;
use domain::contacts::import::ImportSettings;
use domain::contacts::segment::SegmentDefinition;
use domain::conversation::filter::InboxFilter;
use domain::ids::{
    CampaignId, ConnectionId, ConversationId, ImportId, SegmentId, TemplateId, WebhookId,
};
use domain::template::TemplateKind;
use domain::whatsapp::connection::{ConnectionDraft, SandboxSettings};
use domain::whatsapp::graph::TemplateDefinition;

/// Facts about the running installation shown on the dashboard.
#[async_trait::async_trait]
pub trait SystemPort: Send + Sync {
    /// Version, server clock and storage health, read fresh.
    async fn overview(&self, caller: &Caller) -> Result<InstallationOverview, PortError>;
}

/// WhatsApp connections, test sends, the sandbox and the webhook log. Errors are sentences for
/// the user.
#[async_trait::async_trait]
pub trait WhatsAppPort: Send + Sync {
    /// Every connection, oldest first.
    async fn connections(&self, caller: &Caller) -> Result<Vec<ConnectionSummary>, PortError>;
    /// Validates and saves a new connection.
    async fn add_connection(
        &self,
        caller: &Caller,
        draft: ConnectionDraft,
    ) -> Result<ConnectionSummary, PortError>;
    /// Deletes a connection.
    async fn delete_connection(&self, caller: &Caller, id: ConnectionId) -> Result<(), PortError>;
    /// Validates and stores a sandbox's simulation settings.
    async fn configure_sandbox(
        &self,
        caller: &Caller,
        id: ConnectionId,
        settings: SandboxSettings,
    ) -> Result<(), PortError>;
    /// Calls a harmless read endpoint and explains the result.
    async fn check_connection(
        &self,
        caller: &Caller,
        id: ConnectionId,
    ) -> Result<ConnectionCheckReport, PortError>;
    /// Sends a text message, recording the attempt durably first.
    async fn send_test(
        &self,
        caller: &Caller,
        id: ConnectionId,
        to: String,
        text: String,
    ) -> Result<SentMessageView, PortError>;
    /// Latest sends of a connection, newest first.
    async fn recent_sends(
        &self,
        caller: &Caller,
        id: ConnectionId,
    ) -> Result<Vec<SentMessageView>, PortError>;
    /// Posts a simulated user message to a sandbox connection.
    async fn simulate_inbound(
        &self,
        caller: &Caller,
        id: ConnectionId,
        from: String,
        kind: String,
        text: String,
    ) -> Result<(), PortError>;
    /// Latest inbound messages, newest first.
    async fn recent_inbound(&self, caller: &Caller) -> Result<Vec<InboundView>, PortError>;
    /// Latest webhooks, newest first.
    async fn webhook_log(&self, caller: &Caller) -> Result<Vec<WebhookLogEntry>, PortError>;
    /// Queues a stored webhook again.
    async fn reprocess_webhook(&self, caller: &Caller, id: WebhookId) -> Result<(), PortError>;
}

/// Message templates: drafts, submission, sync with the WABA, deletion.
#[async_trait::async_trait]
pub trait TemplatesPort: Send + Sync {
    /// Every template, newest change first.
    async fn templates(&self, caller: &Caller) -> Result<Vec<TemplateSummary>, PortError>;
    /// One template with its history.
    async fn template(&self, caller: &Caller, id: TemplateId) -> Result<TemplateView, PortError>;
    /// Saves a draft; returns its id.
    async fn save(
        &self,
        caller: &Caller,
        id: Option<TemplateId>,
        kind: TemplateKind,
        connection_id: Option<ConnectionId>,
        definition: TemplateDefinition,
    ) -> Result<TemplateId, PortError>;
    /// Submits for review (refused while the lint reports errors).
    async fn submit(&self, caller: &Caller, id: TemplateId) -> Result<TemplateView, PortError>;
    /// Copies a template into a new draft; returns its id.
    async fn clone_template(
        &self,
        caller: &Caller,
        id: TemplateId,
    ) -> Result<TemplateId, PortError>;
    /// Imports and refreshes the WABA's templates; returns how many were read.
    async fn sync(&self, caller: &Caller, connection_id: ConnectionId) -> Result<usize, PortError>;
    /// Deletes here and at Meta.
    async fn delete(&self, caller: &Caller, id: TemplateId) -> Result<(), PortError>;
}

/// Contacts, consent, imports and segments. The caller is recorded in consent history.
#[async_trait::async_trait]
pub trait ContactsPort: Send + Sync {
    /// A page of contacts matching `query` (number or name prefix; empty: all) and, if given,
    /// the saved segment `segment`, after `after`.
    async fn page(
        &self,
        caller: &Caller,
        query: String,
        after: Option<String>,
        segment: Option<SegmentId>,
    ) -> Result<ContactPage, PortError>;
    /// One contact.
    async fn contact(&self, caller: &Caller, phone: String) -> Result<ContactDetail, PortError>;
    /// Creates or updates a contact; returns its E.164 number.
    async fn save(
        &self,
        caller: &Caller,
        existing: bool,
        edit: ContactEdit,
    ) -> Result<String, PortError>;
    /// Records a user's opt-in or opt-out for the contact.
    async fn set_consent(
        &self,
        caller: &Caller,
        phone: String,
        action: ConsentAction,
        categories: Vec<String>,
    ) -> Result<(), PortError>;
    /// Erases the contact, keeping an anonymous consent tombstone.
    async fn delete(&self, caller: &Caller, phone: String) -> Result<(), PortError>;
    /// Imports, newest first.
    async fn imports(&self, caller: &Caller) -> Result<Vec<ImportView>, PortError>;
    /// One import.
    async fn import(&self, caller: &Caller, id: ImportId) -> Result<ImportView, PortError>;
    /// Validates the mapping and queues the import.
    async fn start_import(
        &self,
        caller: &Caller,
        id: ImportId,
        settings: ImportSettings,
    ) -> Result<(), PortError>;
    /// Saved segments.
    async fn segments(&self, caller: &Caller) -> Result<Vec<SegmentSummary>, PortError>;
    /// Validates and saves a segment; returns its id.
    async fn save_segment(
        &self,
        caller: &Caller,
        id: Option<SegmentId>,
        definition: SegmentDefinition,
    ) -> Result<SegmentId, PortError>;
    /// Deletes a segment.
    async fn delete_segment(&self, caller: &Caller, id: SegmentId) -> Result<(), PortError>;
    /// Contacts the definition selects now.
    async fn count_segment(
        &self,
        caller: &Caller,
        definition: SegmentDefinition,
    ) -> Result<u64, PortError>;
}

/// Campaigns: the wizard, launch and control, live progress, sender limits and prices.
#[async_trait::async_trait]
pub trait CampaignsPort: Send + Sync {
    /// Every campaign, newest first.
    async fn campaigns(&self, caller: &Caller) -> Result<Vec<CampaignSummary>, PortError>;
    /// One campaign.
    async fn campaign(&self, caller: &Caller, id: CampaignId) -> Result<CampaignView, PortError>;
    /// Its live figures.
    async fn progress(&self, caller: &Caller, id: CampaignId) -> Result<Progress, PortError>;
    /// The wizard's choices.
    async fn options(&self, caller: &Caller) -> Result<WizardOptions, PortError>;
    /// Validates and saves a draft; returns its id.
    async fn save(
        &self,
        caller: &Caller,
        id: Option<CampaignId>,
        draft: CampaignDraft,
    ) -> Result<CampaignId, PortError>;
    /// What is wrong with `schedule` now beyond its form (a start that has passed), as
    /// sentences, for the wizard to show on the field while it is typed.
    async fn schedule_problems(
        &self,
        caller: &Caller,
        schedule: Schedule,
    ) -> Result<Vec<String>, PortError>;
    /// Rendered messages for the first contacts, or those matching `query`.
    async fn preview(
        &self,
        caller: &Caller,
        draft: CampaignDraft,
        query: String,
    ) -> Result<Vec<PreviewMessage>, PortError>;
    /// Recipients, exclusions, cost and duration before launch.
    async fn preflight(
        &self,
        caller: &Caller,
        draft: CampaignDraft,
    ) -> Result<Preflight, PortError>;
    /// Launches a draft.
    async fn launch(&self, caller: &Caller, id: CampaignId) -> Result<(), PortError>;
    /// Pause, resume, cancel, confirm an overdue start, or resend unknown recipients (as
    /// `CampaignStatus::apply` permits); returns a sentence saying what happened.
    async fn act(
        &self,
        caller: &Caller,
        id: CampaignId,
        command: CampaignCommand,
    ) -> Result<String, PortError>;
    /// New start time for a scheduled or overdue campaign.
    async fn reschedule(
        &self,
        caller: &Caller,
        id: CampaignId,
        schedule: Schedule,
    ) -> Result<(), PortError>;
    /// Copies a campaign into a draft; returns the new id.
    async fn clone_campaign(
        &self,
        caller: &Caller,
        id: CampaignId,
    ) -> Result<CampaignId, PortError>;
    /// Deletes a draft or finished campaign.
    async fn delete(&self, caller: &Caller, id: CampaignId) -> Result<(), PortError>;
    /// Every sender number's limits.
    async fn limits(&self, caller: &Caller) -> Result<Vec<SenderLimitsView>, PortError>;
    /// Changes a number's pace and limit override.
    async fn set_limits(
        &self,
        caller: &Caller,
        connection_id: ConnectionId,
        messages_per_second: u32,
        limit_override: String,
    ) -> Result<(), PortError>;
    /// The price table.
    async fn prices(&self, caller: &Caller) -> Result<PriceTable, PortError>;
    /// Replaces the price table.
    async fn set_prices(&self, caller: &Caller, table: PriceTable) -> Result<(), PortError>;
}

/// The inbox: conversations, their threads, and answering inside (and after) WhatsApp's
/// customer-service window.
#[async_trait::async_trait]
pub trait ConversationsPort: Send + Sync {
    /// Conversations matching `filter`, newest activity first, after the cursor `after`.
    async fn inbox(
        &self,
        caller: &Caller,
        filter: InboxFilter,
        after: Option<String>,
    ) -> Result<InboxPage, PortError>;
    /// How many conversations have unread messages.
    async fn unread(&self, caller: &Caller) -> Result<usize, PortError>;
    /// One conversation with its messages, the window and the templates it allows.
    async fn thread(&self, caller: &Caller, id: ConversationId) -> Result<ThreadView, PortError>;
    /// Saved reply `template` as a draft for conversation `id`, placeholders filled from the
    /// contact and its file, if any, uploaded to the conversation's number.
    async fn use_saved_reply(
        &self,
        caller: &Caller,
        id: ConversationId,
        template: TemplateId,
    ) -> Result<domain::conversation::compose::SessionDraft, PortError>;
    /// The conversations and campaigns of the contact with E.164 number `phone`.
    async fn contact_history(
        &self,
        caller: &Caller,
        phone: String,
    ) -> Result<ContactHistory, PortError>;
    /// Sends the composer's session message (text, reply buttons or a list, maybe quoting a
    /// message of the thread); refused before any request once the window has closed.
    async fn reply(
        &self,
        caller: &Caller,
        id: ConversationId,
        draft: domain::conversation::compose::SessionDraft,
    ) -> Result<(), PortError>;
    /// Gives the conversation to team member `assignee` (a login name), or to nobody (`None`).
    async fn assign(
        &self,
        caller: &Caller,
        id: ConversationId,
        assignee: Option<String>,
    ) -> Result<(), PortError>;
    /// Fetches again a file of the thread Herald gave up on (`media_id`, Meta's id).
    async fn retry_media(
        &self,
        caller: &Caller,
        id: ConversationId,
        media_id: String,
    ) -> Result<(), PortError>;
    /// Reacts with `emoji` to the thread's message `wamid` (an empty emoji takes it back).
    async fn react(
        &self,
        caller: &Caller,
        id: ConversationId,
        wamid: String,
        emoji: String,
    ) -> Result<(), PortError>;
    /// On a sandbox number: the customer does `action`, through the real webhook intake.
    async fn simulate(
        &self,
        caller: &Caller,
        id: ConversationId,
        action: crate::api::conversations::CustomerAction,
    ) -> Result<(), PortError>;
    /// Sends an approved template of the conversation's number with `values` for its variables.
    async fn send_template(
        &self,
        caller: &Caller,
        id: ConversationId,
        template: TemplateId,
        values: Vec<String>,
    ) -> Result<(), PortError>;
    /// Adds an internal note.
    async fn note(
        &self,
        caller: &Caller,
        id: ConversationId,
        text: String,
    ) -> Result<(), PortError>;
    /// `read`, `unread`, `close` or `reopen`.
    async fn mark(
        &self,
        caller: &Caller,
        id: ConversationId,
        action: String,
    ) -> Result<(), PortError>;
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
    /// See [`ConversationsPort`].
    pub conversations: Arc<dyn ConversationsPort>,
}

/// The request's [`Services`]; a typed error rather than a panic if the server forgot them.
pub fn services() -> Result<Services, ServerFnError> {
    use_context::<Services>()
        .ok_or_else(|| ServerFnError::new("server misconfigured: services are not in context"))
}
