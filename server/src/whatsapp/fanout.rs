//! Hands each event of a webhook to what it concerns, once: one small handler per event kind,
//! and for inbound messages an ordered list of [`InboundSubscriber`]s. The worker
//! ([`super::worker`]) decides *whether* an event applies (its connection, its parsing); this
//! module decides *what it does*. A new feature that reacts to messages — the inbox, automations
//! — subscribes here without touching the other handlers.
//!
//! Order for an inbound message: the user's service window moves (every delivery; it only ever
//! closes later), then — the first time its wamid is seen — each subscriber runs (consent, the
//! campaign reply credit, the thread, the download of a file it carries), then the message is
//! recorded. Subscribers run before the record,
//! so a crash in between repeats them rather than losing them; each must therefore be idempotent.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use domain::campaign::pacing::MAX_MPS;
use domain::campaign::RecipientState;
use domain::contacts::consent;
use domain::conversation::media::MediaState;
use domain::whatsapp::callback::{self, Callback};
use domain::whatsapp::webhook::{
    self, BusinessCapabilityUpdate, EventKind, InboundContent, InboundMessage,
    PhoneNumberQualityUpdate, TemplateCategoryUpdate, TemplateQualityUpdate, TemplateStatusUpdate,
};
use uuid::Uuid;

use super::consent_effects;
use crate::clock::Clock;
use crate::messaging::threads::Threads;
use crate::storage::campaigns::{CampaignStore, Delivery};
use crate::storage::connections::ConnectionStore;
use crate::storage::contacts::ContactStore;
use crate::storage::media::{MediaRecord, MediaStore};
use crate::storage::messages::{InboundRecord, MessageStore, Origin, StatusUpdate};
use crate::storage::senders::SenderStore;
use crate::storage::templates::{StatusChange, TemplateRecord, TemplateStore};
use crate::storage::windows::WindowStore;
use crate::storage::{StorageError, Store};
use domain::whatsapp::window::CUSTOMER_SERVICE_MS;

/// Something that reacts to a user's message the first time it arrives. Must be idempotent (see
/// the module documentation).
pub trait InboundSubscriber: Send + Sync {
    /// Applies `message`, received on `connection`.
    fn first_seen(&self, connection: Uuid, message: &InboundMessage) -> Result<(), StorageError>;
}

/// Stop and start words, stop buttons, `wa_id` and profile name ([`consent_effects::inbound`]).
struct Consent {
    contacts: ContactStore,
    stop_words: Arc<Vec<String>>,
    clock: Arc<dyn Clock>,
}

impl InboundSubscriber for Consent {
    fn first_seen(&self, _connection: Uuid, message: &InboundMessage) -> Result<(), StorageError> {
        consent_effects::inbound(
            &self.contacts,
            message,
            &self.stop_words,
            self.clock.now_ms(),
        )
    }
}

/// Credits the reply to the campaign message the user last got from this number.
struct CampaignReplies {
    campaigns: CampaignStore,
}

impl InboundSubscriber for CampaignReplies {
    fn first_seen(&self, connection: Uuid, message: &InboundMessage) -> Result<(), StorageError> {
        if let Some(from) = &message.from {
            self.campaigns.apply_reply(
                &connection,
                from,
                message.timestamp.saturating_mul(1000),
            )?;
        }
        Ok(())
    }
}

/// Adds the message to its conversation's thread (the inbox).
struct ConversationThreads {
    threads: Threads,
    clock: Arc<dyn Clock>,
}

impl InboundSubscriber for ConversationThreads {
    fn first_seen(&self, connection: Uuid, message: &InboundMessage) -> Result<(), StorageError> {
        self.threads
            .inbound(connection, message, self.clock.now_ms())
    }
}

/// Plans the download of a photo, video, voice note, file or sticker (the downloader in
/// `conversations::media` fetches it): written before the message counts as processed, so a
/// file is never forgotten, whatever happens to the process after.
struct InboundMedia {
    media: MediaStore,
    clock: Arc<dyn Clock>,
}

impl InboundSubscriber for InboundMedia {
    fn first_seen(&self, connection: Uuid, message: &InboundMessage) -> Result<(), StorageError> {
        let InboundContent::Media {
            kind,
            id,
            mime_type,
            sha256,
            filename,
            ..
        } = &message.content
        else {
            return Ok(());
        };
        let now = self.clock.now_ms();
        self.media.announce(
            &(connection, id.clone()),
            &MediaRecord {
                wamid: message.id.clone(),
                kind: domain::conversation::body::media_name(*kind).into(),
                mime_type: mime_type.clone(),
                sha256: sha256.clone(),
                filename: filename.clone(),
                state: MediaState::Pending,
                attempts: 0,
                due_at_ms: now,
                last_error: None,
                size: None,
                created_at_ms: now,
            },
        )?;
        Ok(())
    }
}

/// The handlers and the stores they write to.
#[derive(Clone)]
pub struct Fanout {
    messages: MessageStore,
    templates: TemplateStore,
    contacts: ContactStore,
    campaigns: CampaignStore,
    senders: SenderStore,
    windows: WindowStore,
    connections: ConnectionStore,
    threads: Threads,
    clock: Arc<dyn Clock>,
    subscribers: Vec<Arc<dyn InboundSubscriber>>,
    /// Field names already reported as unknown, so each is logged once per run.
    unknown_fields: Arc<Mutex<HashSet<String>>>,
}

impl Fanout {
    /// Handlers over `store`, with `stop_words` (from the configuration) as extra opt-out words.
    pub fn new(
        store: &Store,
        connections: ConnectionStore,
        threads: Threads,
        clock: Arc<dyn Clock>,
        stop_words: Vec<String>,
    ) -> Result<Self, StorageError> {
        let contacts = ContactStore::open(store)?;
        let campaigns = CampaignStore::open(store)?;
        let subscribers: Vec<Arc<dyn InboundSubscriber>> = vec![
            Arc::new(Consent {
                contacts: contacts.clone(),
                stop_words: Arc::new(stop_words),
                clock: clock.clone(),
            }),
            Arc::new(CampaignReplies {
                campaigns: campaigns.clone(),
            }),
            Arc::new(ConversationThreads {
                threads: threads.clone(),
                clock: clock.clone(),
            }),
            Arc::new(InboundMedia {
                media: MediaStore::open(store)?,
                clock: clock.clone(),
            }),
        ];
        Ok(Self {
            messages: MessageStore::open(store)?,
            templates: TemplateStore::open(store)?,
            contacts,
            campaigns,
            senders: SenderStore::open(store)?,
            windows: WindowStore::open(store)?,
            connections,
            threads,
            clock,
            subscribers,
            unknown_fields: Arc::default(),
        })
    }

    /// Adds a subscriber after the built-in ones.
    pub fn subscribe(&mut self, subscriber: Arc<dyn InboundSubscriber>) {
        self.subscribers.push(subscriber);
    }

    /// Applies one event that arrived on `connection_id` (already checked to be its own).
    pub fn apply(&self, connection_id: Uuid, event: &EventKind) -> Result<(), StorageError> {
        match event {
            EventKind::Status(report) => self.status(connection_id, report),
            EventKind::Inbound(message) => self.inbound(connection_id, message),
            EventKind::TemplateStatus(update) => self.template_status(connection_id, update),
            EventKind::TemplateQuality(update) => self.template_quality(connection_id, update),
            EventKind::TemplateCategory(update) => self.template_category(connection_id, update),
            EventKind::UserPreference(pref) => consent_effects::preference(&self.contacts, pref),
            EventKind::PhoneNumberQuality(update) => self.number_quality(connection_id, update),
            EventKind::BusinessCapability(update) => self.capability(connection_id, update),
            EventKind::Unknown { field, .. } => {
                self.unknown(field);
                Ok(())
            }
            // Account events stay in the inbox for the webhook log.
            _ => Ok(()),
        }
    }

    /// A delivery report: the message's status, its campaign recipient, a 131050 opt-out.
    fn status(
        &self,
        connection_id: Uuid,
        report: &webhook::StatusReport,
    ) -> Result<(), StorageError> {
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
                pricing_category: report.pricing.as_ref().and_then(|p| p.category.as_deref()),
                pricing_type: report.pricing.as_ref().and_then(|p| p.kind.as_deref()),
            },
        )?;
        match self.origin_of(connection_id, report)? {
            Some(Origin::Campaign { campaign, phone }) => {
                self.apply_campaign_status(connection_id, campaign, &phone, report)?;
            }
            Some(Origin::TestSend | Origin::Conversation { .. } | Origin::FollowUp { .. })
            | None => {
                if let Some(recipient) = &report.recipient_id {
                    self.threads.status_changed(connection_id, recipient)?;
                }
            }
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
        Ok(())
    }

    /// A user's message (see the module documentation for the order).
    fn inbound(&self, connection_id: Uuid, message: &InboundMessage) -> Result<(), StorageError> {
        if let Some(user) = message.from.as_deref().or(message.user_id.as_deref()) {
            // Meta's 24 hours, unless a sandbox number simulates a shorter window.
            let service_ms = self
                .connections
                .get(&connection_id)?
                .and_then(|c| c.sandbox)
                .map_or(CUSTOMER_SERVICE_MS, |profile| profile.service_window_ms());
            self.windows.inbound(
                &connection_id,
                user,
                message.timestamp.saturating_mul(1000),
                message.referral.is_some(),
                service_ms,
            )?;
        }
        if self.messages.knows_inbound(&message.id)? {
            return Ok(());
        }
        for subscriber in &self.subscribers {
            subscriber.first_seen(connection_id, message)?;
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
        Ok(())
    }

    fn unknown(&self, field: &str) {
        let mut seen = self
            .unknown_fields
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if seen.insert(field.to_string()) {
            tracing::info!(%field, "webhook field not interpreted by Herald yet; kept raw in the inbox");
        }
    }

    /// Applies `change` to Meta's template `meta_id` if it belongs to `connection_id`'s account,
    /// recording it in the template's history.
    fn change_template(
        &self,
        connection_id: Uuid,
        meta_id: &str,
        change: impl Fn(&mut TemplateRecord, i64) -> StatusChange,
    ) -> Result<(), StorageError> {
        if !self.owns_template(connection_id, meta_id)? {
            return Ok(());
        }
        let at_ms = self.clock.now_ms();
        self.templates
            .apply(meta_id, |record| change(record, at_ms))?;
        Ok(())
    }

    fn template_status(
        &self,
        connection_id: Uuid,
        update: &TemplateStatusUpdate,
    ) -> Result<(), StorageError> {
        self.change_template(connection_id, &update.template_id, |record, at_ms| {
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
        })
    }

    fn template_quality(
        &self,
        connection_id: Uuid,
        update: &TemplateQualityUpdate,
    ) -> Result<(), StorageError> {
        self.change_template(connection_id, &update.template_id, |record, at_ms| {
            record.quality = Some(update.new.clone());
            StatusChange {
                at_ms,
                status: format!("quality {}", update.new),
                reason: update.previous.as_ref().map(|p| format!("was {p}")),
                detail: None,
            }
        })
    }

    fn template_category(
        &self,
        connection_id: Uuid,
        update: &TemplateCategoryUpdate,
    ) -> Result<(), StorageError> {
        self.change_template(connection_id, &update.template_id, |record, at_ms| {
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
        })
    }

    fn number_quality(
        &self,
        connection_id: Uuid,
        update: &PhoneNumberQualityUpdate,
    ) -> Result<(), StorageError> {
        let at_ms = self.clock.now_ms();
        self.senders.update(&connection_id, |limits| {
            if let Some(limit) = update.limit {
                limits.messaging_limit = Some(limit);
            }
            // Legacy events carried the quality state; FLAGGED meant low quality.
            match update.event.as_str() {
                "FLAGGED" => limits.quality = Some("RED".into()),
                "UNFLAGGED" => limits.quality = Some("YELLOW".into()),
                "THROUGHPUT_UPGRADE" => limits.read_throughput(MAX_MPS),
                _ => {}
            }
            limits.checked_at_ms = Some(at_ms);
        })?;
        Ok(())
    }

    fn capability(
        &self,
        connection_id: Uuid,
        update: &BusinessCapabilityUpdate,
    ) -> Result<(), StorageError> {
        if let Some(limit) = update.limit {
            self.senders.update(&connection_id, |limits| {
                limits.messaging_limit = Some(limit)
            })?;
        }
        Ok(())
    }

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
            Ok(self.connections.get(id)?.and_then(|c| c.waba_id))
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

    /// Whom a status report is for: the ledger entry its callback data (or, failing that, its
    /// wamid) names, confirmed as sent; `None` for a message Herald does not know or that
    /// another connection sent.
    fn origin_of(
        &self,
        connection_id: Uuid,
        report: &webhook::StatusReport,
    ) -> Result<Option<Origin>, StorageError> {
        let named = report
            .biz_opaque_callback_data
            .as_deref()
            .and_then(callback::decode);
        let message = match named {
            Some(Callback::Recipient { campaign, phone }) => {
                return Ok(Some(Origin::Campaign { campaign, phone }));
            }
            Some(Callback::Message(id)) => Some(id),
            None => self.messages.send_of_wamid(&report.message_id)?,
        };
        let Some(message) = message else {
            return Ok(None);
        };
        let Some(entry) = self.messages.send(&message)? else {
            return Ok(None);
        };
        if entry.connection_id != connection_id {
            tracing::warn!(connection = %connection_id, "ignored a status report naming another connection's message");
            return Ok(None);
        }
        self.messages.confirm_send(&message, &report.message_id)?;
        Ok(Some(entry.origin))
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
        let now = self.clock.now_ms();
        let moved = self.campaigns.apply_delivery(
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
                at_ms: now,
            },
        )?;
        // Deferred by WhatsApp after the campaign had completed: it is not finished after all.
        if moved == Some(RecipientState::Pending)
            && self.campaigns.reopen_completed(&campaign, now)?
        {
            tracing::info!(%campaign, "a deferred report reopened a completed campaign");
        }
        Ok(())
    }
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
        InboundContent::Order { text, .. } => ("order".into(), text.clone()),
        InboundContent::Other { kind, .. } => (kind.clone(), None),
    }
}
