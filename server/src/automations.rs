//! Automations at run time: campaign follow-ups, so "reply 1 → A, 2 → B, no reply → nothing"
//! happens by itself, exactly once per recipient.
//!
//! - [`FollowUps`] subscribes to inbound messages ([`InboundSubscriber`]): a reply to a
//!   campaign with follow-ups — the campaign whose message it quotes, else the last one the
//!   customer got — takes the branch `domain::automation::follow_up` chooses, durably
//!   (`storage::follow_ups`), before the message counts as processed. Consent words (STOP,
//!   START, a stop button) are about consent and never take a branch.
//! - Its runner does what is due: a branch's action (a message through the dispatcher's one
//!   outbound path, marked `sending` with its ledger entry so a crash never sends it twice; a
//!   tag), and at the end of a wait without reply the no-reply action.

use std::sync::Arc;

use domain::automation::follow_up::{FollowUps as Plan, NoReplyAction, Outcome, ReplyAction};
use domain::automation::reply::Reply;
use domain::contacts::phone;
use domain::conversation::compose;
use domain::whatsapp::graph::{MessageContent, OutgoingMessage};
use domain::whatsapp::webhook::{InboundContent, InboundMessage};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::clock::Clock;
use crate::messaging::{Dispatched, Dispatcher, Outbound};
use crate::storage::campaigns::CampaignStore;
use crate::storage::connections::ConnectionStore;
use crate::storage::contacts::ContactStore;
use crate::storage::follow_ups::{ActionState, FollowUpRun, FollowUpStore, RunKey, RunStage};
use crate::storage::messages::{MessageStore, Origin};
use crate::storage::templates::{TemplateKind, TemplateStore};
use crate::storage::{StorageError, Store};
use crate::whatsapp::consent_effects;
use crate::whatsapp::fanout::InboundSubscriber;
use crate::whatsapp::provider::Providers;

/// Runs handled per pass of the runner.
const PER_PASS: usize = 64;
/// The longest the runner sleeps when nothing is due (a new reply wakes it sooner).
const IDLE_MS: i64 = 30_000;

/// Campaign follow-ups: the reply subscriber and the runner; cheap to clone.
#[derive(Clone)]
pub struct FollowUps {
    runs: FollowUpStore,
    campaigns: CampaignStore,
    messages: MessageStore,
    templates: TemplateStore,
    contacts: ContactStore,
    connections: ConnectionStore,
    providers: Providers,
    dispatcher: Dispatcher,
    clock: Arc<dyn Clock>,
    stop_words: Arc<Vec<String>>,
    wake: Arc<Notify>,
}

/// What a customer's message answers, when it is an answer at all.
fn reply_of(content: &InboundContent) -> Option<Reply<'_>> {
    Some(match content {
        InboundContent::Text { body } => Reply::Text(body),
        InboundContent::Button { payload, text } => Reply::Choice {
            payload,
            title: text,
        },
        InboundContent::ButtonReply { id, title } | InboundContent::ListReply { id, title, .. } => {
            Reply::Choice { payload: id, title }
        }
        InboundContent::Media { .. }
        | InboundContent::Location { .. }
        | InboundContent::Contacts(_) => Reply::Other,
        // A reaction, a system notice or an unsupported message is not an answer.
        _ => return None,
    })
}

impl FollowUps {
    /// Follow-ups over `store`, sending through `dispatcher`; `stop_words` are the
    /// configuration's extra opt-out words.
    pub fn new(
        store: &Store,
        connections: ConnectionStore,
        providers: Providers,
        dispatcher: Dispatcher,
        clock: Arc<dyn Clock>,
        stop_words: Vec<String>,
    ) -> Result<Self, StorageError> {
        Ok(Self {
            runs: FollowUpStore::open(store)?,
            campaigns: CampaignStore::open(store)?,
            messages: MessageStore::open(store)?,
            templates: TemplateStore::open(store)?,
            contacts: ContactStore::open(store)?,
            connections,
            providers,
            dispatcher,
            clock,
            stop_words: Arc::new(stop_words),
            wake: Arc::new(Notify::new()),
        })
    }

    /// The runs, for reports.
    pub fn runs(&self) -> &FollowUpStore {
        &self.runs
    }

    /// The campaign (and the recipient's number in it) a message from `user` answers.
    fn answered(
        &self,
        connection: Uuid,
        user: &str,
        message: &InboundMessage,
    ) -> Result<Option<(Uuid, String)>, StorageError> {
        let quoted = message.context.as_ref().and_then(|c| c.id.as_deref());
        if let Some(sent) = quoted.map(|w| self.messages.send_of_wamid(w)).transpose()? {
            if let Some(Origin::Campaign { campaign, phone }) = sent
                .map(|id| self.messages.send(&id))
                .transpose()?
                .flatten()
                .map(|r| r.origin)
            {
                return Ok(Some((campaign, phone)));
            }
        }
        Ok(self
            .campaigns
            .last_campaign_message(&connection, user)?
            .map(|(campaign, phone, _)| (campaign, phone)))
    }

    /// The plan of `campaign`, if it has follow-ups.
    fn plan(&self, campaign: &Uuid) -> Result<Option<Plan>, StorageError> {
        Ok(self
            .campaigns
            .get(campaign)?
            .and_then(|record| record.draft.follow_ups))
    }

    /// Runs until `stop`: does what is due, sleeping until the next due time or a reply.
    pub async fn run(self, stop: CancellationToken) {
        loop {
            let done = match self.run_due(self.clock.now_ms(), Some(&stop)).await {
                Ok(n) => n,
                Err(error) => {
                    tracing::error!(%error, "follow-ups paused by a storage error");
                    0
                }
            };
            if done > 0 {
                continue;
            }
            let now = self.clock.now_ms();
            let wait = match self.runs.next_due_ms() {
                Ok(Some(at)) => (at - now).clamp(0, IDLE_MS),
                _ => IDLE_MS,
            };
            let wait = std::time::Duration::from_millis(u64::try_from(wait).unwrap_or(0));
            tokio::select! {
                () = stop.cancelled() => return,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Does what is due at `now_ms` (at most one pass); returns how many runs it handled.
    pub async fn run_due(
        &self,
        now_ms: i64,
        stop: Option<&CancellationToken>,
    ) -> Result<usize, StorageError> {
        let due = self.runs.due(now_ms, PER_PASS)?;
        for (due_ms, key) in &due {
            self.handle(key, *due_ms, stop).await?;
        }
        Ok(due.len())
    }

    async fn handle(
        &self,
        key: &RunKey,
        due_ms: i64,
        stop: Option<&CancellationToken>,
    ) -> Result<(), StorageError> {
        let now = self.clock.now_ms();
        let (Some(run), Some(plan)) = (self.runs.get(key)?, self.plan(&key.0)?) else {
            // The campaign or its follow-ups are gone: nothing more happens.
            self.runs.advance(key, due_ms, now, |_| None)?;
            return Ok(());
        };
        match run.stage.clone() {
            RunStage::Waiting { .. } => {
                if let NoReplyAction::Tag { tag } = &plan.no_reply {
                    self.tag(&run.wa_id, tag, now)?;
                }
                self.runs.advance(key, due_ms, now, |r| {
                    matches!(r.stage, RunStage::Waiting { .. }).then_some(RunStage::NoReply {
                        action: ActionState::Done { message: None },
                    })
                })?;
            }
            RunStage::Branched {
                branch,
                wamid,
                action: ActionState::Due,
            } => {
                let done = |action: ActionState| {
                    let wamid = wamid.clone();
                    move |r: &FollowUpRun| {
                        matches!(
                            r.stage,
                            RunStage::Branched {
                                action: ActionState::Due,
                                ..
                            }
                        )
                        .then(|| RunStage::Branched {
                            branch,
                            wamid: wamid.clone(),
                            action: action.clone(),
                        })
                    }
                };
                match plan.branches.get(branch).map(|b| &b.action) {
                    None => {
                        let reason = "the campaign's follow-ups changed after this reply".into();
                        self.runs.advance(
                            key,
                            due_ms,
                            now,
                            done(ActionState::Failed { reason }),
                        )?;
                    }
                    Some(ReplyAction::Nothing) => {
                        self.runs.advance(
                            key,
                            due_ms,
                            now,
                            done(ActionState::Done { message: None }),
                        )?;
                    }
                    Some(ReplyAction::Tag { tag }) => {
                        self.tag(&run.wa_id, tag, now)?;
                        self.runs.advance(
                            key,
                            due_ms,
                            now,
                            done(ActionState::Done { message: None }),
                        )?;
                    }
                    Some(ReplyAction::SendText { text }) => {
                        let content = compose::SessionDraft::text(text.clone()).content();
                        self.send(key, due_ms, &run, branch, &wamid, content, stop)
                            .await?;
                    }
                    Some(ReplyAction::SendSavedReply { template_id }) => {
                        match self.saved_reply(template_id, &run)? {
                            Ok(content) => {
                                self.send(key, due_ms, &run, branch, &wamid, content, stop)
                                    .await?;
                            }
                            Err(reason) => {
                                self.runs.advance(
                                    key,
                                    due_ms,
                                    now,
                                    done(ActionState::Failed { reason }),
                                )?;
                            }
                        }
                    }
                }
            }
            // Settled already: a stale due entry.
            _ => {
                self.runs.advance(key, due_ms, now, |_| None)?;
            }
        }
        Ok(())
    }

    /// The content of saved reply `template_id` for `run`'s customer, or why it cannot be sent.
    fn saved_reply(
        &self,
        template_id: &str,
        run: &FollowUpRun,
    ) -> Result<Result<MessageContent, String>, StorageError> {
        let Ok(id) = template_id.parse::<Uuid>() else {
            return Ok(Err("the saved reply's id is not valid".into()));
        };
        let Some(saved) = self
            .templates
            .get(&id)?
            .filter(|t| t.kind == TemplateKind::SessionReply)
        else {
            return Ok(Err("the saved reply was deleted".into()));
        };
        if saved.session_media.is_some() {
            return Ok(Err(
                "a saved reply with a file is sent from the inbox, not as a follow-up yet".into(),
            ));
        }
        let contact = self
            .contacts
            .find_any(&phone::wa_id_candidates(&run.wa_id))?;
        let draft = compose::from_session_reply(&saved.definition, |name| {
            compose::contact_value(&run.wa_id, contact.as_ref(), name)
        });
        if let Some(problem) = draft.problems().first() {
            return Ok(Err(format!(
                "the saved reply cannot be sent: {}",
                problem.message
            )));
        }
        Ok(Ok(draft.content()))
    }

    /// Sends a branch's message through the one outbound path, marking the run `sending`
    /// durably with the ledger entry.
    #[allow(clippy::too_many_arguments, reason = "one call site; the run's parts")]
    async fn send(
        &self,
        key: &RunKey,
        due_ms: i64,
        run: &FollowUpRun,
        branch: usize,
        wamid: &str,
        content: MessageContent,
        stop: Option<&CancellationToken>,
    ) -> Result<(), StorageError> {
        let now = self.clock.now_ms();
        let fail = |reason: String| {
            let wamid = wamid.to_string();
            move |r: &FollowUpRun| {
                matches!(
                    r.stage,
                    RunStage::Branched {
                        action: ActionState::Due,
                        ..
                    }
                )
                .then(|| RunStage::Branched {
                    branch,
                    wamid: wamid.clone(),
                    action: ActionState::Failed {
                        reason: reason.clone(),
                    },
                })
            }
        };
        let Some(connection) = self.connections.get(&run.connection_id)? else {
            self.runs.advance(
                key,
                due_ms,
                now,
                fail("the campaign's number was removed".into()),
            )?;
            return Ok(());
        };
        let api = match self.providers.for_connection(&connection) {
            Ok(api) => api,
            Err(error) => {
                self.runs.advance(key, due_ms, now, fail(error.explain()))?;
                return Ok(());
            }
        };
        let gate = self.dispatcher.current_gate(&connection.id);
        let summary = match &content {
            MessageContent::Text { text } => text.body.chars().take(80).collect(),
            other => other.kind().to_string(),
        };
        let outbound = Outbound {
            origin: Origin::FollowUp {
                campaign: key.0,
                phone: key.1.clone(),
                branch,
            },
            connection: connection.id,
            message: OutgoingMessage::to(run.wa_id.clone(), content),
            template_category: None,
            summary,
        };
        let runs = self.runs.clone();
        let (mark_key, mark_wamid) = (key.clone(), wamid.to_string());
        let mark = move |at: i64| {
            let moved = runs.advance(&mark_key, due_ms, at, |r| {
                matches!(
                    r.stage,
                    RunStage::Branched {
                        action: ActionState::Due,
                        ..
                    }
                )
                .then(|| RunStage::Branched {
                    branch,
                    wamid: mark_wamid.clone(),
                    action: ActionState::Sending,
                })
            })?;
            Ok(moved.is_some())
        };
        let now = self.clock.now_ms();
        match self
            .dispatcher
            .send(api.as_ref(), &gate, outbound, stop, mark)
            .await
        {
            Dispatched::Answered {
                message,
                result: Ok(_),
            } => self.runs.settle_action(
                key,
                ActionState::Done {
                    message: Some(message),
                },
                now,
            ),
            Dispatched::Answered {
                result: Err(error), ..
            } => self.runs.settle_action(
                key,
                ActionState::Failed {
                    reason: error.explain(),
                },
                now,
            ),
            Dispatched::Refused(refusal) => {
                self.runs
                    .advance(key, due_ms, now, fail(refusal.explain()))?;
                Ok(())
            }
            // Stopped while waiting for its turn: still due, done on the next pass.
            Dispatched::NotSent => Ok(()),
        }
    }

    /// Adds `tag` to the contact of `wa_id`, if they are one (idempotent).
    fn tag(&self, wa_id: &str, tag: &str, now_ms: i64) -> Result<(), StorageError> {
        let Some(contact) = self.contacts.find_any(&phone::wa_id_candidates(wa_id))? else {
            return Ok(());
        };
        let tag = tag.trim().to_string();
        self.contacts.update(&contact.phone, |current| {
            let mut contact = current?;
            if contact.tags.insert(tag.clone()) {
                contact.updated_at_ms = now_ms;
            }
            Some(contact)
        })?;
        Ok(())
    }
}

impl InboundSubscriber for FollowUps {
    fn first_seen(&self, connection: Uuid, message: &InboundMessage) -> Result<(), StorageError> {
        let (Some(user), Some(reply)) = (message.from.as_deref(), reply_of(&message.content))
        else {
            return Ok(());
        };
        if consent_effects::changes_consent(&message.content, &self.stop_words) {
            return Ok(());
        }
        let Some((campaign, phone)) = self.answered(connection, user, message)? else {
            return Ok(());
        };
        let Some(plan) = self.plan(&campaign)? else {
            return Ok(());
        };
        let branch = match plan.on_reply(&reply) {
            Outcome::Branch { index, .. } => Some(index),
            Outcome::Unmatched => None,
        };
        let now = self.clock.now_ms();
        if self
            .runs
            .replied(&(campaign, phone), &message.id, branch, now)?
            && branch.is_some()
        {
            self.wake.notify_one();
        }
        Ok(())
    }
}
