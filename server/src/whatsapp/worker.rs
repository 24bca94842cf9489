//! Processes the webhook inbox: parses each stored body with `domain::whatsapp::webhook::parse`
//! and applies its events idempotently (so Meta's retries, duplicates and out-of-order statuses
//! are harmless). A body that cannot be fully read is marked failed with its problems — the events
//! it did yield are still applied — and stays available for re-processing.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use domain::contacts::consent;
use domain::whatsapp::webhook::{self, EventKind, InboundContent, WebhookEvent};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::consent_effects;
use super::intake::Webhooks;
use crate::clock::Clock;
use crate::storage::campaigns::{CampaignStore, Delivery};
use crate::storage::connections::Connection;
use crate::storage::contacts::ContactStore;
use crate::storage::inbox::InboxState;
use crate::storage::messages::{InboundRecord, MessageStore, StatusUpdate};
use crate::storage::senders::SenderStore;
use crate::storage::templates::{StatusChange, TemplateStore};
use crate::storage::windows::WindowStore;
use crate::storage::{StorageError, Store};

/// How many inbox entries one pass takes.
const BATCH: usize = 256;
/// Fallback poll interval when no receipt wakes the worker.
const POLL: Duration = Duration::from_secs(5);

/// The worker and what it writes to.
#[derive(Clone)]
pub struct WebhookWorker {
    webhooks: Webhooks,
    messages: MessageStore,
    templates: TemplateStore,
    contacts: ContactStore,
    campaigns: CampaignStore,
    senders: SenderStore,
    windows: WindowStore,
    stop_words: Arc<Vec<String>>,
    clock: Arc<dyn Clock>,
    /// Field names already reported as unknown, so each is logged once per run.
    unknown_fields: Arc<Mutex<HashSet<String>>>,
}

/// Outcome counts of [`WebhookWorker::process_pending`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Processed {
    /// Bodies fully applied.
    pub processed: usize,
    /// Bodies marked failed.
    pub failed: usize,
}

impl WebhookWorker {
    /// A worker over `store`.
    pub fn new(
        store: &Store,
        webhooks: Webhooks,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StorageError> {
        Ok(Self {
            webhooks,
            messages: MessageStore::open(store)?,
            templates: TemplateStore::open(store)?,
            contacts: ContactStore::open(store)?,
            campaigns: CampaignStore::open(store)?,
            senders: SenderStore::open(store)?,
            windows: WindowStore::open(store)?,
            stop_words: Arc::default(),
            clock,
            unknown_fields: Arc::default(),
        })
    }

    /// Also treats `words` (from the configuration) as opt-out words.
    pub fn with_stop_words(mut self, words: Vec<String>) -> Self {
        self.stop_words = Arc::new(words);
        self
    }

    /// Runs until `stop`: processes on every receipt, and every few seconds in case one was missed.
    pub async fn run(self, stop: CancellationToken) {
        loop {
            // Storage work is synchronous: run it off the async threads so HTTP handling (and
            // campaign pacing) never waits behind a batch of webhooks.
            let worker = self.clone();
            let result = tokio::task::spawn_blocking(move || worker.process_pending())
                .await
                .unwrap_or_else(|e| Err(StorageError::Background(e.to_string())));
            match result {
                Ok(p) if p.processed + p.failed > 0 => tracing::debug!(?p, "webhooks processed"),
                Ok(_) => {}
                Err(error) => tracing::error!(%error, "webhook processing failed; will retry"),
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = self.webhooks.wake.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// Processes everything pending now; tests call it to drain the inbox deterministically.
    /// A body whose events cannot be applied (a record that fails to read, say) is parked as
    /// failed with the error — visible in the webhook log and re-processable — so it never holds
    /// up the bodies behind it. Only a failure to park it stops the pass.
    pub fn process_pending(&self) -> Result<Processed, StorageError> {
        let mut outcome = Processed::default();
        loop {
            let ids = self.webhooks.inbox.pending(BATCH)?;
            if ids.is_empty() {
                return Ok(outcome);
            }
            for id in ids {
                match self.process(&id) {
                    Ok(true) => outcome.processed += 1,
                    Ok(false) => outcome.failed += 1,
                    Err(error) => {
                        tracing::error!(%error, inbox_id = %id, "a webhook could not be applied; parked as failed");
                        self.webhooks.inbox.finish(
                            &id,
                            InboxState::Failed {
                                at_ms: self.clock.now_ms(),
                                error: format!("could not be applied: {error}"),
                            },
                        )?;
                        outcome.failed += 1;
                    }
                }
            }
        }
    }

    /// Applies one body; returns whether it was read completely.
    fn process(&self, id: &Uuid) -> Result<bool, StorageError> {
        let inbox = &self.webhooks.inbox;
        let (Some(entry), Some(body)) = (inbox.entry(id)?, inbox.body(id)?) else {
            inbox.finish(
                id,
                InboxState::Failed {
                    at_ms: self.clock.now_ms(),
                    error: "body missing".into(),
                },
            )?;
            return Ok(false);
        };
        let now = self.clock.now_ms();
        let parsed = match webhook::parse(&body) {
            Ok(parsed) => parsed,
            Err(error) => {
                tracing::warn!(%error, inbox_id = %id, "webhook body is not a WhatsApp payload");
                inbox.finish(
                    id,
                    InboxState::Failed {
                        at_ms: now,
                        error: error.to_string(),
                    },
                )?;
                return Ok(false);
            }
        };
        let connection = self.webhooks.connections.get(&entry.connection_id)?;
        let mut ignored = 0usize;
        for event in &parsed.events {
            let verdict = connection
                .as_ref()
                .map_or(Err("its connection no longer exists"), |c| {
                    addressed_to(c, event)
                });
            match verdict {
                Ok(()) => self.apply(entry.connection_id, &event.kind)?,
                Err(reason) => {
                    ignored += 1;
                    tracing::warn!(inbox_id = %id, connection = %entry.connection_id, reason, "ignored a webhook event addressed to another account");
                }
            }
        }
        let mut problems = parsed.problems;
        if ignored > 0 {
            problems.push(format!(
                "{ignored} event(s) ignored: they name a WhatsApp account or number other than this connection's"
            ));
        }
        let state = if problems.is_empty() {
            InboxState::Processed {
                at_ms: now,
                events: u32::try_from(parsed.events.len()).unwrap_or(u32::MAX),
            }
        } else {
            tracing::warn!(inbox_id = %id, problems = problems.len(), "webhook partly unreadable");
            InboxState::Failed {
                at_ms: now,
                error: problems.join("\n"),
            }
        };
        let complete = matches!(state, InboxState::Processed { .. });
        inbox.finish(id, state)?;
        Ok(complete)
    }

    fn apply(&self, connection_id: Uuid, event: &EventKind) -> Result<(), StorageError> {
        match event {
            EventKind::Status(report) => {
                let foreign = self
                    .messages
                    .status(&report.message_id)?
                    .is_some_and(|known| known.connection_id != connection_id);
                if foreign {
                    tracing::warn!(connection = %connection_id, "ignored a status report for another connection's message");
                    return Ok(());
                }
                self.messages.apply_status(
                    connection_id,
                    &StatusUpdate {
                        message_id: &report.message_id,
                        status: report.status,
                        timestamp: report.timestamp,
                        recipient_id: report.recipient_id.as_deref(),
                        callback_data: report.biz_opaque_callback_data.as_deref(),
                        errors: report
                            .errors
                            .iter()
                            .map(|e| (e.code, e.details.clone()))
                            .collect(),
                        pricing_category: report
                            .pricing
                            .as_ref()
                            .and_then(|p| p.category.as_deref()),
                        pricing_type: report.pricing.as_ref().and_then(|p| p.kind.as_deref()),
                    },
                )?;
                if let Some((campaign, phone)) = report
                    .biz_opaque_callback_data
                    .as_deref()
                    .and_then(domain::campaign::callback::decode)
                {
                    self.apply_campaign_status(connection_id, campaign, &phone, report)?;
                }
                if report
                    .errors
                    .iter()
                    .any(|e| e.code == consent_effects::STOPPED_MARKETING)
                {
                    if let Some(recipient) = &report.recipient_id {
                        consent_effects::stopped_marketing(
                            &self.contacts,
                            recipient,
                            consent::webhook_event_ms(report.timestamp),
                        )?;
                    }
                }
            }
            EventKind::Inbound(message) => {
                // Meta may deliver a message more than once: its effects apply the first time.
                // They run before the message is recorded, so a crash in between repeats them
                // (each is idempotent: consent follows event time, a reply credit moves a state
                // once) rather than losing them.
                // Every message (a repeat too: windows only ever close later) keeps the user's
                // service window with this number open.
                if let Some(user) = message.from.as_deref().or(message.user_id.as_deref()) {
                    self.windows.inbound(
                        &connection_id,
                        user,
                        message.timestamp.saturating_mul(1000),
                        message.referral.is_some(),
                    )?;
                }
                if self.messages.knows_inbound(&message.id)? {
                    return Ok(());
                }
                consent_effects::inbound(
                    &self.contacts,
                    message,
                    &self.stop_words,
                    self.clock.now_ms(),
                )?;
                if let Some(from) = &message.from {
                    self.campaigns.apply_reply(
                        &connection_id,
                        from,
                        message.timestamp.saturating_mul(1000),
                    )?;
                }
                let (kind, text) = summarize(&message.content);
                self.messages.record_inbound(
                    &message.id,
                    &InboundRecord {
                        connection_id,
                        from: message
                            .from
                            .clone()
                            .or_else(|| message.user_id.clone())
                            .unwrap_or_default(),
                        timestamp: message.timestamp,
                        kind,
                        text,
                        context_id: message.context.as_ref().and_then(|c| c.id.clone()),
                    },
                )?;
            }
            EventKind::Unknown { field, .. } => {
                let mut seen = self
                    .unknown_fields
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                if seen.insert(field.clone()) {
                    tracing::info!(%field, "webhook field not interpreted by Herald yet; kept raw in the inbox");
                }
            }
            EventKind::TemplateStatus(update) => {
                if !self.owns_template(connection_id, &update.template_id)? {
                    return Ok(());
                }
                let at_ms = self.clock.now_ms();
                self.templates.apply(&update.template_id, |record| {
                    record.status = Some(update.event.clone());
                    if update.event == "REJECTED" {
                        record.rejected_reason = update.reason.clone();
                    }
                    let detail = update
                        .rejection_recommendation
                        .clone()
                        .or_else(|| update.info_description.clone())
                        .or_else(|| update.info_title.clone());
                    record.status_detail = detail.clone();
                    StatusChange {
                        at_ms,
                        status: update.event.clone(),
                        reason: update.reason.clone().filter(|r| r != "NONE"),
                        detail,
                    }
                })?;
            }
            EventKind::TemplateQuality(update) => {
                if !self.owns_template(connection_id, &update.template_id)? {
                    return Ok(());
                }
                let at_ms = self.clock.now_ms();
                self.templates.apply(&update.template_id, |record| {
                    record.quality = Some(update.new.clone());
                    StatusChange {
                        at_ms,
                        status: format!("quality {}", update.new),
                        reason: update.previous.as_ref().map(|p| format!("was {p}")),
                        detail: None,
                    }
                })?;
            }
            EventKind::TemplateCategory(update) => {
                if !self.owns_template(connection_id, &update.template_id)? {
                    return Ok(());
                }
                let at_ms = self.clock.now_ms();
                self.templates.apply(&update.template_id, |record| {
                    record.definition.category = update.new_category.clone();
                    StatusChange {
                        at_ms,
                        status: format!("category {}", update.new_category),
                        reason: update
                            .previous_category
                            .as_ref()
                            .map(|p| format!("was {p}")),
                        detail: None,
                    }
                })?;
            }
            EventKind::UserPreference(pref) => consent_effects::preference(&self.contacts, pref)?,
            EventKind::PhoneNumberQuality(update) => {
                let at_ms = self.clock.now_ms();
                self.senders.update(&connection_id, |limits| {
                    if let Some(limit) = update.limit {
                        limits.messaging_limit = Some(limit);
                    }
                    // Legacy events carried the quality state; FLAGGED meant low quality.
                    match update.event.as_str() {
                        "FLAGGED" => limits.quality = Some("RED".into()),
                        "UNFLAGGED" => limits.quality = Some("YELLOW".into()),
                        _ => {}
                    }
                    limits.checked_at_ms = Some(at_ms);
                })?;
            }
            EventKind::BusinessCapability(update) => {
                if let Some(limit) = update.limit {
                    self.senders.update(&connection_id, |limits| {
                        limits.messaging_limit = Some(limit)
                    })?;
                }
            }
            // Account events stay in the inbox for the webhook log.
            _ => {}
        }
        Ok(())
    }
}

impl WebhookWorker {
    /// Whether Meta's template `meta_id` belongs to `connection_id`'s WhatsApp Business Account
    /// (its own template, or one of another connection on the same account). Unknown templates
    /// are nobody's: there is nothing to change.
    fn owns_template(&self, connection_id: Uuid, meta_id: &str) -> Result<bool, StorageError> {
        let record = match self.templates.find_by_meta_id(meta_id)? {
            Some(id) => self.templates.get(&id)?,
            None => None,
        };
        let Some(owner) = record.and_then(|t| t.connection_id) else {
            return Ok(false);
        };
        if owner == connection_id {
            return Ok(true);
        }
        let waba_of = |id: &Uuid| -> Result<Option<String>, StorageError> {
            Ok(self.webhooks.connections.get(id)?.and_then(|c| c.waba_id))
        };
        let same_account = match (waba_of(&owner)?, waba_of(&connection_id)?) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        };
        if !same_account {
            tracing::warn!(connection = %connection_id, template = meta_id, "ignored a template update for another account's template");
        }
        Ok(same_account)
    }

    /// Moves the campaign recipient a status report names (its `biz_opaque_callback_data`).
    fn apply_campaign_status(
        &self,
        connection_id: Uuid,
        campaign: Uuid,
        phone: &str,
        report: &webhook::StatusReport,
    ) -> Result<(), StorageError> {
        let sent_from_here = self
            .campaigns
            .get(&campaign)?
            .is_some_and(|c| c.draft.connection_id == connection_id.to_string());
        if !sent_from_here {
            tracing::warn!(connection = %connection_id, %campaign, "ignored a status report naming a campaign of another connection");
            return Ok(());
        }
        let billable = report
            .pricing
            .as_ref()
            .filter(|p| p.kind.as_deref() == Some("regular") || p.billable == Some(true))
            .and_then(|p| p.category.as_deref());
        let price = match billable {
            Some(category) => {
                let country = self
                    .campaigns
                    .recipient(&campaign, phone)?
                    .and_then(|r| r.country);
                self.campaigns.prices()?.price(country.as_deref(), category)
            }
            None => 0.0,
        };
        let first_error = report.errors.first();
        self.campaigns.apply_delivery(
            &campaign,
            &connection_id,
            phone,
            &Delivery {
                status: report.status,
                wamid: &report.message_id,
                wa_id: report.recipient_id.as_deref(),
                code: first_error.map(|e| e.code),
                reason: first_error
                    .and_then(|e| e.details.as_deref().or(e.title.as_deref()))
                    .unwrap_or(""),
                billable_category: billable,
                price,
                at_ms: self.clock.now_ms(),
            },
        )?;
        Ok(())
    }
}

/// Whether `event` concerns `connection`'s own WhatsApp Business Account and number; if not, why.
/// A payload signed with one connection's secret must never change another's messages,
/// templates or limits. What a connection does not know yet (no WABA id stored) is not held
/// against the event.
fn addressed_to(connection: &Connection, event: &WebhookEvent) -> Result<(), &'static str> {
    if connection
        .waba_id
        .as_deref()
        .is_some_and(|waba| waba != event.waba_id)
    {
        return Err("its WhatsApp Business Account id is not this connection's");
    }
    let number_differs = match (&connection.phone_number_id, &event.phone_number_id) {
        (Some(ours), Some(theirs)) => ours != theirs,
        _ => false,
    };
    if number_differs {
        return Err("its phone number id is not this connection's");
    }
    Ok(())
}

/// The type name and the text-like part of an inbound message, for listings.
fn summarize(content: &InboundContent) -> (String, Option<String>) {
    match content {
        InboundContent::Text { body } => ("text".into(), Some(body.clone())),
        InboundContent::Button { payload, .. } => ("button".into(), Some(payload.clone())),
        InboundContent::ButtonReply { id, .. } => ("button_reply".into(), Some(id.clone())),
        InboundContent::ListReply { id, .. } => ("list_reply".into(), Some(id.clone())),
        InboundContent::Media { kind, caption, .. } => {
            (format!("{kind:?}").to_lowercase(), caption.clone())
        }
        InboundContent::Location { name, .. } => ("location".into(), name.clone()),
        InboundContent::Contacts(_) => ("contacts".into(), None),
        InboundContent::Reaction { emoji, .. } => ("reaction".into(), emoji.clone()),
        InboundContent::System { body, .. } => ("system".into(), body.clone()),
        InboundContent::Other { kind, .. } => (kind.clone(), None),
    }
}
