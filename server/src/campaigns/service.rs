//! The campaign use cases behind `app::ports::CampaignsPort`: drafts, preview, pre-flight,
//! launch, control, clone, limits and prices. Handlers stay thin over these; the engine does the
//! sending.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use app::api::campaigns::{
    CampaignEventView, CampaignSummary, CampaignView, CostRow, FailureRow, Preflight,
    PreviewMessage, Progress, SenderLimitsView, TemplateChoice, WizardOptions,
};
use app::ports::{refuse_problems, ContactsPort, PortError};
use domain::access::{Caller, Permission};
use domain::campaign::draft::{schedule_problems, validate};
use domain::campaign::estimate::{duration, PriceTable};
use domain::campaign::lifecycle::{CampaignCommand, Facts};
use domain::campaign::pacing::pace_warning;
use domain::campaign::render::{body_text, slots};
use domain::campaign::window::{format_in_zone, local_to_utc_ms};
use domain::campaign::{eligibility, CampaignDraft, CampaignStatus, Schedule, SkipReason, Slot};
use domain::ids::{CampaignId, ConnectionId, TemplateId};
use domain::whatsapp::errors::classify;
use domain::whatsapp::graph::TemplateDefinition;
use domain::whatsapp::limits::MessagingLimit;
use uuid::Uuid;

use super::audience::{self, Judge};
use super::engine::{note, Engine};
use crate::clock::Clock;
use crate::contacts::ContactsService;
use crate::ports::{allow, invalid_field};
use crate::storage::campaigns::{CampaignRecord, CampaignStats, CampaignStore};
use crate::storage::connections::ConnectionStore;
use crate::storage::follow_ups::FollowUpStore;
use crate::storage::senders::SenderStore;
use crate::storage::templates::{TemplateKind, TemplateStore};
use crate::storage::{internal, StorageError, Store};

/// Contacts shown in a preview.
const PREVIEW_CONTACTS: usize = 5;

/// The campaign use cases.
#[derive(Clone)]
pub struct CampaignService {
    store: Store,
    campaigns: CampaignStore,
    templates: TemplateStore,
    connections: ConnectionStore,
    senders: SenderStore,
    contacts: ContactsService,
    engine: Engine,
    follow_ups: FollowUpStore,
    clock: Arc<dyn Clock>,
}

/// A schedule's start as Unix ms, refused on the `schedule` field when it does not parse.
fn start_of(local: &str, time_zone: &str) -> Result<i64, PortError> {
    local_to_utc_ms(local, time_zone)
        .map_err(|m| PortError::invalid("schedule", "campaign.schedule", m))
}

/// A campaign's history as its pages show it.
fn history_of(record: &CampaignRecord) -> Vec<CampaignEventView> {
    record
        .history
        .iter()
        .map(|e| CampaignEventView {
            at_ms: e.at_ms,
            what: e.what.clone(),
        })
        .collect()
}

fn limit_label(limit: MessagingLimit) -> String {
    match limit {
        MessagingLimit::Users(n) => format!("{n} new conversations per 24 h"),
        MessagingLimit::Unlimited => "unlimited".into(),
        MessagingLimit::NotSet => "not set (no business-initiated messages)".into(),
    }
}

fn tier_name(limit: MessagingLimit) -> String {
    match limit {
        MessagingLimit::Users(n) if n % 1000 == 0 => format!("TIER_{}K", n / 1000),
        MessagingLimit::Users(n) => format!("TIER_{n}"),
        MessagingLimit::Unlimited => "TIER_UNLIMITED".into(),
        MessagingLimit::NotSet => "TIER_NOT_SET".into(),
    }
}

impl CampaignService {
    /// The service over `store`, sending through `engine`.
    pub fn new(
        store: &Store,
        contacts: ContactsService,
        engine: Engine,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StorageError> {
        Ok(Self {
            store: store.clone(),
            campaigns: engine.campaigns().clone(),
            templates: TemplateStore::open(store)?,
            connections: ConnectionStore::open(store)?,
            senders: engine.senders().clone(),
            contacts,
            engine,
            follow_ups: FollowUpStore::open(store)?,
            clock,
        })
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    fn record(&self, id: CampaignId) -> Result<(Uuid, CampaignRecord), PortError> {
        let id = id.uuid();
        let record = self
            .campaigns
            .get(&id)
            .map_err(internal)?
            .ok_or_else(|| PortError::not_found(CampaignId::WHAT))?;
        Ok((id, record))
    }

    /// The approved template a draft names, with its slots.
    fn template_of(
        &self,
        draft: &CampaignDraft,
    ) -> Result<(TemplateDefinition, Vec<Slot>), PortError> {
        let gone = || {
            PortError::invalid(
                "template_id",
                "campaign.template_missing",
                "the chosen template no longer exists",
            )
        };
        let id: TemplateId = draft.template_id.parse().map_err(|_| gone())?;
        let template = self
            .templates
            .get(&id.uuid())
            .map_err(internal)?
            .ok_or_else(gone)?;
        if template.kind != TemplateKind::Approved {
            return Err(PortError::invalid(
                "template_id",
                "campaign.template_kind",
                "campaigns send approved templates; session replies only answer open conversations",
            ));
        }
        if template.connection_id.map(|c| c.to_string()) != Some(draft.connection_id.clone()) {
            return Err(PortError::invalid(
                "template_id",
                "campaign.template_connection",
                "the template belongs to another connection; choose one of the sender's templates",
            ));
        }
        let slots = slots(&template.definition);
        Ok((template.definition, slots))
    }

    fn status_detail(record: &CampaignRecord, zone: &str) -> Option<String> {
        match &record.status {
            CampaignStatus::Scheduled { at_ms } => {
                Some(format!("Starts {} ({zone})", format_in_zone(*at_ms, zone)))
            }
            CampaignStatus::Overdue { at_ms } => Some(format!(
                "Was due {} ({zone}) while Herald was not running: confirm or reschedule.",
                format_in_zone(*at_ms, zone)
            )),
            CampaignStatus::Paused { reason } => Some(reason.explain()),
            _ => None,
        }
    }

    fn summary(
        &self,
        id: &Uuid,
        record: &CampaignRecord,
        stats: &CampaignStats,
    ) -> CampaignSummary {
        let zone = match &record.draft.schedule {
            Schedule::At { time_zone, .. } => time_zone.clone(),
            Schedule::Now => "UTC".into(),
        };
        let template = record
            .template
            .as_ref()
            .map(|t| format!("{} ({})", t.name, t.language))
            .or_else(|| {
                let id = record.draft.template_id.parse().ok()?;
                let t = self.templates.get(&id).ok()??;
                Some(format!("{} ({})", t.definition.name, t.definition.language))
            })
            .unwrap_or_else(|| "—".into());
        let connection = record
            .draft
            .connection_id
            .parse()
            .ok()
            .and_then(|c| self.connections.get(&c).ok().flatten())
            .map_or_else(|| "—".into(), |c| c.name);
        CampaignSummary {
            id: id.to_string(),
            name: record.draft.name.clone(),
            status: record.status.name().into(),
            status_detail: Self::status_detail(record, &zone),
            commands: record.status.commands(stats.counts.unknown),
            template,
            connection,
            counts: stats.counts,
            created_at_ms: record.created_at_ms,
        }
    }

    fn progress_of(&self, id: &Uuid, record: &CampaignRecord) -> Result<Progress, PortError> {
        let stats = self.campaigns.stats(id).map_err(internal)?;
        let connection = record.draft.connection_id.parse().unwrap_or_default();
        let live = self.engine.live(id, &connection);
        let prices = self.campaigns.prices().map_err(internal)?;
        let mps = self
            .senders
            .get(&connection)
            .map_err(internal)?
            .messages_per_second;
        let pending = stats.counts.pending;
        let eta_secs = (record.status == CampaignStatus::Running && pending > 0).then(|| {
            let rate = if live.rate > 0.0 {
                live.rate
            } else {
                domain::campaign::pacing::paced_rate(mps)
            };
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss
            )]
            let secs = (pending as f64 / rate).ceil() as u64;
            // Held back (a deferral, the messaging limit): not done before the wait is over.
            let now = self.clock.now_ms();
            let waited = live.waiting.as_ref().map_or(0, |(_, until)| {
                u64::try_from((until - now).max(0) / 1000).unwrap_or(0)
            });
            secs.max(waited)
        });
        let summary = self.summary(id, record, &stats);
        let version = stats.timeline.iter().fold(0u64, |acc, (minute, b)| {
            acc.wrapping_mul(31)
                .wrapping_add(u64::try_from(*minute).unwrap_or(0))
                .wrapping_add(u64::from(
                    b.sent + b.delivered + b.read + b.replied + b.failed,
                ))
        });
        Ok(Progress {
            status: summary.status,
            status_detail: summary.status_detail,
            commands: summary.commands,
            counts: stats.counts,
            cost: stats.cost,
            currency: prices.currency,
            rate: live.rate,
            waiting: live.waiting,
            headroom: live.headroom,
            limit: live.limit.map(limit_label).unwrap_or_default(),
            slowed: live.slowed,
            eta_secs,
            failures: stats
                .failures
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(code, count)| FailureRow {
                    code: *code,
                    meaning: if *code == 0 {
                        "No error code given".into()
                    } else {
                        classify(*code).meaning.to_string()
                    },
                    count: *count,
                })
                .collect(),
            skipped: stats
                .skipped
                .iter()
                .map(|(k, n)| (skip_label(k), *n))
                .collect(),
            merged: stats.merged,
            history: history_of(record),
            version,
            follow_ups: record
                .draft
                .follow_ups
                .as_ref()
                .map(|plan| super::follow_up_report::tally(plan, &self.follow_ups, id))
                .transpose()
                .map_err(internal)?,
        })
    }

    /// Applies `command` to the stored campaign through the state machine, inside the record's
    /// update so that two clicks cannot both win; `also` makes the command's other changes to
    /// the record in the same update, and `what` is noted in the history.
    fn transition(
        &self,
        id: &Uuid,
        command: CampaignCommand,
        facts: &Facts,
        what: &str,
        also: impl Fn(&mut CampaignRecord),
    ) -> Result<CampaignStatus, PortError> {
        let now = facts.now_ms;
        let mut outcome = Err(PortError::not_found(CampaignId::WHAT));
        self.campaigns
            .update(id, |r| {
                outcome = r.status.apply(command, facts).map_err(PortError::from);
                let Ok(next) = &outcome else { return false };
                r.status = next.clone();
                r.updated_at_ms = now;
                also(r);
                note(r, now, what);
                true
            })
            .map_err(internal)?;
        outcome
    }
}

/// The draft's scheduled start, Unix ms (`None`: send now, or a schedule that does not parse —
/// the draft's own validation names that).
fn scheduled_start(schedule: &Schedule) -> Option<i64> {
    match schedule {
        Schedule::At { local, time_zone } => local_to_utc_ms(local, time_zone).ok(),
        Schedule::Now => None,
    }
}

/// Plain words for a skip reason key.
fn skip_label(key: &str) -> String {
    match key {
        "opted_out" => "Opted out of this category",
        "no_opt_in" => "No opt-in recorded for this category",
        "invalid_number" => "Invalid number, or no such contact",
        "duplicate" => "Duplicate (already in the audience)",
        "missing_variable" => "A variable has no value and no fallback",
        "us_marketing" => "Marketing to a US number (WhatsApp does not deliver it)",
        "already_messaged" => "Already messaged by the original campaign",
        "contact_deleted" => "Contact deleted before sending",
        "cancelled" => "Campaign cancelled before sending",
        other => other,
    }
    .to_string()
}

#[async_trait::async_trait]
impl app::ports::CampaignsPort for CampaignService {
    async fn campaigns(&self, caller: &Caller) -> Result<Vec<CampaignSummary>, PortError> {
        allow(caller, Permission::View)?;
        self.campaigns
            .list()
            .map_err(internal)?
            .into_iter()
            .map(|(id, record)| {
                let stats = self.campaigns.stats(&id).map_err(internal)?;
                Ok(self.summary(&id, &record, &stats))
            })
            .collect()
    }

    async fn campaign(&self, caller: &Caller, id: CampaignId) -> Result<CampaignView, PortError> {
        allow(caller, Permission::View)?;
        let (id, record) = self.record(id)?;
        let stats = self.campaigns.stats(&id).map_err(internal)?;
        let slots = if record.slots.is_empty() {
            self.template_of(&record.draft)
                .map(|(_, s)| s)
                .unwrap_or_default()
        } else {
            record.slots.clone()
        };
        Ok(CampaignView {
            id: id.to_string(),
            summary: self.summary(&id, &record, &stats),
            progress: self.progress_of(&id, &record)?,
            history: history_of(&record),
            excludes: record.exclude_campaign.map(|c| c.to_string()),
            draft: record.draft,
            slots,
        })
    }

    async fn progress(&self, caller: &Caller, id: CampaignId) -> Result<Progress, PortError> {
        allow(caller, Permission::View)?;
        let (id, record) = self.record(id)?;
        self.progress_of(&id, &record)
    }

    async fn options(&self, caller: &Caller) -> Result<WizardOptions, PortError> {
        allow(caller, Permission::View)?;
        let connections = self
            .connections
            .list()
            .map_err(internal)?
            .into_iter()
            .map(|c| (c.id.to_string(), c.name))
            .collect();
        let segments = self
            .contacts
            .segments(caller)
            .await?
            .into_iter()
            .map(|s| (s.id, s.definition.name))
            .collect();
        let imports = ContactsPort::imports(&self.contacts, caller)
            .await?
            .into_iter()
            .filter(|i| i.state == "done")
            .map(|i| {
                let label = format!("{} ({} rows)", i.file_name, i.read);
                (i.id, label)
            })
            .collect();
        let templates = self
            .templates
            .list()
            .map_err(internal)?
            .into_iter()
            .filter(|(_, t)| {
                t.kind == TemplateKind::Approved && t.status.as_deref() == Some("APPROVED")
            })
            .map(|(id, t)| TemplateChoice {
                id: id.to_string(),
                label: format!("{} ({})", t.definition.name, t.definition.language),
                category: t.definition.category.clone(),
                connection_id: t.connection_id.map(|c| c.to_string()),
                slots: slots(&t.definition),
                body: t
                    .definition
                    .components
                    .iter()
                    .find(|c| c.kind.eq_ignore_ascii_case("BODY"))
                    .and_then(|c| c.text.clone())
                    .unwrap_or_default(),
            })
            .collect();
        let mut attributes = BTreeSet::new();
        for contact in self.contacts.store().all().take(2_000) {
            attributes.extend(contact.map_err(internal)?.attributes.into_keys());
        }
        let saved_replies = self
            .templates
            .list()
            .map_err(internal)?
            .into_iter()
            .filter(|(_, t)| t.kind == TemplateKind::SessionReply && t.session_media.is_none())
            .map(|(id, t)| (id.to_string(), t.definition.name))
            .collect();
        Ok(WizardOptions {
            connections,
            segments,
            imports,
            templates,
            attributes: attributes.into_iter().collect(),
            saved_replies,
        })
    }

    async fn save(
        &self,
        caller: &Caller,
        id: Option<CampaignId>,
        draft: CampaignDraft,
    ) -> Result<CampaignId, PortError> {
        allow(caller, Permission::RunCampaigns)?;
        let slots = self.template_of(&draft).map(|(_, s)| s).unwrap_or_default();
        refuse_problems(validate(&draft, &slots))?;
        self.template_of(&draft)?;
        let now = self.clock.now_ms();
        // Refused before anything is written: a start that has passed leaves no stray draft.
        refuse_problems(schedule_problems(&draft.schedule, now))?;
        let id = match id {
            Some(existing) => {
                let (id, _) = self.record(existing)?;
                let mut editable = true;
                self.campaigns
                    .update(&id, |r| {
                        editable = r.status == CampaignStatus::Draft;
                        if editable {
                            r.draft = draft.clone();
                            r.slots = slots.clone();
                            r.updated_at_ms = now;
                        }
                        editable
                    })
                    .map_err(internal)?;
                if !editable {
                    return Err(PortError::conflict(
                        "only drafts can be changed; clone the campaign to send it again",
                    ));
                }
                id
            }
            None => {
                let id = Uuid::now_v7();
                let mut record = CampaignRecord {
                    draft,
                    status: CampaignStatus::Draft,
                    template: None,
                    slots,
                    exclude_campaign: None,
                    created_at_ms: now,
                    updated_at_ms: now,
                    started_at_ms: None,
                    history: Vec::new(),
                };
                note(&mut record, now, "Draft created.");
                self.campaigns.put(&id, &record).map_err(internal)?;
                id
            }
        };
        self.store.flush().await.map_err(internal)?;
        Ok(CampaignId(id))
    }

    async fn preview(
        &self,
        caller: &Caller,
        draft: CampaignDraft,
        query: String,
    ) -> Result<Vec<PreviewMessage>, PortError> {
        allow(caller, Permission::View)?;
        let (template, slots) = self.template_of(&draft)?;
        let render = |contact: &domain::contacts::Contact| PreviewMessage {
            phone: contact.phone.clone(),
            name: contact.display_name(),
            body: eligibility::admit(contact, &template.category, &slots, &draft.bindings)
                .map(|rendered| body_text(&template, &rendered))
                .map_err(|reason| format!("Excluded: {}", reason.explain())),
        };
        let query = query.trim();
        if !query.is_empty() {
            let page = self
                .contacts
                .page(caller, query.to_string(), None, None)
                .await?;
            let mut out = Vec::new();
            for item in page.rows.into_iter().take(PREVIEW_CONTACTS) {
                if let Some(contact) = self.contacts.store().get(&item.phone).map_err(internal)? {
                    out.push(render(&contact));
                }
            }
            return Ok(out);
        }
        let judge = Judge::new(&draft, &template, &slots, None);
        let mut out = Vec::new();
        audience::walk(&self.contacts, &self.campaigns, &judge, |candidate| {
            out.push(render(&candidate.contact));
            Ok(out.len() < PREVIEW_CONTACTS)
        })?;
        Ok(out)
    }

    async fn schedule_problems(
        &self,
        caller: &Caller,
        schedule: Schedule,
    ) -> Result<Vec<String>, PortError> {
        allow(caller, Permission::View)?;
        // The form of the schedule is checked in the browser already (`validate`); this answers
        // only what needs the zone's offsets.
        Ok(schedule_problems(&schedule, self.clock.now_ms())
            .into_iter()
            .filter(|p| p.rule == "campaign.schedule_past")
            .map(|p| p.message)
            .collect())
    }

    async fn preflight(
        &self,
        caller: &Caller,
        draft: CampaignDraft,
    ) -> Result<Preflight, PortError> {
        allow(caller, Permission::View)?;
        let (template, slots) = self.template_of(&draft)?;
        refuse_problems(validate(&draft, &slots))?;
        let connection: Uuid = draft
            .connection_id
            .parse::<ConnectionId>()
            .map_err(|_| {
                PortError::invalid("connection_id", "campaign.connection", "no such connection")
            })?
            .uuid();
        let prices = self.campaigns.prices().map_err(internal)?;
        let judge = Judge::new(&draft, &template, &slots, None);
        let mut recipients = 0u64;
        let mut excluded: BTreeMap<String, u64> = BTreeMap::new();
        let mut by_country: BTreeMap<String, u64> = BTreeMap::new();
        let tally = audience::walk(&self.contacts, &self.campaigns, &judge, |candidate| {
            match candidate.verdict {
                Ok(_) => {
                    recipients += 1;
                    let country = candidate
                        .contact
                        .country
                        .clone()
                        .unwrap_or_else(|| "?".into());
                    *by_country.entry(country).or_default() += 1;
                }
                Err(reason) => *excluded.entry(reason.key().to_string()).or_default() += 1,
            }
            Ok(true)
        })?;
        if tally.invalid > 0 {
            *excluded
                .entry(SkipReason::InvalidNumber.key().into())
                .or_default() += tally.invalid;
        }
        let cost: Vec<CostRow> = by_country
            .into_iter()
            .map(|(country, count)| {
                let unit = prices.price(
                    (country != "?").then_some(country.as_str()),
                    &template.category,
                );
                #[allow(clippy::cast_precision_loss)]
                let total = unit * count as f64;
                CostRow {
                    country,
                    category: template.category.clone(),
                    count,
                    unit,
                    total,
                }
            })
            .collect();
        let mut limits = self.senders.get(&connection).map_err(internal)?;
        if limits.checked_at_ms.is_none() {
            // Never read: a new connection's tier and throughput, not a guess, make the estimate.
            limits = self.engine.read_limits(&connection).await.unwrap_or(limits);
        }
        let limit = limits.effective_limit();
        let started = self.engine.conversations_started(&connection);
        Ok(Preflight {
            recipients,
            excluded: excluded
                .into_iter()
                .map(|(k, n)| (skip_label(&k), n))
                .collect(),
            merged: tally.duplicates,
            total_cost: cost.iter().map(|c| c.total).sum(),
            cost,
            currency: prices.currency,
            duration: duration(recipients, limits.messages_per_second, limit, started),
            messages_per_second: limits.messages_per_second,
            limit: limit_label(limit),
        })
    }

    async fn launch(&self, caller: &Caller, id: CampaignId) -> Result<(), PortError> {
        allow(caller, Permission::RunCampaigns)?;
        let (id, record) = self.record(id)?;
        record.status.permits(CampaignCommand::Launch, 0)?;
        let (template, slots) = self.template_of(&record.draft)?;
        refuse_problems(validate(&record.draft, &slots))?;
        if let Some(problem) =
            audience::missing_source(&self.contacts, &record.draft).map_err(internal)?
        {
            return Err(PortError::conflict(problem));
        }
        let now = self.clock.now_ms();
        let start_at_ms = match &record.draft.schedule {
            Schedule::Now => None,
            Schedule::At { local, time_zone } => Some(start_of(local, time_zone)?),
        };
        // Sent now, the audience is what it is now: a launch to nobody is refused. A scheduled
        // one is taken at its start (the segment may have grown by then).
        let (recipients, what) = match &record.draft.schedule {
            Schedule::Now => {
                let n = self
                    .preflight(caller, record.draft.clone())
                    .await?
                    .recipients;
                (Some(n), format!("Launched to {n} recipients."))
            }
            Schedule::At { local, time_zone } => {
                (None, format!("Scheduled for {local} ({time_zone})."))
            }
        };
        let facts = Facts {
            now_ms: now,
            start_at_ms,
            recipients,
            ..Facts::default()
        };
        self.transition(&id, CampaignCommand::Launch, &facts, &what, |r| {
            r.template = Some(template.clone());
            r.slots = slots.clone();
        })?;

        self.store.flush().await.map_err(internal)?;
        self.engine.wake();
        Ok(())
    }

    async fn act(
        &self,
        caller: &Caller,
        id: CampaignId,
        command: CampaignCommand,
    ) -> Result<String, PortError> {
        allow(caller, Permission::RunCampaigns)?;
        let (id, record) = self.record(id)?;
        let now = self.clock.now_ms();
        let unknown = self.campaigns.stats(&id).map_err(internal)?.counts.unknown;
        let facts = Facts {
            now_ms: now,
            start_at_ms: scheduled_start(&record.draft.schedule),
            prepared: record.started_at_ms.is_some(),
            unknown,
            recipients: None,
        };
        let message = match command {
            CampaignCommand::Pause => {
                self.transition(&id, command, &facts, "Paused by a user.", |_| {})?;
                self.engine.interrupt(&id);
                "Paused.".to_string()
            }
            CampaignCommand::Resume => {
                self.transition(&id, command, &facts, "Resumed.", |_| {})?;
                "Resumed.".to_string()
            }
            CampaignCommand::Cancel => {
                self.transition(&id, command, &facts, "Cancelled by a user.", |_| {})?;
                self.engine.interrupt(&id);
                // Sends of a batch still under way come back pending; the engine settles them
                // as cancelled when the batch ends.
                let skipped = self
                    .campaigns
                    .skip_pending(&id, SkipReason::Cancelled, now)
                    .map_err(internal)?;
                format!("Cancelled; {skipped} recipients will not be sent to.")
            }
            CampaignCommand::ConfirmStart => {
                self.transition(
                    &id,
                    command,
                    &facts,
                    "Start confirmed by a user after the missed time.",
                    |_| {},
                )?;
                "Starting now.".to_string()
            }
            CampaignCommand::ResendUnknown => {
                record.status.permits(command, unknown)?;
                // Queued before the campaign runs again, so it cannot complete in between.
                let requeued = self.campaigns.requeue_unknown(&id, now).map_err(internal)?;
                self.transition(
                    &id,
                    command,
                    &facts,
                    &format!("{requeued} recipients with unknown outcome queued again by a user."),
                    |_| {},
                )?;
                format!("{requeued} recipients will be sent again.")
            }
            other => {
                return Err(PortError::conflict(format!(
                    "“{}” is not done from here; use the campaign page",
                    other.label()
                )))
            }
        };
        self.store.flush().await.map_err(internal)?;
        self.engine.wake();
        Ok(message)
    }

    async fn reschedule(
        &self,
        caller: &Caller,
        id: CampaignId,
        schedule: Schedule,
    ) -> Result<(), PortError> {
        allow(caller, Permission::RunCampaigns)?;
        let (id, _) = self.record(id)?;
        let start_at_ms = match &schedule {
            Schedule::At { local, time_zone } => Some(start_of(local, time_zone)?),
            Schedule::Now => None,
        };
        let now = self.clock.now_ms();
        let facts = Facts {
            now_ms: now,
            start_at_ms,
            ..Facts::default()
        };
        let what = match &schedule {
            Schedule::At { local, time_zone } => format!("Rescheduled to {local} ({time_zone})."),
            Schedule::Now => String::new(),
        };
        self.transition(&id, CampaignCommand::Reschedule, &facts, &what, |r| {
            r.draft.schedule = schedule.clone();
        })?;
        self.store.flush().await.map_err(internal)
    }

    async fn clone_campaign(
        &self,
        caller: &Caller,
        id: CampaignId,
    ) -> Result<CampaignId, PortError> {
        allow(caller, Permission::RunCampaigns)?;
        let (source, record) = self.record(id)?;
        let now = self.clock.now_ms();
        let mut draft = record.draft.clone();
        draft.name = format!("{} (copy)", draft.name);
        draft.name = draft
            .name
            .chars()
            .take(domain::campaign::draft::NAME_MAX_CHARS)
            .collect();
        draft.schedule = Schedule::Now;
        let new_id = Uuid::now_v7();
        let mut copy = CampaignRecord {
            draft,
            status: CampaignStatus::Draft,
            template: None,
            slots: record.slots.clone(),
            exclude_campaign: (record.started_at_ms.is_some()).then_some(source),
            created_at_ms: now,
            updated_at_ms: now,
            started_at_ms: None,
            history: Vec::new(),
        };
        note(
            &mut copy,
            now,
            &format!(
                "Cloned from “{}”; skips whoever it already messaged.",
                record.draft.name
            ),
        );
        self.campaigns.put(&new_id, &copy).map_err(internal)?;
        self.store.flush().await.map_err(internal)?;
        Ok(CampaignId(new_id))
    }

    async fn delete(&self, caller: &Caller, id: CampaignId) -> Result<(), PortError> {
        allow(caller, Permission::RunCampaigns)?;
        let (id, record) = self.record(id)?;
        if record.status.is_active() || matches!(record.status, CampaignStatus::Paused { .. }) {
            return Err(PortError::conflict(
                "cancel the campaign before deleting it",
            ));
        }
        self.engine.interrupt(&id);
        self.campaigns.delete(&id).map_err(internal)?;
        self.store.flush().await.map_err(internal)
    }

    async fn limits(&self, caller: &Caller) -> Result<Vec<SenderLimitsView>, PortError> {
        allow(caller, Permission::View)?;
        self.connections
            .list()
            .map_err(internal)?
            .into_iter()
            .map(|c| {
                let l = self.senders.get(&c.id).map_err(internal)?;
                Ok(SenderLimitsView {
                    connection_id: c.id.to_string(),
                    name: c.name,
                    messages_per_second: l.messages_per_second,
                    number_mps: l.number_mps,
                    pace_warning: pace_warning(l.number_mps, l.pace_override),
                    meta_limit: l.messaging_limit.map(tier_name),
                    limit_override: l.limit_override.map(tier_name),
                    quality: l.quality,
                })
            })
            .collect()
    }

    async fn set_limits(
        &self,
        caller: &Caller,
        connection_id: ConnectionId,
        messages_per_second: u32,
        limit_override: String,
    ) -> Result<(), PortError> {
        allow(caller, Permission::Configure)?;
        let id = connection_id.uuid();
        self.connections
            .get(&id)
            .map_err(internal)?
            .ok_or_else(|| PortError::not_found(ConnectionId::WHAT))?;
        if !(1..=domain::campaign::pacing::MAX_MPS).contains(&messages_per_second) {
            return Err(PortError::invalid(
                "messages_per_second",
                "limits.messages_per_second",
                "messages per second must be between 1 and 1000 (Meta's highest throughput)",
            ));
        }
        let limit = match limit_override.trim() {
            "" => None,
            raw => Some(MessagingLimit::parse(raw).ok_or_else(|| PortError::invalid(
                "limit_override",
                "limits.tier",
                "write the messaging limit as Meta does: TIER_250, TIER_2K, TIER_10K, TIER_100K or TIER_UNLIMITED",
            ))?),
        };
        self.senders
            .update(&id, |l| {
                l.choose_pace(messages_per_second);
                l.limit_override = limit;
            })
            .map_err(internal)?;
        self.store.flush().await.map_err(internal)?;
        self.engine.wake();
        Ok(())
    }

    async fn prices(&self, caller: &Caller) -> Result<PriceTable, PortError> {
        allow(caller, Permission::View)?;
        self.campaigns.prices().map_err(internal)
    }

    async fn set_prices(&self, caller: &Caller, table: PriceTable) -> Result<(), PortError> {
        allow(caller, Permission::Configure)?;
        let problems = table.problems();
        if !problems.is_empty() {
            return Err(invalid_field("table", "prices.invalid", problems));
        }
        self.campaigns.set_prices(&table).map_err(internal)?;
        self.store.flush().await.map_err(internal)
    }
}
