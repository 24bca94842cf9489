//! The windows a user's own messages open with one business number (fact sheet §5.5), as times
//! they close — never a yes/no flag, because "open" depends on when you ask.
//!
//! - The **customer-service window** (CSW): every inbound message opens or extends it to 24 h
//!   after that message. While it is open anything may be sent; once it closes only approved
//!   templates (Meta answers free-form with 131047).
//! - The **free-entry-point window** (FEP): a user who writes from a Click-to-WhatsApp ad or a
//!   Page button may be answered within 24 h; the business's first reply then opens 72 h in which
//!   every message is free. It changes the price, not what may be sent: the CSW still decides
//!   that.
//!
//! One value per (number, user), updated from every inbound message and every reply; the
//! campaign engine, the sandbox and the inbox all ask it the same questions.

use serde::{Deserialize, Serialize};

const HOUR_MS: i64 = 3_600_000;
/// How long an inbound message keeps the customer-service window open.
pub const CUSTOMER_SERVICE_MS: i64 = 24 * HOUR_MS;
/// How long the business has to answer an ad's message for it to open a free entry point.
pub const FREE_ENTRY_REPLY_MS: i64 = 24 * HOUR_MS;
/// How long a free-entry-point window lasts from the business's reply.
pub const FREE_ENTRY_POINT_MS: i64 = 72 * HOUR_MS;

/// The windows of one (number, user), as the instants they close.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserWindows {
    /// When the customer-service window closes (Unix ms); `None` if the user never wrote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_closes_at_ms: Option<i64>,
    /// Until when a reply opens a free-entry-point window (the user wrote from an ad).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_entry_reply_by_ms: Option<i64>,
    /// When the free-entry-point window closes, once a reply opened it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_entry_closes_at_ms: Option<i64>,
}

impl UserWindows {
    /// After the user wrote at `at_ms` (`from_ad`: through a Click-to-WhatsApp ad or Page
    /// button). Messages may arrive out of order: a window only ever closes later, never earlier.
    pub fn after_inbound(self, at_ms: i64, from_ad: bool) -> Self {
        self.after_inbound_lasting(at_ms, from_ad, CUSTOMER_SERVICE_MS)
    }

    /// [`UserWindows::after_inbound`] with a customer-service window of `service_ms` (Meta's is
    /// [`CUSTOMER_SERVICE_MS`]; a sandbox number can shorten it so a test sees it close).
    pub fn after_inbound_lasting(self, at_ms: i64, from_ad: bool, service_ms: i64) -> Self {
        let later = |current: Option<i64>, candidate: i64| {
            Some(current.map_or(candidate, |c| c.max(candidate)))
        };
        Self {
            service_closes_at_ms: later(self.service_closes_at_ms, at_ms + service_ms),
            free_entry_reply_by_ms: if from_ad && self.free_entry_closes_at_ms.is_none() {
                later(self.free_entry_reply_by_ms, at_ms + FREE_ENTRY_REPLY_MS)
            } else {
                self.free_entry_reply_by_ms
            },
            ..self
        }
    }

    /// After the business sent this user a message at `at_ms`: the first reply in time to an
    /// ad's message opens the free-entry-point window.
    pub fn after_reply(self, at_ms: i64) -> Self {
        let in_time = self.free_entry_reply_by_ms.is_some_and(|by| at_ms <= by);
        if in_time && self.free_entry_closes_at_ms.is_none() {
            Self {
                free_entry_closes_at_ms: Some(at_ms + FREE_ENTRY_POINT_MS),
                free_entry_reply_by_ms: None,
                ..self
            }
        } else {
            self
        }
    }

    /// Whether a message that is not a template may be sent at `now_ms`.
    pub fn allows_free_form(&self, now_ms: i64) -> bool {
        self.service_closes_at_ms.is_some_and(|at| now_ms < at)
    }

    /// How long the customer-service window stays open after `now_ms` (0 when closed).
    pub fn service_remaining_ms(&self, now_ms: i64) -> i64 {
        self.service_closes_at_ms
            .map_or(0, |at| (at - now_ms).max(0))
    }

    /// Whether messages sent at `now_ms` are free because a free-entry-point window is open.
    pub fn in_free_entry_point(&self, now_ms: i64) -> bool {
        self.free_entry_closes_at_ms.is_some_and(|at| now_ms < at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_message_keeps_the_window_open_24_hours_and_late_ones_never_shorten_it() {
        let w = UserWindows::default();
        assert!(!w.allows_free_form(0));
        let w = w.after_inbound(1_000, false);
        assert!(w.allows_free_form(1_000 + CUSTOMER_SERVICE_MS - 1));
        assert!(!w.allows_free_form(1_000 + CUSTOMER_SERVICE_MS));
        let w = w.after_inbound(5 * HOUR_MS, false);
        assert_eq!(w.service_closes_at_ms, Some(29 * HOUR_MS));
        // A message older than the last one, delivered late.
        let late = w.after_inbound(2 * HOUR_MS, false);
        assert_eq!(late.service_closes_at_ms, Some(29 * HOUR_MS));
        assert_eq!(w.service_remaining_ms(28 * HOUR_MS), HOUR_MS);
        assert_eq!(w.service_remaining_ms(30 * HOUR_MS), 0);
    }

    #[test]
    fn an_ad_message_answered_in_time_opens_72_free_hours_without_widening_the_service_window() {
        let w = UserWindows::default().after_inbound(0, true);
        assert!(!w.in_free_entry_point(HOUR_MS));
        let w = w.after_reply(2 * HOUR_MS);
        assert!(w.in_free_entry_point(2 * HOUR_MS + FREE_ENTRY_POINT_MS - 1));
        assert!(!w.in_free_entry_point(2 * HOUR_MS + FREE_ENTRY_POINT_MS));
        // Free-form still needs the customer-service window.
        assert!(!w.allows_free_form(30 * HOUR_MS));
        // Only the first reply opens it.
        assert_eq!(w.after_reply(3 * HOUR_MS), w);

        // Answered too late, or not from an ad: no free window.
        let late = UserWindows::default()
            .after_inbound(0, true)
            .after_reply(25 * HOUR_MS);
        assert!(!late.in_free_entry_point(25 * HOUR_MS));
        let plain = UserWindows::default()
            .after_inbound(0, false)
            .after_reply(HOUR_MS);
        assert!(!plain.in_free_entry_point(HOUR_MS));
    }
}
