//! What Herald knows about each sender number's limits (tree `sender_limits`, connection id →
//! [`SenderLimits`]): the throughput to pace at (a user setting), and the messaging-limit tier and
//! quality rating Meta reports by API and webhook. The campaign engine reads it on every batch, so
//! a change applies to running campaigns without a restart.

use domain::campaign::pacing::{pace_mps, DEFAULT_MPS};
use domain::whatsapp::limits::MessagingLimit;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Collection, StorageError, Store};

/// Limits of one sender number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SenderLimits {
    /// Messages per second to pace at: [`Self::pace_override`] if set, else the number's
    /// throughput, else Meta's default 80. Kept derived by [`Self::read_throughput`] and
    /// [`Self::choose_pace`].
    pub messages_per_second: u32,
    /// The throughput Meta reports for the number (`throughput.level`), once read.
    #[serde(default)]
    pub number_mps: Option<u32>,
    /// A pace a user chose instead of the number's.
    #[serde(default)]
    pub pace_override: Option<u32>,
    /// Meta's messaging limit, once read.
    #[serde(default)]
    pub messaging_limit: Option<MessagingLimit>,
    /// A limit set by a user, used instead of Meta's (e.g. to stay under it on purpose).
    #[serde(default)]
    pub limit_override: Option<MessagingLimit>,
    /// Meta's quality rating (GREEN, YELLOW, RED, UNKNOWN), once read.
    #[serde(default)]
    pub quality: Option<String>,
    /// When Meta's figures were last read, Unix ms.
    #[serde(default)]
    pub checked_at_ms: Option<i64>,
}

impl Default for SenderLimits {
    fn default() -> Self {
        Self {
            messages_per_second: DEFAULT_MPS,
            number_mps: None,
            pace_override: None,
            messaging_limit: None,
            limit_override: None,
            quality: None,
            checked_at_ms: None,
        }
    }
}

impl SenderLimits {
    /// The limit campaigns obey: the user's override, else Meta's, else a new portfolio's 250.
    pub fn effective_limit(&self) -> MessagingLimit {
        self.limit_override
            .or(self.messaging_limit)
            .unwrap_or(MessagingLimit::Users(250))
    }

    /// Records the throughput Meta reports and follows it, unless a user chose a pace. A record
    /// from before Herald read throughputs holds a chosen pace only as `messages_per_second`;
    /// anything but the old default is kept as that choice.
    pub fn read_throughput(&mut self, mps: u32) {
        if self.number_mps.is_none()
            && self.pace_override.is_none()
            && self.messages_per_second != DEFAULT_MPS
        {
            self.pace_override = Some(self.messages_per_second);
        }
        self.number_mps = Some(mps);
        self.messages_per_second = pace_mps(self.number_mps, self.pace_override);
    }

    /// A user's pace; choosing what the number allows anyway follows the number again.
    pub fn choose_pace(&mut self, mps: u32) {
        let natural = self.number_mps.unwrap_or(DEFAULT_MPS);
        self.pace_override = (mps != natural).then_some(mps);
        self.messages_per_second = pace_mps(self.number_mps, self.pace_override);
    }

    /// Whether the number's quality is RED.
    pub fn quality_is_red(&self) -> bool {
        self.quality
            .as_deref()
            .is_some_and(|q| q.eq_ignore_ascii_case("RED"))
    }
}

/// Typed access to `sender_limits`.
#[derive(Clone)]
pub struct SenderStore {
    limits: Collection<Uuid, SenderLimits>,
}

impl SenderStore {
    /// Opens the tree.
    pub fn open(store: &Store) -> Result<Self, StorageError> {
        Ok(Self {
            limits: store.collection("sender_limits")?,
        })
    }

    /// The limits of a connection (defaults when never set).
    pub fn get(&self, connection: &Uuid) -> Result<SenderLimits, StorageError> {
        Ok(self.limits.get(connection)?.unwrap_or_default())
    }

    /// Changes a connection's limits atomically.
    pub fn update(
        &self,
        connection: &Uuid,
        f: impl Fn(&mut SenderLimits),
    ) -> Result<SenderLimits, StorageError> {
        let after = self.limits.update(connection, |current| {
            let mut limits = current.unwrap_or_default();
            f(&mut limits);
            Some(limits)
        })?;
        Ok(after.unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pace_follows_the_number_until_a_user_chooses_one() {
        let mut limits = SenderLimits::default();
        limits.read_throughput(1_000);
        assert_eq!(
            limits.messages_per_second, 1_000,
            "a HIGH number is paced at 1,000"
        );
        limits.choose_pace(200);
        assert_eq!(
            (limits.messages_per_second, limits.pace_override),
            (200, Some(200))
        );
        limits.read_throughput(80);
        assert_eq!(
            limits.messages_per_second, 200,
            "a choice outlives a new reading"
        );
        limits.choose_pace(80);
        assert_eq!(
            limits.pace_override, None,
            "choosing the number's own rate follows it"
        );
        limits.read_throughput(1_000);
        assert_eq!(limits.messages_per_second, 1_000);

        let mut old = SenderLimits {
            messages_per_second: 40,
            ..SenderLimits::default()
        };
        old.read_throughput(80);
        assert_eq!(
            old.messages_per_second, 40,
            "a pace set before throughputs were read stays"
        );
    }
}
