//! Messaging-limit tiers: how many unique users a business may start conversations with in a
//! moving 24 hours (fact sheet §5.3). Meta reports them in several spellings across API versions.

use serde::{Deserialize, Serialize};

/// A messaging limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MessagingLimit {
    /// At most this many unique users per moving 24 h.
    Users(u32),
    /// No limit.
    Unlimited,
    /// Meta has not set one (`TIER_NOT_SET`).
    NotSet,
}

impl MessagingLimit {
    /// Parses `TIER_250`, `TIER_2K`, `TIER_1K` (legacy), `TIER_UNLIMITED`, `TIER_NOT_SET`, and the
    /// newer `max_daily_conversations_per_business` values (`2000`, `UNLIMITED`).
    pub fn parse(raw: &str) -> Option<Self> {
        let value = raw.trim().to_ascii_uppercase();
        let value = value.strip_prefix("TIER_").unwrap_or(&value);
        match value {
            "UNLIMITED" => return Some(Self::Unlimited),
            "NOT_SET" => return Some(Self::NotSet),
            _ => {}
        }
        let (digits, multiplier) = match value.strip_suffix('K') {
            Some(digits) => (digits, 1000),
            None => (value, 1),
        };
        let n: u32 = digits.parse().ok()?;
        n.checked_mul(multiplier).map(Self::Users)
    }

    /// How many more business-initiated conversations fit, given how many started in the window.
    pub fn headroom(self, started_in_window: u32) -> Option<u32> {
        match self {
            Self::Users(limit) => Some(limit.saturating_sub(started_in_window)),
            Self::Unlimited => None,
            Self::NotSet => Some(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::MessagingLimit::{self, *};

    #[test]
    fn every_spelling_meta_uses_parses() {
        for (raw, limit) in [
            ("TIER_50", Users(50)),
            ("TIER_250", Users(250)),
            ("TIER_1K", Users(1000)),
            ("TIER_2K", Users(2000)),
            ("TIER_10K", Users(10_000)),
            ("TIER_100K", Users(100_000)),
            ("TIER_UNLIMITED", Unlimited),
            ("TIER_NOT_SET", NotSet),
            ("2000", Users(2000)),
            ("100000", Users(100_000)),
            ("UNLIMITED", Unlimited),
        ] {
            assert_eq!(MessagingLimit::parse(raw), Some(limit), "{raw}");
        }
        assert_eq!(MessagingLimit::parse("TIER_BIG"), None);
        assert_eq!(MessagingLimit::parse("TIER_99999999K"), None);
    }

    #[test]
    fn headroom_never_goes_negative() {
        assert_eq!(Users(250).headroom(100), Some(150));
        assert_eq!(Users(250).headroom(400), Some(0));
        assert_eq!(Unlimited.headroom(1_000_000), None);
        assert_eq!(NotSet.headroom(0), Some(0));
    }
}
