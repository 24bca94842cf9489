//! Conversations: one contact's messages with one business number, as an inbox works them.
//!
//! - [`Conversation`] is the inbox row's state and the rules that move it: an inbound message
//!   reopens a closed conversation, counts as unread and starts "waiting for us" if nothing was
//!   waiting; a reply from the business ends the wait; reading clears the unread count. Messages
//!   arrive out of order (Meta retries webhooks), so activity only moves forward.
//! - [`body`] turns what WhatsApp delivered into what a thread shows, for every inbound kind.
//! - [`compose`] is the composer's draft (text, reply buttons, a list, a quote) and its rules.
//! - [`filter`] is the inbox's filter and search, the same rule for every page of it.
//! - [`media`] is what a customer's files may be and how their download is retried.

pub mod body;
pub mod compose;
pub mod filter;
pub mod media;

use serde::{Deserialize, Serialize};

/// Whether someone still has to look at a conversation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationStatus {
    /// Being worked on, or waiting for a reply.
    #[default]
    Open,
    /// Done; the next message from the customer reopens it.
    Closed,
}

impl ConversationStatus {
    /// The word the inbox shows.
    pub fn label(self) -> &'static str {
        match self {
            Self::Open => "Open",
            Self::Closed => "Closed",
        }
    }
}

/// The longest preview kept for the inbox row, in characters.
pub const PREVIEW_CHARS: usize = 120;

/// Who wrote the newest message of a conversation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The customer.
    #[default]
    Inbound,
    /// The business (an agent, a campaign, an automation).
    Outbound,
    /// A teammate's internal note; never sent.
    Note,
}

/// The state of one conversation as the inbox shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    /// Open or closed.
    pub status: ConversationStatus,
    /// Inbound messages nobody has opened the thread for since they arrived.
    pub unread: u32,
    /// When the oldest customer message that has no answer yet arrived (Unix ms).
    pub waiting_since_ms: Option<i64>,
    /// The newest message's time (Unix ms); the inbox's order.
    pub last_activity_ms: i64,
    /// The newest message in one line.
    pub preview: String,
    /// Who wrote the newest message.
    pub last_direction: Direction,
    /// The team member working it (a login name); `None`: nobody yet.
    #[serde(default)]
    pub assignee: Option<String>,
    /// The campaigns the customer answered in it, newest last (at most
    /// [`REMEMBERED_CAMPAIGNS`]): what "has replied to campaign X" looks for.
    #[serde(default)]
    pub replied_to: Vec<uuid::Uuid>,
}

/// How many answered campaigns a conversation remembers.
pub const REMEMBERED_CAMPAIGNS: usize = 20;

impl Conversation {
    /// The customer wrote at `at_ms`.
    pub fn on_inbound(&mut self, at_ms: i64, preview: &str) {
        self.status = ConversationStatus::Open;
        self.unread = self.unread.saturating_add(1);
        self.waiting_since_ms = Some(self.waiting_since_ms.map_or(at_ms, |w| w.min(at_ms)));
        self.touch(at_ms, preview, Direction::Inbound);
    }

    /// The business sent a message at `at_ms`; `answers` is false for messages that do not
    /// answer the customer (a campaign's broadcast), which leave the wait as it is.
    pub fn on_outbound(&mut self, at_ms: i64, preview: &str, answers: bool) {
        if answers && self.waiting_since_ms.is_some_and(|w| w <= at_ms) {
            self.waiting_since_ms = None;
        }
        self.touch(at_ms, preview, Direction::Outbound);
    }

    /// A teammate wrote a note: it shows in the thread, moves nothing else.
    pub fn on_note(&mut self, at_ms: i64, preview: &str) {
        self.touch(at_ms, preview, Direction::Note);
    }

    /// The customer's message answered campaign `campaign`.
    pub fn on_campaign_reply(&mut self, campaign: uuid::Uuid) {
        self.replied_to.retain(|c| *c != campaign);
        self.replied_to.push(campaign);
        if self.replied_to.len() > REMEMBERED_CAMPAIGNS {
            self.replied_to.remove(0);
        }
    }

    /// Whether the customer answered campaign `campaign` here.
    pub fn replied_to_campaign(&self, campaign: uuid::Uuid) -> bool {
        self.replied_to.contains(&campaign)
    }

    /// Someone opened the thread.
    pub fn mark_read(&mut self) {
        self.unread = 0;
    }

    /// Someone wants to come back to it.
    pub fn mark_unread(&mut self) {
        self.unread = self.unread.max(1);
    }

    /// Whether the customer is waiting for an answer.
    pub fn is_waiting(&self) -> bool {
        self.status == ConversationStatus::Open && self.waiting_since_ms.is_some()
    }

    fn touch(&mut self, at_ms: i64, preview: &str, direction: Direction) {
        if at_ms >= self.last_activity_ms {
            self.last_activity_ms = at_ms;
            self.preview = one_line(preview);
            self.last_direction = direction;
        }
    }
}

/// `text` on one line, at most [`PREVIEW_CHARS`] characters, with an ellipsis when cut.
pub fn one_line(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= PREVIEW_CHARS {
        return flat;
    }
    let mut cut: String = flat.chars().take(PREVIEW_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// How long someone has waited, in the inbox's words ("3 min", "2 h 5 min", "4 days").
pub fn waited(since_ms: i64, now_ms: i64) -> String {
    let minutes = (now_ms - since_ms).max(0) / 60_000;
    match minutes {
        0 => "under a minute".into(),
        1..=59 => format!("{minutes} min"),
        60..=1_439 => {
            let (h, m) = (minutes / 60, minutes % 60);
            if m == 0 {
                format!("{h} h")
            } else {
                format!("{h} h {m} min")
            }
        }
        _ => {
            let days = minutes / 1_440;
            if days == 1 {
                "1 day".into()
            } else {
                format!("{days} days")
            }
        }
    }
}

/// What the composer may send now, from when the customer-service window closes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReplyWindow {
    /// Anything may be sent until `closes_at_ms`.
    Open {
        /// When the window closes (Unix ms).
        closes_at_ms: i64,
    },
    /// Only approved templates; `closed_at_ms` is when it closed (`None`: the customer never
    /// wrote).
    Closed {
        /// When it closed.
        closed_at_ms: Option<i64>,
    },
}

impl ReplyWindow {
    /// The window at `now_ms`, from the time it closes.
    pub fn at(service_closes_at_ms: Option<i64>, now_ms: i64) -> Self {
        match service_closes_at_ms {
            Some(closes) if closes > now_ms => Self::Open {
                closes_at_ms: closes,
            },
            closed_at_ms => Self::Closed { closed_at_ms },
        }
    }

    /// Whether free-form content may be sent.
    pub fn is_open(&self) -> bool {
        matches!(self, Self::Open { .. })
    }

    /// The composer's sentence about it at `now_ms`.
    pub fn sentence(&self, now_ms: i64) -> String {
        match self {
            Self::Open { closes_at_ms } => format!(
                "You can reply freely for {} more: WhatsApp's customer-service window closes then.",
                remaining(*closes_at_ms - now_ms)
            ),
            Self::Closed { closed_at_ms: None } => "This person has not written to this number, \
                so WhatsApp delivers only an approved template to them."
                .into(),
            Self::Closed { .. } => "WhatsApp's customer-service window has closed (24 hours after \
                this person last wrote): it delivers only an approved template until they write \
                again."
                .into(),
        }
    }
}

/// A countdown in hours and minutes ("23 h 59 min", "12 min", "under a minute").
pub fn remaining(ms: i64) -> String {
    let minutes = ms.max(0) / 60_000;
    match minutes {
        0 => "under a minute".into(),
        1..=59 => format!("{minutes} min"),
        _ => format!("{} h {} min", minutes / 60, minutes % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_reopens_counts_unread_and_starts_the_wait_once() {
        let mut c = Conversation {
            status: ConversationStatus::Closed,
            ..Conversation::default()
        };
        c.on_inbound(1_000, "Hello");
        c.on_inbound(5_000, "Anyone?");
        assert_eq!(c.status, ConversationStatus::Open);
        assert_eq!(c.unread, 2);
        assert_eq!(
            c.waiting_since_ms,
            Some(1_000),
            "the wait began with the first"
        );
        assert_eq!(c.preview, "Anyone?");
        assert!(c.is_waiting());

        c.mark_read();
        assert_eq!(c.unread, 0);
        assert!(c.is_waiting(), "reading is not answering");
        c.on_outbound(6_000, "Yes, how can we help?", true);
        assert!(!c.is_waiting());
        assert_eq!(c.last_direction, Direction::Outbound);
        c.mark_unread();
        assert_eq!(c.unread, 1);
    }

    #[test]
    fn answered_campaigns_are_remembered_once_each_newest_last_and_bounded() {
        let mut c = Conversation::default();
        let (a, b) = (uuid::Uuid::from_u128(1), uuid::Uuid::from_u128(2));
        c.on_campaign_reply(a);
        c.on_campaign_reply(b);
        c.on_campaign_reply(a);
        assert_eq!(c.replied_to, vec![b, a]);
        for i in 10..40 {
            c.on_campaign_reply(uuid::Uuid::from_u128(i));
        }
        assert_eq!(c.replied_to.len(), REMEMBERED_CAMPAIGNS);
        assert!(!c.replied_to_campaign(a), "the oldest are forgotten first");
        assert!(c.replied_to_campaign(uuid::Uuid::from_u128(39)));
    }

    #[test]
    fn late_webhooks_never_move_activity_back_and_broadcasts_do_not_answer() {
        let mut c = Conversation::default();
        c.on_inbound(10_000, "newest");
        c.on_inbound(2_000, "older, delivered late");
        assert_eq!((c.last_activity_ms, c.preview.as_str()), (10_000, "newest"));
        assert_eq!(c.waiting_since_ms, Some(2_000));
        c.on_outbound(11_000, "Spring sale", false);
        assert!(c.is_waiting(), "a campaign message is no answer");
        // An answer sent before a message arrived does not answer that message.
        c.on_outbound(1_000, "old answer", true);
        assert!(c.is_waiting());
    }

    #[test]
    fn previews_are_one_line_and_bounded() {
        assert_eq!(one_line("a\n\n  b\tc"), "a b c");
        let long = "x".repeat(500);
        let cut = one_line(&long);
        assert_eq!(cut.chars().count(), PREVIEW_CHARS);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn the_window_says_how_long_is_left_or_why_only_templates_go() {
        let open = ReplyWindow::at(Some(90 * 60_000), 0);
        assert!(open.is_open());
        assert!(
            open.sentence(0).contains("1 h 30 min"),
            "{}",
            open.sentence(0)
        );
        let closed = ReplyWindow::at(Some(1_000), 1_000);
        assert!(!closed.is_open(), "it closes at that instant");
        assert!(closed.sentence(2_000).contains("approved template"));
        let never = ReplyWindow::at(None, 0);
        assert!(never.sentence(0).contains("has not written"));
    }

    #[test]
    fn waits_read_as_a_person_would_say_them() {
        assert_eq!(waited(0, 30_000), "under a minute");
        assert_eq!(waited(0, 5 * 60_000), "5 min");
        assert_eq!(waited(0, 125 * 60_000), "2 h 5 min");
        assert_eq!(waited(0, 120 * 60_000), "2 h");
        assert_eq!(waited(0, 3 * 1_440 * 60_000), "3 days");
        assert_eq!(
            waited(10, 0),
            "under a minute",
            "a clock step back is no wait"
        );
    }
}
