//! The sandbox's own state, kept apart from Herald's: the templates its fake WABA holds (tree
//! `sandbox_templates`, id → [`SandboxTemplate`]) and when each simulated user last wrote
//! (tree `sandbox_windows`, `{phone-number id}:{wa_id}` → Unix ms). Templates persist so that a
//! review scheduled before a restart still happens after it. Its send log (`sandbox_sends`) has
//! a queue beside it (`sandbox_unplayed`, log id → accepted at, Unix ms) of the sends whose
//! status webhooks have not all gone out: the player takes them from there a bounded number at a
//! time, so a million accepted sends cost disk, not a million sleeping tasks.

use domain::whatsapp::graph::TemplateDetails;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Collection, StorageError, Store};

/// How old a queue entry without its log entry must be to count as a crash's leftover rather
/// than a send being logged right now.
pub const ORPHAN_AFTER_MS: i64 = 60_000;

/// A template in the sandbox's fake WABA.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SandboxTemplate {
    /// The sandbox connection that owns it.
    pub connection_id: Uuid,
    /// Its WABA id.
    pub waba_id: String,
    /// What `GET /{template-id}` answers.
    pub details: TemplateDetails,
    /// When the pending review completes, Unix ms; `None` once reviewed.
    pub review_due_ms: Option<i64>,
}

/// One request the sandbox's fake `/messages` endpoint received: its own log, the ground truth
/// tests compare Herald's reports against ("was this person messaged, and how often?").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxSend {
    /// The sandbox connection.
    pub connection_id: Uuid,
    /// The recipient's digits.
    pub wa_id: String,
    /// Received, Unix ms.
    pub at_ms: i64,
    /// The template's name, for template messages.
    pub template: Option<String>,
    /// What Herald attached.
    pub callback_data: Option<String>,
    /// The wamid given, when accepted.
    pub wamid: Option<String>,
    /// Meta's error code, when refused.
    pub refused: Option<i64>,
    /// Pricing category and type reported in status webhooks.
    pub pricing: Option<(String, String)>,
    /// Whether its status webhooks have all been posted (replayed after a restart otherwise, as
    /// Meta keeps reporting however often Herald restarts).
    pub played: bool,
}

/// Typed access to the sandbox trees.
#[derive(Clone)]
pub struct SandboxStore {
    templates: Collection<String, SandboxTemplate>,
    windows: Collection<String, i64>,
    sends: Collection<Uuid, SandboxSend>,
    unplayed: Collection<Uuid, i64>,
}

impl SandboxStore {
    /// Opens the trees.
    pub fn open(store: &Store) -> Result<Self, StorageError> {
        Ok(Self {
            templates: store.collection("sandbox_templates")?,
            windows: store.collection("sandbox_windows")?,
            sends: store.collection("sandbox_sends")?,
            unplayed: store.collection("sandbox_unplayed")?,
        })
    }

    /// Logs a received send — an accepted one queued for its status webhooks — and returns its
    /// log id (time-ordered: the queue plays oldest first). Two plain writes, not a transaction
    /// (this is the fake Meta's hot path): the queue entry goes first, so a logged send is always
    /// queued; [`SandboxStore::unplayed`] tells one being logged from a crash's leftover.
    pub fn log_send(&self, send: &SandboxSend) -> Result<Uuid, StorageError> {
        let id = Uuid::now_v7();
        if send.wamid.is_some() && !send.played {
            self.unplayed.insert(&id, &send.at_ms)?;
        }
        self.sends.insert(&id, send)?;
        Ok(id)
    }

    /// Marks a logged send's webhooks as posted, then takes it off the queue (a crash between
    /// the two plays its webhooks once more, which Meta does too and Herald takes in its stride).
    pub fn played(&self, id: &Uuid) -> Result<(), StorageError> {
        self.sends
            .update(id, |send| send.map(|s| SandboxSend { played: true, ..s }))?;
        self.unplayed.remove(id)?;
        Ok(())
    }

    /// Sends whose status webhooks are still to play (a full count: for benchmarks and tests).
    pub fn unplayed_count(&self) -> usize {
        self.unplayed.len()
    }

    /// Up to `limit` queued sends after `after` (from the start when `None`) that `skip` does
    /// not name, oldest first. A queue entry is written just before its log entry, so one whose
    /// log entry is missing is usually a send being logged this instant: it is left for the next
    /// look. Only one older than [`ORPHAN_AFTER_MS`] at `now_ms` — its send was cut off by a
    /// crash between the two writes and never answered — is dropped.
    pub fn unplayed(
        &self,
        after: Option<Uuid>,
        limit: usize,
        now_ms: i64,
        skip: impl Fn(&Uuid) -> bool,
    ) -> Result<Vec<(Uuid, SandboxSend)>, StorageError> {
        let entries: Box<dyn Iterator<Item = Result<(Uuid, i64), StorageError>>> = match after {
            Some(after) => Box::new(self.unplayed.range_from(&after)),
            None => Box::new(self.unplayed.iter()),
        };
        let mut queued = Vec::new();
        for entry in entries {
            if queued.len() >= limit {
                break;
            }
            let (id, at_ms) = entry?;
            if Some(id) != after && !skip(&id) {
                queued.push((id, at_ms));
            }
        }
        let mut out = Vec::with_capacity(queued.len());
        for (id, at_ms) in queued {
            match self.sends.get(&id)? {
                Some(send) => out.push((id, send)),
                None if now_ms - at_ms > ORPHAN_AFTER_MS => {
                    self.unplayed.remove(&id)?;
                }
                None => {}
            }
        }
        Ok(out)
    }

    /// The whole send log, oldest first.
    pub fn sends(&self) -> impl Iterator<Item = Result<(Uuid, SandboxSend), StorageError>> + '_ {
        self.sends.iter()
    }

    /// Creates or replaces a template.
    pub fn save_template(&self, template: &SandboxTemplate) -> Result<(), StorageError> {
        self.templates.insert(&template.details.id, template)
    }

    /// A template by id.
    pub fn template(&self, id: &str) -> Result<Option<SandboxTemplate>, StorageError> {
        self.templates.get(&id.to_string())
    }

    /// Removes a template.
    pub fn delete_template(&self, id: &str) -> Result<bool, StorageError> {
        self.templates.remove(&id.to_string())
    }

    /// Every template of a WABA, in id order.
    pub fn templates_of(&self, waba_id: &str) -> Result<Vec<SandboxTemplate>, StorageError> {
        self.templates
            .iter()
            .filter(|entry| !matches!(entry, Ok((_, t)) if t.waba_id != waba_id))
            .map(|entry| entry.map(|(_, t)| t))
            .collect()
    }

    /// Templates whose review is due at `now_ms`.
    pub fn due_for_review(&self, now_ms: i64) -> Result<Vec<SandboxTemplate>, StorageError> {
        self.templates
            .iter()
            .filter(|entry| {
                !matches!(entry, Ok((_, t)) if t.review_due_ms.is_none_or(|due| due > now_ms))
            })
            .map(|entry| entry.map(|(_, t)| t))
            .collect()
    }

    /// Records that `wa_id` wrote to `phone_number_id` at `at_ms`.
    pub fn user_wrote(
        &self,
        phone_number_id: &str,
        wa_id: &str,
        at_ms: i64,
    ) -> Result<(), StorageError> {
        self.windows
            .insert(&format!("{phone_number_id}:{wa_id}"), &at_ms)
    }

    /// When `wa_id` last wrote to `phone_number_id`.
    pub fn last_inbound(
        &self,
        phone_number_id: &str,
        wa_id: &str,
    ) -> Result<Option<i64>, StorageError> {
        self.windows.get(&format!("{phone_number_id}:{wa_id}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(id: &str, waba: &str, due: Option<i64>) -> SandboxTemplate {
        SandboxTemplate {
            connection_id: Uuid::nil(),
            waba_id: waba.into(),
            details: serde_json::from_value(serde_json::json!({"id": id, "status": "PENDING"}))
                .unwrap(),
            review_due_ms: due,
        }
    }

    #[test]
    fn templates_are_listed_per_waba_and_reviews_come_due() {
        let dir = tempfile::tempdir().unwrap();
        let store = SandboxStore::open(&Store::open(dir.path()).unwrap()).unwrap();
        store
            .save_template(&template("1", "w1", Some(100)))
            .unwrap();
        store.save_template(&template("2", "w2", None)).unwrap();
        store
            .save_template(&template("3", "w1", Some(300)))
            .unwrap();
        let ids =
            |ts: Vec<SandboxTemplate>| ts.into_iter().map(|t| t.details.id).collect::<Vec<_>>();
        assert_eq!(ids(store.templates_of("w1").unwrap()), ["1", "3"]);
        assert_eq!(ids(store.due_for_review(200).unwrap()), ["1"]);
        store.user_wrote("p", "u", 5).unwrap();
        assert_eq!(store.last_inbound("p", "u").unwrap(), Some(5));
        assert_eq!(store.last_inbound("p", "v").unwrap(), None);
    }

    fn send(wa_id: &str, accepted: bool) -> SandboxSend {
        SandboxSend {
            connection_id: Uuid::nil(),
            wa_id: wa_id.into(),
            at_ms: 1,
            template: None,
            callback_data: None,
            wamid: accepted.then(|| format!("wamid.{wa_id}")),
            refused: (!accepted).then_some(130_429),
            pricing: None,
            played: false,
        }
    }

    #[test]
    fn accepted_sends_wait_in_the_status_queue_until_played() {
        let dir = tempfile::tempdir().unwrap();
        let store = SandboxStore::open(&Store::open(dir.path()).unwrap()).unwrap();
        let first = store.log_send(&send("1", true)).unwrap();
        store.log_send(&send("2", false)).unwrap();
        let third = store.log_send(&send("3", true)).unwrap();
        store.log_send(&send("4", true)).unwrap();
        let queued = |after, limit, skip: &[Uuid]| {
            store
                .unplayed(after, limit, 0, |id| skip.contains(id))
                .unwrap()
                .into_iter()
                .map(|(_, s)| s.wa_id)
                .collect::<Vec<_>>()
        };
        // A refused send has nothing to play; the queue is oldest first and honours its limit.
        assert_eq!(queued(None, 10, &[]), ["1", "3", "4"]);
        assert_eq!(queued(None, 2, &[]), ["1", "3"]);
        // After a cursor, and past sends already playing.
        assert_eq!(queued(Some(first), 10, &[]), ["3", "4"]);
        assert_eq!(queued(None, 2, &[first, third]), ["4"]);
        store.played(&third).unwrap();
        assert_eq!(queued(None, 10, &[]), ["1", "4"]);
        let log: Vec<_> = store.sends().map(|e| e.unwrap().1).collect();
        assert!(log[2].played, "the log says it was played");
        assert!(!log[3].played);
    }

    #[test]
    fn a_send_being_logged_is_never_dropped_from_the_queue_only_a_crash_s_leftover_is() {
        let dir = tempfile::tempdir().unwrap();
        let store = SandboxStore::open(&Store::open(dir.path()).unwrap()).unwrap();
        // The queue entry of a send whose log entry is being written this instant (the player
        // runs beside the request handler)...
        let id = Uuid::now_v7();
        let at_ms = 1_000_000;
        store.unplayed.insert(&id, &at_ms).unwrap();
        assert!(store
            .unplayed(None, 10, at_ms + 5, |_| false)
            .unwrap()
            .is_empty());
        // ...is still queued once the log entry lands, and is played.
        store.sends.insert(&id, &send("5", true)).unwrap();
        let queued = store.unplayed(None, 10, at_ms + 10, |_| false).unwrap();
        assert_eq!(queued.len(), 1, "the send was not lost from the queue");
        // A queue entry a crash left without its log entry goes once it is clearly old.
        let orphan = Uuid::now_v7();
        store.unplayed.insert(&orphan, &at_ms).unwrap();
        store
            .unplayed(None, 10, at_ms + ORPHAN_AFTER_MS + 1, |_| false)
            .unwrap();
        assert_eq!(store.unplayed_count(), 1, "only the orphan was dropped");
    }
}
