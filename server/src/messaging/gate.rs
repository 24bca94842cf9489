//! One gate per sender number, shared by every campaign sending from it: the number's pace, the
//! pace WhatsApp's "too fast" (130429) taught it (`domain::campaign::backoff`), a cool-down after
//! "maintenance" (131057), and the moving 24-hour count of new business-initiated conversations
//! that the messaging-limit tier caps.
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
//! keep them late for the rest of the campaign. When a 130429 lowers the pace, the sends that got
//! their turn at the old pace and have not left yet take a new turn at the new one: let through
//! as the window allows, they would leave as densely as the burst that was refused.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use domain::campaign::backoff::{self, SlowedPace, PROBE_INTERVAL_MS};
use domain::campaign::pacing::{paced_rate, ConversationWindow, LIMIT_WINDOW_MS, MAX_MPS};
use tokio::time::Instant;

use crate::clock::Clock;

/// The pacing part of a gate.
struct Pace {
    /// The pace the number is set to (`None`: unthrottled).
    configured: Option<u32>,
    /// Held under `configured` since WhatsApp answered 130429 (`None`: not held).
    learned: Option<Learned>,
    interval: Duration,
    /// Sends any [`WINDOW`] may hold (`None`: unthrottled).
    per_second: Option<usize>,
    /// How many times a 130429 lowered the pace: a turn taken before the last drop is void.
    drops: u64,
}

/// A send's turn on the schedule, for [`SenderGate::admit`].
#[derive(Debug, Clone, Copy)]
pub struct Turn {
    drops: u64,
}

/// A pace learned from a 130429 (see `domain::campaign::backoff`).
struct Learned {
    mps: u32,
    /// When the pace last dropped: sends that left before were sent at the old pace and teach
    /// nothing new.
    backed_off_at: Instant,
    /// When the pace was last raised (or dropped): the next probe waits a full interval.
    changed_at: Instant,
}

impl Pace {
    fn new(configured: Option<u32>) -> Self {
        let mut pace = Self {
            configured,
            learned: None,
            interval: Duration::ZERO,
            per_second: None,
            drops: 0,
        };
        pace.derive();
        pace
    }

    /// What the number sends at now.
    fn effective(&self) -> Option<u32> {
        self.configured
            .map(|c| self.learned.as_ref().map_or(c, |l| l.mps.min(c)))
    }

    fn derive(&mut self) {
        let mps = self.effective();
        self.interval = mps.map_or(Duration::ZERO, |m| {
            Duration::from_secs_f64(1.0 / paced_rate(m))
        });
        self.per_second = mps.map(|m| m.clamp(1, MAX_MPS) as usize);
    }

    /// One probing step up if nothing was refused for a probe interval.
    fn probe(&mut self, now: Instant) {
        let (Some(configured), Some(learned)) = (self.configured, self.learned.as_mut()) else {
            return;
        };
        if now < learned.changed_at + Duration::from_millis(PROBE_INTERVAL_MS) {
            return;
        }
        learned.mps = backoff::probed(learned.mps, configured);
        learned.changed_at = now;
        if learned.mps >= configured {
            self.learned = None;
        }
        self.derive();
    }
}

/// The window the hard limit counts in (a second plus the arrival-jitter allowance).
const WINDOW: Duration = Duration::from_millis(LIMIT_WINDOW_MS);

/// A sender number's gate.
pub struct SenderGate {
    pace: Mutex<Pace>,
    /// When the sends of the last [`WINDOW`] left, oldest first.
    last_second: Mutex<VecDeque<Instant>>,
    /// When WhatsApp's acceptances of the last [`WINDOW`] came back, oldest first: what a
    /// 130429 measures the number's real throughput by (only while throttled).
    accepted: Mutex<VecDeque<Instant>>,
    /// The next free slot; held by the one task waiting for it.
    next_slot: tokio::sync::Mutex<Option<Instant>>,
    cooldown_until_ms: AtomicI64,
    /// New conversations in the moving 24 hours.
    pub window: Mutex<ConversationWindow>,
    clock: Arc<dyn Clock>,
}

impl SenderGate {
    /// A gate pacing at `mps`; `None` lifts throttling (benchmarks only).
    pub fn new(mps: Option<u32>, clock: Arc<dyn Clock>) -> Self {
        Self {
            pace: Mutex::new(Pace::new(mps)),
            last_second: Mutex::default(),
            accepted: Mutex::default(),
            next_slot: tokio::sync::Mutex::new(None),
            cooldown_until_ms: AtomicI64::new(0),
            window: Mutex::default(),
            clock,
        }
    }

    /// The pace, whatever a panic elsewhere left (its fields are always consistent).
    fn pace(&self) -> MutexGuard<'_, Pace> {
        self.pace.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Changes the configured rate (takes effect for the next send). A new rate forgets what
    /// 130429 taught about the old one: the user or Meta changed the number's pace.
    pub fn set_rate(&self, mps: Option<u32>) {
        let mut pace = self.pace();
        if pace.configured != mps {
            *pace = Pace::new(mps);
        }
    }

    /// The configured rate (`None`: unthrottled).
    pub fn rate(&self) -> Option<u32> {
        self.pace().configured
    }

    /// The pace held under the configured one after WhatsApp refused sends as too fast.
    pub fn slowed(&self) -> Option<SlowedPace> {
        let pace = self.pace();
        let configured = pace.configured?;
        let learned = pace.learned.as_ref()?;
        (learned.mps < configured).then_some(SlowedPace {
            effective_mps: learned.mps,
            configured_mps: configured,
        })
    }

    /// WhatsApp accepted a send: counted for [`Self::too_fast`].
    pub fn accepted(&self) {
        if self.pace().per_second.is_none() {
            return;
        }
        let now = Instant::now();
        let mut accepted = self.accepted.lock().unwrap_or_else(|e| e.into_inner());
        while accepted.front().is_some_and(|at| *at + WINDOW <= now) {
            accepted.pop_front();
        }
        accepted.push_back(now);
    }

    /// WhatsApp refused the send that left at `left_at` as over the number's throughput
    /// (130429): the pace drops to a little under what it accepted in the last window — answers,
    /// not departures, since sends still on their way may be refused too — once per lesson: the
    /// refusals of sends that left before the drop do not lower it again.
    pub fn too_fast(&self, left_at: Instant) {
        let mut pace = self.pace();
        let Some(current) = pace.effective() else {
            return;
        };
        if pace
            .learned
            .as_ref()
            .is_some_and(|l| left_at < l.backed_off_at)
        {
            return;
        }
        let now = Instant::now();
        let accepted = {
            let accepted = self.accepted.lock().unwrap_or_else(|e| e.into_inner());
            accepted.iter().filter(|at| **at + WINDOW > now).count()
        };
        let lowered = backoff::backed_off(current, accepted);
        tracing::warn!(
            from = current,
            to = lowered,
            accepted_last_second = accepted,
            "WhatsApp refused a send as over the number's throughput (130429); pace lowered"
        );
        pace.learned = Some(Learned {
            mps: lowered,
            backed_off_at: now,
            changed_at: now,
        });
        pace.drops += 1;
        pace.derive();
    }

    /// Holds every send from this number until `now + wait_ms`.
    pub fn cool_down(&self, wait_ms: i64) {
        let until = self.clock.now_ms() + wait_ms;
        self.cooldown_until_ms.fetch_max(until, Ordering::SeqCst);
    }

    /// Waits for this number's next send slot on the schedule; [`Self::admit`] follows right
    /// before the request.
    pub async fn wait_turn(&self) -> Turn {
        loop {
            let wait = self.cooldown_until_ms.load(Ordering::SeqCst) - self.clock.now_ms();
            if wait <= 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(u64::try_from(wait).unwrap_or(0))).await;
        }
        {
            let pace = self.pace();
            if pace.per_second.is_none() {
                return Turn { drops: pace.drops };
            }
        }
        let mut next_slot = self.next_slot.lock().await;
        // Read only now, with the schedule held: a send that queued here while the pace dropped
        // gets a turn at the new pace, not a void one.
        let (interval, turn) = {
            let mut pace = self.pace();
            pace.probe(Instant::now());
            (pace.interval, Turn { drops: pace.drops })
        };
        let now = Instant::now();
        // Behind by more than a slot (idle, or a cool-down): start afresh, no catching up.
        let slot = match *next_slot {
            Some(slot) if slot + interval > now => slot,
            _ => now,
        };
        tokio::time::sleep_until(slot).await;
        *next_slot = Some(slot + interval);
        turn
    }

    /// The hard limit, taken immediately before the request: no [`WINDOW`] holds more sends than
    /// the number's pace, however a shared disk sync bunched them; a `turn` the pace has dropped
    /// since is taken again. Returns when the send left, for [`Self::too_fast`].
    pub async fn admit(&self, mut turn: Turn) -> Instant {
        loop {
            let (per_second, drops) = {
                let pace = self.pace();
                (pace.per_second, pace.drops)
            };
            let Some(per_second) = per_second else {
                return Instant::now();
            };
            if drops != turn.drops {
                turn = self.wait_turn().await;
                continue;
            }
            let free_at = {
                let mut sent = self.last_second.lock().unwrap_or_else(|e| e.into_inner());
                let now = Instant::now();
                while sent.front().is_some_and(|at| *at + WINDOW <= now) {
                    sent.pop_front();
                }
                if sent.len() < per_second {
                    sent.push_back(now);
                    return now;
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
            gate.admit(Turn { drops: 0 }).await;
        }
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "a backlog drains at once"
        );
        // ...and the sixth waits until the first is a second old.
        gate.admit(Turn { drops: 0 }).await;
        assert!(started.elapsed() >= Duration::from_millis(990));
    }

    /// The departure-side guarantee a campaign relies on, on a paused clock so that it is exact:
    /// however the durable marks between turn and request delay and bunch sends, no window of
    /// [`WINDOW`] ever holds more departures than the rate, and the backlog still drains at
    /// nearly the full pace.
    #[tokio::test(start_paused = true)]
    async fn departures_never_exceed_the_rate_in_any_window_whatever_the_delays() {
        use rand::{Rng, SeedableRng};
        const RATE: usize = 50;
        const SENDS: usize = 1_000;
        let gate = Arc::new(SenderGate::new(Some(50), Arc::new(SystemClock)));
        let departures = Arc::new(Mutex::new(Vec::with_capacity(SENDS)));
        let mut workers = Vec::new();
        for worker in 0..8u64 {
            let (gate, departures) = (gate.clone(), departures.clone());
            workers.push(tokio::spawn(async move {
                let mut rng = rand::rngs::StdRng::seed_from_u64(worker);
                for _ in 0..SENDS / 8 {
                    let turn = gate.wait_turn().await;
                    // A shared disk sync: usually quick, now and then 400 ms.
                    let sync = if rng.random_bool(0.05) {
                        400
                    } else {
                        rng.random_range(0..20)
                    };
                    tokio::time::sleep(Duration::from_millis(sync)).await;
                    let left = gate.admit(turn).await;
                    departures.lock().unwrap().push(left);
                }
            }));
        }
        for worker in workers {
            worker.await.unwrap();
        }
        let mut times = departures.lock().unwrap().clone();
        times.sort_unstable();
        let busiest = (0..times.len())
            .map(|i| times[i..].partition_point(|t| *t < times[i] + WINDOW))
            .max()
            .unwrap();
        assert!(busiest <= RATE, "{busiest} departures in one window");
        let span = (times[times.len() - 1] - times[0]).as_secs_f64();
        #[allow(clippy::cast_precision_loss)]
        let pace = (times.len() - 1) as f64 / span;
        assert!(pace >= 0.94 * RATE as f64, "only {pace:.1} per second");
    }

    #[tokio::test]
    async fn an_unthrottled_gate_never_waits() {
        let gate = SenderGate::new(None, Arc::new(SystemClock));
        for _ in 0..10_000 {
            let turn = gate.wait_turn().await;
            gate.admit(turn).await;
        }
    }

    #[tokio::test]
    async fn a_refusal_lowers_the_pace_once_and_quiet_raises_it_again() {
        let gate = SenderGate::new(Some(100), Arc::new(SystemClock));
        let turn = gate.wait_turn().await;
        let early = gate.admit(turn).await;
        for _ in 0..50 {
            gate.accepted();
        }
        let refused = gate.admit(gate.wait_turn().await).await;
        gate.too_fast(refused);
        let slowed = gate.slowed().unwrap();
        assert_eq!((slowed.effective_mps, slowed.configured_mps), (47, 100));
        // A send that left before the drop was sent at the old pace: no second drop.
        gate.too_fast(early);
        assert_eq!(gate.slowed().unwrap().effective_mps, 47);
        // A turn taken before the drop is taken again at the new pace.
        assert_ne!(turn.drops, gate.wait_turn().await.drops);
        // Two quiet seconds: one step up; a new configured rate forgets the lesson.
        tokio::time::sleep(Duration::from_millis(PROBE_INTERVAL_MS)).await;
        let _ = gate.wait_turn().await;
        assert_eq!(gate.slowed().unwrap().effective_mps, 48);
        gate.set_rate(Some(80));
        assert_eq!(gate.slowed(), None);
    }
}
