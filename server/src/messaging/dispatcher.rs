//! Sends one message: whether it may be sent at all (consent and the service window, asked of
//! `domain::whatsapp::admission` for every origin), the number's turn, the caller's own durable
//! mark, the ledger entry, one shared disk sync, the hard rate limit, the request, the settled
//! entry. What a crash at any
//! instant leaves is exact: before the sync nothing has left (the caller's claim is requeued);
//! after it the ledger says the message may have reached WhatsApp, and only its report (or a
//! person) settles it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use domain::campaign::eligibility::is_us_number;
use domain::contacts::consent::Category;
use domain::contacts::{phone, Contact};
use domain::whatsapp::admission::{self, Recipient, SendKind, SendRefusal};
use domain::whatsapp::callback;
use domain::whatsapp::errors::{Disposition, RetryKind};
use domain::whatsapp::graph::{MessageContent, OutgoingMessage, SendResponse};
use domain::whatsapp::window::UserWindows;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::gate::SenderGate;
use super::threads::Threads;
use crate::clock::Clock;
use crate::storage::contacts::ContactStore;
use crate::storage::messages::{MessageStore, Origin, OutboundRecord, SendState};
use crate::storage::windows::WindowStore;
use crate::storage::{StorageError, Store};
use crate::whatsapp::provider::{ApiError, WhatsAppApi};

/// Meta's default throughput for a number.
const DEFAULT_MPS: u32 = 80;

/// A message to send.
pub struct Outbound {
    /// Whom its outcome and reports are for.
    pub origin: Origin,
    /// The sender connection.
    pub connection: Uuid,
    /// What to send (its callback data is set here).
    pub message: OutgoingMessage,
    /// The consent category of a template (`None` for session content; a template without
    /// one is held to marketing's rules, the strictest).
    pub template_category: Option<Category>,
    /// A short human summary for listings (text body, template name).
    pub summary: String,
}

/// What became of one message.
#[derive(Debug)]
pub enum Dispatched {
    /// Nothing left: stopped while waiting, or the caller's mark refused (no longer claimed), or
    /// the mark could not be made durable.
    NotSent,
    /// Not sent, and never will be as it stands: consent or the service window forbid it.
    Refused(SendRefusal),
    /// The request was made; this is its answer. `message` is the ledger entry.
    Answered {
        /// The ledger entry.
        message: Uuid,
        /// WhatsApp's answer.
        result: Result<SendResponse, ApiError>,
    },
}

/// The dispatcher; cheap to clone.
#[derive(Clone)]
pub struct Dispatcher {
    store: Store,
    messages: MessageStore,
    contacts: ContactStore,
    windows: WindowStore,
    threads: Threads,
    gates: Arc<Mutex<HashMap<Uuid, Arc<SenderGate>>>>,
    clock: Arc<dyn Clock>,
}

impl Dispatcher {
    /// A dispatcher writing its ledger in `store` and the messages people send into `threads`.
    pub fn new(
        store: &Store,
        threads: Threads,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StorageError> {
        Ok(Self {
            store: store.clone(),
            messages: MessageStore::open(store)?,
            contacts: ContactStore::open(store)?,
            windows: WindowStore::open(store)?,
            threads,
            gates: Arc::default(),
            clock,
        })
    }

    /// The message ledger.
    pub fn ledger(&self) -> &MessageStore {
        &self.messages
    }

    /// The gate of `connection` — one per number, shared by everything that sends from it —
    /// with its rate brought up to `mps` (`None`: unthrottled, benchmarks only).
    pub fn gate(&self, connection: &Uuid, mps: Option<u32>) -> Arc<SenderGate> {
        let mut gates = self.gates.lock().unwrap_or_else(|e| e.into_inner());
        let gate = gates
            .entry(*connection)
            .or_insert_with(|| Arc::new(SenderGate::new(mps, self.clock.clone())))
            .clone();
        gate.set_rate(mps);
        gate
    }

    /// The gate of `connection` as it stands, for a single send that must not change the pace
    /// of a campaign sending from the same number (created at Meta's default rate if the number
    /// has none yet: alone, one send never meets it).
    pub fn current_gate(&self, connection: &Uuid) -> Arc<SenderGate> {
        let mut gates = self.gates.lock().unwrap_or_else(|e| e.into_inner());
        gates
            .entry(*connection)
            .or_insert_with(|| Arc::new(SenderGate::new(Some(DEFAULT_MPS), self.clock.clone())))
            .clone()
    }

    /// Sends `outbound` through `api` at `gate`'s pace. `mark` is the caller's own durable
    /// state change (a campaign recipient becomes `sending`), made with the ledger entry and
    /// synced with it; it returns `false` to call the send off. `stop` cancels a send still
    /// waiting for its turn.
    pub async fn send(
        &self,
        api: &dyn WhatsAppApi,
        gate: &SenderGate,
        mut outbound: Outbound,
        stop: Option<&CancellationToken>,
        mark: impl FnOnce(i64) -> Result<bool, StorageError>,
    ) -> Dispatched {
        // A pause or cancel must not wait for the turns of every send queued behind it.
        let turn = match stop {
            Some(stop) => {
                let turn = tokio::select! {
                    () = stop.cancelled() => return Dispatched::NotSent,
                    turn = gate.wait_turn() => turn,
                };
                if stop.is_cancelled() {
                    return Dispatched::NotSent;
                }
                turn
            }
            None => gate.wait_turn().await,
        };
        // Asked at the last moment, so that a STOP that arrived while this waited is obeyed.
        let (recipient_user, windows) = match self.admit(&outbound) {
            Ok(Ok(user)) => user,
            Ok(Err(refusal)) => return Dispatched::Refused(refusal),
            Err(error) => {
                tracing::error!(%error, "cannot read a recipient's consent or window; not sent");
                return Dispatched::NotSent;
            }
        };
        let now = self.clock.now_ms();
        let id = Uuid::now_v7();
        outbound.message.biz_opaque_callback_data = Some(callback::encode(&id));
        let record = OutboundRecord {
            connection_id: outbound.connection,
            to: outbound.message.to.clone(),
            kind: outbound.message.content.kind().to_string(),
            summary: outbound.summary,
            created_at_ms: now,
            state: SendState::Sending,
            wamid: None,
            wa_id: None,
            origin: outbound.origin,
        };
        // A person's message (not a campaign broadcast) joins its conversation's thread.
        let in_thread = match &record.origin {
            Origin::Campaign { .. } => None,
            Origin::Conversation { .. } | Origin::FollowUp { .. } => Some(true),
            Origin::TestSend => Some(false),
        };
        let marked = mark(now).and_then(|go| {
            if go {
                self.messages
                    .begin_send(&id, &record, &outbound.message.content)?;
            }
            Ok(go)
        });
        match marked {
            Ok(true) => {}
            Ok(false) => return Dispatched::NotSent,
            Err(error) => {
                tracing::error!(%error, "cannot record a send; it is not sent");
                return Dispatched::NotSent;
            }
        }
        if let Some(answers) = in_thread {
            let recorded = self.threads.outbound(
                outbound.connection,
                &recipient_user,
                id,
                &outbound.message,
                now,
                answers,
            );
            if let Err(error) = recorded {
                tracing::error!(%error, "cannot add a send to its conversation; it is not sent");
                self.withdraw(&id);
                return Dispatched::NotSent;
            }
        }
        // One disk sync shared by every send marked meanwhile (group commit).
        if let Err(error) = self.store.flush().await {
            tracing::error!(%error, "cannot sync a send's record; it is not sent");
            self.withdraw(&id);
            return Dispatched::NotSent;
        }
        let left_at = gate.admit(turn).await;
        let result = api.send(&outbound.message).await;
        // Too fast for WhatsApp: every sender from this number slows down, not only this one.
        match &result {
            Ok(_) => gate.accepted(),
            Err(error) if error.disposition() == Disposition::Retry(RetryKind::Throughput) => {
                gate.too_fast(left_at);
            }
            Err(_) => {}
        }
        let (state, wamid, wa_id) = match &result {
            Ok(response) => (
                SendState::Accepted,
                response.messages.first().map(|m| m.id.clone()),
                response.contacts.first().map(|c| c.wa_id.clone()),
            ),
            Err(error) if error.outcome_unknown() => (
                SendState::Unknown {
                    reason: error.explain(),
                },
                None,
                None,
            ),
            Err(error) => (
                SendState::Refused {
                    code: error.code(),
                    reason: error.explain(),
                },
                None,
                None,
            ),
        };
        if let Err(error) = self.messages.settle_send(&id, state, wamid, wa_id) {
            tracing::error!(%error, "cannot record a send's answer; its report will settle it");
        }
        // The first reply in time to an ad's message opens its free-entry-point window.
        if result.is_ok() && windows.free_entry_reply_by_ms.is_some() {
            let at = self.clock.now_ms();
            if let Err(error) = self
                .windows
                .replied(&outbound.connection, &recipient_user, at)
            {
                tracing::error!(%error, "cannot record a reply in the user's windows");
            }
        }
        Dispatched::Answered {
            message: id,
            result,
        }
    }

    /// Settles ledger entry `id` as not sent: its record could not be completed or synced.
    fn withdraw(&self, id: &Uuid) {
        let withdrawn = SendState::Refused {
            code: None,
            reason: "not sent: its record could not be made durable".into(),
        };
        if let Err(error) = self.messages.settle_send(id, withdrawn, None, None) {
            tracing::error!(%error, "cannot withdraw an unsent ledger entry");
        }
    }

    /// Whether `outbound` may be sent now, and to which WhatsApp user (with their windows).
    fn admit(
        &self,
        outbound: &Outbound,
    ) -> Result<Result<(String, UserWindows), SendRefusal>, StorageError> {
        let kind = match (&outbound.message.content, outbound.template_category) {
            (MessageContent::Template { .. }, category) => {
                SendKind::Template(category.unwrap_or(Category::Marketing))
            }
            _ => SendKind::Session,
        };
        let digits: String = outbound
            .message
            .to
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        // The forms one person's number takes (Mexico, Argentina, Brazil): their window may be
        // kept under the one Meta writes from, their consent under the one the business stored.
        let forms = phone::wa_id_candidates(&digits);
        let contact = self.contacts.find_any(&forms)?;
        let mut windows = UserWindows::default();
        let mut user = digits.clone();
        for form in &forms {
            let wa_id = form.trim_start_matches('+');
            let found = self.windows.get(&outbound.connection, wa_id)?;
            if found.service_closes_at_ms > windows.service_closes_at_ms {
                windows = found;
                user = wa_id.to_string();
            }
        }
        let us_number = match &contact {
            Some(contact) => is_us_number(contact),
            None => is_us_number(&Contact {
                phone: format!("+{digits}"),
                ..Contact::default()
            }),
        };
        let recipient = Recipient {
            consent: contact.as_ref().map_or(&[], |c| c.consent.as_slice()),
            us_number,
            windows,
        };
        Ok(admission::admit(kind, recipient, self.clock.now_ms()).map(|()| (user, windows)))
    }
}
