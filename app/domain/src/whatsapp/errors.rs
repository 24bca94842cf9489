//! What a Meta error `code` means for whoever sent the message (fact sheet §4). The engine decides
//! on retries, opt-outs and pauses from [`classify`]; reports show [`ErrorInfo::meaning`].

use serde::{Deserialize, Serialize};

/// How a sender must react to an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Disposition {
    /// Temporary: send the same message again after waiting.
    Retry(RetryKind),
    /// This recipient cannot be messaged (now); everyone else can.
    Recipient(RecipientOutcome),
    /// The sending number, its account, token or template is unusable: stop all sends from it.
    StopSender(StopReason),
    /// The request is malformed; resending it unchanged fails again.
    InvalidRequest,
}

/// Which wait applies before a retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RetryKind {
    /// Capped exponential backoff with jitter (server trouble, app/WABA rate limits).
    Backoff,
    /// 130429: the number's throughput is exhausted; slow the whole sender down.
    Throughput,
    /// 131056: too many messages to this user; back off 4^X seconds for this recipient only.
    PairRate,
    /// 131057: account in maintenance (about a minute).
    Maintenance,
}

/// Why one recipient is skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecipientOutcome {
    /// 131050: the user stopped marketing messages; record the opt-out, never retry.
    OptedOut,
    /// 131049: Meta chose not to deliver (per-user marketing limit, US pause); retry after 24 h.
    Deferred24h,
    /// 131026: not on WhatsApp, old app, or terms not accepted.
    Undeliverable,
    /// 130472: the user is in Meta's marketing experiment holdout.
    ExperimentHoldout,
    /// 131047: free-form message outside the customer-service window; send a template instead.
    WindowClosed,
    /// 131021: the recipient is the sender itself.
    SameAsSender,
    /// 131030: the number is not in the test allow-list.
    NotAllowListed,
    /// 130497: the business may not message users in this country.
    CountryRestricted,
}

/// Why a sender must stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StopReason {
    /// 0, 190: the access token is invalid or expired.
    Authentication,
    /// 3, 10, 200–299, 131005: the token lacks a permission.
    Permission,
    /// 131031: the account is locked or restricted.
    AccountLocked,
    /// 368: temporarily blocked for policy violations.
    PolicyBlock,
    /// 131048: spam rate limit after blocks and reports.
    SpamLimit,
    /// 131042: payment or billing problem.
    Billing,
    /// 131037: the number has no approved display name.
    DisplayName,
    /// 131045: registration certificate problem.
    Certificate,
    /// 132015: the template is paused for low quality.
    TemplatePaused,
    /// 132016: the template is disabled for good.
    TemplateDisabled,
    /// 132001: the template does not exist in this language or is not approved.
    TemplateMissing,
}

/// A classified error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorInfo {
    /// Meta's code.
    pub code: i64,
    /// What Meta says it means, in plain words.
    pub meaning: &'static str,
    /// What a sender does about it.
    pub disposition: Disposition,
}

use Disposition::{InvalidRequest, Recipient, Retry, StopSender};

/// A failure Meta reported, as a person reads it: the code's meaning, the code, and Meta's
/// details when it gave any ("Message undeliverable (error 131026: …)").
pub fn explain_failure(code: i64, details: Option<&str>) -> String {
    let meaning = classify(code).meaning;
    match details {
        Some(d) => format!("{meaning} (error {code}: {d})"),
        None => format!("{meaning} (error {code})"),
    }
}

/// The knowledge table. Unknown codes classify as [`InvalidRequest`] with a generic meaning, the
/// safe choice: nothing is retried blindly, and the code is kept for the report.
pub fn classify(code: i64) -> ErrorInfo {
    let (meaning, disposition) = match code {
        0 => (
            "Authentication failed",
            StopSender(StopReason::Authentication),
        ),
        190 => (
            "Access token expired or invalid",
            StopSender(StopReason::Authentication),
        ),
        3 | 10 | 200..=299 | 131005 => (
            "Permission missing or removed",
            StopSender(StopReason::Permission),
        ),
        1 => ("Invalid request or unknown API error", InvalidRequest),
        2 => (
            "WhatsApp service temporarily unavailable",
            Retry(RetryKind::Backoff),
        ),
        4 => (
            "App-level API rate limit reached",
            Retry(RetryKind::Backoff),
        ),
        80007 => (
            "WhatsApp Business Account rate limit reached",
            Retry(RetryKind::Backoff),
        ),
        130429 => (
            "Throughput limit of the number reached",
            Retry(RetryKind::Throughput),
        ),
        131056 => (
            "Too many messages to this user in a short time (pair rate limit)",
            Retry(RetryKind::PairRate),
        ),
        131057 => (
            "Business account in maintenance mode",
            Retry(RetryKind::Maintenance),
        ),
        131000 => ("Unknown error at WhatsApp", Retry(RetryKind::Backoff)),
        131016 => (
            "WhatsApp service temporarily unavailable",
            Retry(RetryKind::Backoff),
        ),
        131048 => (
            "Spam rate limit: number restricted after blocks or reports",
            StopSender(StopReason::SpamLimit),
        ),
        131049 => (
            "Not delivered to keep engagement healthy (per-user marketing limit)",
            Recipient(RecipientOutcome::Deferred24h),
        ),
        131050 => (
            "The user stopped marketing messages from this business",
            Recipient(RecipientOutcome::OptedOut),
        ),
        130472 => (
            "The user is part of a WhatsApp marketing experiment",
            Recipient(RecipientOutcome::ExperimentHoldout),
        ),
        131047 => (
            "More than 24 hours since the user last wrote; send a template",
            Recipient(RecipientOutcome::WindowClosed),
        ),
        131026 => (
            "Message undeliverable: not on WhatsApp or app outdated",
            Recipient(RecipientOutcome::Undeliverable),
        ),
        131021 => (
            "The recipient is the sending number itself",
            Recipient(RecipientOutcome::SameAsSender),
        ),
        131030 => (
            "The recipient is not in the test allow-list",
            Recipient(RecipientOutcome::NotAllowListed),
        ),
        130497 => (
            "The business may not message users in this country",
            Recipient(RecipientOutcome::CountryRestricted),
        ),
        131031 => (
            "Business account locked or restricted",
            StopSender(StopReason::AccountLocked),
        ),
        368 => (
            "Temporarily blocked for policy violations",
            StopSender(StopReason::PolicyBlock),
        ),
        131042 => (
            "Payment or billing problem on the business account",
            StopSender(StopReason::Billing),
        ),
        131037 => (
            "The number has no approved display name",
            StopSender(StopReason::DisplayName),
        ),
        131045 => (
            "Incorrect registration certificate",
            StopSender(StopReason::Certificate),
        ),
        132015 => (
            "Template paused for low quality",
            StopSender(StopReason::TemplatePaused),
        ),
        132016 => (
            "Template disabled",
            StopSender(StopReason::TemplateDisabled),
        ),
        132001 => (
            "Template does not exist in this language or is not approved",
            StopSender(StopReason::TemplateMissing),
        ),
        100 => ("Invalid parameter", InvalidRequest),
        131008 => ("Required parameter missing", InvalidRequest),
        131009 => ("Parameter value invalid", InvalidRequest),
        131051 => ("Unsupported message type", InvalidRequest),
        131053 => ("Media upload error", InvalidRequest),
        131052 => ("Media download error", InvalidRequest),
        132000 => ("Template parameter count mismatch", InvalidRequest),
        132005 => ("Filled-in template text too long", InvalidRequest),
        132007 => (
            "Template format or character policy violated",
            InvalidRequest,
        ),
        132012 => ("Template parameter format mismatch", InvalidRequest),
        132018 => (
            "Template parameter text has new-lines, tabs or more than 4 spaces",
            InvalidRequest,
        ),
        132068 => ("Flow blocked", InvalidRequest),
        132069 => ("Flow throttled", Retry(RetryKind::Backoff)),
        133016 => ("Registration rate limit reached", Retry(RetryKind::Backoff)),
        135000 => ("Generic user error", InvalidRequest),
        _ => ("Error not known to Herald", InvalidRequest),
    };
    ErrorInfo {
        code,
        meaning,
        disposition,
    }
}

/// Seconds to wait after the `failures`-th consecutive 131056 to one user: Meta's 4^X rule
/// (1, 4, 16, 64, … s), capped at one hour so a recipient is never parked forever.
pub fn pair_rate_backoff_s(failures: u32) -> u64 {
    4u64.checked_pow(failures).map_or(3600, |s| s.min(3600))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code of the fact sheet's table (§4) with the disposition it must get.
    const TABLE: &[(i64, Disposition)] = &[
        (0, StopSender(StopReason::Authentication)),
        (190, StopSender(StopReason::Authentication)),
        (3, StopSender(StopReason::Permission)),
        (10, StopSender(StopReason::Permission)),
        (200, StopSender(StopReason::Permission)),
        (299, StopSender(StopReason::Permission)),
        (131005, StopSender(StopReason::Permission)),
        (4, Retry(RetryKind::Backoff)),
        (80007, Retry(RetryKind::Backoff)),
        (130429, Retry(RetryKind::Throughput)),
        (131056, Retry(RetryKind::PairRate)),
        (131048, StopSender(StopReason::SpamLimit)),
        (131049, Recipient(RecipientOutcome::Deferred24h)),
        (131050, Recipient(RecipientOutcome::OptedOut)),
        (130472, Recipient(RecipientOutcome::ExperimentHoldout)),
        (131047, Recipient(RecipientOutcome::WindowClosed)),
        (131026, Recipient(RecipientOutcome::Undeliverable)),
        (131021, Recipient(RecipientOutcome::SameAsSender)),
        (131030, Recipient(RecipientOutcome::NotAllowListed)),
        (131031, StopSender(StopReason::AccountLocked)),
        (368, StopSender(StopReason::PolicyBlock)),
        (130497, Recipient(RecipientOutcome::CountryRestricted)),
        (131042, StopSender(StopReason::Billing)),
        (131037, StopSender(StopReason::DisplayName)),
        (131045, StopSender(StopReason::Certificate)),
        (131057, Retry(RetryKind::Maintenance)),
        (131000, Retry(RetryKind::Backoff)),
        (131016, Retry(RetryKind::Backoff)),
        (1, InvalidRequest),
        (2, Retry(RetryKind::Backoff)),
        (100, InvalidRequest),
        (131008, InvalidRequest),
        (131009, InvalidRequest),
        (131051, InvalidRequest),
        (131053, InvalidRequest),
        (131052, InvalidRequest),
        (132000, InvalidRequest),
        (132001, StopSender(StopReason::TemplateMissing)),
        (132005, InvalidRequest),
        (132007, InvalidRequest),
        (132012, InvalidRequest),
        (132015, StopSender(StopReason::TemplatePaused)),
        (132016, StopSender(StopReason::TemplateDisabled)),
        (132068, InvalidRequest),
        (132069, Retry(RetryKind::Backoff)),
        (133016, Retry(RetryKind::Backoff)),
        (135000, InvalidRequest),
    ];

    #[test]
    fn every_code_in_the_fact_sheet_has_its_disposition() {
        for &(code, expected) in TABLE {
            let info = classify(code);
            assert_eq!(info.disposition, expected, "code {code}");
            assert_ne!(
                info.meaning, "Error not known to Herald",
                "code {code} has no meaning"
            );
        }
    }

    #[test]
    fn unknown_codes_are_never_retried_blindly() {
        let info = classify(987_654);
        assert_eq!(info.disposition, InvalidRequest);
        assert_eq!(info.code, 987_654);
    }

    #[test]
    fn pair_rate_backoff_follows_four_to_the_x_and_is_capped() {
        let waits: Vec<u64> = (0..5).map(pair_rate_backoff_s).collect();
        assert_eq!(waits, [1, 4, 16, 64, 256]);
        assert_eq!(pair_rate_backoff_s(6), 3600);
        assert_eq!(pair_rate_backoff_s(u32::MAX), 3600);
    }
}
