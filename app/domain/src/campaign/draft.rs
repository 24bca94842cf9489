//! What the campaign wizard produces and the rules it must satisfy before it can be saved or
//! launched. The browser shows [`validate`]'s problems live; the server refuses a draft that has
//! any, so the two can never disagree.

use serde::{Deserialize, Serialize};

use super::render::Slot;
use super::window;
use crate::Problem;

/// Longest campaign name.
pub const NAME_MAX_CHARS: usize = 100;

/// Where a template variable takes its value from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BindingSource {
    /// The contact's first name.
    FirstName,
    /// The contact's last name.
    LastName,
    /// First and last name.
    FullName,
    /// The contact's number in E.164.
    Phone,
    /// A custom attribute.
    Attribute {
        /// Attribute name as stored.
        name: String,
    },
    /// The same text for everyone.
    Fixed {
        /// The text.
        value: String,
    },
}

/// One template variable bound to a source, with a fallback for contacts who have no value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariableBinding {
    /// The variable.
    pub slot: Slot,
    /// Where its value comes from.
    pub source: BindingSource,
    /// Used when the source is empty; empty means "skip contacts without a value".
    #[serde(default)]
    pub fallback: String,
}

/// When the campaign starts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "when", rename_all = "snake_case")]
pub enum Schedule {
    /// As soon as it is launched.
    #[default]
    Now,
    /// At a wall-clock time in a time zone.
    At {
        /// `YYYY-MM-DDTHH:MM`, as an `<input type="datetime-local">` gives it.
        local: String,
        /// IANA zone, e.g. `Europe/Istanbul`.
        time_zone: String,
    },
}

/// Daily hours in which sends may happen, in each contact's own time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendingWindow {
    /// `HH:MM`, inclusive.
    pub start: String,
    /// `HH:MM`, exclusive; earlier than `start` means the window spans midnight.
    pub end: String,
    /// Zone for contacts without one.
    pub time_zone: String,
}

/// A campaign as the wizard and the API describe it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CampaignDraft {
    /// Shown in lists and reports.
    pub name: String,
    /// The sender connection (id).
    pub connection_id: String,
    /// A saved segment (id).
    #[serde(default)]
    pub segment_id: Option<String>,
    /// A finished contacts import (id) whose rows are the audience.
    #[serde(default)]
    pub import_id: Option<String>,
    /// An approved template (Herald's id).
    pub template_id: String,
    /// A binding for every template variable.
    #[serde(default)]
    pub bindings: Vec<VariableBinding>,
    /// Start time.
    #[serde(default)]
    pub schedule: Schedule,
    /// Optional daily sending hours.
    #[serde(default)]
    pub window: Option<SendingWindow>,
    /// What happens after the template, per recipient, by their reply (or its absence).
    #[serde(default)]
    pub follow_ups: Option<crate::automation::follow_up::FollowUps>,
}

fn blank(value: &Option<String>) -> bool {
    value.as_deref().is_none_or(|v| v.trim().is_empty())
}

/// Every rule `draft` breaks, given the `slots` of its template (empty before one is chosen).
pub fn validate(draft: &CampaignDraft, slots: &[Slot]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let name = draft.name.trim();
    if name.is_empty() {
        problems.push(Problem::new(
            "name",
            "campaign.name_required",
            "Give the campaign a name.",
        ));
    } else if name.chars().count() > NAME_MAX_CHARS {
        problems.push(Problem::new(
            "name",
            "campaign.name_too_long",
            format!("The name may have at most {NAME_MAX_CHARS} characters."),
        ));
    }
    if draft.connection_id.trim().is_empty() {
        problems.push(Problem::new(
            "connection_id",
            "campaign.connection_required",
            "Choose the number to send from.",
        ));
    }
    if blank(&draft.segment_id) && blank(&draft.import_id) {
        problems.push(Problem::new(
            "audience",
            "campaign.audience_required",
            "Choose a segment, an imported list, or both.",
        ));
    }
    if draft.template_id.trim().is_empty() {
        problems.push(Problem::new(
            "template_id",
            "campaign.template_required",
            "Choose an approved template.",
        ));
    }
    for slot in slots {
        match draft.bindings.iter().find(|b| &b.slot == slot) {
            None => problems.push(Problem::new(
                "bindings",
                "campaign.variable_unbound",
                format!("Choose where {} takes its value from.", slot.label()),
            )),
            Some(b) => match &b.source {
                BindingSource::Fixed { value } if value.trim().is_empty() => {
                    problems.push(Problem::new(
                        "bindings",
                        "campaign.fixed_value_empty",
                        format!("Type the text for {}.", slot.label()),
                    ));
                }
                BindingSource::Attribute { name } if name.trim().is_empty() => {
                    problems.push(Problem::new(
                        "bindings",
                        "campaign.attribute_unnamed",
                        format!("Choose the attribute for {}.", slot.label()),
                    ));
                }
                _ => {}
            },
        }
    }
    if let Schedule::At { local, time_zone } = &draft.schedule {
        if let Err(message) = window::check_local(local, time_zone) {
            problems.push(Problem::new(
                "schedule",
                "campaign.schedule_invalid",
                message,
            ));
        }
    }
    if let Some(w) = &draft.window {
        match (
            window::minute_of_day(&w.start),
            window::minute_of_day(&w.end),
        ) {
            (Some(a), Some(b)) if a == b => problems.push(Problem::new(
                "window",
                "campaign.window_empty",
                "The sending window must not start and end at the same time.",
            )),
            (Some(_), Some(_)) => {}
            _ => problems.push(Problem::new(
                "window",
                "campaign.window_time_invalid",
                "Write the sending hours as HH:MM, e.g. 09:00 and 20:00.",
            )),
        }
        if window::zone(&w.time_zone).is_none() {
            problems.push(Problem::new(
                "window",
                "campaign.time_zone_unknown",
                format!(
                    "“{}” is not a time zone; use a name such as Europe/Istanbul.",
                    w.time_zone
                ),
            ));
        }
    }
    if let Some(follow_ups) = &draft.follow_ups {
        problems.extend(follow_ups.problems());
    }
    problems
}

/// The schedule's problems at `now_ms`, beyond its form: a start that has passed, which the
/// wizard shows on the field as it is typed and the server refuses before anything is saved.
/// Needs the zone's offsets, so it runs on the server (the browser asks for it).
pub fn schedule_problems(schedule: &Schedule, now_ms: i64) -> Vec<Problem> {
    let Schedule::At { local, time_zone } = schedule else {
        return Vec::new();
    };
    match window::local_to_utc_ms(local, time_zone) {
        Err(message) => vec![Problem::new(
            "schedule",
            "campaign.schedule_invalid",
            message,
        )],
        Ok(at) if at <= now_ms => vec![Problem::new(
            "schedule",
            "campaign.schedule_past",
            format!("{local} in {time_zone} has already passed; choose a later time or send now."),
        )],
        Ok(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> CampaignDraft {
        CampaignDraft {
            name: "Spring sale".into(),
            connection_id: "c".into(),
            segment_id: Some("s".into()),
            template_id: "t".into(),
            bindings: vec![VariableBinding {
                slot: Slot::Body { name: "1".into() },
                source: BindingSource::FirstName,
                fallback: "friend".into(),
            }],
            ..CampaignDraft::default()
        }
    }

    fn rules(draft: &CampaignDraft) -> Vec<&'static str> {
        validate(draft, &[Slot::Body { name: "1".into() }])
            .into_iter()
            .map(|p| p.rule)
            .collect()
    }

    #[test]
    fn a_complete_draft_passes() {
        assert!(rules(&good()).is_empty());
    }

    #[test]
    fn each_missing_part_is_named() {
        let draft = CampaignDraft::default();
        assert_eq!(
            rules(&draft),
            [
                "campaign.name_required",
                "campaign.connection_required",
                "campaign.audience_required",
                "campaign.template_required",
                "campaign.variable_unbound"
            ]
        );
    }

    #[test]
    fn fixed_values_schedule_and_window_are_checked() {
        let mut draft = good();
        draft.bindings[0].source = BindingSource::Fixed { value: " ".into() };
        draft.schedule = Schedule::At {
            local: "2026-13-01T10:00".into(),
            time_zone: "Europe/Istanbul".into(),
        };
        draft.window = Some(SendingWindow {
            start: "9am".into(),
            end: "20:00".into(),
            time_zone: "Mars/Olympus".into(),
        });
        assert_eq!(
            rules(&draft),
            [
                "campaign.fixed_value_empty",
                "campaign.schedule_invalid",
                "campaign.window_time_invalid",
                "campaign.time_zone_unknown"
            ]
        );
    }

    #[test]
    fn a_start_that_has_passed_is_a_problem_of_the_schedule_field() {
        let at = |local: &str| Schedule::At {
            local: local.into(),
            time_zone: "Europe/Istanbul".into(),
        };
        // 2026-06-01T12:00 in Istanbul (UTC+3) is 09:00 UTC.
        let nine_utc = 1_780_304_400_000;
        assert!(schedule_problems(&at("2026-06-01T12:01"), nine_utc).is_empty());
        let past = schedule_problems(&at("2026-06-01T12:00"), nine_utc);
        assert_eq!(past.len(), 1);
        assert_eq!(
            (past[0].field, past[0].rule),
            ("schedule", "campaign.schedule_past")
        );
        assert!(past[0].message.contains("already passed"));
        assert!(schedule_problems(&Schedule::Now, nine_utc).is_empty());
        assert_eq!(
            schedule_problems(&at("tomorrow"), 0)[0].rule,
            "campaign.schedule_invalid"
        );
    }
}
