//! What WhatsApp told Herald about messages: delivery status per sent message (tree
//! `message_status`, keyed by wamid) and inbound messages (tree `inbound_messages`, keyed by wamid).
//! Both are written idempotently, because Meta retries and duplicates webhooks.

use domain::whatsapp::status::DeliveryStatus;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Collection, StorageError, Store};

/// The latest delivery state of one sent message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageStatusRecord {
    /// The connection the report arrived on.
    pub connection_id: Uuid,
    /// Merged status (never moves backwards).
    pub status: DeliveryStatus,
    /// Timestamp of the report that set `status` (Unix seconds).
    pub status_at: i64,
    /// The recipient's WhatsApp id.
    pub recipient_id: Option<String>,
    /// What Herald attached to the send, echoed back.
    pub callback_data: Option<String>,
    /// Error codes and details, for failures.
    pub errors: Vec<(i64, Option<String>)>,
    /// Pricing category (`marketing`, `utility`, …), once reported.
    pub pricing_category: Option<String>,
    /// Pricing type (`regular`, `free_customer_service`, …), once reported.
    pub pricing_type: Option<String>,
}

/// An inbound message, stored once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundRecord {
    /// The connection it arrived on.
    pub connection_id: Uuid,
    /// The user's WhatsApp id.
    pub from: String,
    /// Unix seconds.
    pub timestamp: i64,
    /// Meta's message type (`text`, `button`, …).
    pub kind: String,
    /// Text, button payload or reply id, when the message has one.
    pub text: Option<String>,
    /// The wamid it replies to.
    pub context_id: Option<String>,
}

/// A status report as the store needs it.
pub struct StatusUpdate<'a> {
    /// The wamid.
    pub message_id: &'a str,
    /// The reported status.
    pub status: DeliveryStatus,
    /// The report's timestamp.
    pub timestamp: i64,
    /// The recipient.
    pub recipient_id: Option<&'a str>,
    /// The echoed callback data.
    pub callback_data: Option<&'a str>,
    /// Errors, for failures.
    pub errors: Vec<(i64, Option<String>)>,
    /// Pricing category.
    pub pricing_category: Option<&'a str>,
    /// Pricing type.
    pub pricing_type: Option<&'a str>,
}

/// Typed access to the message trees.
#[derive(Clone)]
pub struct MessageStore {
    statuses: Collection<String, MessageStatusRecord>,
    inbound: Collection<String, InboundRecord>,
}

impl MessageStore {
    /// Opens the trees.
    pub fn open(store: &Store) -> Result<Self, StorageError> {
        Ok(Self {
            statuses: store.collection("message_status")?,
            inbound: store.collection("inbound_messages")?,
        })
    }

    /// Merges one status report into the message's record (see `DeliveryStatus::merge`).
    pub fn apply_status(
        &self,
        connection_id: Uuid,
        update: &StatusUpdate<'_>,
    ) -> Result<MessageStatusRecord, StorageError> {
        let merged = self
            .statuses
            .update(&update.message_id.to_string(), |current| {
                let previous = current.as_ref().map(|r| r.status);
                let status = DeliveryStatus::merge(previous, update.status);
                let mut record = current.unwrap_or(MessageStatusRecord {
                    connection_id,
                    status,
                    status_at: update.timestamp,
                    recipient_id: None,
                    callback_data: None,
                    errors: Vec::new(),
                    pricing_category: None,
                    pricing_type: None,
                });
                if previous != Some(status) {
                    record.status = status;
                    record.status_at = update.timestamp;
                }
                record.recipient_id = record
                    .recipient_id
                    .or(update.recipient_id.map(str::to_string));
                record.callback_data = record
                    .callback_data
                    .or(update.callback_data.map(str::to_string));
                for error in &update.errors {
                    if !record.errors.contains(error) {
                        record.errors.push(error.clone());
                    }
                }
                record.pricing_category = record
                    .pricing_category
                    .or(update.pricing_category.map(str::to_string));
                record.pricing_type = record
                    .pricing_type
                    .or(update.pricing_type.map(str::to_string));
                Some(record)
            })?;
        merged.ok_or(StorageError::MissingSchemaVersion)
    }

    /// Stores an inbound message unless it is already known; returns whether it was new.
    pub fn record_inbound(
        &self,
        message_id: &str,
        record: &InboundRecord,
    ) -> Result<bool, StorageError> {
        let mut is_new = false;
        self.inbound.update(&message_id.to_string(), |current| {
            is_new = current.is_none();
            Some(current.unwrap_or_else(|| record.clone()))
        })?;
        Ok(is_new)
    }

    /// The status record of a wamid.
    pub fn status(&self, message_id: &str) -> Result<Option<MessageStatusRecord>, StorageError> {
        self.statuses.get(&message_id.to_string())
    }

    /// Number of inbound messages stored.
    pub fn inbound_count(&self) -> usize {
        self.inbound.len()
    }
}
