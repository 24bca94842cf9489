//! Where a campaign and each of its recipients stand, and how delivery reports move a recipient
//! forward. Transitions never go backwards (a late `delivered` cannot undo `read`), so webhooks
//! may arrive late, twice or out of order.

use serde::{Deserialize, Serialize};

use crate::whatsapp::errors::{classify, Disposition, RecipientOutcome};
use crate::whatsapp::status::DeliveryStatus;

/// Why the engine stopped a running campaign (or the user did).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum PauseReason {
    /// Someone pressed pause.
    User,
    /// Meta paused the template for low quality.
    TemplatePaused,
    /// Meta disabled the template.
    TemplateDisabled,
    /// The template is gone or no longer approved.
    TemplateUnavailable,
    /// The sender number's quality rating dropped to RED.
    QualityRed,
    /// The segment or list the audience comes from is gone, so there is nobody to send to.
    AudienceUnavailable {
        /// Which, and what to do.
        detail: String,
    },
    /// Meta refused every send from this number (token, permission, account, billing…).
    Sender {
        /// Meta's code.
        code: Option<i64>,
        /// What it means and what to do.
        detail: String,
    },
}

impl PauseReason {
    /// One sentence for the campaign page.
    pub fn explain(&self) -> String {
        match self {
            Self::User => "Paused by a user.".into(),
            Self::TemplatePaused => "Meta paused the template for low quality. Resume once it is active again (Meta unpauses after 3 or 6 hours).".into(),
            Self::TemplateDisabled => "Meta disabled the template. Choose another template: a disabled one cannot be used again.".into(),
            Self::TemplateUnavailable => "The template is no longer approved in this language.".into(),
            Self::QualityRed => "The number's quality rating dropped to RED. Review recent feedback before resuming.".into(),
            Self::AudienceUnavailable { detail } => detail.clone(),
            Self::Sender { code, detail } => match code {
                Some(code) => format!("WhatsApp stopped the sender (error {code}): {detail}"),
                None => format!("WhatsApp stopped the sender: {detail}"),
            },
        }
    }
}

/// A campaign's lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum CampaignStatus {
    /// Being written; not yet launched.
    Draft,
    /// Launched for a later time.
    Scheduled {
        /// Start, Unix ms.
        at_ms: i64,
    },
    /// Its start passed while Herald was down longer than the grace period: it waits for a person
    /// to confirm or reschedule instead of firing unannounced.
    Overdue {
        /// The missed start, Unix ms.
        at_ms: i64,
    },
    /// The audience is being written down as the recipient list.
    Preparing,
    /// Sending.
    Running,
    /// Stopped until resumed.
    Paused {
        /// Why.
        #[serde(flatten)]
        reason: PauseReason,
    },
    /// Every recipient has an outcome.
    Completed {
        /// Unix ms.
        at_ms: i64,
    },
    /// Stopped for good by a user; unsent recipients stay unsent.
    Cancelled {
        /// Unix ms.
        at_ms: i64,
    },
}

impl CampaignStatus {
    /// Short lowercase name for lists, filters and the API.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Scheduled { .. } => "scheduled",
            Self::Overdue { .. } => "overdue",
            Self::Preparing => "preparing",
            Self::Running => "running",
            Self::Paused { .. } => "paused",
            Self::Completed { .. } => "completed",
            Self::Cancelled { .. } => "cancelled",
        }
    }

    /// Whether the engine should be working on it.
    pub fn is_active(&self) -> bool {
        matches!(self, Self::Preparing | Self::Running)
    }

    /// Whether nothing more will happen to it.
    pub fn is_finished(&self) -> bool {
        matches!(self, Self::Completed { .. } | Self::Cancelled { .. })
    }
}

/// Why a recipient is not sent to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum SkipReason {
    /// Opted out of the template's category.
    OptedOut,
    /// No opt-in on record for the template's category.
    NoOptIn,
    /// The number is not a valid phone number.
    InvalidNumber,
    /// Already in the audience (segment and list overlap, or the same person twice).
    Duplicate,
    /// A template variable has no value and no fallback.
    MissingVariable {
        /// The variable's label.
        variable: String,
    },
    /// Marketing to a US number, which WhatsApp does not deliver.
    UsMarketing,
    /// The campaign this one was cloned from already messaged them.
    AlreadyMessaged,
    /// The contact was deleted before their turn.
    ContactDeleted,
    /// The campaign was cancelled before their turn.
    Cancelled,
}

impl SkipReason {
    /// Stable short key for counts and exports.
    pub fn key(&self) -> &'static str {
        match self {
            Self::OptedOut => "opted_out",
            Self::NoOptIn => "no_opt_in",
            Self::InvalidNumber => "invalid_number",
            Self::Duplicate => "duplicate",
            Self::MissingVariable { .. } => "missing_variable",
            Self::UsMarketing => "us_marketing",
            Self::AlreadyMessaged => "already_messaged",
            Self::ContactDeleted => "contact_deleted",
            Self::Cancelled => "cancelled",
        }
    }

    /// One sentence for reports.
    pub fn explain(&self) -> String {
        match self {
            Self::OptedOut => "opted out of this category".into(),
            Self::NoOptIn => "no opt-in recorded for this category".into(),
            Self::InvalidNumber => "not a valid phone number".into(),
            Self::Duplicate => "already in this audience".into(),
            Self::MissingVariable { variable } => format!("no value for {variable}"),
            Self::UsMarketing => {
                "WhatsApp does not deliver marketing templates to US numbers".into()
            }
            Self::AlreadyMessaged => "already messaged by the original campaign".into(),
            Self::ContactDeleted => "contact deleted".into(),
            Self::Cancelled => "campaign cancelled before sending".into(),
        }
    }
}

/// One recipient's progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RecipientState {
    /// Waiting for its turn (or for a retry time).
    Pending,
    /// Picked for one of the next sends but not handed to the API yet. Nothing has left, so a
    /// restart puts it straight back in the queue.
    Claimed,
    /// Marked durably just before its API request: from here the message may have reached
    /// WhatsApp, so only a status report (or a person) settles it, never an automatic resend.
    Sending,
    /// Accepted by WhatsApp.
    Sent,
    /// On the user's phone.
    Delivered,
    /// Opened.
    Read,
    /// The user wrote back.
    Replied,
    /// Not delivered; will not be retried.
    Failed {
        /// Meta's code, if any.
        code: Option<i64>,
        /// Plain reason.
        reason: String,
    },
    /// Never sent, for this reason.
    Skipped {
        /// Why.
        #[serde(flatten)]
        reason: SkipReason,
    },
    /// The send's answer was lost and no status webhook settled it: it may or may not have
    /// reached the user. Never resent automatically.
    Unknown {
        /// What happened.
        reason: String,
    },
}

/// What a delivery report does to a recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// Nothing changes.
    Stay,
    /// Move to this state.
    To(RecipientState),
    /// 131049: Meta held the message back; send again after 24 hours.
    Defer,
}

impl RecipientState {
    /// Short lowercase name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Claimed => "claimed",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Read => "read",
            Self::Replied => "replied",
            Self::Failed { .. } => "failed",
            Self::Skipped { .. } => "skipped",
            Self::Unknown { .. } => "unknown",
        }
    }

    fn progress(&self) -> u8 {
        match self {
            Self::Sent => 1,
            Self::Delivered => 2,
            Self::Read => 3,
            Self::Replied => 4,
            _ => 0,
        }
    }

    /// Whether the message may have left (so it must never be sent again automatically).
    pub fn was_attempted(&self) -> bool {
        !matches!(self, Self::Pending | Self::Claimed | Self::Skipped { .. })
    }

    /// Whether the recipient still needs the engine.
    pub fn is_open(&self) -> bool {
        matches!(self, Self::Pending | Self::Claimed | Self::Sending)
    }

    /// The effect of a status webhook (`code` is the first error code of a `failed`).
    pub fn on_status(&self, status: DeliveryStatus, code: Option<i64>, reason: &str) -> Transition {
        let target = match status {
            DeliveryStatus::Sent => Self::Sent,
            DeliveryStatus::Delivered => Self::Delivered,
            DeliveryStatus::Read | DeliveryStatus::Played => Self::Read,
            DeliveryStatus::Failed => {
                if self.progress() >= Self::Delivered.progress() {
                    return Transition::Stay;
                }
                let deferred = code.is_some_and(|c| {
                    classify(c).disposition == Disposition::Recipient(RecipientOutcome::Deferred24h)
                });
                if deferred && matches!(self, Self::Sending | Self::Sent | Self::Unknown { .. }) {
                    return Transition::Defer;
                }
                Self::Failed {
                    code,
                    reason: reason.to_string(),
                }
            }
        };
        match self {
            Self::Pending | Self::Claimed | Self::Skipped { .. } => Transition::Stay,
            Self::Sending | Self::Unknown { .. } => Transition::To(target),
            Self::Failed { .. } if target.progress() > 0 => Transition::To(target),
            Self::Failed { .. } => Transition::Stay,
            current if target.progress() > current.progress() => Transition::To(target),
            current if target.progress() == 0 && current.progress() == 1 => Transition::To(target),
            _ => Transition::Stay,
        }
    }

    /// The effect of the user writing back after this message.
    pub fn on_reply(&self) -> Transition {
        match self {
            Self::Sending | Self::Sent | Self::Delivered | Self::Read | Self::Unknown { .. } => {
                Transition::To(Self::Replied)
            }
            _ => Transition::Stay,
        }
    }
}

/// Recipients per state; what the campaign page and list show.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Everyone in the snapshot.
    pub total: u64,
    /// Waiting.
    pub pending: u64,
    /// In flight.
    pub sending: u64,
    /// Accepted, no further report yet.
    pub sent: u64,
    /// Delivered, not read.
    pub delivered: u64,
    /// Read, no reply.
    pub read: u64,
    /// Replied.
    pub replied: u64,
    /// Failed.
    pub failed: u64,
    /// Skipped.
    pub skipped: u64,
    /// Outcome unknown.
    pub unknown: u64,
}

impl Counts {
    fn slot(&mut self, state: &RecipientState) -> &mut u64 {
        match state {
            RecipientState::Pending => &mut self.pending,
            // Claimed ones are about to leave: in flight, as far as a reader can tell.
            RecipientState::Claimed | RecipientState::Sending => &mut self.sending,
            RecipientState::Sent => &mut self.sent,
            RecipientState::Delivered => &mut self.delivered,
            RecipientState::Read => &mut self.read,
            RecipientState::Replied => &mut self.replied,
            RecipientState::Failed { .. } => &mut self.failed,
            RecipientState::Skipped { .. } => &mut self.skipped,
            RecipientState::Unknown { .. } => &mut self.unknown,
        }
    }

    /// Adds a new recipient in `state`.
    pub fn add(&mut self, state: &RecipientState) {
        self.total += 1;
        *self.slot(state) += 1;
    }

    /// Moves one recipient from `from` to `to`.
    pub fn moved(&mut self, from: &RecipientState, to: &RecipientState) {
        let old = self.slot(from);
        *old = old.saturating_sub(1);
        *self.slot(to) += 1;
    }

    /// Accepted by WhatsApp, whatever happened after (the funnel's first step).
    pub fn accepted(&self) -> u64 {
        self.sent + self.delivered + self.read + self.replied
    }

    /// Reached the phone.
    pub fn reached(&self) -> u64 {
        self.delivered + self.read + self.replied
    }

    /// Opened.
    pub fn opened(&self) -> u64 {
        self.read + self.replied
    }

    /// Still to do.
    pub fn open(&self) -> u64 {
        self.pending + self.sending
    }
}

#[cfg(test)]
mod tests {
    use super::RecipientState::*;
    use super::*;
    use DeliveryStatus as D;

    #[test]
    fn reports_only_move_forward_and_late_ones_are_ignored() {
        assert_eq!(Sending.on_status(D::Sent, None, ""), Transition::To(Sent));
        assert_eq!(Sent.on_status(D::Read, None, ""), Transition::To(Read));
        assert_eq!(Read.on_status(D::Delivered, None, ""), Transition::Stay);
        assert_eq!(Replied.on_status(D::Read, None, ""), Transition::Stay);
        assert_eq!(Pending.on_status(D::Sent, None, ""), Transition::Stay);
    }

    #[test]
    fn a_lost_answer_is_settled_by_its_webhook() {
        let unknown = Unknown {
            reason: "timeout".into(),
        };
        assert_eq!(
            unknown.on_status(D::Delivered, None, ""),
            Transition::To(Delivered)
        );
    }

    #[test]
    fn failures_count_until_the_phone_has_the_message() {
        let failed = Sent.on_status(D::Failed, Some(131026), "not on WhatsApp");
        assert!(matches!(
            failed,
            Transition::To(Failed {
                code: Some(131026),
                ..
            })
        ));
        assert_eq!(
            Delivered.on_status(D::Failed, Some(1), ""),
            Transition::Stay
        );
    }

    #[test]
    fn code_131049_defers_instead_of_failing() {
        assert_eq!(
            Sent.on_status(D::Failed, Some(131049), ""),
            Transition::Defer
        );
    }

    #[test]
    fn replies_win_over_every_delivery_state() {
        assert_eq!(Read.on_reply(), Transition::To(Replied));
        assert_eq!(Pending.on_reply(), Transition::Stay);
    }

    #[test]
    fn a_claimed_recipient_has_not_left_and_ignores_reports() {
        assert!(!Claimed.was_attempted());
        assert!(Claimed.is_open());
        assert!(Sending.was_attempted());
        assert_eq!(Claimed.on_status(D::Delivered, None, ""), Transition::Stay);
        assert_eq!(Claimed.on_reply(), Transition::Stay);
    }

    #[test]
    fn counts_follow_moves() {
        let mut counts = Counts::default();
        counts.add(&Pending);
        counts.add(&Pending);
        counts.moved(&Pending, &Sending);
        counts.moved(&Sending, &Read);
        assert_eq!(
            (counts.total, counts.pending, counts.read, counts.opened()),
            (2, 1, 1, 1)
        );
    }
}
