//! Consent: an append-only record of opt-ins and opt-outs per message category. The latest event
//! for a category decides; nothing is ever removed, so the history answers "why did (or didn't)
//! this person get that message?" years later.
//!
//! An opt-out is sticky: sources a business controls in bulk (an import) cannot lift it; only the
//! contact (an inbound `START`, WhatsApp's "resume" preference, a form) or an explicit, audited
//! action by a user can.

use serde::{Deserialize, Serialize};

/// What kind of messages a consent event is about (Meta's template categories; authentication
/// messages are requested by the user and count as utility).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Promotions, offers, announcements.
    Marketing,
    /// Transactional updates about something the user did.
    Utility,
}

impl Category {
    /// Both categories.
    pub const ALL: [Category; 2] = [Category::Marketing, Category::Utility];

    /// Lowercase name used in forms, APIs and exports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Marketing => "marketing",
            Self::Utility => "utility",
        }
    }

    /// Inverse of [`Category::as_str`], case-insensitive.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// The consent category a template of Meta's `category` needs.
    pub fn of_template(meta_category: &str) -> Self {
        if meta_category.eq_ignore_ascii_case("MARKETING") {
            Self::Marketing
        } else {
            Self::Utility
        }
    }
}

/// Opt in or opt out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentAction {
    /// May receive messages of the categories.
    OptIn,
    /// Must not.
    OptOut,
}

/// Where a consent event came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum ConsentSource {
    /// A contact list import (the file's name).
    Import {
        /// File name.
        file: String,
    },
    /// A program, through Herald's HTTP API.
    Api,
    /// A sign-up form on the business's site or in a store.
    Form,
    /// A Herald user, by hand (their account name).
    User {
        /// Account name.
        by: String,
    },
    /// The contact wrote a keyword such as STOP or START.
    Keyword {
        /// The word as written.
        word: String,
    },
    /// The contact tapped a quick-reply button whose payload means "stop".
    Button {
        /// The button's payload.
        payload: String,
    },
    /// The contact wrote to the business (implies service-window consent only; recorded for
    /// the history, never as a marketing opt-in).
    InboundMessage,
    /// WhatsApp's own "stop/resume marketing" control (`user_preferences` webhook).
    WhatsAppPreference,
    /// Meta refused a marketing template with 131050: the user stopped marketing messages.
    Error131050,
    /// Carried over from a deleted contact's anonymised record.
    Tombstone,
}

impl ConsentSource {
    /// Whether an opt-in from this source may lift an opt-out. Bulk sources may not: a
    /// re-imported list must never silently re-subscribe someone who said stop.
    pub fn may_lift_opt_out(&self) -> bool {
        !matches!(
            self,
            Self::Import { .. } | Self::InboundMessage | Self::Tombstone | Self::Error131050
        )
    }

    /// A short phrase for the consent history.
    pub fn describe(&self) -> String {
        match self {
            Self::Import { file } => format!("import of {file}"),
            Self::Api => "HTTP API".into(),
            Self::Form => "sign-up form".into(),
            Self::User { by } => format!("by {by}"),
            Self::Keyword { word } => format!("the contact wrote {word:?}"),
            Self::Button { payload } => format!("the contact tapped a button ({payload})"),
            Self::InboundMessage => "the contact wrote to the business".into(),
            Self::WhatsAppPreference => "WhatsApp's marketing preference".into(),
            Self::Error131050 => "WhatsApp refused marketing (131050)".into(),
            Self::Tombstone => "history of a deleted contact".into(),
        }
    }
}

/// One consent change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentEvent {
    /// Unix ms.
    pub at_ms: i64,
    /// In or out.
    pub action: ConsentAction,
    /// The categories it covers.
    pub categories: Vec<Category>,
    /// Where it came from.
    pub source: ConsentSource,
}

/// The standing of one category after a history of events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// Never opted in or out.
    Unknown,
    /// Latest event is an opt-in.
    OptedIn,
    /// Latest event is an opt-out.
    OptedOut,
}

/// The standing of `category` given `history` (oldest first).
pub fn standing(history: &[ConsentEvent], category: Category) -> Standing {
    history
        .iter()
        .rev()
        .find(|e| e.categories.contains(&category))
        .map_or(Standing::Unknown, |e| match e.action {
            ConsentAction::OptIn => Standing::OptedIn,
            ConsentAction::OptOut => Standing::OptedOut,
        })
}

/// Appends `event` to `history` where it changes something, obeying two rules:
/// - the opt-out rule: an opt-in from a source that may not lift an opt-out keeps only the
///   categories not opted out;
/// - time order: standing follows the events' own times, not the order they reach Herald. Meta
///   delivers webhooks at least once and in any order, so a START written before a STOP but
///   processed after it (or replayed) changes nothing. At the same instant, opt-out wins.
///
/// Returns whether the history changed. Each category's events stay in time order, which is
/// what [`standing`] reads.
pub fn record(history: &mut Vec<ConsentEvent>, mut event: ConsentEvent) -> bool {
    let wanted = match event.action {
        ConsentAction::OptIn => Standing::OptedIn,
        ConsentAction::OptOut => Standing::OptedOut,
    };
    event.categories.retain(|c| {
        let latest = history.iter().rev().find(|e| e.categories.contains(c));
        let outdated = latest.is_some_and(|last| {
            event.at_ms < last.at_ms
                || (event.at_ms == last.at_ms
                    && event.action == ConsentAction::OptIn
                    && last.action == ConsentAction::OptOut)
        });
        let now = standing(history, *c);
        let blocked = event.action == ConsentAction::OptIn
            && now == Standing::OptedOut
            && !event.source.may_lift_opt_out();
        now != wanted && !blocked && !outdated
    });
    event.categories.sort();
    event.categories.dedup();
    if event.categories.is_empty() {
        return false;
    }
    history.push(event);
    true
}

/// When a consent change reported by a webhook happened, in Unix ms, for ordering against
/// Herald's own (millisecond) events. Meta's timestamps are whole seconds: the user acted at some
/// instant within that second, so the change is placed at its last millisecond. A STOP sent in the
/// same second as an import therefore counts as after it (the safe reading), and two webhook events
/// of one second still tie, where opt-out wins.
pub fn webhook_event_ms(unix_seconds: i64) -> i64 {
    unix_seconds.saturating_mul(1000).saturating_add(999)
}

/// Words that, written alone, mean "stop messaging me", in the languages Herald's users serve.
/// Matching ignores case, accents written or not, and surrounding punctuation.
pub const DEFAULT_STOP_WORDS: &[&str] = &[
    "STOP",
    "STOPP",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "OPTOUT",
    "OPT OUT",
    "STOP ALL",
    "ARRET",
    "ARRÊT",
    "DESINSCRIRE",
    "BAJA",
    "ALTO",
    "PARAR",
    "DETENER",
    "CANCELAR",
    "PARE",
    "SAIR",
    "DESCADASTRAR",
    "IPTAL",
    "İPTAL",
    "DUR",
    "ABMELDEN",
    "STOPPEN",
    "BASTA",
    "ANNULLA",
    "СТОП",
    "ОТПИСАТЬСЯ",
    "توقف",
    "إلغاء",
];

/// Words that mean "send me messages again".
pub const DEFAULT_START_WORDS: &[&str] =
    &["START", "UNSTOP", "SUBSCRIBE", "RESUME", "BAŞLA", "ALTA"];

/// The keyword `text` is, if it is one of `words` written alone.
pub fn keyword_in<'a>(text: &str, words: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let cleaned: String = text
        .trim()
        .trim_matches(|c: char| c.is_ascii_punctuation() || c.is_whitespace())
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if cleaned.is_empty() || cleaned.len() > 40 {
        return None;
    }
    let upper = cleaned.to_uppercase();
    words.into_iter().find(|w| w.to_uppercase() == upper)
}

/// Whether a quick-reply payload means "stop" (Herald's own `OPTOUT_*` payloads, and the
/// wording of Meta's sample opt-out buttons).
pub fn is_stop_payload(payload: &str) -> bool {
    let p = payload.trim().to_ascii_uppercase();
    p.starts_with("OPTOUT")
        || p.starts_with("OPT_OUT")
        || p.starts_with("STOP")
        || p.contains("UNSUBSCRIBE")
        || p.contains("STOP PROMOTIONS")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(action: ConsentAction, source: ConsentSource, at_ms: i64) -> ConsentEvent {
        ConsentEvent {
            at_ms,
            action,
            categories: vec![Category::Marketing, Category::Utility],
            source,
        }
    }

    #[test]
    fn an_import_cannot_lift_an_opt_out_but_the_contact_can() {
        let mut h = Vec::new();
        let import = || ConsentSource::Import {
            file: "list.csv".into(),
        };
        assert!(record(&mut h, event(ConsentAction::OptIn, import(), 1)));
        let mut stop = event(
            ConsentAction::OptOut,
            ConsentSource::Keyword {
                word: "STOP".into(),
            },
            2,
        );
        stop.categories = vec![Category::Marketing];
        assert!(record(&mut h, stop));
        assert_eq!(standing(&h, Category::Marketing), Standing::OptedOut);
        assert_eq!(standing(&h, Category::Utility), Standing::OptedIn);

        // Re-importing changes nothing: utility is already in, marketing is blocked.
        assert!(!record(&mut h, event(ConsentAction::OptIn, import(), 3)));
        assert_eq!(standing(&h, Category::Marketing), Standing::OptedOut);

        assert!(record(
            &mut h,
            event(ConsentAction::OptIn, ConsentSource::WhatsAppPreference, 4)
        ));
        assert_eq!(standing(&h, Category::Marketing), Standing::OptedIn);
        assert_eq!(h.len(), 3, "history is kept");
    }

    fn keyword(action: ConsentAction, word: &str, at_ms: i64) -> ConsentEvent {
        event(action, ConsentSource::Keyword { word: word.into() }, at_ms)
    }

    #[test]
    fn an_older_start_after_a_newer_stop_changes_nothing() {
        // STOP (t=20) reaches Herald before START (t=10): the user's last word was STOP.
        let mut h = Vec::new();
        assert!(record(&mut h, keyword(ConsentAction::OptOut, "STOP", 20)));
        assert!(!record(&mut h, keyword(ConsentAction::OptIn, "START", 10)));
        assert_eq!(standing(&h, Category::Marketing), Standing::OptedOut);

        // START (t=10), STOP (t=20), then START replayed: still out.
        let mut h = Vec::new();
        assert!(record(&mut h, keyword(ConsentAction::OptIn, "START", 10)));
        assert!(record(&mut h, keyword(ConsentAction::OptOut, "STOP", 20)));
        assert!(!record(&mut h, keyword(ConsentAction::OptIn, "START", 10)));
        assert_eq!(standing(&h, Category::Marketing), Standing::OptedOut);
        assert_eq!(h.len(), 2);

        // A newer START does bring them back, and at the same instant STOP wins.
        assert!(!record(&mut h, keyword(ConsentAction::OptIn, "START", 20)));
        assert!(record(&mut h, keyword(ConsentAction::OptIn, "START", 30)));
        assert_eq!(standing(&h, Category::Marketing), Standing::OptedIn);
    }

    #[test]
    fn stop_words_match_alone_and_in_any_case() {
        assert_eq!(
            keyword_in("  stop! ", DEFAULT_STOP_WORDS.iter().copied()),
            Some("STOP")
        );
        assert_eq!(
            keyword_in("İptal", DEFAULT_STOP_WORDS.iter().copied()),
            Some("İPTAL")
        );
        assert_eq!(
            keyword_in("Baja.", DEFAULT_STOP_WORDS.iter().copied()),
            Some("BAJA")
        );
        assert_eq!(
            keyword_in("please don't stop", DEFAULT_STOP_WORDS.iter().copied()),
            None
        );
        assert_eq!(keyword_in("", DEFAULT_STOP_WORDS.iter().copied()), None);
        assert_eq!(keyword_in("Nein danke", ["NEIN DANKE"]), Some("NEIN DANKE"));
        assert!(is_stop_payload("OPTOUT_MKT"));
        assert!(is_stop_payload("STOP_PROMO"));
        assert!(!is_stop_payload("YES_PLEASE"));
    }
}
