//! One gate per sender number, shared by every campaign sending from it: a governor limiter
//! paced just under the number's throughput, a cool-down after Meta says "too fast" (130429) or
//! "maintenance" (131057), and the moving 24-hour count of new business-initiated conversations
//! that the messaging-limit tier caps.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use domain::campaign::pacing::{paced_rate, ConversationWindow};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::clock::Clock;

/// The pacing part of a gate, rebuilt when the rate changes.
struct Pace {
    mps: Option<u32>,
    limiter: Option<Arc<DefaultDirectRateLimiter>>,
}

/// A sender number's gate.
pub struct SenderGate {
    pace: RwLock<Pace>,
    cooldown_until_ms: AtomicI64,
    /// New conversations in the moving 24 hours.
    pub window: Mutex<ConversationWindow>,
    clock: Arc<dyn Clock>,
}

/// A limiter allowing `mps` (minus the safety margin) with no burst: sends are spread evenly,
/// so no one-second window can hold more than the rate.
fn limiter(mps: u32) -> DefaultDirectRateLimiter {
    let period = Duration::from_secs_f64(1.0 / paced_rate(mps));
    let quota = Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(NonZeroU32::MIN);
    RateLimiter::direct(quota)
}

impl SenderGate {
    /// A gate pacing at `mps`; `None` lifts throttling (benchmarks only).
    pub fn new(mps: Option<u32>, clock: Arc<dyn Clock>) -> Self {
        Self {
            pace: RwLock::new(Pace {
                mps,
                limiter: mps.map(|m| Arc::new(limiter(m))),
            }),
            cooldown_until_ms: AtomicI64::new(0),
            window: Mutex::default(),
            clock,
        }
    }

    /// Changes the rate (takes effect for the next send).
    pub fn set_rate(&self, mps: Option<u32>) {
        let Ok(mut pace) = self.pace.write() else {
            return;
        };
        if pace.mps != mps {
            *pace = Pace {
                mps,
                limiter: mps.map(|m| Arc::new(limiter(m))),
            };
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
        let limiter = self.pace.read().ok().and_then(|p| p.limiter.clone());
        if let Some(limiter) = limiter {
            limiter.until_ready().await;
        }
    }

    /// Locks the conversation window (a poisoned lock still holds valid counts).
    pub fn conversations(&self) -> std::sync::MutexGuard<'_, ConversationWindow> {
        self.window.lock().unwrap_or_else(|e| e.into_inner())
    }
}
