//! The campaign engine: a supervisor task that starts scheduled campaigns, recovers running ones
//! after a restart, and keeps one runner task per sending campaign.
//!
//! A runner works in batches of about a fifth of a second of sends:
//! 1. take the recipients now due from the queue (`storage::campaigns`);
//! 2. decide each one's fate before sending — deleted or opted out since launch (skipped), outside
//!    its sending window or beyond the messaging-limit tier (postponed);
//! 3. mark the rest `claimed` in one transaction (not synced: nothing has left, and a restart
//!    puts claimed recipients back in the queue);
//! 4. hand each to the [`Dispatcher`] with bounded concurrency: at the number's turn it marks
//!    the recipient `sending` and writes the ledger entry, syncs both (shared with the other
//!    sends of the moment), and only then makes the request — from here on a crash can never
//!    cause a second send: a `sending` recipient is only settled by its status webhook (whose
//!    callback data names the ledger entry) or reported unknown;
//! 5. classify each answer (`domain::whatsapp::errors`) and record every outcome in one
//!    transaction.
//!
//! Pause and cancel cancel the runner's token; sends not yet started in the batch are returned to
//! the queue, so the campaign stops within the time one send takes.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use domain::campaign::backoff::SlowedPace;
use domain::campaign::pacing::{self, retry_delay_ms, DAY_MS, MAX_ATTEMPTS};
use domain::campaign::render::{template_message, Rendered};
use domain::campaign::window::next_open_ms;
use domain::campaign::{CampaignStatus, PauseReason, RecipientState, SkipReason};
use domain::contacts::consent::Category;
use domain::whatsapp::admission::SendRefusal;
use domain::whatsapp::errors::{Disposition, RecipientOutcome, RetryKind, StopReason};
use domain::whatsapp::graph::{MessageContent, OutgoingMessage};
use domain::whatsapp::limits::MessagingLimit;
use futures_util::stream::{self, StreamExt};
use rand::Rng;
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use uuid::Uuid;

use super::audience::{self, Judge};
use crate::clock::Clock;
use crate::contacts::ContactsService;
use crate::messaging::{limits, Dispatched, Dispatcher, Outbound, SenderGate};
use crate::storage::campaigns::{
    CampaignEvent, CampaignRecord, CampaignStore, Outcome, RecipientRecord, Unrecorded,
};
use crate::storage::connections::ConnectionStore;
use crate::storage::follow_ups::FollowUpStore;
use crate::storage::messages::Origin;
use crate::storage::senders::SenderStore;
use crate::storage::templates::TemplateStore;
use crate::storage::windows::WindowStore;
use app::ports::PortError;

use crate::storage::{internal, StorageError, Store};
use crate::whatsapp::consent_effects;
use crate::whatsapp::provider::{ApiError, Providers};

/// Sends in flight at once per campaign.
const CONCURRENCY: usize = 64;
/// Claimed batches per campaign at once: the next ones are claimed while earlier ones send, so
/// bookkeeping never leaves a gap in the number's pace.
const BATCHES_IN_FLIGHT: usize = 4;
/// How often the supervisor looks for work.
const TICK: Duration = Duration::from_millis(500);
/// A wait this long for the next due recipient is shown on the campaign page.
const DEFERRED_NOTICE_MS: i64 = 60_000;
/// How long a recipient refused as "too fast" (130429) waits before its next attempt.
const THROUGHPUT_RETRY_MS: i64 = 1_000;
/// Snapshot rows written per transaction.
const PREPARE_BATCH: usize = 1_000;

/// Tunables, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct EngineConfig {
    /// A `sending` recipient with neither answer nor webhook after this long is reported unknown.
    pub unknown_after_ms: i64,
    /// A scheduled start missed by more than this (Herald was down) waits for confirmation.
    pub overdue_grace_ms: i64,
    /// Ignore every number's throughput (benchmarks only).
    pub unthrottled: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            unknown_after_ms: 10 * 60 * 1000,
            overdue_grace_ms: 15 * 60 * 1000,
            unthrottled: false,
        }
    }
}

/// What a running campaign is doing right now (not stored: it is recomputed after a restart).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Live {
    /// Sends per second over the last few seconds.
    pub rate: f64,
    /// Why sending waits, and until when (Unix ms).
    pub waiting: Option<(String, i64)>,
    /// New conversations the tier still allows now (`None`: unlimited).
    pub headroom: Option<u32>,
    /// The number's messaging limit.
    pub limit: Option<MessagingLimit>,
    /// The pace held under the configured one after 130429 refusals.
    pub slowed: Option<SlowedPace>,
}

#[derive(Default)]
struct LiveState {
    recent: VecDeque<i64>,
    waiting: Option<(String, i64)>,
    /// When stale `sending` recipients were last looked for.
    expiry_checked_ms: i64,
}

/// The engine; cheap to clone.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    campaigns: CampaignStore,
    senders: SenderStore,
    templates: TemplateStore,
    connections: ConnectionStore,
    contacts: ContactsService,
    windows: WindowStore,
    providers: Providers,
    clock: Arc<dyn Clock>,
    config: EngineConfig,
    dispatcher: Dispatcher,
    runners: Mutex<HashMap<Uuid, (u64, CancellationToken)>>,
    generation: std::sync::atomic::AtomicU64,
    live: Mutex<HashMap<Uuid, LiveState>>,
    wake: Notify,
    /// Runner and batch tasks, awaited at shutdown so in-flight sends are recorded before the
    /// store closes.
    tasks: TaskTracker,
    /// (campaign, phone) being sent by this process right now.
    in_flight: Mutex<HashSet<(Uuid, String)>>,
    /// Follow-ups start waiting for a reply when a recipient's template is accepted.
    follow_ups: FollowUpStore,
}

/// What a batch task needs.
struct Batch {
    campaign: Uuid,
    connection: Uuid,
    template: Arc<domain::whatsapp::graph::TemplateDefinition>,
    slots: Arc<Vec<domain::campaign::Slot>>,
    api: Arc<dyn crate::whatsapp::provider::WhatsAppApi>,
    gate: Arc<SenderGate>,
    stop: CancellationToken,
}

/// What one runner step asks for next.
enum Step {
    Continue,
    Sleep(Duration),
    Done,
}

impl Engine {
    /// An engine over `store`.
    pub fn new(
        store: &Store,
        contacts: ContactsService,
        providers: Providers,
        dispatcher: Dispatcher,
        clock: Arc<dyn Clock>,
        config: EngineConfig,
    ) -> Result<Self, StorageError> {
        Ok(Self {
            inner: Arc::new(Inner {
                campaigns: CampaignStore::open(store)?,
                senders: SenderStore::open(store)?,
                windows: WindowStore::open(store)?,
                templates: TemplateStore::open(store)?,
                connections: ConnectionStore::open(store)?,
                contacts,
                providers,
                clock,
                config,
                dispatcher,
                runners: Mutex::default(),
                generation: std::sync::atomic::AtomicU64::new(0),
                live: Mutex::default(),
                wake: Notify::new(),
                tasks: TaskTracker::new(),
                in_flight: Mutex::default(),
                follow_ups: FollowUpStore::open(store)?,
            }),
        })
    }

    /// The campaign store.
    pub fn campaigns(&self) -> &CampaignStore {
        &self.inner.campaigns
    }

    /// The sender limits store.
    pub fn senders(&self) -> &SenderStore {
        &self.inner.senders
    }

    /// The configuration.
    pub fn config(&self) -> EngineConfig {
        self.inner.config
    }

    /// Wakes the supervisor (a campaign was launched, resumed, or its limits changed).
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// Stops a campaign's runner, if any (pause, cancel).
    pub fn interrupt(&self, id: &Uuid) {
        if let Some((_, token)) = self.runners().remove(id) {
            token.cancel();
        }
    }

    fn runners(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, (u64, CancellationToken)>> {
        self.inner.runners.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn live_state(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, LiveState>> {
        self.inner.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The gate of a connection, with its rate brought up to date.
    fn gate(&self, connection: &Uuid, mps: u32) -> Arc<SenderGate> {
        let rate = (!self.inner.config.unthrottled).then_some(mps);
        self.inner.dispatcher.gate(connection, rate)
    }

    /// New conversations a number started in the moving 24 hours.
    pub fn conversations_started(&self, connection: &Uuid) -> u32 {
        let mps = self
            .inner
            .senders
            .get(connection)
            .unwrap_or_default()
            .messages_per_second;
        self.gate(connection, mps)
            .conversations()
            .count(self.inner.clock.now_ms())
    }

    /// The live view of a campaign.
    pub fn live(&self, id: &Uuid, connection: &Uuid) -> Live {
        let now = self.inner.clock.now_ms();
        let (rate, waiting) = {
            let mut live = self.live_state();
            let state = live.entry(*id).or_default();
            while state.recent.front().is_some_and(|t| *t < now - 5_000) {
                state.recent.pop_front();
            }
            #[allow(clippy::cast_precision_loss)]
            let rate = state.recent.len() as f64 / 5.0;
            (
                rate,
                state.waiting.clone().filter(|(_, until)| *until > now),
            )
        };
        let limits = self.inner.senders.get(connection).unwrap_or_default();
        let limit = limits.effective_limit();
        let gate = self.gate(connection, limits.messages_per_second);
        let started = gate.conversations().count(now);
        Live {
            rate,
            waiting,
            headroom: limit.headroom(started),
            limit: Some(limit),
            slowed: gate.slowed(),
        }
    }

    /// Runs until `stop`: recovers campaigns that were running, starts scheduled ones on time,
    /// and keeps a runner for every active campaign.
    pub async fn run(self, stop: CancellationToken) {
        if let Err(error) = self.rebuild_windows() {
            tracing::error!(%error, "cannot rebuild the 24-hour conversation counts");
        }
        if let Err(error) = self.recover() {
            tracing::error!(%error, "cannot requeue the sends a previous run left claimed");
        }
        loop {
            if let Err(error) = self.supervise(&stop) {
                tracing::error!(%error, "campaign supervisor failed; will retry");
            }
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = self.inner.wake.notified() => {}
                _ = tokio::time::sleep(TICK) => {}
            }
        }
        for (_, (_, token)) in self.runners().drain() {
            token.cancel();
        }
        self.inner.tasks.close();
        self.inner.tasks.wait().await;
    }

    /// Counts, per number, the users messaged in the last 24 hours (after a restart).
    fn rebuild_windows(&self) -> Result<(), StorageError> {
        let now = self.inner.clock.now_ms();
        for (id, record) in self.inner.campaigns.list()? {
            if record.started_at_ms.is_none_or(|at| at < now - 2 * DAY_MS) {
                continue;
            }
            let Ok(connection) = record.draft.connection_id.parse::<Uuid>() else {
                continue;
            };
            let limits = self.inner.senders.get(&connection)?;
            if limits.effective_limit() == MessagingLimit::Unlimited {
                continue;
            }
            let gate = self.gate(&connection, limits.messages_per_second);
            let sends = self.inner.campaigns.sends_since(&id, now - DAY_MS)?;
            let mut window = gate.conversations();
            for (user, at) in sends {
                window.record(&user, at);
            }
        }
        Ok(())
    }

    /// After a restart, before anything sends: recipients the previous run claimed but never
    /// sent go back in the queue (they are sent without anyone's action); those marked
    /// `sending` may have reached WhatsApp and wait for their report. The history says both.
    fn recover(&self) -> Result<(), StorageError> {
        let inner = &self.inner;
        let now = inner.clock.now_ms();
        let minutes = (inner.config.unknown_after_ms + 59_999) / 60_000;
        for (id, record) in inner.campaigns.list()? {
            if inner.campaigns.stats(&id)?.counts.sending == 0 {
                continue;
            }
            let requeued = inner.campaigns.requeue_claimed(&id, now, &|_| false)?;
            if record.status.is_finished() {
                inner
                    .campaigns
                    .skip_pending(&id, SkipReason::Cancelled, now)?;
            }
            let in_doubt = inner.campaigns.stats(&id)?.counts.sending;
            tracing::warn!(campaign = %id, requeued, in_doubt, "recovered the sends of an interrupted run");
            inner.campaigns.update(&id, |r| {
                let mut said = String::from("Herald restarted while sending");
                if requeued > 0 {
                    said.push_str(&format!(
                        "; {requeued} recipients not sent yet are queued again"
                    ));
                }
                if in_doubt > 0 {
                    said.push_str(&format!("; {in_doubt} messages sent just before wait for WhatsApp's report (after {minutes} min without one they count as unknown)"));
                }
                said.push('.');
                note(r, now, &said);
                true
            })?;
        }
        Ok(())
    }

    /// One supervisor pass.
    fn supervise(&self, stop: &CancellationToken) -> Result<(), StorageError> {
        let now = self.inner.clock.now_ms();
        for (id, record) in self.inner.campaigns.list()? {
            match record.status {
                CampaignStatus::Scheduled { at_ms } if at_ms <= now => {
                    let overdue = now - at_ms > self.inner.config.overdue_grace_ms;
                    self.inner.campaigns.update(&id, |r| {
                        if !matches!(r.status, CampaignStatus::Scheduled { .. }) {
                            return false;
                        }
                        if overdue {
                            r.status = CampaignStatus::Overdue { at_ms };
                            note(r, now, "The start time passed while Herald was not running; waiting for someone to confirm or reschedule.");
                        } else {
                            r.status = CampaignStatus::Preparing;
                            note(r, now, "Started on schedule.");
                        }
                        r.updated_at_ms = now;
                        true
                    })?;
                    if !overdue {
                        self.spawn_runner(id, stop);
                    }
                }
                ref status if status.is_active() => self.spawn_runner(id, stop),
                _ => {}
            }
        }
        Ok(())
    }

    /// Starts a runner for `id` unless one is running.
    fn spawn_runner(&self, id: Uuid, stop: &CancellationToken) {
        let generation = self
            .inner
            .generation
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let token = {
            let mut runners = self.runners();
            if runners.contains_key(&id) {
                return;
            }
            let token = stop.child_token();
            runners.insert(id, (generation, token.clone()));
            token
        };
        let engine = self.clone();
        self.inner.tasks.spawn(async move {
            engine.run_campaign(id, token).await;
            let mut runners = engine.runners();
            if runners.get(&id).is_some_and(|(g, _)| *g == generation) {
                runners.remove(&id);
            }
        });
    }

    async fn run_campaign(&self, id: Uuid, stop: CancellationToken) {
        let batches = Arc::new(Semaphore::new(BATCHES_IN_FLIGHT));
        loop {
            if stop.is_cancelled() {
                return;
            }
            match self.step(&id, &stop, &batches).await {
                Ok(Step::Continue) => {}
                Ok(Step::Sleep(wait)) => {
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
                Ok(Step::Done) => return,
                Err(error) => {
                    tracing::error!(campaign = %id, %error, "campaign step failed; retrying");
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                    }
                }
            }
        }
    }

    /// Pauses a campaign for `reason` (the engine's own decision).
    fn pause(&self, id: &Uuid, reason: PauseReason) -> Result<(), StorageError> {
        let now = self.inner.clock.now_ms();
        tracing::warn!(campaign = %id, reason = %reason.explain(), "campaign paused");
        self.inner.campaigns.update(id, |r| {
            if !r.status.is_active() {
                return false;
            }
            note(r, now, &format!("Paused: {}", reason.explain()));
            r.status = CampaignStatus::Paused {
                reason: reason.clone(),
            };
            r.updated_at_ms = now;
            true
        })?;
        Ok(())
    }

    async fn step(
        &self,
        id: &Uuid,
        stop: &CancellationToken,
        batches: &Arc<Semaphore>,
    ) -> Result<Step, PortError> {
        let inner = &self.inner;
        let Some(record) = inner.campaigns.get(id).map_err(internal)? else {
            return Ok(Step::Done);
        };
        let connection_id: Uuid = record
            .draft
            .connection_id
            .parse()
            .map_err(|_| PortError::conflict("the campaign names no valid connection"))?;
        match record.status {
            CampaignStatus::Preparing => {
                // The segment or list may have been deleted since launch (or since the schedule
                // was set): say so on the campaign instead of retrying forever.
                if let Some(detail) =
                    audience::missing_source(&inner.contacts, &record.draft).map_err(internal)?
                {
                    self.pause(id, PauseReason::AudienceUnavailable { detail })
                        .map_err(internal)?;
                    return Ok(Step::Done);
                }
                self.prepare(id, &record)?;
                return Ok(Step::Continue);
            }
            CampaignStatus::Running => {}
            _ => return Ok(Step::Done),
        }
        if let Some(reason) = self.template_problem(&record).map_err(internal)? {
            self.pause(id, reason).map_err(internal)?;
            return Ok(Step::Done);
        }
        let limits = self.refresh_limits(&connection_id).await;
        if limits.quality_is_red() {
            self.pause(id, PauseReason::QualityRed).map_err(internal)?;
            return Ok(Step::Done);
        }
        let gate = self.gate(&connection_id, limits.messages_per_second);
        let now = inner.clock.now_ms();
        // About a fifth of a second of sends per batch: few enough that a crash leaves little
        // unknown, enough that one disk sync covers many sends.
        let batch = usize::try_from(gate.rate().map_or(256, |mps| mps / 5))
            .unwrap_or(256)
            .clamp(8, 256);
        let due = inner.campaigns.due(id, now, batch).map_err(internal)?;
        if due.is_empty() {
            return self.idle(id, now);
        }
        let Some(template) = record.template.clone() else {
            return Err(PortError::conflict("the campaign has no template snapshot"));
        };
        let limit = limits.effective_limit();
        let mut immediate: Vec<(String, Outcome)> = Vec::new();
        let mut to_send: Vec<(String, RecipientRecord)> = Vec::new();
        let mut tier_wait: Option<i64> = None;
        for (phone, recipient) in due {
            let contact = inner.contacts.store().get(&phone).map_err(internal)?;
            let Some(contact) = contact else {
                immediate.push((phone, Outcome::Skipped(SkipReason::ContactDeleted)));
                continue;
            };
            if let Some(window) = &record.draft.window {
                let opens = next_open_ms(now, window, recipient.time_zone.as_deref());
                if opens > now {
                    immediate.push((
                        phone,
                        Outcome::Later {
                            not_before_ms: opens,
                            reason: None,
                        },
                    ));
                    continue;
                }
            }
            let user = recipient
                .wa_id
                .clone()
                .or_else(|| contact.wa_id.clone())
                .unwrap_or_else(|| phone.trim_start_matches('+').to_string());
            // A user who wrote to this number within its service window opens no new
            // conversation, so the messaging limit does not count them; an unlimited number
            // needs no count at all (a million users a day would cost tens of MB to keep).
            let counted = limit != MessagingLimit::Unlimited
                && !inner
                    .windows
                    .get(&connection_id, &user)
                    .map_err(internal)?
                    .allows_free_form(now);
            if counted {
                let mut window = gate.conversations();
                if !window.contains(&user, now) {
                    let started = window.count(now);
                    if limit.headroom(started) == Some(0) {
                        let until = window
                            .next_free_at(now)
                            .unwrap_or(now + 60_000)
                            .max(now + 1_000);
                        tier_wait = Some(until);
                        immediate.push((
                            phone,
                            Outcome::Later {
                                not_before_ms: until,
                                reason: Some("messaging limit reached".into()),
                            },
                        ));
                        continue;
                    }
                    window.record(&user, now);
                }
            }
            to_send.push((phone, recipient));
        }
        // Claimed, not yet durable: nothing leaves until each send's own `sending` mark is on
        // disk (see `send_batch`), so a crash here only puts them back in the queue.
        let phones: Vec<String> = immediate
            .iter()
            .map(|(p, _)| p.clone())
            .chain(to_send.iter().map(|(p, _)| p.clone()))
            .collect();
        let claimed = {
            let (campaigns, id) = (inner.campaigns.clone(), *id);
            Store::offload(move || campaigns.claim(&id, &phones, now))
                .await
                .map_err(internal)?
        };
        let claimed: std::collections::HashSet<String> =
            claimed.into_iter().map(|(p, _)| p).collect();
        to_send.retain(|(p, _)| claimed.contains(p));
        immediate.retain(|(p, _)| claimed.contains(p));

        let api = match inner
            .connections
            .get(&connection_id)
            .map_err(internal)?
            .ok_or_else(|| "the connection was deleted".to_string())
            .and_then(|c| inner.providers.for_connection(&c).map_err(|e| e.explain()))
        {
            Ok(api) => api,
            Err(detail) => {
                let returned: Vec<_> = to_send
                    .iter()
                    .map(|(p, _)| (p.clone(), Outcome::Returned))
                    .collect();
                inner
                    .campaigns
                    .settle(id, &connection_id, &returned, now)
                    .map_err(internal)?;
                self.pause(id, PauseReason::Sender { code: None, detail })
                    .map_err(internal)?;
                return Ok(Step::Done);
            }
        };
        // Recipients decided without a send are settled at once.
        inner
            .campaigns
            .settle(id, &connection_id, &immediate, now)
            .map_err(internal)?;
        // Said only now that this batch is claimed, so a reader never sees "waiting for the
        // limit" next to recipients that are about to be sent.
        {
            let mut live = self.live_state();
            let state = live.entry(*id).or_default();
            state.waiting = tier_wait.map(|until| {
                (format!("The messaging limit ({}) is reached for now; sending resumes as the 24-hour window moves.", describe(limit)), until)
            });
        }
        if to_send.is_empty() {
            return Ok(Step::Continue);
        }
        // The next batch is prepared while this one sends, so the number's pace never waits for
        // bookkeeping; at most [`BATCHES_IN_FLIGHT`] batches are in flight.
        let Ok(permit) = batches.clone().acquire_owned().await else {
            return Ok(Step::Done);
        };
        self.track_in_flight(id, to_send.iter().map(|(p, _)| p.clone()));
        let batch = Batch {
            campaign: *id,
            connection: connection_id,
            template: Arc::new(template),
            slots: Arc::new(record.slots.clone()),
            api,
            gate,
            stop: stop.clone(),
        };
        let engine = self.clone();
        self.inner.tasks.spawn(async move {
            let phones: Vec<String> = to_send.iter().map(|(p, _)| p.clone()).collect();
            if let Err(error) = engine.send_batch(batch, to_send).await {
                tracing::error!(%error, "a campaign batch could not be recorded; its recipients stay `sending` until reconciled");
            }
            engine.forget_in_flight(&phones);
            drop(permit);
        });
        Ok(Step::Continue)
    }

    /// Marks recipients of `campaign` as being sent by this process (stale-send expiry skips them).
    fn track_in_flight(&self, campaign: &Uuid, phones: impl Iterator<Item = String>) {
        let mut in_flight = self
            .inner
            .in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        in_flight.extend(phones.map(|p| (*campaign, p)));
    }

    fn forget_in_flight(&self, phones: &[String]) {
        let mut in_flight = self
            .inner
            .in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        in_flight.retain(|(_, p)| !phones.contains(p));
    }

    /// Sends one claimed batch through the gate and records every outcome.
    async fn send_batch(
        &self,
        batch: Batch,
        to_send: Vec<(String, RecipientRecord)>,
    ) -> Result<(), PortError> {
        let inner = &self.inner;
        let Batch {
            campaign,
            connection,
            template,
            slots,
            api,
            gate,
            stop,
        } = batch;
        let sent: Vec<(String, Outcome, Option<PauseReason>)> = stream::iter(to_send)
            .map(|(phone, recipient)| {
                let (api, gate, template, slots, stop) = (
                    api.clone(),
                    gate.clone(),
                    template.clone(),
                    slots.clone(),
                    stop.clone(),
                );
                let (clock, dispatcher, campaigns) = (
                    inner.clock.clone(),
                    inner.dispatcher.clone(),
                    inner.campaigns.clone(),
                );
                async move {
                    if stop.is_cancelled() {
                        return (phone, Outcome::Returned, None);
                    }
                    let rendered = Rendered {
                        values: slots
                            .iter()
                            .cloned()
                            .zip(recipient.values.iter().cloned())
                            .collect(),
                    };
                    let outbound = Outbound {
                        origin: Origin::Campaign {
                            campaign,
                            phone: phone.clone(),
                        },
                        connection,
                        message: OutgoingMessage::to(
                            phone.clone(),
                            MessageContent::Template {
                                template: template_message(&template, &rendered),
                            },
                        ),
                        template_category: Some(Category::of_template(&template.category)),
                        summary: template.name.clone(),
                    };
                    // The recipient's `sending` mark is durable with the ledger entry, before
                    // the request: a restart then waits for its report instead of resending.
                    let dispatched = dispatcher
                        .send(api.as_ref(), &gate, outbound, Some(&stop), |now| {
                            campaigns.dispatch(&campaign, &phone, now)
                        })
                        .await;
                    let result = match dispatched {
                        Dispatched::Answered { result, .. } => result,
                        Dispatched::NotSent => return (phone, Outcome::Returned, None),
                        Dispatched::Refused(refusal) => {
                            return (phone, refused(refusal), None);
                        }
                    };
                    let (outcome, pause) = classify(result, &recipient, &gate, clock.now_ms());
                    (phone, outcome, pause)
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;

        let now = inner.clock.now_ms();
        let mut pause = None;
        let mut outcomes = Vec::with_capacity(sent.len());
        let mut accepted_users = Vec::new();
        for (phone, outcome, stop_reason) in sent {
            if let Outcome::Accepted { wa_id, .. } = &outcome {
                accepted_users.push((phone.clone(), wa_id.clone()));
            }
            if let Outcome::Failed {
                code: Some(code), ..
            } = &outcome
            {
                if *code == consent_effects::STOPPED_MARKETING {
                    let user = phone.trim_start_matches('+').to_string();
                    if let Err(error) =
                        consent_effects::stopped_marketing(inner.contacts.store(), &user, now)
                    {
                        tracing::error!(%error, "cannot record a 131050 opt-out");
                    }
                }
            }
            pause = pause.or(stop_reason);
            outcomes.push((phone, outcome));
        }
        let campaigns = inner.campaigns.clone();
        let follow_ups = inner.follow_ups.clone();
        let accepted = accepted_users.clone();
        Store::offload(move || {
            campaigns.settle(&campaign, &connection, &outcomes, now)?;
            let record = campaigns.get(&campaign)?;
            // Each accepted recipient now waits for a reply (a settle repeated after a crash
            // starts nothing twice).
            if let Some(plan) = record.as_ref().and_then(|r| r.draft.follow_ups.as_ref()) {
                for (phone, wa_id) in &accepted {
                    let key = (campaign, phone.clone());
                    let user = wa_id
                        .clone()
                        .unwrap_or_else(|| phone.trim_start_matches('+').to_string());
                    follow_ups.start(&key, connection, &user, plan.no_reply_at_ms(now), now)?;
                }
            }
            // Cancelled while this batch was under way: what it did not send came back
            // pending; it will never be sent, so it is settled as cancelled now.
            if record.is_some_and(|r| r.status.is_finished()) {
                campaigns.skip_pending(&campaign, SkipReason::Cancelled, now)?;
            }
            Ok(())
        })
        .await
        .map_err(internal)?;
        {
            let mut live = self.live_state();
            let state = live.entry(campaign).or_default();
            state
                .recent
                .extend(std::iter::repeat_n(now, accepted_users.len()));
        }
        let (engine, name) = (self.clone(), template.name.clone());
        Store::offload(move || {
            engine.remember_template(&accepted_users, &name);
            Ok(())
        })
        .await
        .map_err(internal)?;
        if let Some(reason) = pause {
            self.pause(&campaign, reason).map_err(internal)?;
            self.interrupt(&campaign);
        }
        Ok(())
    }

    /// Nothing is due: finish, settle stale sends, or wait for the next due time.
    fn idle(&self, id: &Uuid, now: i64) -> Result<Step, PortError> {
        let inner = &self.inner;
        let stats = inner.campaigns.stats(id).map_err(internal)?;
        // Stale `sending` recipients (their process died mid-send) become unknown even while
        // others wait for a later turn.
        if stats.counts.sending > 0 && self.expiry_due(id, now) {
            let cutoff = now - inner.config.unknown_after_ms;
            let in_flight: HashSet<String> = {
                let all = inner.in_flight.lock().unwrap_or_else(|e| e.into_inner());
                all.iter()
                    .filter(|(c, _)| c == id)
                    .map(|(_, p)| p.clone())
                    .collect()
            };
            let busy = |phone: &str| in_flight.contains(phone);
            // Claims a failed batch left behind (nothing of theirs left): back in the queue.
            let orphaned = inner
                .campaigns
                .requeue_claimed(id, now, &busy)
                .map_err(internal)?;
            let expired = inner
                .campaigns
                .expire_sending(id, cutoff, now, &busy)
                .map_err(internal)?;
            if orphaned > 0 || expired > 0 {
                tracing::warn!(campaign = %id, expired, "sends without answer or status report are now reported as unknown");
                return Ok(Step::Continue);
            }
        }
        if stats.counts.pending > 0 {
            let next = inner
                .campaigns
                .next_due(id)
                .map_err(internal)?
                .unwrap_or(now + 1_000);
            if next - now > DEFERRED_NOTICE_MS && stats.counts.sending == 0 {
                self.say_deferred(id, next, stats.counts.pending)?;
            }
            let wait = (next - now).clamp(50, 1_000);
            return Ok(Step::Sleep(Duration::from_millis(
                u64::try_from(wait).unwrap_or(1_000),
            )));
        }
        if stats.counts.sending > 0 {
            self.await_reports(id, now, stats.counts.sending)?;
            return Ok(Step::Sleep(Duration::from_millis(500)));
        }
        let counts = stats.counts;
        inner
            .campaigns
            .update(id, |r| {
                if r.status != CampaignStatus::Running {
                    return false;
                }
                r.status = CampaignStatus::Completed { at_ms: now };
                r.updated_at_ms = now;
                note(
                    r,
                    now,
                    &format!(
                        "Completed: {} accepted, {} failed, {} skipped, {} unknown.",
                        counts.accepted(),
                        counts.failed,
                        counts.skipped,
                        counts.unknown
                    ),
                );
                true
            })
            .map_err(internal)?;
        tracing::info!(campaign = %id, accepted = counts.accepted(), failed = counts.failed, "campaign completed");
        Ok(Step::Done)
    }

    /// Everything due is done and the rest is held back (131049 defers a user 24 hours, a
    /// sending window, a retry): says how many, why and until when, instead of "running, 99 %".
    fn say_deferred(&self, id: &Uuid, until: i64, pending: u64) -> Result<(), PortError> {
        let known = self
            .live_state()
            .get(id)
            .and_then(|s| s.waiting.clone())
            .is_some_and(|(_, at)| at == until);
        if known {
            return Ok(());
        }
        let why = self
            .inner
            .campaigns
            .due(id, i64::MAX, 1)
            .map_err(internal)?
            .into_iter()
            .next()
            .and_then(|(_, r)| r.last_error);
        let said = match why {
            Some(why) => format!(
                "Waiting: {pending} recipient(s) held back, the next until the time below ({why})."
            ),
            None => {
                format!("Waiting: {pending} recipient(s) held back, the next until the time below.")
            }
        };
        self.live_state().entry(*id).or_default().waiting = Some((said, until));
        Ok(())
    }

    /// Only reports are awaited (sends a restart cut off): says so, and until when, instead of
    /// showing a running campaign with nothing to do.
    fn await_reports(&self, id: &Uuid, now: i64, sending: u64) -> Result<(), PortError> {
        let busy = self
            .inner
            .in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|(c, _)| c == id);
        let known = self
            .live_state()
            .get(id)
            .and_then(|s| s.waiting.clone())
            .is_some_and(|(_, until)| until > now);
        if busy || known {
            return Ok(());
        }
        let Some(last) = self
            .inner
            .campaigns
            .last_dispatch_ms(id)
            .map_err(internal)?
        else {
            return Ok(());
        };
        let until = last + self.inner.config.unknown_after_ms;
        let mut live = self.live_state();
        live.entry(*id).or_default().waiting = Some((
            format!("Everything else is done; waiting for WhatsApp's report on {sending} messages whose answer never came (Herald restarted, or the connection dropped). Those still without one then count as unknown and can be resent."),
            until,
        ));
        Ok(())
    }

    /// Whether to look for stale `sending` recipients now: a scan of the campaign, so at most
    /// twice per [`EngineConfig::unknown_after_ms`] (and at most once a second).
    fn expiry_due(&self, id: &Uuid, now: i64) -> bool {
        let every = (self.inner.config.unknown_after_ms / 2).max(1_000);
        let mut live = self.live_state();
        let state = live.entry(*id).or_default();
        if now - state.expiry_checked_ms < every {
            return false;
        }
        state.expiry_checked_ms = now;
        true
    }

    /// Writes the recipient snapshot, then moves the campaign to `running`. Rerunning it after
    /// a crash starts the snapshot over (nothing was sent while preparing).
    fn prepare(&self, id: &Uuid, record: &CampaignRecord) -> Result<(), PortError> {
        let inner = &self.inner;
        let template = record
            .template
            .clone()
            .ok_or_else(|| PortError::conflict("the campaign has no template snapshot"))?;
        inner.campaigns.clear_recipients(id).map_err(internal)?;
        let now = inner.clock.now_ms();
        let judge = Judge::new(
            &record.draft,
            &template,
            &record.slots,
            record.exclude_campaign,
        );
        let mut batch: Vec<(String, RecipientRecord)> = Vec::with_capacity(PREPARE_BATCH);
        let campaigns = inner.campaigns.clone();
        let tally = audience::walk(&inner.contacts, &inner.campaigns, &judge, |candidate| {
            let state = match &candidate.verdict {
                Ok(_) => RecipientState::Pending,
                Err(reason) => RecipientState::Skipped {
                    reason: reason.clone(),
                },
            };
            let mut recipient = RecipientRecord::new(state, now);
            recipient.name = candidate.contact.display_name();
            recipient.country = candidate.contact.country.clone();
            recipient.time_zone = candidate.contact.time_zone.clone();
            recipient.wa_id = candidate.contact.wa_id.clone();
            if let Ok(rendered) = candidate.verdict {
                recipient.values = rendered.values.into_iter().map(|(_, v)| v).collect();
            }
            batch.push((candidate.phone, recipient));
            if batch.len() >= PREPARE_BATCH {
                campaigns.add_recipients(id, &batch, &Unrecorded::default())?;
                batch.clear();
            }
            Ok(true)
        })?;
        let unrecorded = Unrecorded {
            merged: tally.duplicates,
            invalid: tally.invalid,
        };
        campaigns
            .add_recipients(id, &batch, &unrecorded)
            .map_err(internal)?;
        let stats = campaigns.stats(id).map_err(internal)?;
        let now = inner.clock.now_ms();
        inner
            .campaigns
            .update(id, |r| {
                if r.status != CampaignStatus::Preparing {
                    return false;
                }
                r.status = CampaignStatus::Running;
                r.started_at_ms = Some(now);
                r.updated_at_ms = now;
                let skipped = stats.counts.skipped;
                let merged = match stats.merged {
                    0 => String::new(),
                    1 => " One number was listed twice and is messaged once.".to_string(),
                    n => format!(" {n} numbers were listed twice and are messaged once."),
                };
                let said = if stats.counts.pending == 0 {
                    format!("Audience fixed at the start: nobody to send to ({skipped} skipped); the campaign ends here.{merged}")
                } else {
                    format!(
                        "Audience fixed: {} to send, {skipped} skipped.{merged}",
                        stats.counts.pending
                    )
                };
                note(r, now, &said);
                true
            })
            .map_err(internal)?;
        Ok(())
    }

    /// Why the campaign's template cannot be sent now, if it cannot.
    fn template_problem(
        &self,
        record: &CampaignRecord,
    ) -> Result<Option<PauseReason>, StorageError> {
        let Ok(id) = record.draft.template_id.parse::<Uuid>() else {
            return Ok(Some(PauseReason::TemplateUnavailable));
        };
        let Some(template) = self.inner.templates.get(&id)? else {
            return Ok(Some(PauseReason::TemplateUnavailable));
        };
        Ok(match template.status.as_deref() {
            Some("APPROVED") => None,
            Some("PAUSED") => Some(PauseReason::TemplatePaused),
            Some("DISABLED") => Some(PauseReason::TemplateDisabled),
            _ => Some(PauseReason::TemplateUnavailable),
        })
    }

    /// The number's limits, re-read from Meta when older than [`limits::REFRESH_MS`].
    pub async fn refresh_limits(&self, connection: &Uuid) -> crate::storage::senders::SenderLimits {
        let inner = &self.inner;
        let known = inner.senders.get(connection).unwrap_or_default();
        let now = inner.clock.now_ms();
        if !limits::stale(&known, now) {
            return known;
        }
        self.read_limits(connection).await.unwrap_or(known)
    }

    /// Reads the number's limits from Meta now (`None`: no such connection or no client).
    pub async fn read_limits(
        &self,
        connection: &Uuid,
    ) -> Option<crate::storage::senders::SenderLimits> {
        let inner = &self.inner;
        let record = inner.connections.get(connection).ok().flatten()?;
        let api = inner.providers.for_connection(&record).ok()?;
        Some(
            limits::refresh(
                &inner.senders,
                api.as_ref(),
                connection,
                inner.clock.now_ms(),
            )
            .await,
        )
    }

    /// Adds the template to each accepted contact's `received_templates` (segments use it).
    fn remember_template(&self, accepted: &[(String, Option<String>)], template: &str) {
        for (phone, wa_id) in accepted {
            let result = self.inner.contacts.store().update(phone, |contact| {
                contact.map(|mut c| {
                    c.received_templates.insert(template.to_string());
                    if c.wa_id.is_none() {
                        c.wa_id = wa_id.clone();
                    }
                    c
                })
            });
            if let Err(error) = result {
                tracing::warn!(%error, "cannot record a received template on the contact");
            }
        }
    }
}

/// Appends an event to a campaign's history.
pub fn note(record: &mut CampaignRecord, at_ms: i64, what: &str) {
    record.history.push(CampaignEvent {
        at_ms,
        what: what.to_string(),
    });
}

fn describe(limit: MessagingLimit) -> String {
    match limit {
        MessagingLimit::Users(n) => format!("{n} new conversations per 24 hours"),
        MessagingLimit::Unlimited => "unlimited".into(),
        MessagingLimit::NotSet => "not set".into(),
    }
}

/// What an API answer means for the recipient, and whether the campaign must stop.
fn classify(
    result: Result<domain::whatsapp::graph::SendResponse, ApiError>,
    recipient: &RecipientRecord,
    gate: &SenderGate,
    now: i64,
) -> (Outcome, Option<PauseReason>) {
    let error = match result {
        Ok(response) => {
            let Some(message) = response.messages.first() else {
                return (
                    Outcome::AnswerLost {
                        reason: "WhatsApp accepted the request without a message id".into(),
                    },
                    None,
                );
            };
            return (
                Outcome::Accepted {
                    wamid: message.id.clone(),
                    wa_id: response.contacts.first().map(|c| c.wa_id.clone()),
                },
                None,
            );
        }
        Err(error) => error,
    };
    let code = error.code();
    let reason = error.explain();
    if error.outcome_unknown() {
        return (Outcome::AnswerLost { reason }, None);
    }
    let later = |wait_ms: i64| Outcome::Later {
        not_before_ms: now + wait_ms,
        reason: Some(reason.clone()),
    };
    match error.disposition() {
        // The dispatcher has slowed the number's gate; this recipient waits its turn again
        // rather than going straight back into the refusal.
        Disposition::Retry(RetryKind::Throughput) => (later(THROUGHPUT_RETRY_MS), None),
        Disposition::Retry(RetryKind::Maintenance) => {
            gate.cool_down(60_000);
            (later(60_000), None)
        }
        Disposition::Retry(RetryKind::PairRate) => (
            Outcome::Retry {
                not_before_ms: now + pacing::pair_rate_delay_ms(recipient.pair_refusals),
                reason,
                pair_refusal: true,
            },
            None,
        ),
        Disposition::Retry(RetryKind::Backoff) => {
            let attempt = recipient.attempts + 1;
            if attempt >= MAX_ATTEMPTS {
                (
                    Outcome::Failed {
                        code,
                        reason: format!("gave up after {attempt} attempts: {reason}"),
                    },
                    None,
                )
            } else {
                let jitter: f64 = rand::rng().random();
                (
                    Outcome::Retry {
                        not_before_ms: now + retry_delay_ms(attempt, jitter),
                        reason,
                        pair_refusal: false,
                    },
                    None,
                )
            }
        }
        Disposition::Recipient(RecipientOutcome::Deferred24h) => (later(DAY_MS), None),
        Disposition::Recipient(_) | Disposition::InvalidRequest => {
            (Outcome::Failed { code, reason }, None)
        }
        Disposition::StopSender(stop) => {
            let pause = match stop {
                StopReason::TemplatePaused => PauseReason::TemplatePaused,
                StopReason::TemplateDisabled => PauseReason::TemplateDisabled,
                StopReason::TemplateMissing => PauseReason::TemplateUnavailable,
                _ => PauseReason::Sender {
                    code,
                    detail: reason,
                },
            };
            (Outcome::Returned, Some(pause))
        }
    }
}

/// What becomes of a recipient the dispatcher may not send to (consent changed since launch).
fn refused(refusal: SendRefusal) -> Outcome {
    match refusal {
        SendRefusal::OptedOut(_) => Outcome::Skipped(SkipReason::OptedOut),
        SendRefusal::UsMarketing => Outcome::Skipped(SkipReason::UsMarketing),
        SendRefusal::WindowClosed { .. } => Outcome::Failed {
            code: None,
            reason: refusal.explain(),
        },
    }
}
