//! A sender number's limits as Meta reports them — throughput level, messaging-limit tier and
//! quality rating — read when a connection is added, before a pre-flight that has never seen
//! them, every [`REFRESH_MS`] while campaigns run or the periodic job passes, and kept in the
//! sender store that the gate and the engine read on every batch.

use domain::campaign::pacing::level_mps;
use domain::whatsapp::limits::MessagingLimit;
use uuid::Uuid;

use crate::storage::senders::{SenderLimits, SenderStore};
use crate::whatsapp::provider::WhatsAppApi;

/// How old Meta's figures may be before they are read again.
pub const REFRESH_MS: i64 = 10 * 60 * 1000;

/// Reads the number behind `api` and stores what it says for `connection`; on failure keeps the
/// last known figures (logged) and notes the attempt, so a dead connection is not asked on every
/// batch. Returns the limits now in force.
pub async fn refresh(
    senders: &SenderStore,
    api: &dyn WhatsAppApi,
    connection: &Uuid,
    now_ms: i64,
) -> SenderLimits {
    let known = senders.get(connection).unwrap_or_default();
    let updated = match api.phone_number().await {
        Ok(info) => {
            let limit = info.messaging_limit().and_then(MessagingLimit::parse);
            let throughput = info.throughput.as_ref().map(|t| level_mps(&t.level));
            senders.update(connection, |l| {
                l.messaging_limit = limit.or(l.messaging_limit);
                l.quality = info.quality_rating.clone().or(l.quality.clone());
                if let Some(mps) = throughput {
                    l.read_throughput(mps);
                }
                l.checked_at_ms = Some(now_ms);
            })
        }
        Err(error) => {
            tracing::warn!(%error, %connection, "cannot read the number's limits; using the last known");
            senders.update(connection, |l| l.checked_at_ms = Some(now_ms))
        }
    };
    updated.unwrap_or(known)
}

/// Whether the figures in `limits` are too old (or were never read).
pub fn stale(limits: &SenderLimits, now_ms: i64) -> bool {
    limits
        .checked_at_ms
        .is_none_or(|at| now_ms - at >= REFRESH_MS)
}
