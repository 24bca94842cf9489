//! Whether a message may be sent to a user now — asked once, by the dispatcher, for every message
//! Herald sends, just before its request (fact sheet §5.5, §5.6, §9).
//!
//! - A **template** may be sent at any time, except in a consent category the contact opted out
//!   of, and except marketing to a US number (WhatsApp has paused it; Meta answers 131049).
//! - Anything else (**session content**: text, media, buttons, lists, reactions) only while the
//!   customer-service window is open. Meta accepts a free-form message outside it and then
//!   fails it with 131047, so a message that looks sent would never arrive: Herald refuses it
//!   before calling Meta. An opt-out does not close the window: answering a person who wrote
//!   (even "STOP") is a reply, not a business-initiated message.
//!
//! Who belongs in a campaign's audience (opt-in required, variables filled) is a stricter,
//! campaign-level rule in `campaign::eligibility`; this one holds for every origin.

use crate::contacts::consent::{standing, Category, ConsentEvent, Standing};
use crate::whatsapp::window::UserWindows;

/// What kind of message is about to be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendKind {
    /// An approved template of this consent category.
    Template(Category),
    /// Session content: allowed only inside the customer-service window.
    Session,
}

/// Why a message may not be sent now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendRefusal {
    /// The contact opted out of this category.
    OptedOut(Category),
    /// Marketing to a US number, which WhatsApp does not deliver.
    UsMarketing,
    /// The customer-service window is closed: it closed at this instant, or never opened.
    WindowClosed {
        /// When it closed (Unix ms); `None` when the user never wrote to this number.
        closed_at_ms: Option<i64>,
    },
}

impl SendRefusal {
    /// The refusal in a sentence a person acts on.
    pub fn explain(&self) -> String {
        match self {
            Self::OptedOut(category) => {
                format!("the contact opted out of {} messages", category.as_str())
            }
            Self::UsMarketing => {
                "WhatsApp does not deliver marketing templates to US numbers".to_string()
            }
            Self::WindowClosed { closed_at_ms: None } => {
                "this person has never written to this number, so WhatsApp delivers only an \
                 approved template to them"
                    .to_string()
            }
            Self::WindowClosed { .. } => {
                "more than 24 hours have passed since this person last wrote, so WhatsApp \
                 delivers only an approved template to them"
                    .to_string()
            }
        }
    }
}

/// What is known of the recipient when the message is about to leave.
#[derive(Debug, Clone, Copy)]
pub struct Recipient<'a> {
    /// Their consent history (empty when they are not a contact).
    pub consent: &'a [ConsentEvent],
    /// Whether their number is a US number.
    pub us_number: bool,
    /// Their windows with the sending number.
    pub windows: UserWindows,
}

/// Whether a message of `kind` may be sent to `recipient` at `now_ms`.
pub fn admit(kind: SendKind, recipient: Recipient<'_>, now_ms: i64) -> Result<(), SendRefusal> {
    match kind {
        SendKind::Template(category) => {
            if standing(recipient.consent, category) == Standing::OptedOut {
                return Err(SendRefusal::OptedOut(category));
            }
            if category == Category::Marketing && recipient.us_number {
                return Err(SendRefusal::UsMarketing);
            }
            Ok(())
        }
        SendKind::Session if recipient.windows.allows_free_form(now_ms) => Ok(()),
        SendKind::Session => Err(SendRefusal::WindowClosed {
            closed_at_ms: recipient.windows.service_closes_at_ms,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contacts::consent::{ConsentAction, ConsentSource};
    use crate::whatsapp::window::CUSTOMER_SERVICE_MS;

    fn opted(action: ConsentAction, category: Category) -> Vec<ConsentEvent> {
        vec![ConsentEvent {
            at_ms: 1,
            action,
            categories: vec![category],
            source: ConsentSource::Api,
        }]
    }

    fn stranger() -> Recipient<'static> {
        Recipient {
            consent: &[],
            us_number: false,
            windows: UserWindows::default(),
        }
    }

    #[test]
    fn a_template_goes_to_anyone_who_has_not_opted_out_of_its_category() {
        let marketing = SendKind::Template(Category::Marketing);
        assert_eq!(admit(marketing, stranger(), 0), Ok(()));
        let out = opted(ConsentAction::OptOut, Category::Marketing);
        let recipient = Recipient {
            consent: &out,
            ..stranger()
        };
        assert_eq!(
            admit(marketing, recipient, 0),
            Err(SendRefusal::OptedOut(Category::Marketing))
        );
        assert_eq!(
            admit(SendKind::Template(Category::Utility), recipient, 0),
            Ok(()),
            "an opt-out of marketing leaves order updates alone"
        );
    }

    #[test]
    fn marketing_to_a_us_number_is_refused_but_utility_is_not() {
        let us = Recipient {
            us_number: true,
            ..stranger()
        };
        assert_eq!(
            admit(SendKind::Template(Category::Marketing), us, 0),
            Err(SendRefusal::UsMarketing)
        );
        assert_eq!(admit(SendKind::Template(Category::Utility), us, 0), Ok(()));
    }

    #[test]
    fn session_content_needs_an_open_window_and_says_whether_it_ever_opened() {
        assert_eq!(
            admit(SendKind::Session, stranger(), 5),
            Err(SendRefusal::WindowClosed { closed_at_ms: None })
        );
        let wrote = Recipient {
            windows: UserWindows::default().after_inbound(1_000, false),
            ..stranger()
        };
        let closes = 1_000 + CUSTOMER_SERVICE_MS;
        assert_eq!(admit(SendKind::Session, wrote, closes - 1), Ok(()));
        let refused = admit(SendKind::Session, wrote, closes);
        assert_eq!(
            refused,
            Err(SendRefusal::WindowClosed {
                closed_at_ms: Some(closes)
            })
        );
        assert!(refused.unwrap_err().explain().contains("24 hours"));
    }

    #[test]
    fn an_opted_out_person_who_writes_can_still_be_answered() {
        let out = opted(ConsentAction::OptOut, Category::Marketing);
        let wrote = Recipient {
            consent: &out,
            windows: UserWindows::default().after_inbound(0, false),
            us_number: false,
        };
        assert_eq!(admit(SendKind::Session, wrote, 60_000), Ok(()));
    }
}
