//! Where a template stands, as users know it, and Meta's edit limits (fact sheet §2.3–§2.4).

use serde::{Deserialize, Serialize};

/// An approved template may be edited at most this many times in [`EDIT_WINDOW_MS`]…
pub const EDITS_PER_WINDOW: usize = 10;
/// …the 30-day window…
pub const EDIT_WINDOW_MS: i64 = 30 * 24 * 3600 * 1000;
/// …and at most once per day.
pub const EDIT_SPACING_MS: i64 = 24 * 3600 * 1000;

/// The user-facing state of a template: Meta's `status` plus its quality score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusLabel {
    /// Short label, e.g. "Active – quality high".
    pub label: String,
    /// `ok`, `pending`, `warning`, `error` or `neutral`, for colour.
    pub tone: String,
    /// Whether campaigns may send it.
    pub sendable: bool,
}

/// Maps Meta's status (`None` for a draft never submitted) and quality score to a label.
pub fn label(status: Option<&str>, quality: Option<&str>) -> StatusLabel {
    let make = |label: &str, tone: &str, sendable| StatusLabel {
        label: label.to_string(),
        tone: tone.to_string(),
        sendable,
    };
    match status {
        None => make("Draft", "neutral", false),
        Some("PENDING") => make("In review", "pending", false),
        Some("APPROVED") => {
            let quality = match quality {
                Some("GREEN") => "high",
                Some("YELLOW") => "medium",
                Some("RED") => "low",
                _ => "pending",
            };
            let tone = if quality == "low" { "warning" } else { "ok" };
            make(&format!("Active – quality {quality}"), tone, true)
        }
        Some("REJECTED") => make("Rejected", "error", false),
        Some("PAUSED") => make("Paused", "warning", false),
        Some("DISABLED") => make("Disabled", "error", false),
        Some("IN_APPEAL") => make("In appeal", "pending", false),
        Some("PENDING_DELETION") => make("Being deleted", "neutral", false),
        Some("DELETED") => make("Deleted", "neutral", false),
        Some("LIMIT_EXCEEDED") => make("Template limit exceeded", "error", false),
        Some("FLAGGED") => make("Flagged", "warning", false),
        Some("REINSTATED") => make("Reinstated", "ok", true),
        Some("ARCHIVED") => make("Archived", "neutral", false),
        Some("LOCKED") => make("Locked", "error", false),
        Some(other) => make(other, "neutral", false),
    }
}

/// Whether Meta lets a template in `status` be edited.
pub fn editable(status: Option<&str>) -> bool {
    matches!(status, None | Some("APPROVED" | "REJECTED" | "PAUSED"))
}

/// Edits left for an approved template given the times of its past edits, and when the next one
/// is allowed (`None` when at once). Rejected and paused templates have no limit.
pub fn edits_left(edit_times_ms: &[i64], now_ms: i64) -> (usize, Option<i64>) {
    let recent: Vec<i64> = edit_times_ms
        .iter()
        .copied()
        .filter(|t| now_ms - t < EDIT_WINDOW_MS)
        .collect();
    let left = EDITS_PER_WINDOW.saturating_sub(recent.len());
    let spacing = recent
        .iter()
        .max()
        .map(|last| last + EDIT_SPACING_MS)
        .filter(|next| *next > now_ms);
    let window = (left == 0)
        .then(|| recent.iter().min().map(|first| first + EDIT_WINDOW_MS))
        .flatten();
    (left, window.or(spacing))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 24 * 3600 * 1000;

    #[test]
    fn statuses_read_as_users_know_them() {
        assert_eq!(label(None, None).label, "Draft");
        assert_eq!(label(Some("PENDING"), None).label, "In review");
        assert_eq!(
            label(Some("APPROVED"), Some("UNKNOWN")).label,
            "Active – quality pending"
        );
        assert_eq!(label(Some("APPROVED"), Some("RED")).tone, "warning");
        assert!(label(Some("APPROVED"), Some("GREEN")).sendable);
        assert!(!label(Some("PAUSED"), Some("RED")).sendable);
        assert!(
            editable(Some("PAUSED")) && !editable(Some("PENDING")) && !editable(Some("DISABLED"))
        );
    }

    #[test]
    fn approved_edits_are_limited_to_ten_a_month_and_one_a_day() {
        assert_eq!(edits_left(&[], 100 * DAY), (10, None));
        assert_eq!(
            edits_left(&[100 * DAY - 3_600_000], 100 * DAY),
            (9, Some(101 * DAY - 3_600_000))
        );
        let ten: Vec<i64> = (0..10).map(|d| (70 + 2 * d) * DAY).collect();
        let (left, next) = edits_left(&ten, 95 * DAY);
        assert_eq!(left, 0);
        assert_eq!(
            next,
            Some(100 * DAY),
            "the oldest edit leaves the 30-day window"
        );
        assert_eq!(edits_left(&ten, 131 * DAY), (10, None));
    }
}
