//! One gate per sender number, shared by every campaign sending from it: the number's pace, a
//! cool-down after Meta says "too fast" (130429) or "maintenance" (131057), and the moving
//! 24-hour count of new business-initiated conversations that the messaging-limit tier caps.
//!
//! Pacing has two layers. A slot schedule hands out send times exactly `1 / rate` apart on an
//! absolute timeline, one waiter at a time, so a timer that wakes a little late does not push
//! every later send back (a plain rate limiter with no burst loses that lateness on every send,
//! several percent of the throughput). Under it, a governor limiter allowing the same rate with a
//! burst of two is the hard guarantee: whatever the schedule does, no more than the rate leaves.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use domain::campaign::pacing::{paced_rate, ConversationWindow};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::time::Instant;

use crate::clock::Clock;

/// The pacing part of a gate, rebuilt when the rate changes.
struct Pace {
    mps: Option<u32>,
    interval: Duration,
    limiter: Option<Arc<DefaultDirectRateLimiter>>,
}

/// A sender number's gate.
pub struct SenderGate {
    pace: RwLock<Pace>,
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
    let limiter = mps.map(|_| {
        let quota = Quota::with_period(interval)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(2).unwrap_or(NonZeroU32::MIN));
        Arc::new(RateLimiter::direct(quota))
    });
    Pace {
        mps,
        interval,
        limiter,
    }
}

impl SenderGate {
    /// A gate pacing at `mps`; `None` lifts throttling (benchmarks only).
    pub fn new(mps: Option<u32>, clock: Arc<dyn Clock>) -> Self {
        Self {
            pace: RwLock::new(pace(mps)),
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

    /// Waits for this number's next send slot.
    pub async fn wait_turn(&self) {
        loop {
            let wait = self.cooldown_until_ms.load(Ordering::SeqCst) - self.clock.now_ms();
            if wait <= 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(u64::try_from(wait).unwrap_or(0))).await;
        }
        let (interval, limiter) = match self.pace.read() {
            Ok(p) => (p.interval, p.limiter.clone()),
            Err(_) => return,
        };
        let Some(limiter) = limiter else { return };
        let mut next_slot = self.next_slot.lock().await;
        let now = Instant::now();
        // Behind by more than a slot (idle, or a cool-down): start afresh, no catching up.
        let slot = match *next_slot {
            Some(slot) if slot + interval > now => slot,
            _ => now,
        };
        tokio::time::sleep_until(slot).await;
        limiter.until_ready().await;
        *next_slot = Some(slot + interval);
    }

    /// Locks the conversation window (a poisoned lock still holds valid counts).
    pub fn conversations(&self) -> std::sync::MutexGuard<'_, ConversationWindow> {
        self.window.lock().unwrap_or_else(|e| e.into_inner())
    }
}
