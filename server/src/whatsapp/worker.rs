//! Processes the webhook inbox: parses each stored body with `domain::whatsapp::webhook::parse`,
//! keeps the events addressed to the connection the body arrived on, and hands them to
//! [`super::fanout`], which applies them idempotently (so Meta's retries, duplicates and out-of-order statuses
//! are harmless). A body that cannot be fully read is marked failed with its problems — the events
//! it did yield are still applied — and stays available for re-processing.

use std::sync::Arc;
use std::time::Duration;

use domain::whatsapp::webhook::{self, WebhookEvent};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::fanout::Fanout;
use super::intake::Webhooks;
use crate::clock::Clock;
use crate::messaging::threads::Threads;
use crate::storage::connections::Connection;
use crate::storage::inbox::InboxState;
use crate::storage::{StorageError, Store};

/// How many inbox entries one pass takes.
const BATCH: usize = 256;
/// Fallback poll interval when no receipt wakes the worker.
const POLL: Duration = Duration::from_secs(5);

/// The worker: the inbox it drains and the handlers it hands events to.
#[derive(Clone)]
pub struct WebhookWorker {
    webhooks: Webhooks,
    fanout: Fanout,
    threads: Threads,
    store: Store,
    clock: Arc<dyn Clock>,
}

/// Outcome counts of [`WebhookWorker::process_pending`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Processed {
    /// Bodies fully applied.
    pub processed: usize,
    /// Bodies marked failed.
    pub failed: usize,
}

impl WebhookWorker {
    /// A worker over `store`.
    pub fn new(
        store: &Store,
        webhooks: Webhooks,
        threads: Threads,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StorageError> {
        Ok(Self {
            fanout: Fanout::new(
                store,
                webhooks.connections.clone(),
                threads.clone(),
                clock.clone(),
                Vec::new(),
            )?,
            threads,
            webhooks,
            store: store.clone(),
            clock,
        })
    }

    /// Also treats `words` (from the configuration) as opt-out words.
    pub fn with_stop_words(mut self, words: Vec<String>) -> Result<Self, StorageError> {
        self.fanout = Fanout::new(
            &self.store,
            self.webhooks.connections.clone(),
            self.threads.clone(),
            self.clock.clone(),
            words,
        )?;
        Ok(self)
    }

    /// Adds an inbound-message subscriber after the built-in ones (automations).
    pub fn subscribe(&mut self, subscriber: Arc<dyn super::fanout::InboundSubscriber>) {
        self.fanout.subscribe(subscriber);
    }

    /// Runs until `stop`: processes on every receipt, and every few seconds in case one was missed.
    pub async fn run(self, stop: CancellationToken) {
        loop {
            // Storage work is synchronous: run it off the async threads so HTTP handling (and
            // campaign pacing) never waits behind a batch of webhooks.
            let worker = self.clone();
            let result = tokio::task::spawn_blocking(move || worker.process_pending())
                .await
                .unwrap_or_else(|e| Err(StorageError::Background(e.to_string())));
            match result {
                Ok(p) if p.processed + p.failed > 0 => tracing::debug!(?p, "webhooks processed"),
                Ok(_) => {}
                Err(error) => tracing::error!(%error, "webhook processing failed; will retry"),
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = self.webhooks.wake.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// Processes everything pending now; tests call it to drain the inbox deterministically.
    /// A body whose events cannot be applied (a record that fails to read, say) is parked as
    /// failed with the error — visible in the webhook log and re-processable — so it never holds
    /// up the bodies behind it. Only a failure to park it stops the pass.
    pub fn process_pending(&self) -> Result<Processed, StorageError> {
        let mut outcome = Processed::default();
        loop {
            let ids = self.webhooks.inbox.pending(BATCH)?;
            if ids.is_empty() {
                return Ok(outcome);
            }
            for id in ids {
                match self.process(&id) {
                    Ok(true) => outcome.processed += 1,
                    Ok(false) => outcome.failed += 1,
                    Err(error) => {
                        tracing::error!(%error, inbox_id = %id, "a webhook could not be applied; parked as failed");
                        self.webhooks.inbox.finish(
                            &id,
                            InboxState::Failed {
                                at_ms: self.clock.now_ms(),
                                error: format!("could not be applied: {error}"),
                            },
                        )?;
                        outcome.failed += 1;
                    }
                }
            }
        }
    }

    /// Applies one body; returns whether it was read completely.
    fn process(&self, id: &Uuid) -> Result<bool, StorageError> {
        let inbox = &self.webhooks.inbox;
        let (Some(entry), Some(body)) = (inbox.entry(id)?, inbox.body(id)?) else {
            inbox.finish(
                id,
                InboxState::Failed {
                    at_ms: self.clock.now_ms(),
                    error: "body missing".into(),
                },
            )?;
            return Ok(false);
        };
        let now = self.clock.now_ms();
        let parsed = match webhook::parse(&body) {
            Ok(parsed) => parsed,
            Err(error) => {
                tracing::warn!(%error, inbox_id = %id, "webhook body is not a WhatsApp payload");
                inbox.finish(
                    id,
                    InboxState::Failed {
                        at_ms: now,
                        error: error.to_string(),
                    },
                )?;
                return Ok(false);
            }
        };
        let connection = self.webhooks.connections.get(&entry.connection_id)?;
        let mut ignored = 0usize;
        for event in &parsed.events {
            let verdict = connection
                .as_ref()
                .map_or(Err("its connection no longer exists"), |c| {
                    addressed_to(c, event)
                });
            match verdict {
                Ok(()) => self.fanout.apply(entry.connection_id, &event.kind)?,
                Err(reason) => {
                    ignored += 1;
                    tracing::warn!(inbox_id = %id, connection = %entry.connection_id, reason, "ignored a webhook event addressed to another account");
                }
            }
        }
        let mut problems = parsed.problems;
        if ignored > 0 {
            problems.push(format!(
                "{ignored} event(s) ignored: they name a WhatsApp account or number other than this connection's"
            ));
        }
        let state = if problems.is_empty() {
            InboxState::Processed {
                at_ms: now,
                events: u32::try_from(parsed.events.len()).unwrap_or(u32::MAX),
            }
        } else {
            tracing::warn!(inbox_id = %id, problems = problems.len(), "webhook partly unreadable");
            InboxState::Failed {
                at_ms: now,
                error: problems.join("\n"),
            }
        };
        let complete = matches!(state, InboxState::Processed { .. });
        inbox.finish(id, state)?;
        Ok(complete)
    }
}

/// Whether `event` concerns `connection`'s own WhatsApp Business Account and number; if not, why.
/// A payload signed with one connection's secret must never change another's messages,
/// templates or limits. What a connection does not know yet (no WABA id stored) is not held
/// against the event.
fn addressed_to(connection: &Connection, event: &WebhookEvent) -> Result<(), &'static str> {
    if connection
        .waba_id
        .as_deref()
        .is_some_and(|waba| waba != event.waba_id)
    {
        return Err("its WhatsApp Business Account id is not this connection's");
    }
    let number_differs = match (&connection.phone_number_id, &event.phone_number_id) {
        (Some(ours), Some(theirs)) => ours != theirs,
        _ => false,
    };
    if number_differs {
        return Err("its phone number id is not this connection's");
    }
    Ok(())
}
