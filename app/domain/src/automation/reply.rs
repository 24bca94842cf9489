//! Which branch of a follow-up a customer's reply takes. People answer "reply 1 or 2" in many
//! ways — "1", "1️⃣", "１", "1.", "(1)", "one", "bir", "Uno!" — and tap buttons whose payload is
//! what counts. One pure rule, so the wizard's preview, the engine and the report agree.

use serde::{Deserialize, Serialize};

use crate::text::fold;

/// A customer's answer as the follow-up sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply<'a> {
    /// A tap on a template's quick-reply button, a reply button or a list row: its payload or id.
    Choice {
        /// The payload (`button.payload`, `button_reply.id`, `list_reply.id`).
        payload: &'a str,
        /// What the button or row said.
        title: &'a str,
    },
    /// Typed text.
    Text(&'a str),
    /// Anything else (a photo, a location, a sticker …).
    Other,
}

/// What starts a branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "on", rename_all = "snake_case")]
pub enum Trigger {
    /// A tap whose payload is this (compared exactly, as Meta echoes it).
    Payload {
        /// The payload.
        payload: String,
    },
    /// A text whose normal form ([`normal_form`]) is one of these values' normal forms.
    Text {
        /// The accepted answers ("1", "A", "yes" …); a digit also accepts its words.
        values: Vec<String>,
    },
    /// Any other reply.
    OtherReply,
    /// No reply within the follow-up's wait.
    NoReply,
}

impl Trigger {
    /// The trigger in words, for the wizard and the report.
    pub fn label(&self) -> String {
        match self {
            Self::Payload { payload } => format!("tapped the button “{payload}”"),
            Self::Text { values } => format!("replied “{}”", values.join("” or “")),
            Self::OtherReply => "any other reply".into(),
            Self::NoReply => "no reply".into(),
        }
    }
}

/// The number words a digit answer also accepts, per language, so "one" and "bir" choose 1.
/// Index = the digit.
const NUMBER_WORDS: &[[&str; 10]] = &[
    // English
    [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    ],
    // Turkish (folded)
    [
        "sifir", "bir", "iki", "uc", "dort", "bes", "alti", "yedi", "sekiz", "dokuz",
    ],
    // Spanish
    [
        "cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve",
    ],
    // Portuguese
    [
        "zero", "um", "dois", "tres", "quatro", "cinco", "seis", "sete", "oito", "nove",
    ],
    // German
    [
        "null", "eins", "zwei", "drei", "vier", "funf", "sechs", "sieben", "acht", "neun",
    ],
    // French
    [
        "zero", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf",
    ],
];

/// The digit a character stands for, in any script WhatsApp users type digits in: ASCII,
/// full-width, Arabic-Indic, Eastern Arabic-Indic, Devanagari, circled and dingbat negatives.
fn digit_of(c: char) -> Option<char> {
    let n = c as u32;
    let value = match n {
        0x30..=0x39 => n - 0x30,
        0xFF10..=0xFF19 => n - 0xFF10,
        0x0660..=0x0669 => n - 0x0660,
        0x06F0..=0x06F9 => n - 0x06F0,
        0x0966..=0x096F => n - 0x0966,
        0x2460..=0x2468 => n - 0x2460 + 1,
        0x2776..=0x277E => n - 0x2776 + 1,
        0x2780..=0x2788 => n - 0x2780 + 1,
        0x278A..=0x2792 => n - 0x278A + 1,
        _ => return None,
    };
    char::from_digit(value, 10)
}

/// The normal form of an answer: folded (case and accents), keycap and other-script digits made
/// ASCII, emoji presentation marks and surrounding punctuation dropped, spaces collapsed; a
/// number word alone becomes its digit. "1️⃣", "１", " (1) ", "One!" and "bir" all give "1".
pub fn normal_form(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in fold(text).chars() {
        match c {
            // Variation selectors and the keycap mark: "1️⃣" is '1' U+FE0F U+20E3.
            '\u{FE0E}' | '\u{FE0F}' | '\u{20E3}' => {}
            '\u{1F51F}' => out.push_str("10"),
            c => match digit_of(c) {
                Some(d) => out.push(d),
                None if c.is_alphanumeric() => out.push(c),
                None => out.push(' '),
            },
        }
    }
    let collapsed = out.split_whitespace().collect::<Vec<_>>().join(" ");
    number_word(&collapsed).map_or(collapsed, |d| d.to_string())
}

fn number_word(word: &str) -> Option<char> {
    NUMBER_WORDS.iter().find_map(|words| {
        words
            .iter()
            .position(|w| *w == word)
            .and_then(|n| char::from_digit(u32::try_from(n).ok()?, 10))
    })
}

/// Whether `reply` starts the branch `trigger` (the no-reply branch is the timer's, never a
/// reply's).
pub fn starts(trigger: &Trigger, reply: &Reply<'_>) -> bool {
    match (trigger, reply) {
        (Trigger::Payload { payload }, Reply::Choice { payload: got, .. }) => payload == got,
        (Trigger::Text { values }, Reply::Text(text)) => {
            let answer = normal_form(text);
            !answer.is_empty() && values.iter().any(|v| normal_form(v) == answer)
        }
        // A tap on a button titled "1" answers "reply 1" too.
        (Trigger::Text { values }, Reply::Choice { title, .. }) => {
            let answer = normal_form(title);
            !answer.is_empty() && values.iter().any(|v| normal_form(v) == answer)
        }
        (Trigger::OtherReply, _) => true,
        _ => false,
    }
}

/// The branch a reply takes among `triggers` (in the order given): a payload match first, then
/// a text match, then "any other reply"; `None` when no branch takes it.
pub fn branch_for(triggers: &[Trigger], reply: &Reply<'_>) -> Option<usize> {
    let first =
        |pick: fn(&Trigger) -> bool| triggers.iter().position(|t| pick(t) && starts(t, reply));
    first(|t| matches!(t, Trigger::Payload { .. }))
        .or_else(|| first(|t| matches!(t, Trigger::Text { .. })))
        .or_else(|| first(|t| matches!(t, Trigger::OtherReply)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_people_type_have_one_normal_form() {
        for (typed, normal) in [
            ("1", "1"),
            ("1️⃣", "1"),
            ("2️⃣", "2"),
            ("１", "1"),
            ("١", "1"),
            ("۲", "2"),
            ("①", "1"),
            (" (1) ", "1"),
            ("1.", "1"),
            ("1)", "1"),
            ("One!", "1"),
            ("ONE", "1"),
            ("bir", "1"),
            ("İki", "2"),
            ("üç", "3"),
            ("Uno", "1"),
            ("dos", "2"),
            ("zwei", "2"),
            ("deux", "2"),
            ("🔟", "10"),
            ("A", "a"),
            ("a)", "a"),
            ("Evet", "evet"),
            ("Yes  please", "yes please"),
            ("one more thing", "one more thing"),
            ("", ""),
            ("👍", ""),
        ] {
            assert_eq!(normal_form(typed), normal, "{typed:?}");
        }
    }

    fn text(values: &[&str]) -> Trigger {
        Trigger::Text {
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    #[test]
    fn a_reply_takes_the_payload_branch_then_the_text_branch_then_any_other() {
        let triggers = [
            text(&["1"]),
            text(&["2", "B"]),
            Trigger::Payload {
                payload: "COUPON".into(),
            },
            Trigger::OtherReply,
            Trigger::NoReply,
        ];
        assert_eq!(branch_for(&triggers, &Reply::Text("1️⃣")), Some(0));
        assert_eq!(branch_for(&triggers, &Reply::Text("one")), Some(0));
        assert_eq!(branch_for(&triggers, &Reply::Text("b")), Some(1));
        assert_eq!(
            branch_for(
                &triggers,
                &Reply::Choice {
                    payload: "COUPON",
                    title: "1"
                }
            ),
            Some(2),
            "the payload wins over a title that reads like a text answer"
        );
        assert_eq!(
            branch_for(
                &triggers,
                &Reply::Choice {
                    payload: "X",
                    title: "2"
                }
            ),
            Some(1),
            "a button titled 2 answers 'reply 2'"
        );
        assert_eq!(branch_for(&triggers, &Reply::Text("12")), Some(3));
        assert_eq!(branch_for(&triggers, &Reply::Other), Some(3));
        assert_eq!(
            branch_for(&triggers[..3], &Reply::Text("maybe")),
            None,
            "no branch, nothing happens"
        );
        assert!(!starts(&Trigger::NoReply, &Reply::Text("1")));
    }
}
