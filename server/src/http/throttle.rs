//! Sign-in rate limits (governor): per client address, so one host cannot guess many accounts,
//! and per account name, so many hosts cannot guess one password.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Attempts per minute from one address.
pub const PER_IP_PER_MINUTE: u32 = 20;
/// Attempts per minute at one account name.
pub const PER_ACCOUNT_PER_MINUTE: u32 = 5;

/// The two keyed limiters.
pub struct LoginThrottle {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_account: DefaultKeyedRateLimiter<String>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        let quota = |n: u32| Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
        Self {
            per_ip: RateLimiter::keyed(quota(PER_IP_PER_MINUTE)),
            per_account: RateLimiter::keyed(quota(PER_ACCOUNT_PER_MINUTE)),
        }
    }
}

impl LoginThrottle {
    /// Counts one attempt; `Err(wait)` when either limit is exhausted.
    pub fn check(&self, ip: IpAddr, account: &str) -> Result<(), Duration> {
        let now = DefaultClock::default().now();
        self.per_ip
            .check_key(&ip)
            .map_err(|not_until| not_until.wait_time_from(now))?;
        self.per_account
            .check_key(&account.to_string())
            .map_err(|not_until| not_until.wait_time_from(now))
    }

    /// Forgets keys whose limits have fully recovered, bounding memory.
    pub fn forget_idle(&self) {
        self.per_ip.retain_recent();
        self.per_account.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_account_is_throttled_after_its_quota_while_others_are_not() {
        let throttle = LoginThrottle::default();
        let ip: IpAddr = [10, 0, 0, 1].into();
        for _ in 0..PER_ACCOUNT_PER_MINUTE {
            assert!(throttle.check(ip, "ada").is_ok());
        }
        let wait = throttle.check(ip, "ada").unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(60));
        assert!(throttle.check(ip, "bob").is_ok());
    }

    #[test]
    fn one_address_is_throttled_across_account_names() {
        let throttle = LoginThrottle::default();
        let ip: IpAddr = [10, 0, 0, 2].into();
        for n in 0..PER_IP_PER_MINUTE {
            assert!(throttle.check(ip, &format!("user{n}")).is_ok());
        }
        assert!(throttle.check(ip, "fresh").is_err());
        assert!(throttle.check([10, 0, 0, 3].into(), "fresh").is_ok());
    }
}
