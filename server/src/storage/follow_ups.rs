//! Campaign follow-ups in progress, one run per recipient (tree `follow_up_runs`, (campaign,
//! E.164) → [`FollowUpRun`]) and what is due when (tree `follow_up_due`, (due ms, run key) →
//! `()`): the end of a wait for a reply, or an action to take. Every change of a run and its due
//! entry is one transaction, so the runner never misses a timer nor sees one twice; a run only
//! moves forward (waiting → a branch or no reply → its action done), so a webhook delivered
//! twice, late, or replayed after a restart changes nothing the second time.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{transact, Collection, StorageError, Store, TxError};

/// A run's key: the campaign and the recipient's number as the campaign stores it.
pub type RunKey = (Uuid, String);

/// Where the action of a run stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ActionState {
    /// To do (it is in the due index).
    Due,
    /// Its message was durably marked just before its request: it may have reached WhatsApp,
    /// so it is never sent again by itself.
    Sending,
    /// Done; `message` is the ledger entry of what was sent, if anything was.
    Done {
        /// The ledger entry.
        message: Option<Uuid>,
    },
    /// Could not be done, for this reason.
    Failed {
        /// In plain words.
        reason: String,
    },
}

/// Where a recipient's follow-up stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum RunStage {
    /// The template went out; waiting for a reply until then.
    Waiting {
        /// When the no-reply branch fires (Unix ms).
        until_ms: i64,
    },
    /// A reply took branch `branch`.
    Branched {
        /// The branch's place, from 0.
        branch: usize,
        /// The reply that chose it.
        wamid: String,
        /// Its action.
        action: ActionState,
    },
    /// The wait ended without a reply that took a branch.
    NoReply {
        /// Its action.
        action: ActionState,
    },
}

/// One recipient's follow-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUpRun {
    /// The connection the campaign sends from.
    pub connection_id: Uuid,
    /// The customer's WhatsApp id.
    pub wa_id: String,
    /// Where it stands.
    pub stage: RunStage,
    /// The first reply no branch took, if any ("replied something else" in the report).
    #[serde(default)]
    pub other_reply: Option<String>,
    /// Last change (Unix ms).
    pub updated_at_ms: i64,
}

/// Typed access to the follow-up trees.
#[derive(Clone)]
pub struct FollowUpStore {
    runs: Collection<RunKey, FollowUpRun>,
    due: Collection<(u64, RunKey), ()>,
}

fn due_key(at_ms: i64, key: &RunKey) -> (u64, RunKey) {
    (u64::try_from(at_ms).unwrap_or(0), key.clone())
}

impl FollowUpStore {
    /// Opens the trees.
    pub fn open(store: &Store) -> Result<Self, StorageError> {
        Ok(Self {
            runs: store.collection("follow_up_runs")?,
            due: store.collection("follow_up_due")?,
        })
    }

    /// Starts waiting for `key`'s reply until `until_ms`; a run that exists already is left
    /// alone (a repeated settle after a crash). Returns whether it started.
    pub fn start(
        &self,
        key: &RunKey,
        connection_id: Uuid,
        wa_id: &str,
        until_ms: i64,
        now_ms: i64,
    ) -> Result<bool, StorageError> {
        transact(&self.runs, &self.due, |runs, due| {
            if runs.get(key)?.is_some() {
                return Ok(false);
            }
            runs.insert(
                key,
                &FollowUpRun {
                    connection_id,
                    wa_id: wa_id.to_string(),
                    stage: RunStage::Waiting { until_ms },
                    other_reply: None,
                    updated_at_ms: now_ms,
                },
            )?;
            due.insert(&due_key(until_ms, key), &())?;
            Ok::<_, TxError<StorageError>>(true)
        })
    }

    /// A run.
    pub fn get(&self, key: &RunKey) -> Result<Option<FollowUpRun>, StorageError> {
        self.runs.get(key)
    }

    /// A waiting run's reply `wamid` took `branch` (`None`: no branch took it), at `now_ms`,
    /// before the wait ended. The branch's action becomes due at once. Returns whether the
    /// run moved (a repeated or late reply does not move it).
    pub fn replied(
        &self,
        key: &RunKey,
        wamid: &str,
        branch: Option<usize>,
        now_ms: i64,
    ) -> Result<bool, StorageError> {
        transact(&self.runs, &self.due, |runs, due| {
            let Some(mut run) = runs.get(key)? else {
                return Ok(false);
            };
            let RunStage::Waiting { until_ms } = run.stage else {
                return Ok(false);
            };
            if now_ms > until_ms {
                return Ok(false);
            }
            match branch {
                None if run.other_reply.is_some() => return Ok(false),
                None => run.other_reply = Some(wamid.to_string()),
                Some(branch) => {
                    due.remove(&due_key(until_ms, key))?;
                    due.insert(&due_key(now_ms, key), &())?;
                    run.stage = RunStage::Branched {
                        branch,
                        wamid: wamid.to_string(),
                        action: ActionState::Due,
                    };
                }
            }
            run.updated_at_ms = now_ms;
            runs.insert(key, &run)?;
            Ok::<_, TxError<StorageError>>(true)
        })
    }

    /// Up to `limit` runs due at `now_ms`, oldest first, with when each was due.
    pub fn due(&self, now_ms: i64, limit: usize) -> Result<Vec<(i64, RunKey)>, StorageError> {
        let mut found = Vec::new();
        for entry in self.due.iter() {
            let ((at, key), ()) = entry?;
            let at = i64::try_from(at).unwrap_or(i64::MAX);
            if at > now_ms || found.len() == limit {
                break;
            }
            found.push((at, key));
        }
        Ok(found)
    }

    /// When the next run is due (`None`: nothing is).
    pub fn next_due_ms(&self) -> Result<Option<i64>, StorageError> {
        Ok(self
            .due
            .iter()
            .next()
            .transpose()?
            .map(|((at, _), ())| i64::try_from(at).unwrap_or(i64::MAX)))
    }

    /// Moves the run due at `due_ms` on with `f`, which sees it and returns its next stage
    /// (`None`: it is not for this runner any more); the due entry goes in the same
    /// transaction. Returns the stage written.
    pub fn advance(
        &self,
        key: &RunKey,
        due_ms: i64,
        now_ms: i64,
        f: impl Fn(&FollowUpRun) -> Option<RunStage>,
    ) -> Result<Option<RunStage>, StorageError> {
        transact(&self.runs, &self.due, |runs, due| {
            due.remove(&due_key(due_ms, key))?;
            let Some(mut run) = runs.get(key)? else {
                return Ok(None);
            };
            let Some(next) = f(&run) else {
                return Ok(None);
            };
            run.stage = next.clone();
            run.updated_at_ms = now_ms;
            runs.insert(key, &run)?;
            Ok::<_, TxError<StorageError>>(Some(next))
        })
    }

    /// Sets the action of a branched or no-reply run to `action` (its outcome).
    pub fn settle_action(
        &self,
        key: &RunKey,
        action: ActionState,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        self.runs.update(key, |run| {
            let mut run = run?;
            match &mut run.stage {
                RunStage::Branched { action: a, .. } | RunStage::NoReply { action: a } => {
                    *a = action.clone();
                }
                RunStage::Waiting { .. } => {}
            }
            run.updated_at_ms = now_ms;
            Some(run)
        })?;
        Ok(())
    }

    /// Every run of `campaign`, for its report.
    pub fn of_campaign(
        &self,
        campaign: &Uuid,
    ) -> impl Iterator<Item = Result<(RunKey, FollowUpRun), StorageError>> + '_ {
        self.runs.scan_prefix(campaign.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_moves_a_waiting_run_once_and_a_late_or_repeated_one_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let runs = FollowUpStore::open(&Store::open(dir.path()).unwrap()).unwrap();
        let key: RunKey = (Uuid::from_u128(1), "+905321".into());
        let connection = Uuid::from_u128(9);
        assert!(runs.start(&key, connection, "905321", 10_000, 0).unwrap());
        assert!(
            !runs.start(&key, connection, "905321", 99_000, 0).unwrap(),
            "once"
        );
        assert_eq!(
            runs.due(9_999, 10).unwrap(),
            [],
            "not due before the wait ends"
        );
        assert!(
            runs.replied(&key, "w1", None, 100).unwrap(),
            "something else"
        );
        assert!(
            !runs.replied(&key, "w2", None, 200).unwrap(),
            "counted once"
        );
        assert!(runs.replied(&key, "w3", Some(1), 300).unwrap());
        assert!(!runs.replied(&key, "w3", Some(1), 300).unwrap(), "a replay");
        assert!(
            !runs.replied(&key, "w4", Some(0), 400).unwrap(),
            "the first branch stays"
        );
        assert_eq!(
            runs.due(i64::MAX, 10).unwrap(),
            [(300, key.clone())],
            "the action, not the timer"
        );
        let run = runs.get(&key).unwrap().unwrap();
        assert_eq!(run.other_reply.as_deref(), Some("w1"));
        assert!(matches!(
            run.stage,
            RunStage::Branched {
                branch: 1,
                action: ActionState::Due,
                ..
            }
        ));

        let late: RunKey = (Uuid::from_u128(1), "+905322".into());
        runs.start(&late, connection, "905322", 10_000, 0).unwrap();
        assert!(
            !runs.replied(&late, "w5", Some(0), 10_001).unwrap(),
            "after the wait"
        );
    }
}
