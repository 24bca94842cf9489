//! What Herald knows about each sender number's limits (tree `sender_limits`, connection id →
//! [`SenderLimits`]): the throughput to pace at (a user setting), and the messaging-limit tier and
//! quality rating Meta reports by API and webhook. The campaign engine reads it on every batch, so
//! a change applies to running campaigns without a restart.

use domain::campaign::pacing::DEFAULT_MPS;
use domain::whatsapp::limits::MessagingLimit;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Collection, StorageError, Store};

/// Limits of one sender number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SenderLimits {
    /// Messages per second to pace at (Meta's default 80, up to 1,000).
    pub messages_per_second: u32,
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
