//! Plays accepted sends' status webhooks from the queue beside the send log
//! (`storage::sandbox`), at most [`PLAYING_AT_ONCE`] at a time. Meta keeps reporting however many
//! messages are in flight and however often Herald restarts; a task per accepted message would
//! make the sandbox's memory grow with a campaign's size (a million sends, a million sleeping
//! tasks), so the backlog waits on disk instead and is taken oldest first as plays finish. After
//! a restart the same queue replays whatever the last run did not finish.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::graph_api::{self, Plan};
use super::{fate, Sandbox};
use crate::storage::sandbox::SandboxSend;
use crate::storage::{StorageError, Store};

/// Sends whose status webhooks are played at once; the rest wait in the queue.
pub const PLAYING_AT_ONCE: usize = 2_048;

/// How often the whole queue is looked through again: a send logged with an earlier id than
/// one already taken (two requests committing out of order) is found by the next look.
const RESCAN: Duration = Duration::from_secs(1);

/// Fills coalesce: the queue is read at most this often however many sends arrive.
const FILL_GAP: Duration = Duration::from_millis(20);

impl Sandbox {
    /// Plays queued status webhooks until `stop`.
    pub async fn run_player(self, stop: CancellationToken) {
        let slots = Arc::new(Semaphore::new(PLAYING_AT_ONCE));
        let playing: Arc<Mutex<HashSet<Uuid>>> = Arc::default();
        let mut cursor: Option<Uuid> = None;
        let mut rescanned = tokio::time::Instant::now();
        loop {
            if rescanned.elapsed() >= RESCAN {
                cursor = None;
                rescanned = tokio::time::Instant::now();
            }
            match self.fill(&slots, &playing, cursor).await {
                Ok(Some(last)) => cursor = Some(last),
                Ok(None) => {}
                Err(error) => tracing::error!(%error, "sandbox cannot read its status queue"),
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = self.inner.player_wake.notified() => {}
                () = tokio::time::sleep(RESCAN) => {}
            }
            tokio::time::sleep(FILL_GAP).await;
        }
    }

    /// Starts plays for as many queued sends after `cursor` as there are free slots; returns
    /// the last one taken.
    async fn fill(
        &self,
        slots: &Arc<Semaphore>,
        playing: &Arc<Mutex<HashSet<Uuid>>>,
        cursor: Option<Uuid>,
    ) -> Result<Option<Uuid>, StorageError> {
        let free = slots.available_permits();
        if free == 0 {
            return Ok(cursor);
        }
        let queued = {
            let (store, playing) = (self.inner.store.clone(), playing.clone());
            let now_ms = self.inner.clock.now_ms();
            Store::offload(move || {
                store.unplayed(cursor, free, now_ms, |id| {
                    playing
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .contains(id)
                })
            })
            .await?
        };
        let mut last = cursor;
        for (id, send) in queued {
            let Ok(permit) = slots.clone().try_acquire_owned() else {
                break;
            };
            last = Some(id);
            let Some(plan) = self.plan_of(&send)? else {
                // Its connection is gone: nobody to report to.
                self.inner.store.played(&id)?;
                continue;
            };
            let now = self.inner.clock.now_ms();
            let first_wait = (send.at_ms + duration_ms(plan.step) - now).max(0);
            playing.lock().unwrap_or_else(|e| e.into_inner()).insert(id);
            let (sandbox, playing) = (self.clone(), playing.clone());
            self.spawn(async move {
                let wait = Duration::from_millis(u64::try_from(first_wait).unwrap_or(0));
                graph_api::play(sandbox.clone(), plan, wait, Some(id)).await;
                playing
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&id);
                drop(permit);
                sandbox.inner.player_wake.notify_one();
            });
        }
        Ok(last)
    }

    /// What to play for a logged send, from its log entry and its connection as it is now.
    fn plan_of(&self, send: &SandboxSend) -> Result<Option<Plan>, StorageError> {
        let (Some(wamid), Some(connection)) = (
            send.wamid.clone(),
            self.inner.connections.get(&send.connection_id)?,
        ) else {
            return Ok(None);
        };
        let Some(sender) = Self::sender(&connection) else {
            return Ok(None);
        };
        let profile = Self::profile(&connection);
        let (category, pricing_type) = send.pricing.clone().unwrap_or_default();
        Ok(Some(Plan {
            sender,
            wamid,
            wa_id: send.wa_id.clone(),
            callback_data: send.callback_data.clone(),
            fate: fate::fate(&profile, &send.wa_id, category == "marketing"),
            category,
            pricing_type: if pricing_type == "regular" {
                "regular"
            } else {
                "free_customer_service"
            },
            step: Duration::from_millis(profile.status_delay_ms),
        }))
    }
}

fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
