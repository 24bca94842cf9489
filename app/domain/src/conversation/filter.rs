//! The inbox's filters and search as one rule, so every page of a keyset-paged list agrees with
//! the first and the counts beside the tabs mean what the tabs show.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Conversation, ConversationStatus};
use crate::text::{begins_words, words};

/// The inbox's tabs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InboxView {
    /// Open conversations.
    #[default]
    Open,
    /// Open conversations whose customer waits for an answer.
    Waiting,
    /// Closed conversations.
    Closed,
    /// Everything.
    All,
}

impl InboxView {
    /// Parses the tab's name in a URL (`open`, `waiting`, `closed`, `all`); anything else is
    /// the default tab.
    pub fn parse(name: &str) -> Self {
        match name {
            "waiting" => Self::Waiting,
            "closed" => Self::Closed,
            "all" => Self::All,
            _ => Self::Open,
        }
    }

    /// The tab's name in a URL.
    pub fn name(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Waiting => "waiting",
            Self::Closed => "closed",
            Self::All => "all",
        }
    }

    /// The tab's label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Open => "Open",
            Self::Waiting => "Waiting for us",
            Self::Closed => "Closed",
            Self::All => "All",
        }
    }
}

/// What the inbox lists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxFilter {
    /// Which tab.
    pub view: InboxView,
    /// Only conversations with unread messages.
    #[serde(default)]
    pub unread_only: bool,
    /// Only this number's conversations.
    #[serde(default)]
    pub connection: Option<Uuid>,
    /// Name, number (international or national format) or message text.
    #[serde(default)]
    pub search: String,
    /// Whose conversations.
    #[serde(default)]
    pub assigned: AssignedFilter,
    /// Only conversations in which the customer answered this campaign.
    #[serde(default)]
    pub replied_to: Option<Uuid>,
}

/// Which conversations by who works them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssignedFilter {
    /// Whoever works them, or nobody.
    #[default]
    Anyone,
    /// The signed-in person's.
    Me,
    /// Nobody's yet.
    Unassigned,
}

impl AssignedFilter {
    /// From its name in a URL (`me`, `unassigned`; anything else is anyone).
    pub fn parse(name: &str) -> Self {
        match name {
            "me" => Self::Me,
            "unassigned" => Self::Unassigned,
            _ => Self::Anyone,
        }
    }

    /// Its name in a URL.
    pub fn name(self) -> &'static str {
        match self {
            Self::Anyone => "",
            Self::Me => "me",
            Self::Unassigned => "unassigned",
        }
    }
}

/// The text of a conversation a search looks in.
pub struct Searchable<'a> {
    /// The contact's name (or WhatsApp profile name).
    pub name: &'a str,
    /// The customer's WhatsApp id (digits).
    pub wa_id: &'a str,
    /// Message texts to look in (the newest message at least).
    pub texts: &'a [&'a str],
}

impl InboxFilter {
    /// Whether a conversation on `connection` is listed for `me` (the signed-in person's name).
    pub fn matches(
        &self,
        conversation: &Conversation,
        connection: Uuid,
        me: Option<&str>,
        text: &Searchable<'_>,
    ) -> bool {
        self.admits(conversation, connection, me) && self.finds(text)
    }

    /// Whether the tab, the unread switch, the number, assignment and campaign filters let the
    /// conversation through for `me` (the search aside).
    pub fn admits(&self, conversation: &Conversation, connection: Uuid, me: Option<&str>) -> bool {
        let assigned = match self.assigned {
            AssignedFilter::Anyone => true,
            AssignedFilter::Me => me.is_some() && conversation.assignee.as_deref() == me,
            AssignedFilter::Unassigned => conversation.assignee.is_none(),
        };
        assigned
            && self
                .replied_to
                .is_none_or(|c| conversation.replied_to_campaign(c))
            && self.admits_by_state(conversation, connection)
    }

    fn admits_by_state(&self, conversation: &Conversation, connection: Uuid) -> bool {
        let in_view = match self.view {
            InboxView::Open => conversation.status == ConversationStatus::Open,
            InboxView::Waiting => conversation.is_waiting(),
            InboxView::Closed => conversation.status == ConversationStatus::Closed,
            InboxView::All => true,
        };
        in_view
            && (!self.unread_only || conversation.unread > 0)
            && self.connection.is_none_or(|c| c == connection)
    }

    /// Whether the search finds the conversation (an empty search finds everything): a number
    /// query anywhere in the customer's WhatsApp id, or every word of the query beginning a
    /// word of the name or of one text. The storage's search index answers by this rule.
    pub fn finds(&self, text: &Searchable<'_>) -> bool {
        let query = self.search.trim();
        if query.is_empty() {
            return true;
        }
        if let Some(digits) = number_query(query) {
            if text.wa_id.contains(&digits) {
                return true;
            }
        }
        let wanted = words(query);
        if wanted.is_empty() {
            return false;
        }
        let mut have = words(text.name);
        for t in text.texts {
            have.extend(words(t));
        }
        begins_words(&have, &wanted)
    }
}

/// The digits a query for a number looks for, when it is one: "+90 532 643", "0532 643" and
/// "532643" all look for "532643" (a national trunk 0 is not part of the WhatsApp id). `None`
/// for a query with letters or fewer than three digits.
pub fn number_query(query: &str) -> Option<String> {
    let is_number = query
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')' | '.'));
    let digits: String = query.chars().filter(char::is_ascii_digit).collect();
    if !is_number || digits.len() < 3 {
        return None;
    }
    if query.trim_start().starts_with('+') {
        return Some(digits);
    }
    Some(digits.trim_start_matches('0').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conversation(status: ConversationStatus, unread: u32, waiting: bool) -> Conversation {
        Conversation {
            status,
            unread,
            waiting_since_ms: waiting.then_some(1),
            ..Conversation::default()
        }
    }

    fn text<'a>(name: &'a str, texts: &'a [&'a str]) -> Searchable<'a> {
        Searchable {
            name,
            wa_id: "905326433210",
            texts,
        }
    }

    #[test]
    fn tabs_unread_and_number_narrow_the_list() {
        let here = Uuid::from_u128(1);
        let waiting = conversation(ConversationStatus::Open, 2, true);
        let answered = conversation(ConversationStatus::Open, 0, false);
        let closed = conversation(ConversationStatus::Closed, 0, true);
        let t = text("Ayşe", &[]);
        let tab = |view| InboxFilter {
            view,
            ..InboxFilter::default()
        };
        assert!(tab(InboxView::Open).matches(&answered, here, None, &t));
        assert!(!tab(InboxView::Open).matches(&closed, here, None, &t));
        assert!(tab(InboxView::Waiting).matches(&waiting, here, None, &t));
        assert!(!tab(InboxView::Waiting).matches(&answered, here, None, &t));
        assert!(
            !tab(InboxView::Waiting).matches(&closed, here, None, &t),
            "a closed conversation waits for nobody"
        );
        assert!(tab(InboxView::Closed).matches(&closed, here, None, &t));
        assert!(tab(InboxView::All).matches(&closed, here, None, &t));
        let unread = InboxFilter {
            unread_only: true,
            ..InboxFilter::default()
        };
        assert!(unread.matches(&waiting, here, None, &t));
        assert!(!unread.matches(&answered, here, None, &t));
        let other_number = InboxFilter {
            connection: Some(Uuid::from_u128(2)),
            ..InboxFilter::default()
        };
        assert!(!other_number.matches(&answered, here, None, &t));
    }

    #[test]
    fn assignment_and_an_answered_campaign_narrow_the_list() {
        let here = Uuid::from_u128(1);
        let t = text("Ayşe", &[]);
        let campaign = Uuid::from_u128(7);
        let mut mine = conversation(ConversationStatus::Open, 0, false);
        mine.assignee = Some("deniz".into());
        mine.on_campaign_reply(campaign);
        let nobodys = conversation(ConversationStatus::Open, 0, false);
        let by = |assigned| InboxFilter {
            assigned,
            ..InboxFilter::default()
        };
        assert!(by(AssignedFilter::Me).matches(&mine, here, Some("deniz"), &t));
        assert!(!by(AssignedFilter::Me).matches(&mine, here, Some("ece"), &t));
        assert!(
            !by(AssignedFilter::Me).matches(&nobodys, here, None, &t),
            "nobody is not me"
        );
        assert!(by(AssignedFilter::Unassigned).matches(&nobodys, here, Some("deniz"), &t));
        assert!(!by(AssignedFilter::Unassigned).matches(&mine, here, Some("deniz"), &t));
        assert!(by(AssignedFilter::Anyone).matches(&mine, here, None, &t));
        let answered = InboxFilter {
            replied_to: Some(campaign),
            ..InboxFilter::default()
        };
        assert!(answered.matches(&mine, here, None, &t));
        assert!(!answered.matches(&nobodys, here, None, &t));
    }

    #[test]
    fn search_finds_names_without_accents_numbers_in_any_format_and_message_text() {
        let texts = ["Is my order shipped?"];
        let t = text("Ayşe Yılmaz", &texts);
        let search = |q: &str| InboxFilter {
            search: q.into(),
            ..InboxFilter::default()
        };
        assert!(search("ayse").finds(&t));
        assert!(search("YILMAZ").finds(&t));
        assert!(search("+90 532 643").finds(&t));
        assert!(search("0532 643").finds(&t), "national format");
        assert!(search("5326433").finds(&t));
        assert!(search("shipped").finds(&t));
        assert!(
            search("ship ORDER").finds(&t),
            "words by their start, any order"
        );
        assert!(!search("hipped").finds(&t), "not from the middle of a word");
        assert!(!search("refund").finds(&t));
        assert!(!search("?!").finds(&t), "no words, nothing found");
        assert!(!search("0999").finds(&t));
        assert!(search("  ").finds(&t));
        assert_eq!(number_query("12"), None, "too short to be a number search");
        assert_eq!(number_query("room 12"), None);
    }
}
