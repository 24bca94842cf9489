//! A campaign's follow-ups: what happens after its template, per recipient — "reply 1 → A,
//! 2 → B, no reply → nothing". The branches a reply can take, what each does, and how long the
//! campaign waits before the no-reply branch; the rules the wizard shows live and the server
//! enforces; and which action a reply or the end of the wait leads to.
//!
//! What may be sent is decided by the types, not by a check at send time: a reply opens the
//! customer-service window, so a reply's branch may send a session message
//! ([`ReplyAction`]); the no-reply branch fires when the customer has said nothing, so the
//! window may be closed, and [`NoReplyAction`] has no free-form variant at all.

use serde::{Deserialize, Serialize};

use super::reply::{branch_for, normal_form, Reply, Trigger};
use crate::contacts::fields::tags_problem as tag_rules;
use crate::Problem;

/// The shortest wait for a reply.
pub const MIN_WAIT_MINUTES: u32 = 1;
/// The longest wait for a reply: 7 days, as long as Meta keeps retrying a webhook.
pub const MAX_WAIT_MINUTES: u32 = 7 * 24 * 60;
/// The field every branch's problems name (the sentence says which branch).
const BRANCHES: &str = "follow_ups.branches";
/// Branches a campaign may have (a list message holds 10 options).
pub const MAX_BRANCHES: usize = 10;
/// The longest follow-up text (WhatsApp's limit for a text message).
pub const MAX_TEXT_CHARS: usize = 4_096;

/// What a reply's branch does. The customer has just written, so the window is open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case")]
pub enum ReplyAction {
    /// Sends this text (WhatsApp formatting allowed).
    SendText {
        /// The text.
        text: String,
    },
    /// Sends a saved session reply (Herald's template id), filled from the contact.
    SendSavedReply {
        /// The saved reply.
        template_id: String,
    },
    /// Tags the contact.
    Tag {
        /// The tag.
        tag: String,
    },
    /// Does nothing more (the reply is still counted for its branch).
    Nothing,
}

impl ReplyAction {
    /// The action in words, for the wizard and the report.
    pub fn label(&self) -> String {
        match self {
            Self::SendText { text } => {
                let start: String = text.chars().take(40).collect();
                let more = if text.chars().count() > 40 { "…" } else { "" };
                format!("sends “{start}{more}”")
            }
            Self::SendSavedReply { .. } => "sends a saved reply".into(),
            Self::Tag { tag } => format!("tags “{tag}”"),
            Self::Nothing => "nothing more".into(),
        }
    }
}

/// What happens when the wait ends without a reply. No session message: the window may be
/// closed, and WhatsApp would refuse free-form text (131047).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case")]
pub enum NoReplyAction {
    /// Tags the contact (for a later campaign to a segment of them).
    Tag {
        /// The tag.
        tag: String,
    },
    /// Nothing more.
    #[default]
    Nothing,
}

/// One branch: what starts it and what it does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Branch {
    /// A button's payload, a text answer, or any other reply.
    pub trigger: Trigger,
    /// What it does.
    pub action: ReplyAction,
}

/// A campaign's follow-ups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUps {
    /// The reply branches, in the order the wizard shows them.
    pub branches: Vec<Branch>,
    /// How long to wait for a reply after the template was sent.
    pub wait_minutes: u32,
    /// What happens when the wait ends without a reply.
    #[serde(default)]
    pub no_reply: NoReplyAction,
}

/// Where a reply or the wait's end leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome<'a> {
    /// Branch `index` was taken; do `action`.
    Branch {
        /// The branch's place, from 0 (what the report counts).
        index: usize,
        /// What to do.
        action: &'a ReplyAction,
    },
    /// A reply no branch takes: counted as "replied something else", nothing is done.
    Unmatched,
}

impl FollowUps {
    /// Where `reply` leads.
    pub fn on_reply(&self, reply: &Reply<'_>) -> Outcome<'_> {
        let triggers: Vec<Trigger> = self.branches.iter().map(|b| b.trigger.clone()).collect();
        match branch_for(&triggers, reply) {
            Some(index) => Outcome::Branch {
                index,
                action: &self.branches[index].action,
            },
            None => Outcome::Unmatched,
        }
    }

    /// When the no-reply branch fires for a template sent at `sent_at_ms`.
    pub fn no_reply_at_ms(&self, sent_at_ms: i64) -> i64 {
        sent_at_ms.saturating_add(i64::from(self.wait_minutes) * 60_000)
    }

    /// Every rule the follow-ups break, each naming its field (`follow_ups.branches` with the
    /// branch's number in the sentence, `follow_ups.wait_minutes`, `follow_ups.no_reply`).
    pub fn problems(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if !(MIN_WAIT_MINUTES..=MAX_WAIT_MINUTES).contains(&self.wait_minutes) {
            problems.push(Problem::new(
                "follow_ups.wait_minutes",
                "follow_up.wait_range",
                format!(
                    "Wait between {MIN_WAIT_MINUTES} minute and 7 days ({MAX_WAIT_MINUTES} minutes) for a reply."
                ),
            ));
        }
        if self.branches.len() > MAX_BRANCHES {
            problems.push(Problem::new(
                "follow_ups.branches",
                "follow_up.too_many_branches",
                format!("A campaign has at most {MAX_BRANCHES} reply branches."),
            ));
        }
        let mut answers: Vec<(String, usize)> = Vec::new();
        for (index, branch) in self.branches.iter().enumerate() {
            match &branch.trigger {
                Trigger::Payload { payload } if payload.trim().is_empty() => {
                    problems.push(Problem::new(
                        BRANCHES,
                        "follow_up.payload_missing",
                        format!("Branch {}: give the button's payload.", index + 1),
                    ));
                }
                Trigger::Payload { payload } => {
                    self.clash(
                        &mut problems,
                        &mut answers,
                        format!("p:{payload}"),
                        index,
                        BRANCHES,
                    );
                }
                Trigger::Text { values } => {
                    let normal: Vec<String> = values
                        .iter()
                        .map(|v| normal_form(v))
                        .filter(|v| !v.is_empty())
                        .collect();
                    if normal.is_empty() {
                        problems.push(Problem::new(
                            BRANCHES,
                            "follow_up.answer_missing",
                            format!(
                                "Branch {}: give the answer that chooses it, such as 1 or yes.",
                                index + 1
                            ),
                        ));
                    }
                    for value in normal {
                        self.clash(
                            &mut problems,
                            &mut answers,
                            format!("t:{value}"),
                            index,
                            BRANCHES,
                        );
                    }
                }
                Trigger::OtherReply => {
                    self.clash(&mut problems, &mut answers, "other".into(), index, BRANCHES);
                }
                Trigger::NoReply => problems.push(Problem::new(
                    BRANCHES,
                    "follow_up.no_reply_is_the_wait",
                    format!(
                        "Branch {}: “no reply” is the wait's own branch, not a reply branch.",
                        index + 1
                    ),
                )),
            }
            match &branch.action {
                ReplyAction::SendText { text } => {
                    let chars = text.trim().chars().count();
                    if chars == 0 || chars > MAX_TEXT_CHARS {
                        problems.push(Problem::new(
                            BRANCHES,
                            "follow_up.text_length",
                            format!(
                                "Branch {}: the message has 1 to {MAX_TEXT_CHARS} characters.",
                                index + 1
                            ),
                        ));
                    }
                }
                ReplyAction::SendSavedReply { template_id } if template_id.trim().is_empty() => {
                    problems.push(Problem::new(
                        BRANCHES,
                        "follow_up.saved_reply_missing",
                        format!("Branch {}: choose the saved reply to send.", index + 1),
                    ));
                }
                ReplyAction::Tag { tag } => {
                    problems.extend(tag_problem(tag, BRANCHES));
                }
                ReplyAction::SendSavedReply { .. } | ReplyAction::Nothing => {}
            }
        }
        if let NoReplyAction::Tag { tag } = &self.no_reply {
            problems.extend(tag_problem(tag, "follow_ups.no_reply"));
        }
        problems
    }

    /// Records `key` as branch `index`'s answer, or reports the branch it already belongs to.
    fn clash(
        &self,
        problems: &mut Vec<Problem>,
        answers: &mut Vec<(String, usize)>,
        key: String,
        index: usize,
        field: &'static str,
    ) {
        match answers.iter().find(|(k, _)| *k == key) {
            Some((_, first)) if *first != index => problems.push(Problem::new(
                field,
                "follow_up.answer_twice",
                format!(
                    "Branch {} answers what branch {} already answers; a reply can take only one.",
                    index + 1,
                    first + 1
                ),
            )),
            Some(_) => {}
            None => answers.push((key, index)),
        }
    }
}

fn tag_problem(tag: &str, field: &'static str) -> Option<Problem> {
    let tag = tag.trim();
    if tag.is_empty() {
        return Some(Problem::new(
            field,
            "follow_up.tag_missing",
            "Give the tag to add.",
        ));
    }
    tag_rules(&[tag.to_string()]).map(|p| Problem::new(field, p.rule, p.message))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Seed 004: reply 1 for the cart, 2 for a coupon, nothing without an answer.
    fn cart_reminder() -> FollowUps {
        FollowUps {
            branches: vec![
                Branch {
                    trigger: Trigger::Text {
                        values: vec!["1".into()],
                    },
                    action: ReplyAction::SendText {
                        text: "Here is your cart: https://shop.example/cart".into(),
                    },
                },
                Branch {
                    trigger: Trigger::Payload {
                        payload: "COUPON".into(),
                    },
                    action: ReplyAction::SendText {
                        text: "Your code: SPRING10".into(),
                    },
                },
                Branch {
                    trigger: Trigger::Text {
                        values: vec!["2".into()],
                    },
                    action: ReplyAction::SendText {
                        text: "Your code: SPRING10".into(),
                    },
                },
            ],
            wait_minutes: 24 * 60,
            no_reply: NoReplyAction::Nothing,
        }
    }

    #[test]
    fn the_cart_reminder_sends_a_or_b_by_the_answer_and_counts_other_replies() {
        let flow = cart_reminder();
        assert!(flow.problems().is_empty(), "{:?}", flow.problems());
        assert!(matches!(
            flow.on_reply(&Reply::Text("1️⃣")),
            Outcome::Branch { index: 0, action: ReplyAction::SendText { text } } if text.contains("cart")
        ));
        assert!(matches!(
            flow.on_reply(&Reply::Choice {
                payload: "COUPON",
                title: "Coupon"
            }),
            Outcome::Branch { index: 1, .. }
        ));
        assert!(matches!(
            flow.on_reply(&Reply::Text("iki")),
            Outcome::Branch { index: 2, .. }
        ));
        assert_eq!(flow.on_reply(&Reply::Text("what?")), Outcome::Unmatched);
        assert_eq!(flow.no_reply_at_ms(1_000), 1_000 + 24 * 60 * 60_000);
    }

    #[test]
    fn broken_follow_ups_are_refused_naming_the_branch_and_the_rule() {
        let rules = |flow: &FollowUps| -> Vec<(&'static str, &'static str)> {
            flow.problems()
                .into_iter()
                .map(|p| (p.field, p.rule))
                .collect()
        };
        let mut flow = cart_reminder();
        flow.wait_minutes = 0;
        assert_eq!(
            rules(&flow),
            [("follow_ups.wait_minutes", "follow_up.wait_range")]
        );
        flow.wait_minutes = MAX_WAIT_MINUTES + 1;
        assert_eq!(rules(&flow).len(), 1);

        let mut flow = cart_reminder();
        flow.branches[2].trigger = Trigger::Text {
            values: vec!["one".into()],
        };
        assert_eq!(
            rules(&flow),
            [("follow_ups.branches", "follow_up.answer_twice")],
            "“one” is 1, which branch 1 answers"
        );

        let mut flow = cart_reminder();
        flow.branches[0].action = ReplyAction::SendText { text: "  ".into() };
        flow.branches[1].trigger = Trigger::Payload {
            payload: String::new(),
        };
        flow.branches[2].trigger = Trigger::NoReply;
        flow.no_reply = NoReplyAction::Tag { tag: String::new() };
        assert_eq!(
            rules(&flow),
            [
                ("follow_ups.branches", "follow_up.text_length"),
                ("follow_ups.branches", "follow_up.payload_missing"),
                ("follow_ups.branches", "follow_up.no_reply_is_the_wait"),
                ("follow_ups.no_reply", "follow_up.tag_missing"),
            ]
        );

        let mut flow = cart_reminder();
        flow.branches = (0..11)
            .map(|n| Branch {
                trigger: Trigger::Text {
                    values: vec![n.to_string()],
                },
                action: ReplyAction::Nothing,
            })
            .collect();
        assert!(rules(&flow)
            .iter()
            .any(|(_, r)| *r == "follow_up.too_many_branches"));
    }
}
