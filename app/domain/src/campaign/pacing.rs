//! How fast and how often (fact sheet §5): the send rate kept under a number's throughput, waits
//! before retries, Meta's 4^X rule after a pair-rate refusal, and the moving 24-hour count of
//! business-initiated conversations that a messaging-limit tier caps.

use std::collections::{HashMap, VecDeque};

/// Meta's default throughput per number.
pub const DEFAULT_MPS: u32 = 80;
/// The highest throughput Meta grants.
pub const MAX_MPS: u32 = 1_000;
/// How much later than its neighbours a request may reach Meta (a busy machine, a slow hop)
/// without one of Meta's seconds holding more than the number's throughput.
pub const ARRIVAL_JITTER_MS: u64 = 40;
/// The window in which a number's gate lets at most its throughput leave: a second plus the
/// jitter allowance. Meta counts at its door; as long as no request is delayed on its way by
/// more than [`ARRIVAL_JITTER_MS`] against its neighbours, no second at Meta's door holds more.
pub const LIMIT_WINDOW_MS: u64 = 1_000 + ARRIVAL_JITTER_MS;
/// Share of the configured rate actually used: the throughput spread over [`LIMIT_WINDOW_MS`],
/// about 4 % under the limit.
#[allow(clippy::cast_precision_loss)]
pub const RATE_MARGIN: f64 = 1_000.0 / LIMIT_WINDOW_MS as f64;
/// The moving window of messaging limits.
pub const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// How many times a retryable failure is retried before the recipient is marked failed.
pub const MAX_ATTEMPTS: u32 = 8;
/// First retry wait.
pub const RETRY_BASE_MS: i64 = 2_000;
/// Longest retry wait.
pub const RETRY_CAP_MS: i64 = 5 * 60 * 1000;
/// Longest 4^X wait after pair-rate refusals.
pub const PAIR_RATE_CAP_MS: i64 = 4_096_000;

/// Sends per second actually scheduled for a number configured at `mps`.
pub fn paced_rate(mps: u32) -> f64 {
    f64::from(mps.clamp(1, MAX_MPS)) * RATE_MARGIN
}

/// The throughput a number's `throughput.level` allows: 80 for `STANDARD`, 1,000 for the upgraded
/// level (`HIGH`; Meta documents only that it is higher), 80 for anything unknown — guessing high
/// would earn 130429 refusals.
pub fn level_mps(level: &str) -> u32 {
    match level.trim().to_ascii_uppercase().as_str() {
        "HIGH" | "HIGHER" | "UNLIMITED" => MAX_MPS,
        _ => DEFAULT_MPS,
    }
}

/// The pace a number's campaigns use: the user's override if set, else what the number allows
/// (once read), else Meta's default.
pub fn pace_mps(number_mps: Option<u32>, override_mps: Option<u32>) -> u32 {
    override_mps
        .or(number_mps)
        .unwrap_or(DEFAULT_MPS)
        .clamp(1, MAX_MPS)
}

/// Why an override is risky: set above what the number allows, Meta refuses the excess with
/// 130429 and the campaign crawls in back-off.
pub fn pace_warning(number_mps: Option<u32>, override_mps: Option<u32>) -> Option<String> {
    match (number_mps, override_mps) {
        (Some(number), Some(chosen)) if chosen > number => Some(format!(
            "{chosen} messages per second is above this number's throughput ({number}): \
             WhatsApp will refuse the excess (error 130429) and Herald will keep slowing down."
        )),
        (None, Some(chosen)) if chosen > DEFAULT_MPS => Some(format!(
            "{chosen} messages per second is above Meta's default of {DEFAULT_MPS}, and this \
             number's throughput has not been read yet: unless Meta has upgraded it, the excess \
             will be refused (error 130429)."
        )),
        _ => None,
    }
}

/// Wait before retry number `attempt` (1-based): exponential from [`RETRY_BASE_MS`], capped at
/// [`RETRY_CAP_MS`], with "equal jitter" — half fixed, half drawn from `jitter` in `0.0..1.0` —
/// so many recipients failing together do not retry together.
pub fn retry_delay_ms(attempt: u32, jitter: f64) -> i64 {
    let exponent = attempt.saturating_sub(1).min(20);
    let full = RETRY_BASE_MS
        .saturating_mul(1 << exponent)
        .min(RETRY_CAP_MS);
    let half = full / 2;
    // Truncation is fine: the jitter only needs millisecond resolution.
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    let drawn = (half as f64 * jitter.clamp(0.0, 1.0)) as i64;
    half + drawn
}

/// Meta's wait after the `x`-th (0-based) pair-rate refusal for one user: 4^x seconds.
pub fn pair_rate_delay_ms(x: u32) -> i64 {
    4_i64
        .checked_pow(x)
        .map_or(PAIR_RATE_CAP_MS, |s| s.saturating_mul(1000))
        .min(PAIR_RATE_CAP_MS)
}

/// Business-initiated conversations started in the moving 24 hours, per user. A user counted once
/// is not counted again until 24 hours after their first message, as Meta counts unique users.
///
/// Users are kept as 64-bit digests of their WhatsApp id, not as strings: a number with an
/// unlimited tier can start a million conversations a day, and two strings per user would make
/// this window the largest thing in memory. Two users sharing a digest (about one chance in thirty
/// million at a million users) would count as one.
#[derive(Debug, Default, Clone)]
pub struct ConversationWindow {
    started: HashMap<u64, i64>,
    order: VecDeque<(i64, u64)>,
}

/// The digest a user is kept under (`DefaultHasher::new` has fixed keys: the same digest for the
/// same user throughout the process, which is as long as a window lives).
fn digest(user: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    user.hash(&mut hasher);
    hasher.finish()
}

impl ConversationWindow {
    /// Forgets starts older than 24 hours before `now_ms`.
    pub fn expire(&mut self, now_ms: i64) {
        while let Some((at, _)) = self.order.front() {
            if *at > now_ms - DAY_MS {
                break;
            }
            if let Some((at, user)) = self.order.pop_front() {
                if self.started.get(&user) == Some(&at) {
                    self.started.remove(&user);
                }
            }
        }
    }

    /// Unique users started in the window ending at `now_ms`.
    pub fn count(&mut self, now_ms: i64) -> u32 {
        self.expire(now_ms);
        u32::try_from(self.started.len()).unwrap_or(u32::MAX)
    }

    /// Whether messaging `user` now would not add a new user to the window.
    pub fn contains(&mut self, user: &str, now_ms: i64) -> bool {
        self.expire(now_ms);
        self.started.contains_key(&digest(user))
    }

    /// Records a start for `user` at `at_ms` (no-op if already counted).
    pub fn record(&mut self, user: &str, at_ms: i64) {
        let user = digest(user);
        if let std::collections::hash_map::Entry::Vacant(entry) = self.started.entry(user) {
            entry.insert(at_ms);
            let position = self.order.partition_point(|(t, _)| *t <= at_ms);
            self.order.insert(position, (at_ms, user));
        }
    }

    /// When the oldest start leaves the window, freeing a place.
    pub fn next_free_at(&mut self, now_ms: i64) -> Option<i64> {
        self.expire(now_ms);
        self.order.front().map(|(at, _)| at + DAY_MS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pace_follows_the_number_unless_a_user_chose_one() {
        assert_eq!(level_mps("STANDARD"), 80);
        assert_eq!(level_mps("high"), 1_000);
        assert_eq!(
            level_mps("SOMETHING_NEW"),
            80,
            "unknown levels never guess high"
        );
        assert_eq!(pace_mps(None, None), 80);
        assert_eq!(pace_mps(Some(1_000), None), 1_000);
        assert_eq!(pace_mps(Some(1_000), Some(200)), 200);
        assert_eq!(pace_mps(Some(80), Some(5_000)), MAX_MPS);
    }

    #[test]
    fn only_an_override_above_the_number_is_warned_about() {
        assert!(pace_warning(Some(80), Some(1_000))
            .unwrap()
            .contains("above this number's throughput (80)"));
        assert!(pace_warning(None, Some(1_000))
            .unwrap()
            .contains("not been read"));
        assert_eq!(pace_warning(Some(1_000), Some(1_000)), None);
        assert_eq!(pace_warning(Some(80), Some(20)), None);
        assert_eq!(pace_warning(Some(80), None), None);
    }

    #[test]
    fn retries_grow_exponentially_within_the_cap_and_jitter() {
        assert_eq!(retry_delay_ms(1, 0.0), 1_000);
        assert_eq!(retry_delay_ms(1, 1.0), 2_000);
        assert_eq!(retry_delay_ms(3, 0.0), 4_000);
        assert_eq!(retry_delay_ms(30, 1.0), RETRY_CAP_MS);
        assert!(retry_delay_ms(30, 0.0) >= RETRY_CAP_MS / 2);
    }

    #[test]
    fn pair_rate_waits_follow_four_to_the_x() {
        assert_eq!(
            (0..4).map(pair_rate_delay_ms).collect::<Vec<_>>(),
            [1_000, 4_000, 16_000, 64_000]
        );
        assert_eq!(pair_rate_delay_ms(40), PAIR_RATE_CAP_MS);
    }

    #[test]
    fn pacing_stays_under_the_limit() {
        assert!(paced_rate(50) < 50.0 && paced_rate(50) >= 47.5);
        assert!(paced_rate(5_000) <= f64::from(MAX_MPS));
    }

    #[test]
    fn the_window_counts_unique_users_and_moves() {
        let mut w = ConversationWindow::default();
        w.record("a", 0);
        w.record("b", 1_000);
        w.record("a", 2_000);
        assert_eq!(w.count(3_000), 2);
        assert!(w.contains("a", 3_000));
        assert_eq!(w.next_free_at(3_000), Some(DAY_MS));
        assert_eq!(w.count(DAY_MS), 1);
        assert!(!w.contains("a", DAY_MS));
        assert_eq!(w.count(DAY_MS + 1_000), 0);
    }
}
