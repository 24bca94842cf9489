//! Messages Herald sent and what WhatsApp told it about them.
//!
//! - The message ledger (tree `outbound_messages`): one entry per send, keyed by its Herald
//!   message id (a time-ordered UUID) and written — durably, by the dispatcher — before the API
//!   call. It says where the message came from (campaign recipient, test send), what it carried,
//!   and Herald's side of the outcome. Two indexes: by wamid (`outbound_by_wamid`, for reports
//!   that carry no callback) and by connection for sends a person made (`outbound_by_connection`;
//!   campaign sends are listed by their campaign's report instead).
//! - Delivery status per wamid (tree `message_status`).
//! - Inbound messages (tree `inbound_messages`, keyed by wamid).
//!
//! Webhook-driven writes are idempotent, because Meta retries and duplicates webhooks.

use domain::whatsapp::graph::MessageContent;
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

/// Where a message came from: whom its outcome and reports are for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "origin", rename_all = "snake_case")]
pub enum Origin {
    /// A person's test send from the connection page.
    #[default]
    TestSend,
    /// A campaign's message to one recipient.
    Campaign {
        /// The campaign.
        campaign: Uuid,
        /// The recipient's number as the campaign stores it.
        phone: String,
    },
    /// A person's reply from the inbox.
    Conversation {
        /// The conversation answered.
        conversation: Uuid,
    },
    /// A campaign's follow-up to a recipient's reply.
    FollowUp {
        /// The campaign.
        campaign: Uuid,
        /// The recipient's number as the campaign stores it.
        phone: String,
        /// The branch the reply took, from 0.
        branch: usize,
    },
}

/// Where a send attempt stands on Herald's side (delivery is in [`MessageStatusRecord`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SendState {
    /// Durably recorded just before the API call, which is under way (or was cut off by a
    /// crash: it may have reached WhatsApp, so only a report settles it).
    Sending,
    /// WhatsApp accepted it and gave it a wamid.
    Accepted,
    /// WhatsApp refused it.
    Refused {
        /// Meta's code, when there was one.
        code: Option<i64>,
        /// Plain explanation.
        reason: String,
    },
    /// The answer never came; the message may or may not have been sent.
    Unknown {
        /// What happened.
        reason: String,
    },
}

/// One message Herald tried to send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboundRecord {
    /// The sender connection.
    pub connection_id: Uuid,
    /// The recipient as entered.
    pub to: String,
    /// Meta's `type` (`text`, `template`, …).
    pub kind: String,
    /// A short human summary (text body, template name).
    pub summary: String,
    /// When the attempt was recorded, Unix ms.
    pub created_at_ms: i64,
    /// Herald's side of the outcome.
    pub state: SendState,
    /// The wamid, once accepted.
    pub wamid: Option<String>,
    /// The recipient's WhatsApp id, once known.
    pub wa_id: Option<String>,
    /// Where it came from.
    #[serde(default)]
    pub origin: Origin,
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
    outbound: Collection<Uuid, OutboundRecord>,
    contents: Collection<Uuid, MessageContent>,
    by_wamid: Collection<String, Uuid>,
    by_connection: Collection<(Uuid, Uuid), ()>,
    statuses: Collection<String, MessageStatusRecord>,
    inbound: Collection<String, InboundRecord>,
}

impl MessageStore {
    /// Opens the trees.
    pub fn open(store: &Store) -> Result<Self, StorageError> {
        Ok(Self {
            outbound: store.collection("outbound_messages")?,
            contents: store.collection("outbound_content")?,
            by_wamid: store.collection("outbound_by_wamid")?,
            by_connection: store.collection("outbound_by_connection")?,
            statuses: store.collection("message_status")?,
            inbound: store.collection("inbound_messages")?,
        })
    }

    /// Records send `id` and what it carries before it is made; the caller flushes before
    /// calling the API. The content is kept apart (tree `outbound_content`), so settling the
    /// entry rewrites only the small record.
    pub fn begin_send(
        &self,
        id: &Uuid,
        record: &OutboundRecord,
        content: &MessageContent,
    ) -> Result<(), StorageError> {
        self.contents.insert(id, content)?;
        self.outbound.insert(id, record)?;
        if !matches!(record.origin, Origin::Campaign { .. }) {
            self.by_connection
                .insert(&(record.connection_id, *id), &())?;
        }
        Ok(())
    }

    /// A ledger entry.
    pub fn send(&self, id: &Uuid) -> Result<Option<OutboundRecord>, StorageError> {
        self.outbound.get(id)
    }

    /// What send `id` carried (entries from before the ledger have nothing).
    pub fn content(&self, id: &Uuid) -> Result<Option<MessageContent>, StorageError> {
        self.contents.get(id)
    }

    /// The ledger entry of a wamid, if Herald sent it.
    pub fn send_of_wamid(&self, wamid: &str) -> Result<Option<Uuid>, StorageError> {
        self.by_wamid.get(&wamid.to_string())
    }

    /// Records the outcome of attempt `id`.
    pub fn settle_send(
        &self,
        id: &Uuid,
        state: SendState,
        wamid: Option<String>,
        wa_id: Option<String>,
    ) -> Result<(), StorageError> {
        self.outbound.update(id, |record| {
            record.map(|r| OutboundRecord {
                state: state.clone(),
                wamid: wamid.clone().or(r.wamid.clone()),
                wa_id: wa_id.clone().or(r.wa_id.clone()),
                ..r
            })
        })?;
        if let Some(wamid) = wamid {
            self.by_wamid.insert(&wamid, id)?;
        }
        Ok(())
    }

    /// A status report arrived for entry `id`: the send did reach WhatsApp, whatever its lost
    /// answer would have said.
    pub fn confirm_send(&self, id: &Uuid, wamid: &str) -> Result<(), StorageError> {
        let Some(record) = self.outbound.get(id)? else {
            return Ok(());
        };
        if matches!(record.state, SendState::Sending | SendState::Unknown { .. }) {
            self.settle_send(id, SendState::Accepted, Some(wamid.to_string()), None)?;
        }
        Ok(())
    }

    /// The newest sends a person made from `connection` first (campaign sends are in their
    /// campaign's report).
    pub fn recent_sends(
        &self,
        connection_id: Uuid,
        limit: usize,
    ) -> Result<Vec<(Uuid, OutboundRecord)>, StorageError> {
        let mut out = Vec::with_capacity(limit);
        for entry in self
            .by_connection
            .scan_prefix(connection_id.as_bytes())
            .rev()
        {
            if out.len() >= limit {
                break;
            }
            let ((_, id), ()) = entry?;
            if let Some(record) = self.outbound.get(&id)? {
                out.push((id, record));
            }
        }
        Ok(out)
    }

    /// The newest inbound messages first (a full scan; the conversations index replaces it).
    pub fn recent_inbound(
        &self,
        limit: usize,
    ) -> Result<Vec<(String, InboundRecord)>, StorageError> {
        let mut all: Vec<(String, InboundRecord)> =
            self.inbound.iter().collect::<Result<_, _>>()?;
        all.sort_by_key(|(_, r)| std::cmp::Reverse(r.timestamp));
        all.truncate(limit);
        Ok(all)
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
                // Errors describe a failure that stands: a `failed` report arriving after
                // `read` changes nothing, so it must not show its error beside "read" either.
                if status == DeliveryStatus::Failed {
                    for error in &update.errors {
                        if !record.errors.contains(error) {
                            record.errors.push(error.clone());
                        }
                    }
                } else {
                    record.errors.clear();
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

    /// Whether the inbound message `message_id` was recorded already.
    pub fn knows_inbound(&self, message_id: &str) -> Result<bool, StorageError> {
        self.inbound.contains(&message_id.to_string())
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

#[cfg(test)]
mod tests {
    use super::*;
    use domain::whatsapp::graph::OutgoingMessage;

    fn report(
        status: DeliveryStatus,
        timestamp: i64,
        errors: Vec<(i64, Option<String>)>,
    ) -> StatusUpdate<'static> {
        StatusUpdate {
            message_id: "wamid.1",
            status,
            timestamp,
            recipient_id: Some("16505551234"),
            callback_data: None,
            errors,
            pricing_category: None,
            pricing_type: None,
        }
    }

    #[test]
    fn a_failure_reported_after_read_leaves_no_error_beside_read() {
        let dir = tempfile::tempdir().unwrap();
        let messages = MessageStore::open(&Store::open(dir.path()).unwrap()).unwrap();
        let connection = Uuid::now_v7();
        messages
            .apply_status(connection, &report(DeliveryStatus::Read, 20, vec![]))
            .unwrap();
        let after = messages
            .apply_status(
                connection,
                &report(
                    DeliveryStatus::Failed,
                    30,
                    vec![(131026, Some("undeliverable".into()))],
                ),
            )
            .unwrap();
        assert_eq!(after.status, DeliveryStatus::Read);
        assert!(after.errors.is_empty(), "{:?}", after.errors);

        // A failure that stands keeps its error.
        let failed = messages
            .apply_status(
                connection,
                &StatusUpdate {
                    message_id: "wamid.2",
                    ..report(DeliveryStatus::Failed, 5, vec![(131026, None)])
                },
            )
            .unwrap();
        assert_eq!(failed.errors, vec![(131026, None)]);
    }

    fn text() -> MessageContent {
        OutgoingMessage::text("+16505551234", "hi").content
    }

    fn entry(connection_id: Uuid, origin: Origin) -> OutboundRecord {
        OutboundRecord {
            connection_id,
            to: "+16505551234".into(),
            kind: "text".into(),
            summary: "hi".into(),
            created_at_ms: 1,
            state: SendState::Sending,
            wamid: None,
            wa_id: None,
            origin,
        }
    }

    #[test]
    fn a_report_confirms_a_send_whose_answer_was_lost() {
        let dir = tempfile::tempdir().unwrap();
        let messages = MessageStore::open(&Store::open(dir.path()).unwrap()).unwrap();
        let (connection, id) = (Uuid::now_v7(), Uuid::now_v7());
        messages
            .begin_send(&id, &entry(connection, Origin::TestSend), &text())
            .unwrap();
        messages
            .settle_send(
                &id,
                SendState::Unknown {
                    reason: "timeout".into(),
                },
                None,
                None,
            )
            .unwrap();
        messages.confirm_send(&id, "wamid.9").unwrap();
        let settled = messages.send(&id).unwrap().unwrap();
        assert_eq!(settled.state, SendState::Accepted);
        assert_eq!(settled.wamid.as_deref(), Some("wamid.9"));
        assert_eq!(messages.send_of_wamid("wamid.9").unwrap(), Some(id));
    }

    #[test]
    fn a_refused_send_stays_refused_and_campaign_sends_are_not_listed_per_connection() {
        let dir = tempfile::tempdir().unwrap();
        let messages = MessageStore::open(&Store::open(dir.path()).unwrap()).unwrap();
        let connection = Uuid::now_v7();
        let (test, campaign) = (Uuid::now_v7(), Uuid::now_v7());
        messages
            .begin_send(&test, &entry(connection, Origin::TestSend), &text())
            .unwrap();
        let origin = Origin::Campaign {
            campaign: Uuid::now_v7(),
            phone: "+1".into(),
        };
        messages
            .begin_send(&campaign, &entry(connection, origin), &text())
            .unwrap();
        let refused = SendState::Refused {
            code: Some(131026),
            reason: "no".into(),
        };
        messages
            .settle_send(&test, refused.clone(), None, None)
            .unwrap();
        messages.confirm_send(&test, "wamid.x").unwrap();
        assert_eq!(messages.send(&test).unwrap().unwrap().state, refused);
        let listed: Vec<Uuid> = messages
            .recent_sends(connection, 10)
            .unwrap()
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(listed, [test]);
    }
}
