//! Campaigns and their recipients.
//!
//! Trees:
//! - `campaigns`: id → [`CampaignRecord`] (the draft, the template snapshot, the status);
//! - `campaign_recipients`: (campaign, E.164) → [`RecipientRecord`]; the phone in the key makes
//!   the snapshot duplicate-free and lets writing it be repeated after a crash;
//! - `campaign_queue`: (campaign, (not-before ms, E.164)) → `()`, exactly the recipients still
//!   pending, in the order they become due, so claiming the next batch is a short range scan;
//! - `campaign_stats`: campaign → [`CampaignStats`] (counts, failures by code, cost, timeline);
//! - `campaign_last_sent`: (connection, wa_id) → (campaign, E.164) of the latest campaign
//!   message to a user, so a reply can be credited to it.
//!
//! Every recipient change writes the recipient, the queue and the stats in **one transaction**,
//! so counts never drift from the records. Claiming marks a batch `sending` before any API call;
//! the engine flushes that before sending, so after `kill -9` a recipient is either still pending
//! (never sent) or `sending` (maybe sent: settled by its webhook, else reported unknown).

use std::collections::BTreeMap;

use domain::campaign::estimate::PriceTable;
use domain::campaign::state::{Counts, Transition};
use domain::campaign::{CampaignDraft, CampaignStatus, RecipientState, SkipReason, Slot};
use domain::whatsapp::graph::TemplateDefinition;
use domain::whatsapp::status::DeliveryStatus;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{transact3, Collection, StorageError, Store, TxError};

/// The single key of `campaign_prices`.
const PRICES_KEY: &str = "current";

/// 131049 holds a recipient back for a day.
const DEFER_MS: i64 = 24 * 60 * 60 * 1000;

/// One entry of a campaign's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignEvent {
    /// Unix ms.
    pub at_ms: i64,
    /// What happened, in a sentence.
    pub what: String,
}

/// A campaign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignRecord {
    /// What the wizard or API gave.
    pub draft: CampaignDraft,
    /// Lifecycle.
    pub status: CampaignStatus,
    /// The template as it was at launch (what every recipient receives).
    pub template: Option<TemplateDefinition>,
    /// Its variables, in the order recipients' values are stored.
    pub slots: Vec<Slot>,
    /// Skip contacts the campaign this one was cloned from already messaged.
    #[serde(default)]
    pub exclude_campaign: Option<Uuid>,
    /// Unix ms.
    pub created_at_ms: i64,
    /// Unix ms.
    pub updated_at_ms: i64,
    /// When sending began, Unix ms.
    #[serde(default)]
    pub started_at_ms: Option<i64>,
    /// Launches, pauses, resumes, completion — oldest first.
    #[serde(default)]
    pub history: Vec<CampaignEvent>,
}

/// One recipient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecipientRecord {
    /// Where they stand.
    pub state: RecipientState,
    /// Display name at launch, for reports.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// ISO country of the number (prices, reports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// The contact's time zone (sending windows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// A value per template slot, rendered at launch.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    /// Send attempts that ended in a retryable error.
    #[serde(default)]
    pub attempts: u32,
    /// 131056 refusals so far (the X of Meta's 4^X).
    #[serde(default)]
    pub pair_refusals: u32,
    /// Not to be sent before this, Unix ms.
    #[serde(default)]
    pub not_before_ms: i64,
    /// WhatsApp's message id, once accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wamid: Option<String>,
    /// WhatsApp's user id, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wa_id: Option<String>,
    /// When the send was accepted (or attempted, for unknown outcomes), Unix ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at_ms: Option<i64>,
    /// Last change, Unix ms.
    pub updated_at_ms: i64,
    /// Last retryable error, for the report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Whether a billable status report was counted in the cost.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub billed: bool,
    /// Queued again by a person after its outcome was unknown: a late report of the first
    /// send then calls the resend off.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub resent: bool,
}

impl RecipientRecord {
    /// A pending recipient.
    pub fn pending(now_ms: i64) -> Self {
        Self::new(RecipientState::Pending, now_ms)
    }

    /// A recipient in `state`.
    pub fn new(state: RecipientState, now_ms: i64) -> Self {
        Self {
            state,
            name: String::new(),
            country: None,
            time_zone: None,
            values: Vec::new(),
            attempts: 0,
            pair_refusals: 0,
            not_before_ms: now_ms,
            wamid: None,
            wa_id: None,
            sent_at_ms: None,
            updated_at_ms: now_ms,
            last_error: None,
            billed: false,
            resent: false,
        }
    }
}

/// Five series of the progress chart, per minute.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bucket {
    /// Accepted by WhatsApp.
    pub sent: u32,
    /// Delivered.
    pub delivered: u32,
    /// Read.
    pub read: u32,
    /// Replied.
    pub replied: u32,
    /// Failed.
    pub failed: u32,
}

/// A campaign's running totals.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CampaignStats {
    /// Recipients per state.
    pub counts: Counts,
    /// Failures by Meta error code (`0` when there was none).
    #[serde(default)]
    pub failures: BTreeMap<i64, u64>,
    /// Skips by reason key.
    #[serde(default)]
    pub skipped: BTreeMap<String, u64>,
    /// Numbers the audience met more than once, messaged once (not counted as skipped).
    #[serde(default)]
    pub merged: u64,
    /// Charged messages by pricing category, from status webhooks.
    #[serde(default)]
    pub billable: BTreeMap<String, u64>,
    /// Cost so far, in the price table's currency.
    #[serde(default, with = "super::codec::finite_f64")]
    pub cost: f64,
    /// Events per minute (Unix minute → bucket).
    #[serde(default)]
    pub timeline: BTreeMap<i64, Bucket>,
}

impl CampaignStats {
    fn bucket(&mut self, at_ms: i64) -> &mut Bucket {
        self.timeline.entry(at_ms.div_euclid(60_000)).or_default()
    }

    /// Accounts for a move from `from` to `to` at `at_ms`.
    fn moved(&mut self, from: &RecipientState, to: &RecipientState, at_ms: i64) {
        self.counts.moved(from, to);
        let bucket = self.bucket(at_ms);
        match to {
            RecipientState::Sent => bucket.sent += 1,
            RecipientState::Delivered => bucket.delivered += 1,
            RecipientState::Read => bucket.read += 1,
            RecipientState::Replied => bucket.replied += 1,
            RecipientState::Failed { code, .. } => {
                bucket.failed += 1;
                *self.failures.entry(code.unwrap_or(0)).or_default() += 1;
            }
            RecipientState::Skipped { reason } => {
                *self.skipped.entry(reason.key().to_string()).or_default() += 1;
            }
            _ => {}
        }
        if let RecipientState::Failed { code, .. } = from {
            if let Some(n) = self.failures.get_mut(&code.unwrap_or(0)) {
                *n = n.saturating_sub(1);
            }
        }
    }

    /// Counts `n` skips that have no recipient record (list rows without a usable number) in
    /// the counters and the table alike, so the two always agree.
    fn skip_without_record(&mut self, reason: &SkipReason, n: u64) {
        if n == 0 {
            return;
        }
        self.counts.total += n;
        self.counts.skipped += n;
        *self.skipped.entry(reason.key().to_string()).or_default() += n;
    }
}

/// Who the audience met that gets no recipient record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unrecorded {
    /// Numbers met again (in the segment and the list, or twice in the list): messaged once,
    /// so not an exclusion.
    pub merged: u64,
    /// List rows without a usable number, or numbers with no contact: excluded.
    pub invalid: u64,
}

/// What happened to one claimed recipient.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// WhatsApp accepted the message.
    Accepted {
        /// Its id.
        wamid: String,
        /// The user's WhatsApp id.
        wa_id: Option<String>,
    },
    /// Try again at `not_before_ms`.
    Retry {
        /// Unix ms.
        not_before_ms: i64,
        /// What went wrong.
        reason: String,
        /// A 131056 refusal (counts towards 4^X).
        pair_refusal: bool,
    },
    /// Not sent and not counted as an attempt (the campaign paused first).
    Returned,
    /// Not sent yet, and not the recipient's fault: outside the sending window, over the
    /// messaging limit, the number cooling down, or Meta holding the user back (131049).
    Later {
        /// Unix ms.
        not_before_ms: i64,
        /// Shown in the report, when it is a refusal.
        reason: Option<String>,
    },
    /// Permanently failed.
    Failed {
        /// Meta's code.
        code: Option<i64>,
        /// Plain reason.
        reason: String,
    },
    /// Skipped at send time (opted out meanwhile, contact deleted).
    Skipped(SkipReason),
    /// The answer was lost; leave it `sending` for its webhook to settle.
    AnswerLost {
        /// What happened.
        reason: String,
    },
}

/// A delivery report for one recipient.
pub struct Delivery<'a> {
    /// Reported status.
    pub status: DeliveryStatus,
    /// The wamid.
    pub wamid: &'a str,
    /// User id.
    pub wa_id: Option<&'a str>,
    /// First error code of a failure.
    pub code: Option<i64>,
    /// Its words.
    pub reason: &'a str,
    /// Pricing category when billable (`pricing.type` regular).
    pub billable_category: Option<&'a str>,
    /// Price of this message (from the price table), when billable.
    pub price: f64,
    /// When Herald learnt it.
    pub at_ms: i64,
}

type RecipientKey = (Uuid, String);
type QueueKey = (Uuid, (u64, String));

fn queue_key(campaign: Uuid, not_before_ms: i64, phone: &str) -> QueueKey {
    (
        campaign,
        (u64::try_from(not_before_ms).unwrap_or(0), phone.to_string()),
    )
}

/// Typed access to the campaign trees.
#[derive(Clone)]
pub struct CampaignStore {
    campaigns: Collection<Uuid, CampaignRecord>,
    recipients: Collection<RecipientKey, RecipientRecord>,
    queue: Collection<QueueKey, ()>,
    stats: Collection<Uuid, CampaignStats>,
    last_sent: Collection<(Uuid, String), (Uuid, String)>,
    prices: Collection<String, PriceTable>,
}

impl CampaignStore {
    /// Opens the trees.
    pub fn open(store: &Store) -> Result<Self, StorageError> {
        Ok(Self {
            campaigns: store.collection("campaigns")?,
            recipients: store.collection("campaign_recipients")?,
            queue: store.collection("campaign_queue")?,
            stats: store.collection("campaign_stats")?,
            last_sent: store.collection("campaign_last_sent")?,
            prices: store.collection("campaign_prices")?,
        })
    }

    /// The price table for estimates and costs (the defaults until someone edits it).
    pub fn prices(&self) -> Result<PriceTable, StorageError> {
        Ok(self
            .prices
            .get(&PRICES_KEY.to_string())?
            .unwrap_or_default())
    }

    /// Replaces the price table.
    pub fn set_prices(&self, table: &PriceTable) -> Result<(), StorageError> {
        self.prices.insert(&PRICES_KEY.to_string(), table)
    }

    /// Creates or replaces a campaign record.
    pub fn put(&self, id: &Uuid, record: &CampaignRecord) -> Result<(), StorageError> {
        self.campaigns.insert(id, record)
    }

    /// A campaign.
    pub fn get(&self, id: &Uuid) -> Result<Option<CampaignRecord>, StorageError> {
        self.campaigns.get(id)
    }

    /// Every campaign, newest first.
    pub fn list(&self) -> Result<Vec<(Uuid, CampaignRecord)>, StorageError> {
        self.campaigns.iter().rev().collect()
    }

    /// Atomically changes a campaign; `f` returns `false` to leave it as it was. Returns the
    /// record after the call, or `None` if there is no such campaign.
    pub fn update(
        &self,
        id: &Uuid,
        mut f: impl FnMut(&mut CampaignRecord) -> bool,
    ) -> Result<Option<CampaignRecord>, StorageError> {
        self.campaigns.update(id, |current| {
            let mut record = current?;
            let before = record.clone();
            if f(&mut record) {
                Some(record)
            } else {
                Some(before)
            }
        })
    }

    /// A report that arrived after the campaign completed put a recipient back in the queue
    /// (131049 defers by 24 hours): the campaign was not finished after all, so it runs again
    /// and its history says why. Returns whether it was reopened.
    pub fn reopen_completed(&self, id: &Uuid, at_ms: i64) -> Result<bool, StorageError> {
        let mut reopened = false;
        self.update(id, |r| {
            reopened = matches!(r.status, CampaignStatus::Completed { .. });
            if reopened {
                r.status = CampaignStatus::Running;
                r.updated_at_ms = at_ms;
                r.history.push(CampaignEvent {
                    at_ms,
                    what: "Running again: WhatsApp held a recipient back after the last send \
                           (131049); they are sent when it allows."
                        .into(),
                });
            }
            reopened
        })?;
        Ok(reopened)
    }

    /// Deletes a campaign that never started, with whatever it had prepared.
    pub fn delete(&self, id: &Uuid) -> Result<bool, StorageError> {
        self.clear_recipients(id)?;
        self.stats.remove(id)?;
        self.campaigns.remove(id)
    }

    /// Removes every recipient and queue entry of a campaign (a snapshot restarted from scratch).
    pub fn clear_recipients(&self, id: &Uuid) -> Result<(), StorageError> {
        self.recipients.remove_prefix(id.as_bytes())?;
        self.queue.remove_prefix(id.as_bytes())?;
        self.stats.insert(id, &CampaignStats::default())
    }

    /// The totals of a campaign.
    pub fn stats(&self, id: &Uuid) -> Result<CampaignStats, StorageError> {
        Ok(self.stats.get(id)?.unwrap_or_default())
    }

    /// One recipient.
    pub fn recipient(
        &self,
        campaign: &Uuid,
        phone: &str,
    ) -> Result<Option<RecipientRecord>, StorageError> {
        self.recipients.get(&(*campaign, phone.to_string()))
    }

    /// Recipients in number order after `after` (exclusive), at most `limit`.
    pub fn recipients_page(
        &self,
        campaign: &Uuid,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, RecipientRecord)>, StorageError> {
        let start = (
            *campaign,
            after.map(|a| format!("{a}\0")).unwrap_or_default(),
        );
        self.recipients
            .range_from(&start)
            .take_while(|e| !matches!(e, Ok(((c, _), _)) if c != campaign))
            .take(limit)
            .map(|e| e.map(|((_, phone), r)| (phone, r)))
            .collect()
    }

    /// Every recipient of a campaign, in number order.
    pub fn recipients(
        &self,
        campaign: &Uuid,
    ) -> impl Iterator<Item = Result<(String, RecipientRecord), StorageError>> + '_ {
        self.recipients
            .scan_prefix(campaign.as_bytes())
            .map(|e| e.map(|((_, phone), r)| (phone, r)))
    }

    /// Adds recipients to the snapshot; one already there (a rerun after a crash, or the same
    /// number twice) is left alone and counted as a duplicate. Returns how many were new.
    pub fn add_recipients(
        &self,
        campaign: &Uuid,
        batch: &[(String, RecipientRecord)],
        unrecorded: &Unrecorded,
    ) -> Result<usize, StorageError> {
        transact3(
            &self.recipients,
            &self.queue,
            &self.stats,
            |recipients, queue, stats| {
                let mut totals = stats.get::<StorageError>(campaign)?.unwrap_or_default();
                let mut added = 0;
                for (phone, record) in batch {
                    let key = (*campaign, phone.clone());
                    if recipients.get::<StorageError>(&key)?.is_some() {
                        totals.merged += 1;
                        continue;
                    }
                    recipients.insert(&key, record)?;
                    if record.state == RecipientState::Pending {
                        queue.insert(&queue_key(*campaign, record.not_before_ms, phone), &())?;
                    }
                    totals.counts.add(&record.state);
                    if let RecipientState::Skipped { reason } = &record.state {
                        *totals.skipped.entry(reason.key().to_string()).or_default() += 1;
                    }
                    added += 1;
                }
                totals.merged += unrecorded.merged;
                totals.skip_without_record(&SkipReason::InvalidNumber, unrecorded.invalid);
                stats.insert(campaign, &totals)?;
                Ok::<_, TxError<StorageError>>(added)
            },
        )
    }

    /// Whether some recipient of the campaign was ever attempted (sending or beyond).
    pub fn was_messaged(&self, campaign: &Uuid, phone: &str) -> Result<bool, StorageError> {
        Ok(self.recipient(campaign, phone)?.is_some_and(|r| {
            r.state.was_attempted() && !matches!(r.state, RecipientState::Failed { .. })
        }))
    }

    /// When the next pending recipient becomes due, if any is pending.
    pub fn next_due(&self, campaign: &Uuid) -> Result<Option<i64>, StorageError> {
        match self.queue.scan_prefix(campaign.as_bytes()).next() {
            Some(entry) => {
                let ((_, (at, _)), ()) = entry?;
                Ok(Some(i64::try_from(at).unwrap_or(i64::MAX)))
            }
            None => Ok(None),
        }
    }

    /// Up to `limit` recipients due at `now_ms`, in due order, without changing them.
    pub fn due(
        &self,
        campaign: &Uuid,
        now_ms: i64,
        limit: usize,
    ) -> Result<Vec<(String, RecipientRecord)>, StorageError> {
        let mut out = Vec::new();
        for entry in self.queue.scan_prefix(campaign.as_bytes()) {
            let ((_, (at, phone)), ()) = entry?;
            if i64::try_from(at).unwrap_or(i64::MAX) > now_ms || out.len() >= limit {
                break;
            }
            if let Some(record) = self.recipient(campaign, &phone)? {
                out.push((phone, record));
            }
        }
        Ok(out)
    }

    /// Marks `phones` `claimed` (they must be pending) in one transaction and returns those
    /// claimed. Nothing has left yet, so no flush is needed: a crash leaves them claimed and
    /// [`Self::requeue_claimed`] puts them back.
    pub fn claim(
        &self,
        campaign: &Uuid,
        phones: &[String],
        now_ms: i64,
    ) -> Result<Vec<(String, RecipientRecord)>, StorageError> {
        transact3(
            &self.recipients,
            &self.queue,
            &self.stats,
            |recipients, queue, stats| {
                let mut totals = stats.get::<StorageError>(campaign)?.unwrap_or_default();
                let mut claimed = Vec::with_capacity(phones.len());
                for phone in phones {
                    let key = (*campaign, phone.clone());
                    let Some(mut record) = recipients.get::<StorageError>(&key)? else {
                        continue;
                    };
                    if record.state != RecipientState::Pending {
                        continue;
                    }
                    queue.remove(&queue_key(*campaign, record.not_before_ms, phone))?;
                    totals.moved(&record.state, &RecipientState::Claimed, now_ms);
                    record.state = RecipientState::Claimed;
                    record.updated_at_ms = now_ms;
                    recipients.insert(&key, &record)?;
                    claimed.push((phone.clone(), record));
                }
                stats.insert(campaign, &totals)?;
                Ok::<_, TxError<StorageError>>(claimed)
            },
        )
    }

    /// Marks a claimed recipient `sending` just before its request leaves. `false` when it is
    /// no longer claimed (then nothing may be sent). The caller flushes before the request, so
    /// after a crash every message that may have reached WhatsApp is known as `sending`.
    pub fn dispatch(
        &self,
        campaign: &Uuid,
        phone: &str,
        now_ms: i64,
    ) -> Result<bool, StorageError> {
        let mut dispatched = false;
        self.recipients
            .update(&(*campaign, phone.to_string()), |current| {
                let mut record = current?;
                dispatched = record.state == RecipientState::Claimed;
                if dispatched {
                    // Claimed and sending count alike (in flight): the stats need no change.
                    record.state = RecipientState::Sending;
                    record.sent_at_ms = Some(now_ms);
                    record.updated_at_ms = now_ms;
                }
                Some(record)
            })?;
        Ok(dispatched)
    }

    /// When the latest `sending` recipient was marked (`None`: there is none).
    pub fn last_dispatch_ms(&self, campaign: &Uuid) -> Result<Option<i64>, StorageError> {
        let mut latest = None;
        for entry in self.recipients(campaign) {
            let (_, record) = entry?;
            if record.state == RecipientState::Sending {
                latest = latest.max(Some(record.updated_at_ms));
            }
        }
        Ok(latest)
    }

    /// Puts `claimed` recipients that no send is under way for (`busy` says which are) back in
    /// the queue: after a restart, or when a batch died. Returns how many.
    pub fn requeue_claimed(
        &self,
        campaign: &Uuid,
        now_ms: i64,
        busy: &dyn Fn(&str) -> bool,
    ) -> Result<usize, StorageError> {
        let claimed = self.phones_where(campaign, |phone, r| {
            r.state == RecipientState::Claimed && !busy(phone)
        })?;
        self.rewrite(campaign, &claimed, now_ms, |record| {
            (record.state == RecipientState::Claimed).then_some(RecipientState::Pending)
        })?;
        Ok(claimed.len())
    }

    /// Records the outcomes of claimed sends in one transaction.
    pub fn settle(
        &self,
        campaign: &Uuid,
        connection: &Uuid,
        outcomes: &[(String, Outcome)],
        now_ms: i64,
    ) -> Result<(), StorageError> {
        transact3(
            &self.recipients,
            &self.queue,
            &self.stats,
            |recipients, queue, stats| {
                let mut totals = stats.get::<StorageError>(campaign)?.unwrap_or_default();
                for (phone, outcome) in outcomes {
                    let key = (*campaign, phone.clone());
                    let Some(mut record) = recipients.get::<StorageError>(&key)? else {
                        continue;
                    };
                    let before = record.state.clone();
                    apply_outcome(&mut record, outcome, now_ms);
                    if record.state == RecipientState::Pending {
                        queue.insert(&queue_key(*campaign, record.not_before_ms, phone), &())?;
                    }
                    if record.state != before {
                        totals.moved(&before, &record.state, now_ms);
                    }
                    record.updated_at_ms = now_ms;
                    recipients.insert(&key, &record)?;
                }
                stats.insert(campaign, &totals)?;
                Ok::<_, TxError<StorageError>>(())
            },
        )?;
        for (phone, outcome) in outcomes {
            if let Outcome::Accepted {
                wa_id: Some(wa_id), ..
            } = outcome
            {
                self.last_sent
                    .insert(&(*connection, wa_id.clone()), &(*campaign, phone.clone()))?;
            }
        }
        Ok(())
    }

    /// Applies a status webhook to the recipient it names. Returns the new state when it changed.
    pub fn apply_delivery(
        &self,
        campaign: &Uuid,
        connection: &Uuid,
        phone: &str,
        delivery: &Delivery<'_>,
    ) -> Result<Option<RecipientState>, StorageError> {
        let changed = transact3(
            &self.recipients,
            &self.queue,
            &self.stats,
            |recipients, queue, stats| {
                let key = (*campaign, phone.to_string());
                let Some(mut record) = recipients.get::<StorageError>(&key)? else {
                    return Ok(None);
                };
                let mut totals = stats.get::<StorageError>(campaign)?.unwrap_or_default();
                if let Some(category) = delivery.billable_category {
                    // Charged once per message, when the first billable report arrives.
                    if !record.billed {
                        *totals.billable.entry(category.to_string()).or_default() += 1;
                        // Prices are bounded, but a sum must stay finite whatever was stored.
                        let cost = totals.cost + delivery.price;
                        totals.cost = if cost.is_finite() { cost } else { totals.cost };
                        record.billed = true;
                    }
                }
                record.wamid = record.wamid.take().or(Some(delivery.wamid.to_string()));
                record.wa_id = record.wa_id.take().or(delivery.wa_id.map(str::to_string));
                let before = record.state.clone();
                // Resent after its outcome was unknown, and the report of the first send arrives
                // before the resend leaves: that send did arrive, so the resend is called off.
                let called_off = before == RecipientState::Pending && record.resent;
                let judged = if called_off {
                    RecipientState::Unknown {
                        reason: String::new(),
                    }
                    .on_status(delivery.status, delivery.code, delivery.reason)
                } else {
                    before.on_status(delivery.status, delivery.code, delivery.reason)
                };
                if called_off && judged != Transition::Stay {
                    queue.remove(&queue_key(*campaign, record.not_before_ms, phone))?;
                }
                match judged {
                    Transition::Stay => {}
                    Transition::To(next) => {
                        totals.moved(&before, &next, delivery.at_ms);
                        record.state = next;
                    }
                    Transition::Defer => {
                        let next = RecipientState::Pending;
                        totals.moved(&before, &next, delivery.at_ms);
                        record.state = next;
                        record.not_before_ms = delivery.at_ms + DEFER_MS;
                        record.last_error = Some(format!(
                            "131049: {}; retried after 24 hours",
                            delivery.reason
                        ));
                        record.wamid = None;
                        queue.insert(&queue_key(*campaign, record.not_before_ms, phone), &())?;
                    }
                }
                record.updated_at_ms = delivery.at_ms;
                let changed = (record.state != before).then(|| record.state.clone());
                recipients.insert(&key, &record)?;
                stats.insert(campaign, &totals)?;
                Ok::<_, TxError<StorageError>>(changed)
            },
        )?;
        if let (Some(wa_id), Some(state)) = (delivery.wa_id, &changed) {
            if matches!(state, RecipientState::Sent | RecipientState::Delivered) {
                self.last_sent.insert(
                    &(*connection, wa_id.to_string()),
                    &(*campaign, phone.to_string()),
                )?;
            }
        }
        Ok(changed)
    }

    /// The latest campaign message `wa_id` got from `connection`: (campaign, the recipient's
    /// E.164, its wamid once accepted). The inbox shows it above the reply it drew.
    pub fn last_campaign_message(
        &self,
        connection: &Uuid,
        wa_id: &str,
    ) -> Result<Option<(Uuid, String, Option<String>)>, StorageError> {
        let Some((campaign, phone)) = self.last_sent.get(&(*connection, wa_id.to_string()))? else {
            return Ok(None);
        };
        let wamid = self.recipient(&campaign, &phone)?.and_then(|r| r.wamid);
        Ok(Some((campaign, phone, wamid)))
    }

    /// Credits a reply from `wa_id` on `connection` to the latest campaign message it got.
    pub fn apply_reply(
        &self,
        connection: &Uuid,
        wa_id: &str,
        at_ms: i64,
    ) -> Result<Option<Uuid>, StorageError> {
        let Some((campaign, phone)) = self.last_sent.get(&(*connection, wa_id.to_string()))? else {
            return Ok(None);
        };
        let replied = transact3(
            &self.recipients,
            &self.queue,
            &self.stats,
            |recipients, _queue, stats| {
                let key = (campaign, phone.clone());
                let Some(mut record) = recipients.get::<StorageError>(&key)? else {
                    return Ok(false);
                };
                let Transition::To(next) = record.state.on_reply() else {
                    return Ok(false);
                };
                let mut totals = stats.get::<StorageError>(&campaign)?.unwrap_or_default();
                totals.moved(&record.state, &next, at_ms);
                record.state = next;
                record.updated_at_ms = at_ms;
                recipients.insert(&key, &record)?;
                stats.insert(&campaign, &totals)?;
                Ok::<_, TxError<StorageError>>(true)
            },
        )?;
        Ok(replied.then_some(campaign))
    }

    /// Turns `sending` recipients last touched before `cutoff_ms` into `unknown`: their answer
    /// was lost and no webhook settled them. Returns how many.
    /// `busy` names recipients a send is still under way for (they are left alone).
    pub fn expire_sending(
        &self,
        campaign: &Uuid,
        cutoff_ms: i64,
        now_ms: i64,
        busy: &dyn Fn(&str) -> bool,
    ) -> Result<usize, StorageError> {
        let stale = self.phones_where(campaign, |phone, r| {
            r.state == RecipientState::Sending && r.updated_at_ms < cutoff_ms && !busy(phone)
        })?;
        let unknown = RecipientState::Unknown {
            reason: "no answer and no status report arrived; it may or may not have been sent"
                .into(),
        };
        self.rewrite(campaign, &stale, now_ms, |record| {
            (record.state == RecipientState::Sending).then(|| unknown.clone())
        })?;
        Ok(stale.len())
    }

    /// Puts `unknown` recipients back in the queue: a person decided to send them again.
    pub fn requeue_unknown(&self, campaign: &Uuid, now_ms: i64) -> Result<usize, StorageError> {
        let unknown = self.phones_where(campaign, |_, r| {
            matches!(r.state, RecipientState::Unknown { .. })
        })?;
        self.rewrite(campaign, &unknown, now_ms, |record| {
            if !matches!(record.state, RecipientState::Unknown { .. }) {
                return None;
            }
            record.resent = true;
            Some(RecipientState::Pending)
        })?;
        Ok(unknown.len())
    }

    /// Skips every pending recipient (a cancelled campaign). Returns how many.
    pub fn skip_pending(
        &self,
        campaign: &Uuid,
        reason: SkipReason,
        now_ms: i64,
    ) -> Result<usize, StorageError> {
        let pending: Vec<String> = self
            .queue
            .scan_prefix(campaign.as_bytes())
            .map(|e| e.map(|((_, (_, phone)), ())| phone))
            .collect::<Result<_, _>>()?;
        let skipped = RecipientState::Skipped { reason };
        self.rewrite(campaign, &pending, now_ms, |record| {
            (record.state == RecipientState::Pending).then(|| skipped.clone())
        })?;
        Ok(pending.len())
    }

    /// Phones of the campaign's recipients that `keep` selects, in number order.
    fn phones_where(
        &self,
        campaign: &Uuid,
        keep: impl Fn(&str, &RecipientRecord) -> bool,
    ) -> Result<Vec<String>, StorageError> {
        let mut out = Vec::new();
        for entry in self.recipients(campaign) {
            let (phone, record) = entry?;
            if keep(&phone, &record) {
                out.push(phone);
            }
        }
        Ok(out)
    }

    /// [`Self::rewrite_chunk`] in transactions of 512 recipients, so one change to a large
    /// campaign never becomes one huge transaction.
    fn rewrite(
        &self,
        campaign: &Uuid,
        phones: &[String],
        now_ms: i64,
        f: impl Fn(&mut RecipientRecord) -> Option<RecipientState>,
    ) -> Result<(), StorageError> {
        for chunk in phones.chunks(512) {
            self.rewrite_chunk(campaign, chunk, now_ms, &f)?;
        }
        Ok(())
    }

    /// Moves the given recipients to the state `f` picks (`None`: leave alone), keeping the
    /// queue and counts in step.
    fn rewrite_chunk(
        &self,
        campaign: &Uuid,
        phones: &[String],
        now_ms: i64,
        f: impl Fn(&mut RecipientRecord) -> Option<RecipientState>,
    ) -> Result<(), StorageError> {
        transact3(
            &self.recipients,
            &self.queue,
            &self.stats,
            |recipients, queue, stats| {
                let mut totals = stats.get::<StorageError>(campaign)?.unwrap_or_default();
                for phone in phones {
                    let key = (*campaign, phone.clone());
                    let Some(mut record) = recipients.get::<StorageError>(&key)? else {
                        continue;
                    };
                    let Some(next) = f(&mut record) else { continue };
                    if record.state == RecipientState::Pending {
                        queue.remove(&queue_key(*campaign, record.not_before_ms, phone))?;
                    }
                    if next == RecipientState::Pending {
                        record.not_before_ms = now_ms;
                        queue.insert(&queue_key(*campaign, now_ms, phone), &())?;
                    }
                    totals.moved(&record.state, &next, now_ms);
                    record.state = next;
                    record.updated_at_ms = now_ms;
                    recipients.insert(&key, &record)?;
                }
                stats.insert(campaign, &totals)?;
                Ok::<_, TxError<StorageError>>(())
            },
        )
    }

    /// Users sent to by any campaign since `since_ms`, with the time (to rebuild the moving
    /// 24-hour window of a connection after a restart).
    pub fn sends_since(
        &self,
        campaign: &Uuid,
        since_ms: i64,
    ) -> Result<Vec<(String, i64)>, StorageError> {
        self.recipients(campaign)
            .filter_map(|e| match e {
                Ok((phone, r)) => r
                    .sent_at_ms
                    .filter(|at| *at >= since_ms && r.state.was_attempted())
                    .map(|at| {
                        Ok((
                            r.wa_id
                                .unwrap_or_else(|| phone.trim_start_matches('+').to_string()),
                            at,
                        ))
                    }),
                Err(e) => Some(Err(e)),
            })
            .collect()
    }
}

fn apply_outcome(record: &mut RecipientRecord, outcome: &Outcome, now_ms: i64) {
    let current = record.state.clone();
    match outcome {
        Outcome::Accepted { wamid, wa_id } => {
            record.wamid = record.wamid.take().or(Some(wamid.clone()));
            record.wa_id = record.wa_id.take().or(wa_id.clone());
            record.sent_at_ms = Some(now_ms);
            // A webhook may have overtaken the HTTP answer; it knows more, so it stands.
            if matches!(
                current,
                RecipientState::Sending | RecipientState::Unknown { .. }
            ) {
                record.state = RecipientState::Sent;
            }
        }
        // A webhook already settled it: the send did happen, whatever the HTTP said.
        _ if !matches!(current, RecipientState::Sending | RecipientState::Claimed) => {}
        Outcome::Retry {
            not_before_ms,
            reason,
            pair_refusal,
        } => {
            record.state = RecipientState::Pending;
            record.not_before_ms = *not_before_ms;
            record.last_error = Some(reason.clone());
            record.sent_at_ms = None;
            if *pair_refusal {
                record.pair_refusals += 1;
            } else {
                record.attempts += 1;
            }
        }
        Outcome::Returned => {
            record.state = RecipientState::Pending;
            record.sent_at_ms = None;
            record.not_before_ms = now_ms;
        }
        Outcome::Later {
            not_before_ms,
            reason,
        } => {
            record.state = RecipientState::Pending;
            record.sent_at_ms = None;
            record.not_before_ms = *not_before_ms;
            if reason.is_some() {
                record.last_error = reason.clone();
            }
        }
        Outcome::Failed { code, reason } => {
            record.state = RecipientState::Failed {
                code: *code,
                reason: reason.clone(),
            };
        }
        Outcome::Skipped(reason) => {
            record.state = RecipientState::Skipped {
                reason: reason.clone(),
            };
            record.sent_at_ms = None;
        }
        Outcome::AnswerLost { reason } => {
            record.last_error = Some(reason.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with(phones: &[&str]) -> (tempfile::TempDir, CampaignStore, Uuid) {
        let dir = tempfile::tempdir().unwrap();
        let store = CampaignStore::open(&Store::open(dir.path()).unwrap()).unwrap();
        let campaign = Uuid::now_v7();
        let batch: Vec<_> = phones
            .iter()
            .map(|p| ((*p).to_string(), RecipientRecord::pending(0)))
            .collect();
        store
            .add_recipients(&campaign, &batch, &Unrecorded::default())
            .unwrap();
        (dir, store, campaign)
    }

    fn state(store: &CampaignStore, campaign: &Uuid, phone: &str) -> RecipientState {
        store.recipient(campaign, phone).unwrap().unwrap().state
    }

    fn delivered<'a>(wamid: &'a str) -> Delivery<'a> {
        Delivery {
            status: DeliveryStatus::Delivered,
            wamid,
            wa_id: None,
            code: None,
            reason: "",
            billable_category: None,
            price: 0.0,
            at_ms: 50,
        }
    }

    #[test]
    fn claimed_recipients_go_back_to_the_queue_and_sending_ones_wait() {
        let (_dir, store, id) = store_with(&["+901", "+902", "+903"]);
        let phones = ["+901".to_string(), "+902".to_string(), "+903".to_string()];
        assert_eq!(store.claim(&id, &phones, 10).unwrap().len(), 3);
        assert!(
            store.due(&id, 100, 10).unwrap().is_empty(),
            "claimed are not due"
        );
        assert!(store.dispatch(&id, "+901", 20).unwrap());
        assert!(!store.dispatch(&id, "+901", 21).unwrap(), "dispatched once");
        assert_eq!(store.stats(&id).unwrap().counts.sending, 3);

        // A restart: nothing is busy any more.
        assert_eq!(store.requeue_claimed(&id, 30, &|_| false).unwrap(), 2);
        assert_eq!(state(&store, &id, "+901"), RecipientState::Sending);
        let due: Vec<String> = store
            .due(&id, 30, 10)
            .unwrap()
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        assert_eq!(due, ["+902", "+903"]);
        let counts = store.stats(&id).unwrap().counts;
        assert_eq!((counts.pending, counts.sending), (2, 1));
        assert_eq!(store.last_dispatch_ms(&id).unwrap(), Some(20));
        assert!(
            !store.dispatch(&id, "+902", 31).unwrap(),
            "pending is not claimed"
        );
    }

    #[test]
    fn a_claim_still_being_sent_is_not_requeued() {
        let (_dir, store, id) = store_with(&["+901"]);
        store.claim(&id, &["+901".to_string()], 10).unwrap();
        assert_eq!(store.requeue_claimed(&id, 20, &|p| p == "+901").unwrap(), 0);
        assert_eq!(state(&store, &id, "+901"), RecipientState::Claimed);
    }

    #[test]
    fn a_late_report_calls_off_the_resend_of_an_unknown_recipient() {
        let (_dir, store, id) = store_with(&["+901", "+902"]);
        let phones = ["+901".to_string(), "+902".to_string()];
        store.claim(&id, &phones, 10).unwrap();
        store.dispatch(&id, "+901", 11).unwrap();
        store.dispatch(&id, "+902", 11).unwrap();
        store.expire_sending(&id, 20, 20, &|_| false).unwrap();
        assert_eq!(store.requeue_unknown(&id, 30).unwrap(), 2);
        assert_eq!(store.due(&id, 30, 10).unwrap().len(), 2);

        // The first send of +901 did arrive; its report comes after the resend was pressed.
        let connection = Uuid::now_v7();
        store
            .apply_delivery(&id, &connection, "+901", &delivered("wamid.A"))
            .unwrap();
        assert_eq!(state(&store, &id, "+901"), RecipientState::Delivered);
        let due: Vec<String> = store
            .due(&id, 100, 10)
            .unwrap()
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        assert_eq!(due, ["+902"], "only the one with no report is resent");
        let counts = store.stats(&id).unwrap().counts;
        assert_eq!((counts.pending, counts.delivered), (1, 1));
    }

    #[test]
    fn a_report_for_a_recipient_never_sent_changes_nothing() {
        let (_dir, store, id) = store_with(&["+901"]);
        store
            .apply_delivery(&id, &Uuid::now_v7(), "+901", &delivered("wamid.B"))
            .unwrap();
        assert_eq!(state(&store, &id, "+901"), RecipientState::Pending);
        assert_eq!(store.due(&id, 100, 10).unwrap().len(), 1);
    }
}
