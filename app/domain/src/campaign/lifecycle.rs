//! The campaign state machine: what each command does to each status, or why it does not apply.
//! The server applies it (inside the stored record's update, so two clicks cannot both win) and
//! both campaign pages show exactly the commands it permits, so the buttons and the server
//! never disagree.

use serde::{Deserialize, Serialize};

use super::state::{CampaignStatus, PauseReason};

/// Something a person (or a program) asks of a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignCommand {
    /// Change the draft.
    EditDraft,
    /// Send now, or at the draft's scheduled time.
    Launch,
    /// Stop sending until resumed.
    Pause,
    /// Carry on after a pause.
    Resume,
    /// Stop for good; everyone not sent yet is settled as cancelled.
    Cancel,
    /// Start now a campaign whose start passed while Herald was down.
    ConfirmStart,
    /// Send again to recipients whose outcome is unknown.
    ResendUnknown,
    /// Move a scheduled start.
    Reschedule,
}

impl CampaignCommand {
    /// Every command, in the order pages show them.
    pub const ALL: [Self; 8] = [
        Self::Launch,
        Self::ConfirmStart,
        Self::Resume,
        Self::Pause,
        Self::ResendUnknown,
        Self::Reschedule,
        Self::EditDraft,
        Self::Cancel,
    ];

    /// The button's words.
    pub fn label(self) -> &'static str {
        match self {
            Self::EditDraft => "Edit",
            Self::Launch => "Launch",
            Self::Pause => "Pause",
            Self::Resume => "Resume",
            Self::Cancel => "Cancel",
            Self::ConfirmStart => "Start now",
            Self::ResendUnknown => "Resend the unknown ones",
            Self::Reschedule => "Reschedule",
        }
    }

    /// The stable lowercase name (`data-testid`s, logs, the API).
    pub fn name(self) -> &'static str {
        match self {
            Self::EditDraft => "edit_draft",
            Self::Launch => "launch",
            Self::Pause => "pause",
            Self::Resume => "resume",
            Self::Cancel => "cancel",
            Self::ConfirmStart => "confirm_start",
            Self::ResendUnknown => "resend_unknown",
            Self::Reschedule => "reschedule",
        }
    }
}

/// Why a command does not apply: one sentence naming the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the next status depends on besides the current one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Facts {
    /// Now, Unix ms.
    pub now_ms: i64,
    /// The start the command asks for (launch: the draft's schedule, `None` for now;
    /// reschedule: the new time; resume: the draft's schedule).
    pub start_at_ms: Option<i64>,
    /// Whether the recipient snapshot was written (the campaign has started once).
    pub prepared: bool,
    /// Recipients whose outcome is unknown.
    pub unknown: u64,
    /// Recipients the launch would send to (launch only).
    pub recipients: Option<u64>,
}

fn refuse<T>(why: &str) -> Result<T, Refusal> {
    Err(Refusal(why.to_string()))
}

impl CampaignStatus {
    /// Whether `command` applies to a campaign in this status at all (the pages' question).
    pub fn permits(&self, command: CampaignCommand, unknown: u64) -> Result<(), Refusal> {
        use CampaignCommand as C;
        let ok = match command {
            C::EditDraft | C::Launch => *self == Self::Draft,
            C::Pause => matches!(
                self,
                Self::Preparing | Self::Running | Self::Scheduled { .. }
            ),
            C::Resume => matches!(self, Self::Paused { .. }),
            C::Cancel => !self.is_finished() && *self != Self::Draft,
            C::ConfirmStart => matches!(self, Self::Overdue { .. }),
            C::ResendUnknown => {
                if matches!(self, Self::Completed { .. }) && unknown == 0 {
                    return refuse("no recipient's outcome is unknown");
                }
                matches!(self, Self::Completed { .. })
            }
            C::Reschedule => matches!(self, Self::Scheduled { .. } | Self::Overdue { .. }),
        };
        if ok {
            return Ok(());
        }
        let why = match command {
            C::EditDraft => "only drafts can be edited; clone the campaign to change it",
            C::Launch => "this campaign was already launched",
            C::Pause => "only running or scheduled campaigns can be paused",
            C::Resume => "only paused campaigns can be resumed",
            C::Cancel => "only launched, unfinished campaigns can be cancelled",
            C::ConfirmStart => "only campaigns waiting after a missed start need confirming",
            C::ResendUnknown => "unknown recipients can be resent once the campaign has finished",
            C::Reschedule => "only scheduled campaigns can be rescheduled",
        };
        refuse(why)
    }

    /// The commands this status permits, in page order.
    pub fn commands(&self, unknown: u64) -> Vec<CampaignCommand> {
        CampaignCommand::ALL
            .into_iter()
            .filter(|c| self.permits(*c, unknown).is_ok())
            .collect()
    }

    /// The status `command` leads to, or why it does not apply now.
    pub fn apply(&self, command: CampaignCommand, facts: &Facts) -> Result<Self, Refusal> {
        use CampaignCommand as C;
        self.permits(command, facts.unknown)?;
        let ahead = facts.start_at_ms.filter(|at| *at > facts.now_ms);
        Ok(match command {
            C::EditDraft => Self::Draft,
            C::Launch => {
                if facts.recipients == Some(0) {
                    return refuse("nobody would receive this campaign: its audience has no eligible recipient");
                }
                match facts.start_at_ms {
                    None => Self::Preparing,
                    Some(_) if ahead.is_none() => {
                        return refuse(
                            "the scheduled time has passed; choose a later time or send now",
                        )
                    }
                    Some(at_ms) => Self::Scheduled { at_ms },
                }
            }
            C::Pause => Self::Paused {
                reason: PauseReason::User,
            },
            // Paused before it ever started: back to its schedule if that is still ahead.
            C::Resume => match (facts.prepared, ahead) {
                (false, Some(at_ms)) => Self::Scheduled { at_ms },
                (false, None) => Self::Preparing,
                (true, _) => Self::Running,
            },
            C::Cancel => Self::Cancelled {
                at_ms: facts.now_ms,
            },
            C::ConfirmStart => Self::Preparing,
            C::ResendUnknown => Self::Running,
            C::Reschedule => match (facts.start_at_ms, ahead) {
                (None, _) => return refuse("choose a date and time"),
                (Some(_), None) => return refuse("the new time has passed; choose a later one"),
                (Some(_), Some(at_ms)) => Self::Scheduled { at_ms },
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::CampaignCommand as C;
    use super::*;

    const NOW: i64 = 1_000_000;

    fn statuses() -> Vec<CampaignStatus> {
        vec![
            CampaignStatus::Draft,
            CampaignStatus::Scheduled {
                at_ms: NOW + 60_000,
            },
            CampaignStatus::Overdue {
                at_ms: NOW - 60_000,
            },
            CampaignStatus::Preparing,
            CampaignStatus::Running,
            CampaignStatus::Paused {
                reason: PauseReason::User,
            },
            CampaignStatus::Completed { at_ms: NOW },
            CampaignStatus::Cancelled { at_ms: NOW },
        ]
    }

    /// The whole table: which commands each status offers (with one unknown recipient).
    #[test]
    fn each_status_offers_exactly_its_commands() {
        let offered: Vec<(&str, Vec<&str>)> = statuses()
            .iter()
            .map(|s| (s.name(), s.commands(1).into_iter().map(C::name).collect()))
            .collect();
        assert_eq!(
            offered,
            vec![
                ("draft", vec!["launch", "edit_draft"]),
                ("scheduled", vec!["pause", "reschedule", "cancel"]),
                ("overdue", vec!["confirm_start", "reschedule", "cancel"]),
                ("preparing", vec!["pause", "cancel"]),
                ("running", vec!["pause", "cancel"]),
                ("paused", vec!["resume", "cancel"]),
                ("completed", vec!["resend_unknown"]),
                ("cancelled", vec![]),
            ]
        );
    }

    #[test]
    fn every_refusal_says_why_and_every_permitted_command_has_a_next_status() {
        let facts = Facts {
            now_ms: NOW,
            start_at_ms: Some(NOW + 1),
            prepared: true,
            unknown: 1,
            recipients: Some(5),
        };
        for status in statuses() {
            for command in CampaignCommand::ALL {
                match (status.permits(command, 1), status.apply(command, &facts)) {
                    (Ok(()), Ok(_)) => {}
                    (Err(a), Err(b)) => {
                        assert_eq!(a, b);
                        assert!(!a.0.is_empty());
                    }
                    other => panic!("{} / {}: {other:?}", status.name(), command.name()),
                }
            }
        }
    }

    #[test]
    fn a_launch_to_nobody_or_into_the_past_is_refused() {
        let draft = CampaignStatus::Draft;
        let nobody = Facts {
            now_ms: NOW,
            recipients: Some(0),
            ..Facts::default()
        };
        assert!(draft
            .apply(C::Launch, &nobody)
            .unwrap_err()
            .0
            .contains("nobody"));
        let past = Facts {
            now_ms: NOW,
            start_at_ms: Some(NOW - 1),
            recipients: Some(3),
            ..Facts::default()
        };
        assert!(draft
            .apply(C::Launch, &past)
            .unwrap_err()
            .0
            .contains("passed"));
        let later = Facts {
            start_at_ms: Some(NOW + 5),
            ..past
        };
        assert_eq!(
            draft.apply(C::Launch, &later),
            Ok(CampaignStatus::Scheduled { at_ms: NOW + 5 })
        );
        let now = Facts {
            start_at_ms: None,
            ..past
        };
        assert_eq!(draft.apply(C::Launch, &now), Ok(CampaignStatus::Preparing));
    }

    #[test]
    fn resume_goes_back_to_the_schedule_or_prepares_or_runs() {
        let paused = CampaignStatus::Paused {
            reason: PauseReason::QualityRed,
        };
        let facts = |prepared, start_at_ms| Facts {
            now_ms: NOW,
            start_at_ms,
            prepared,
            ..Facts::default()
        };
        assert_eq!(
            paused.apply(C::Resume, &facts(false, Some(NOW + 10))),
            Ok(CampaignStatus::Scheduled { at_ms: NOW + 10 })
        );
        assert_eq!(
            paused.apply(C::Resume, &facts(false, Some(NOW - 10))),
            Ok(CampaignStatus::Preparing)
        );
        assert_eq!(
            paused.apply(C::Resume, &facts(true, Some(NOW + 10))),
            Ok(CampaignStatus::Running)
        );
    }

    #[test]
    fn unknown_recipients_are_resent_only_from_a_finished_campaign_that_has_some() {
        let done = CampaignStatus::Completed { at_ms: NOW };
        assert!(done.permits(C::ResendUnknown, 0).is_err());
        assert!(done.permits(C::ResendUnknown, 3).is_ok());
        assert!(CampaignStatus::Running
            .permits(C::ResendUnknown, 3)
            .is_err());
    }

    #[test]
    fn an_overdue_campaign_can_be_rescheduled_but_not_into_the_past() {
        let overdue = CampaignStatus::Overdue { at_ms: NOW - 5 };
        let to = |at| Facts {
            now_ms: NOW,
            start_at_ms: Some(at),
            ..Facts::default()
        };
        assert_eq!(
            overdue.apply(C::Reschedule, &to(NOW + 9)),
            Ok(CampaignStatus::Scheduled { at_ms: NOW + 9 })
        );
        assert!(overdue.apply(C::Reschedule, &to(NOW)).is_err());
    }
}
