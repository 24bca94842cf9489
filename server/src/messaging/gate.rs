//! One gate per sender number, shared by every campaign sending from it: the number's pace, a
//! cool-down after Meta says "too fast" (130429) or "maintenance" (131057), and the moving
//! 24-hour count of new business-initiated conversations that the messaging-limit tier caps.
//!
//! Pacing has two layers. A slot schedule hands out send times exactly `1 / rate` apart on an
//! absolute timeline (the throughput spread over a second plus an arrival-jitter allowance), one
//! waiter at a time, so a timer that wakes a little late does not push every later send back (a
//! plain rate limiter with no burst loses that lateness on every send, several percent of the
//! throughput). Between a slot and its request comes the send's durable mark, whose disk sync is
//! shared and now and then slow. So the hard guarantee is taken last, immediately before the
//! request: a log of recent sends that never lets a second plus the jitter allowance hold more
//! than the number's throughput — so Meta, counting at its door, never sees a second with more
//! unless a request is held up on its way by more than the allowance — and lets the sends a slow
//! sync held back leave as soon as the window allows; a smoothing limiter with no burst would
//! keep them late for the rest of the campaign.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use domain::campaign::pacing::{paced_rate, ConversationWindow, LIMIT_WINDOW_MS, MAX_MPS};
use tokio::time::Instant;

use crate::clock::Clock;

/// The pacing part of a gate, rebuilt when the rate changes.
struct Pace {
    mps: Option<u32>,
    interval: Duration,
    /// Sends any [`WINDOW`] may hold: the number's throughput (`None`: unthrottled).
    per_second: Option<usize>,
}

/// The window the hard limit counts in (a second plus the arrival-jitter allowance).
const WINDOW: Duration = Duration::from_millis(LIMIT_WINDOW_MS);

/// A sender number's gate.
pub struct SenderGate {
    pace: RwLock<Pace>,
    /// When the sends of the last [`WINDOW`] left, oldest first.
    last_second: Mutex<VecDeque<Instant>>,
    /// The next free slot; held by the one task waiting for it.
    next_slot: tokio::sync::Mutex<Option<Instant>>,
    cooldown_until_ms: AtomicI64,
    /// New conversations in the moving 24 hours.
    pub window: Mutex<ConversationWindow>,
    clock: Arc<dyn Clock>,
}

fn pace(mps: Option<u32>) -> Pace {
    let interval = mps.map_or(Duration::ZERO, |m| {
        Duration::from_secs_f64(1.0 / paced_rate(m))
    });
    let per_second = mps.map(|m| m.clamp(1, MAX_MPS) as usize);
    Pace {
        mps,
        interval,
        per_second,
    }
}

impl SenderGate {
    /// A gate pacing at `mps`; `None` lifts throttling (benchmarks only).
    pub fn new(mps: Option<u32>, clock: Arc<dyn Clock>) -> Self {
        Self {
            pace: RwLock::new(pace(mps)),
            last_second: Mutex::default(),
            next_slot: tokio::sync::Mutex::new(None),
            cooldown_until_ms: AtomicI64::new(0),
            window: Mutex::default(),
            clock,
        }
    }

    /// Changes the rate (takes effect for the next send).
    pub fn set_rate(&self, mps: Option<u32>) {
        let Ok(mut current) = self.pace.write() else {
            return;
        };
        if current.mps != mps {
            *current = pace(mps);
        }
    }

    /// The configured rate (`None`: unthrottled).
    pub fn rate(&self) -> Option<u32> {
        self.pace.read().ok().and_then(|p| p.mps)
    }

    /// Holds every send from this number until `now + wait_ms`.
    pub fn cool_down(&self, wait_ms: i64) {
        let until = self.clock.now_ms() + wait_ms;
        self.cooldown_until_ms.fetch_max(until, Ordering::SeqCst);
    }

    /// Waits for this number's next send slot on the schedule; [`Self::admit`] follows right
    /// before the request.
    pub async fn wait_turn(&self) {
        loop {
            let wait = self.cooldown_until_ms.load(Ordering::SeqCst) - self.clock.now_ms();
            if wait <= 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(u64::try_from(wait).unwrap_or(0))).await;
        }
        let interval = match self.pace.read() {
            Ok(p) if p.per_second.is_some() => p.interval,
            _ => return,
        };
        let mut next_slot = self.next_slot.lock().await;
        let now = Instant::now();
        // Behind by more than a slot (idle, or a cool-down): start afresh, no catching up.
        let slot = match *next_slot {
            Some(slot) if slot + interval > now => slot,
            _ => now,
        };
        tokio::time::sleep_until(slot).await;
        *next_slot = Some(slot + interval);
    }

    /// The hard limit, taken immediately before the request: no [`WINDOW`] holds more sends than
    /// the number's throughput, however a shared disk sync bunched them.
    pub async fn admit(&self) {
        let Some(per_second) = self.pace.read().ok().and_then(|p| p.per_second) else {
            return;
        };
        loop {
            let free_at = {
                let mut sent = self.last_second.lock().unwrap_or_else(|e| e.into_inner());
                let now = Instant::now();
                while sent.front().is_some_and(|at| *at + WINDOW <= now) {
                    sent.pop_front();
                }
                if sent.len() < per_second {
                    sent.push_back(now);
                    return;
                }
                // The rate may have dropped: the oldest send that must age out first.
                sent[sent.len() - per_second] + WINDOW
            };
            tokio::time::sleep_until(free_at).await;
        }
    }

    /// Locks the conversation window (a poisoned lock still holds valid counts).
    pub fn conversations(&self) -> std::sync::MutexGuard<'_, ConversationWindow> {
        self.window.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;

    #[tokio::test]
    async fn no_second_holds_more_than_the_rate_however_sends_bunch() {
        let gate = SenderGate::new(Some(5), Arc::new(SystemClock));
        let started = Instant::now();
        // Five held back by a slow disk sync arrive together: they leave at once...
        for _ in 0..5 {
            gate.admit().await;
        }
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "a backlog drains at once"
        );
        // ...and the sixth waits until the first is a second old.
        gate.admit().await;
        assert!(started.elapsed() >= Duration::from_millis(990));
    }

    #[tokio::test]
    async fn an_unthrottled_gate_never_waits() {
        let gate = SenderGate::new(None, Arc::new(SystemClock));
        for _ in 0..10_000 {
            gate.admit().await;
            gate.wait_turn().await;
        }
    }
}
