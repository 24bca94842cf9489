//! Keeps the inbox's threads as messages come and go, and tells open pages at once.
//!
//! - Every customer message is added to its conversation the first time it arrives (the
//!   webhook fan-out subscribes [`Threads::inbound`]); the campaign message it answers is shown
//!   above it, taken from the ledger, so a thread begins with what the customer replied to
//!   without writing a thread entry for each of a million campaign sends.
//! - Every message a person or an automation sends (not campaign broadcasts) is added by the
//!   dispatcher with its ledger id, durably with the ledger entry, before the request.
//! - Each change is announced on a broadcast channel the inbox's event stream listens to.

use domain::conversation::body::Body;
use domain::conversation::Direction;
use domain::whatsapp::graph::OutgoingMessage;
use domain::whatsapp::webhook::InboundMessage;
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::storage::campaigns::CampaignStore;
use crate::storage::contacts::ContactStore;
use crate::storage::conversations::{ConversationStore, EntryRef, NewEntry, ThreadEntry};
use crate::storage::messages::{MessageStore, Origin};
use crate::storage::{StorageError, Store};

/// Conversation changes buffered for a slow page before it is told to reload everything.
const EVENTS_BUFFERED: usize = 1_024;

/// When a customer's message happened, for the thread's order: Meta gives whole seconds, so a
/// reply sent in the same second as the message it answers would sort before it. The end of
/// that second (never later than it reached Herald) keeps replies after what they answer.
fn arrival_ms(timestamp_s: i64, now_ms: i64) -> i64 {
    timestamp_s
        .saturating_mul(1000)
        .saturating_add(999)
        .min(now_ms)
        .max(timestamp_s.saturating_mul(1000))
}

/// The threads and their change announcements; cheap to clone.
#[derive(Clone)]
pub struct Threads {
    conversations: ConversationStore,
    campaigns: CampaignStore,
    messages: MessageStore,
    contacts: ContactStore,
    events: broadcast::Sender<Uuid>,
}

impl Threads {
    /// Threads kept in `store`.
    pub fn new(store: &Store) -> Result<Self, StorageError> {
        Ok(Self {
            conversations: ConversationStore::open(store)?,
            campaigns: CampaignStore::open(store)?,
            messages: MessageStore::open(store)?,
            contacts: ContactStore::open(store)?,
            events: broadcast::channel(EVENTS_BUFFERED).0,
        })
    }

    /// The conversation store.
    pub fn store(&self) -> &ConversationStore {
        &self.conversations
    }

    /// Announcements of changed conversations (by id).
    pub fn subscribe(&self) -> broadcast::Receiver<Uuid> {
        self.events.subscribe()
    }

    /// Announces that conversation `id` changed.
    pub fn changed(&self, id: Uuid) {
        // No page listening is not an error.
        let _ = self.events.send(id);
    }

    /// A customer's message arrived on `connection` (idempotent: a repeat adds nothing).
    pub fn inbound(
        &self,
        connection: Uuid,
        message: &InboundMessage,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        let Some(user) = message.from.as_deref().or(message.user_id.as_deref()) else {
            return Ok(());
        };
        let last_campaign = self.campaign_message_above(connection, user, now_ms)?;
        // The campaign answered: the one whose message is quoted, else the last one received.
        let quoted = message.context.as_ref().and_then(|c| c.id.as_deref());
        let answers_campaign = match quoted.map(|wamid| self.campaign_of(wamid)).transpose()? {
            Some(Some(campaign)) => Some(campaign),
            _ => last_campaign,
        };
        let known_as = self.known_as(user)?;
        let (id, new) = self.conversations.record(&NewEntry {
            answers_campaign,
            connection_id: connection,
            wa_id: user,
            profile_name: message.profile_name.as_deref(),
            known_as: known_as.as_deref(),
            entry: ThreadEntry {
                at_ms: arrival_ms(message.timestamp, now_ms),
                direction: Direction::Inbound,
                body: Body::from_inbound(&message.content),
                reference: EntryRef::Inbound {
                    wamid: message.id.clone(),
                },
                context_id: message.context.as_ref().and_then(|c| c.id.clone()),
            },
            answers: false,
            now_ms,
        })?;
        if new {
            self.changed(id);
        }
        Ok(())
    }

    /// Herald is sending ledger entry `message` to `wa_id` (`answers`: a reply to the
    /// customer rather than a broadcast).
    pub fn outbound(
        &self,
        connection: Uuid,
        wa_id: &str,
        message: Uuid,
        sent: &OutgoingMessage,
        at_ms: i64,
        answers: bool,
    ) -> Result<Uuid, StorageError> {
        let known_as = self.known_as(wa_id)?;
        let (id, _) = self.conversations.record(&NewEntry {
            answers_campaign: None,
            connection_id: connection,
            wa_id,
            profile_name: None,
            known_as: known_as.as_deref(),
            entry: ThreadEntry {
                at_ms,
                direction: Direction::Outbound,
                body: Body::from_outgoing(&sent.content),
                reference: EntryRef::Outbound { message },
                context_id: sent.context.as_ref().map(|c| c.message_id.clone()),
            },
            answers,
            now_ms: at_ms,
        })?;
        self.changed(id);
        Ok(id)
    }

    /// A delivery report changed a message to `wa_id`: its ticks move on open pages.
    pub fn status_changed(&self, connection: Uuid, wa_id: &str) -> Result<(), StorageError> {
        if let Some(id) = self.conversations.of_user(&connection, wa_id)? {
            self.changed(id);
        }
        Ok(())
    }

    /// Shows the campaign message `wa_id` last got above their reply; returns that campaign.
    fn campaign_message_above(
        &self,
        connection: Uuid,
        wa_id: &str,
        now_ms: i64,
    ) -> Result<Option<Uuid>, StorageError> {
        let Some((campaign, _, wamid)) =
            self.campaigns.last_campaign_message(&connection, wa_id)?
        else {
            return Ok(None);
        };
        let Some(wamid) = wamid else {
            return Ok(Some(campaign));
        };
        let Some(message) = self.messages.send_of_wamid(&wamid)? else {
            return Ok(Some(campaign));
        };
        let (Some(record), Some(content)) = (
            self.messages.send(&message)?,
            self.messages.content(&message)?,
        ) else {
            return Ok(Some(campaign));
        };
        self.conversations.record(&NewEntry {
            answers_campaign: None,
            connection_id: connection,
            wa_id,
            profile_name: None,
            known_as: None,
            entry: ThreadEntry {
                at_ms: record.created_at_ms,
                direction: Direction::Outbound,
                body: Body::from_outgoing(&content),
                reference: EntryRef::Outbound { message },
                context_id: None,
            },
            answers: false,
            now_ms,
        })?;
        Ok(Some(campaign))
    }

    /// The contact list's name for `wa_id`, which the search index keeps with the message.
    fn known_as(&self, wa_id: &str) -> Result<Option<String>, StorageError> {
        let forms = domain::contacts::phone::wa_id_candidates(wa_id);
        Ok(self
            .contacts
            .find_any(&forms)?
            .map(|c| format!("{} {}", c.first_name, c.last_name))
            .filter(|name| !name.trim().is_empty()))
    }

    /// The campaign whose message `wamid` is, if it is one.
    fn campaign_of(&self, wamid: &str) -> Result<Option<Uuid>, StorageError> {
        let Some(message) = self.messages.send_of_wamid(wamid)? else {
            return Ok(None);
        };
        Ok(match self.messages.send(&message)?.map(|r| r.origin) {
            Some(Origin::Campaign { campaign, .. }) => Some(campaign),
            _ => None,
        })
    }
}
