//! What an agent writes in the composer, turned into the message WhatsApp is sent: free text,
//! reply buttons (at most 3) or a list (at most 10 rows), optionally quoting one of the thread's
//! messages. One rule set for the browser, which shows the problems while the agent types, and the
//! server, which refuses the same draft before any request: Meta's own limits
//! ([`validate::outgoing_message`]) plus what Meta would otherwise refuse at send time (two
//! buttons or rows with the same title, whose taps could not be told apart).

use serde::{Deserialize, Serialize};

use crate::contacts::Contact;
use crate::problem::Problem;
use crate::template::preview::fill;
use crate::whatsapp::graph::validate;
use crate::whatsapp::graph::{
    ButtonReply, Interactive, InteractiveAction, InteractiveHeader, ListRow, ListSection,
    MessageContent, OutgoingMessage, Reaction, ReplyButton, ReplyContext, TemplateDefinition, Text,
    TextObject,
};

/// Reply buttons a message may carry.
pub const MAX_BUTTONS: usize = 3;
/// Rows a list message may carry.
pub const MAX_ROWS: usize = 10;

/// Which kind of session message the composer builds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DraftKind {
    /// Free text with WhatsApp formatting.
    #[default]
    Text,
    /// Text with up to three reply buttons.
    Buttons,
    /// Text with a button that opens a list of up to ten rows.
    List,
    /// A photo, video, voice message, document or sticker uploaded to WhatsApp, with the text as
    /// its caption.
    Media,
}

/// A file uploaded to WhatsApp's media endpoint for a [`DraftKind::Media`] draft: sent by its
/// media id, as Meta advises, never by link.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftMedia {
    /// The id WhatsApp gave the upload (valid 30 days).
    pub media_id: String,
    /// `image`, `video`, `audio`, `document` or `sticker` (from the MIME type).
    pub kind: String,
    /// The file's MIME type.
    pub mime_type: String,
    /// The file name the customer sees on a document.
    pub filename: String,
    /// Its size in bytes.
    pub size: u64,
}

impl DraftMedia {
    /// Whether WhatsApp shows a caption under this kind (not under voice messages or stickers).
    pub fn takes_caption(&self) -> bool {
        matches!(self.kind.as_str(), "image" | "video" | "document")
    }
}

/// One row of a list draft.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftRow {
    /// Shown in the list (at most 24 characters).
    pub title: String,
    /// Shown under the title (at most 72 characters); empty for none.
    pub description: String,
}

/// The composer's content, as the browser holds it and the server receives it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionDraft {
    /// Text, buttons or list.
    pub kind: DraftKind,
    /// The message text (the body of buttons and lists).
    pub text: String,
    /// Header text of a buttons or list message; empty for none.
    #[serde(default)]
    pub header: String,
    /// Footer of a buttons or list message; empty for none.
    #[serde(default)]
    pub footer: String,
    /// Button titles, for [`DraftKind::Buttons`]; empty ones are ignored.
    #[serde(default)]
    pub buttons: Vec<String>,
    /// The label of the button that opens the list.
    #[serde(default)]
    pub list_button: String,
    /// List rows, for [`DraftKind::List`]; rows without a title are ignored.
    #[serde(default)]
    pub rows: Vec<DraftRow>,
    /// The wamid of the thread message this answers (shown quoted on the customer's phone).
    #[serde(default)]
    pub reply_to: Option<String>,
    /// The uploaded file, for [`DraftKind::Media`].
    #[serde(default)]
    pub media: Option<DraftMedia>,
}

/// Meta's field names, which name the problems, mapped to the composer's words.
fn composer_field(field: &'static str) -> &'static str {
    match field {
        "text.body" | "interactive.body.text" => "text",
        "caption" => "text",
        "id" | "link" => "media",
        "interactive.header.text" => "header",
        "interactive.footer.text" => "footer",
        "interactive.action.buttons" | "interactive.action.buttons.reply.title" => "buttons",
        "interactive.action.button" => "list_button",
        "interactive.action.sections.rows"
        | "interactive.action.sections.rows.title"
        | "interactive.action.sections.rows.description" => "rows",
        other => other,
    }
}

/// The id a tap or pick brings back: the option's place, so that the thread shows the title the
/// customer saw and automations can match either.
fn option_id(prefix: &str, index: usize) -> String {
    format!("{prefix}-{}", index + 1)
}

fn trimmed(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

impl SessionDraft {
    /// A plain text draft.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            ..Self::default()
        }
    }

    fn titles(&self) -> Vec<String> {
        self.buttons.iter().filter_map(|b| trimmed(b)).collect()
    }

    fn rows(&self) -> Vec<&DraftRow> {
        self.rows
            .iter()
            .filter(|r| !r.title.trim().is_empty())
            .collect()
    }

    /// The message content this draft sends (checked or not: see [`SessionDraft::problems`]).
    pub fn content(&self) -> MessageContent {
        let body = self.text.trim().to_string();
        match self.kind {
            DraftKind::Text => MessageContent::Text {
                text: Text {
                    preview_url: body.contains("https://").then_some(true),
                    body,
                },
            },
            DraftKind::Buttons => MessageContent::Interactive {
                interactive: Box::new(Interactive {
                    kind: "button".into(),
                    header: trimmed(&self.header).map(text_header),
                    body: TextObject { text: body },
                    footer: trimmed(&self.footer).map(|text| TextObject { text }),
                    action: InteractiveAction {
                        buttons: Some(
                            self.titles()
                                .into_iter()
                                .enumerate()
                                .map(|(i, title)| ReplyButton {
                                    kind: "reply".into(),
                                    reply: ButtonReply {
                                        id: option_id("button", i),
                                        title,
                                    },
                                })
                                .collect(),
                        ),
                        ..InteractiveAction::default()
                    },
                }),
            },
            DraftKind::Media => {
                let file = self.media.clone().unwrap_or_default();
                let media = crate::whatsapp::graph::Media {
                    id: Some(file.media_id.clone()).filter(|id| !id.is_empty()),
                    link: None,
                    caption: Some(body).filter(|c| !c.is_empty() && file.takes_caption()),
                    filename: trimmed(&file.filename).filter(|_| file.kind == "document"),
                };
                match file.kind.as_str() {
                    "video" => MessageContent::Video { video: media },
                    "audio" => MessageContent::Audio { audio: media },
                    "document" => MessageContent::Document { document: media },
                    "sticker" => MessageContent::Sticker { sticker: media },
                    _ => MessageContent::Image { image: media },
                }
            }
            DraftKind::List => MessageContent::Interactive {
                interactive: Box::new(Interactive {
                    kind: "list".into(),
                    header: trimmed(&self.header).map(text_header),
                    body: TextObject { text: body },
                    footer: trimmed(&self.footer).map(|text| TextObject { text }),
                    action: InteractiveAction {
                        button: Some(self.list_button.trim().to_string()),
                        sections: Some(vec![ListSection {
                            title: None,
                            rows: self
                                .rows()
                                .into_iter()
                                .enumerate()
                                .map(|(i, row)| ListRow {
                                    id: option_id("row", i),
                                    title: row.title.trim().to_string(),
                                    description: trimmed(&row.description),
                                })
                                .collect(),
                        }]),
                        ..InteractiveAction::default()
                    },
                }),
            },
        }
    }

    /// The whole request for `to` (the quote included).
    pub fn message(&self, to: &str) -> OutgoingMessage {
        let mut message = OutgoingMessage::to(to, self.content());
        message.context = self
            .reply_to
            .as_deref()
            .and_then(trimmed)
            .map(|message_id| ReplyContext { message_id });
        message
    }

    /// Every broken rule, named by the composer's fields; empty when the draft can be sent.
    pub fn problems(&self) -> Vec<Problem> {
        // Checked with a stand-in recipient: the conversation's number is always valid.
        let mut problems: Vec<Problem> = validate::outgoing_message(&self.message("+10000000000"))
            .into_iter()
            .map(|p| Problem {
                field: composer_field(p.field),
                ..p
            })
            .collect();
        let duplicate = |titles: Vec<String>| {
            let mut seen = std::collections::HashSet::new();
            titles
                .into_iter()
                .find(|t| !seen.insert(crate::text::fold(t)))
        };
        match self.kind {
            DraftKind::Text => {}
            DraftKind::Media => match &self.media {
                Some(file) if !file.media_id.is_empty() => {
                    if !file.takes_caption() && !self.text.trim().is_empty() {
                        problems.push(Problem::new(
                            "text",
                            "compose.no_caption",
                            "WhatsApp shows no caption under a voice message or sticker; \
                             send the text on its own",
                        ));
                    }
                }
                _ => {
                    // Meta's "exactly one of an id or a link" means nothing to an agent.
                    problems.retain(|p| p.field != "media");
                    problems.push(Problem::new(
                        "media",
                        "compose.media_missing",
                        "choose a file to send first",
                    ));
                }
            },
            DraftKind::Buttons => {
                if let Some(title) = duplicate(self.titles()) {
                    problems.push(Problem::new(
                        "buttons",
                        "compose.duplicate_button",
                        format!("two buttons are called \"{title}\"; give each its own title"),
                    ));
                }
            }
            DraftKind::List => {
                let titles = self
                    .rows()
                    .iter()
                    .map(|r| r.title.trim().to_string())
                    .collect();
                if let Some(title) = duplicate(titles) {
                    problems.push(Problem::new(
                        "rows",
                        "compose.duplicate_row",
                        format!("two rows are called \"{title}\"; give each its own title"),
                    ));
                }
            }
        }
        problems
    }

    /// A short summary for the ledger and logs.
    pub fn summary(&self) -> String {
        let text: String = self.text.trim().chars().take(80).collect();
        match self.kind {
            DraftKind::Text => text,
            DraftKind::Buttons => format!("{text} [{}]", self.titles().join(" | ")),
            DraftKind::List => format!("{text} [list: {}]", self.list_button.trim()),
            DraftKind::Media => {
                let kind = self.media.as_ref().map_or("file", |m| m.kind.as_str());
                let word = crate::conversation::body::media_word(kind);
                if text.is_empty() {
                    word.to_string()
                } else {
                    format!("{word}: {text}")
                }
            }
        }
    }
}

fn text_header(text: String) -> InteractiveHeader {
    InteractiveHeader {
        kind: "text".into(),
        text: Some(text),
        image: None,
        video: None,
        document: None,
    }
}

/// What a saved reply's placeholder `name` stands for with the customer `wa_id` and their
/// contact: `{{1}}` or `{{first_name}}`, `{{last_name}}`, `{{name}}`, `{{phone}}` and the
/// contact's attributes by name; `None` for what is not known (or empty).
pub fn contact_value(wa_id: &str, contact: Option<&Contact>, name: &str) -> Option<String> {
    match (name, contact) {
        ("phone", _) => Some(format!("+{wa_id}")),
        ("1" | "first_name", Some(c)) => Some(c.first_name.clone()),
        ("last_name", Some(c)) => Some(c.last_name.clone()),
        ("name", Some(c)) => Some(c.display_name()),
        (other, Some(c)) => c.attributes.get(other).map(|v| v.display()),
        (_, None) => None,
    }
    .filter(|v| !v.trim().is_empty())
}

/// The label of the button that opens a saved reply's options when there are more than three,
/// in the reply's language, as WhatsApp labels a template's overflowing buttons.
pub fn all_options_label(language: &str) -> &'static str {
    match language.split(['_', '-']).next().unwrap_or("") {
        "tr" => "Tüm seçenekler",
        "es" => "Ver opciones",
        "pt" => "Ver opções",
        "de" => "Alle Optionen",
        "fr" => "Voir les options",
        _ => "See all options",
    }
}

/// A saved session reply (a Herald-only template, [`crate::template::TemplateKind::SessionReply`])
/// as a composer draft: its text with placeholders filled by `value` (a placeholder `value`
/// does not know stays as written, for the agent to fill), its header and footer, and its
/// quick-reply buttons as reply buttons — or, beyond [`MAX_BUTTONS`], as the rows of a list
/// (WhatsApp shows a template's 4 to 10 buttons the same way).
pub fn from_session_reply(
    definition: &TemplateDefinition,
    value: impl Fn(&str) -> Option<String>,
) -> SessionDraft {
    let component = |kind: &str| {
        definition
            .components
            .iter()
            .find(|c| c.kind.eq_ignore_ascii_case(kind))
    };
    let text_of = |kind: &str| {
        component(kind)
            .and_then(|c| c.text.as_deref())
            .map(|t| fill(t, &value))
            .unwrap_or_default()
    };
    let buttons: Vec<String> = component("BUTTONS")
        .and_then(|c| c.buttons.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|b| b.text.clone())
        .collect();
    let header = component("HEADER")
        .filter(|c| {
            c.format
                .as_deref()
                .is_none_or(|f| f.eq_ignore_ascii_case("TEXT"))
        })
        .map(|_| text_of("HEADER"))
        .unwrap_or_default();
    let draft = SessionDraft {
        text: text_of("BODY"),
        header,
        footer: text_of("FOOTER"),
        ..SessionDraft::default()
    };
    match buttons.len() {
        0 => draft,
        1..=MAX_BUTTONS => SessionDraft {
            kind: DraftKind::Buttons,
            buttons,
            ..draft
        },
        _ => SessionDraft {
            kind: DraftKind::List,
            list_button: all_options_label(&definition.language).into(),
            rows: buttons
                .into_iter()
                .map(|title| DraftRow {
                    title,
                    description: String::new(),
                })
                .collect(),
            ..draft
        },
    }
}

/// A reaction with `emoji` to the message `wamid` (`None` takes the reaction back).
pub fn reaction(wamid: &str, emoji: Option<&str>) -> MessageContent {
    MessageContent::Reaction {
        reaction: Reaction {
            message_id: wamid.to_string(),
            emoji: emoji.unwrap_or_default().to_string(),
        },
    }
}

/// The reactions the thread offers in one tap.
pub const QUICK_REACTIONS: [&str; 6] = ["👍", "❤️", "😂", "😮", "🙏", "✅"];

#[cfg(test)]
mod tests {
    use super::*;

    fn photo(kind: &str, caption: &str) -> SessionDraft {
        SessionDraft {
            kind: DraftKind::Media,
            text: caption.into(),
            media: Some(DraftMedia {
                media_id: "1234".into(),
                kind: kind.into(),
                mime_type: "image/png".into(),
                filename: "parcel.png".into(),
                size: 242,
            }),
            ..SessionDraft::default()
        }
    }

    #[test]
    fn a_file_goes_by_its_media_id_with_the_text_as_caption_where_whatsapp_shows_one() {
        let draft = photo("image", "Here is your parcel");
        assert!(draft.problems().is_empty(), "{:?}", draft.problems());
        let wire = serde_json::to_value(draft.message("+905320000000")).unwrap();
        assert_eq!(wire["type"], "image");
        assert_eq!(
            wire["image"],
            serde_json::json!({"id": "1234", "caption": "Here is your parcel"})
        );
        assert_eq!(draft.summary(), "Photo: Here is your parcel");
        let document = serde_json::to_value(photo("document", "").message("+90532")).unwrap();
        assert_eq!(
            document["document"],
            serde_json::json!({"id": "1234", "filename": "parcel.png"})
        );

        let voice = photo("audio", "a caption");
        assert_eq!(voice.problems()[0].rule, "compose.no_caption");
        let nothing = SessionDraft {
            kind: DraftKind::Media,
            ..SessionDraft::default()
        };
        let problems = nothing.problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(
            (problems[0].field, problems[0].rule),
            ("media", "compose.media_missing")
        );
        let long = photo("image", &"x".repeat(1_025));
        assert_eq!(
            long.problems()[0].field,
            "text",
            "a caption over 1024 characters"
        );
    }

    fn buttons(titles: &[&str]) -> SessionDraft {
        SessionDraft {
            kind: DraftKind::Buttons,
            text: "Shall we book it?".into(),
            buttons: titles.iter().map(|t| (*t).to_string()).collect(),
            ..SessionDraft::default()
        }
    }

    fn rules(draft: &SessionDraft) -> Vec<(&'static str, &'static str)> {
        draft.problems().iter().map(|p| (p.field, p.rule)).collect()
    }

    #[test]
    fn text_needs_words_and_fits_whatsapp() {
        assert_eq!(
            rules(&SessionDraft::text("  ")),
            vec![("text", "graph.missing")]
        );
        assert_eq!(
            rules(&SessionDraft::text("x".repeat(4097))),
            vec![("text", "graph.too_long")]
        );
        assert!(SessionDraft::text("*Hi* there").problems().is_empty());
    }

    #[test]
    fn buttons_are_one_to_three_distinct_short_titles_with_ids_by_place() {
        assert!(rules(&buttons(&[])).contains(&("buttons", "graph.button_count")));
        assert!(rules(&buttons(&["a", "b", "c", "d"])).contains(&("buttons", "graph.button_count")));
        assert!(rules(&buttons(&["A title of more than twenty"]))
            .contains(&("buttons", "graph.too_long")));
        assert_eq!(
            rules(&buttons(&["Yes", "yés"])),
            vec![("buttons", "compose.duplicate_button")]
        );
        // Blank inputs are the composer's empty slots, not buttons.
        let draft = buttons(&["Yes", " ", "No"]);
        assert!(draft.problems().is_empty());
        let MessageContent::Interactive { interactive } = draft.content() else {
            panic!("buttons are interactive");
        };
        let sent: Vec<(String, String)> = interactive
            .action
            .buttons
            .unwrap_or_default()
            .into_iter()
            .map(|b| (b.reply.id, b.reply.title))
            .collect();
        assert_eq!(
            sent,
            vec![
                ("button-1".to_string(), "Yes".to_string()),
                ("button-2".to_string(), "No".to_string())
            ]
        );
    }

    #[test]
    fn a_list_needs_its_button_and_one_to_ten_distinct_rows() {
        let row = |t: &str| DraftRow {
            title: t.into(),
            description: String::new(),
        };
        let mut list = SessionDraft {
            kind: DraftKind::List,
            text: "Pick a time".into(),
            rows: vec![row("Morning"), row("Evening")],
            ..SessionDraft::default()
        };
        assert_eq!(rules(&list), vec![("list_button", "graph.missing")]);
        list.list_button = "Times".into();
        assert!(list.problems().is_empty());
        list.rows = (0..11).map(|i| row(&format!("Slot {i}"))).collect();
        assert_eq!(rules(&list), vec![("rows", "graph.row_count")]);
        list.rows = vec![row("Morning"), row("morning")];
        assert_eq!(rules(&list), vec![("rows", "compose.duplicate_row")]);
        list.rows = vec![DraftRow {
            title: "Morning".into(),
            description: "d".repeat(73),
        }];
        assert_eq!(rules(&list), vec![("rows", "graph.too_long")]);
    }

    #[test]
    fn a_saved_reply_becomes_a_draft_with_what_is_known_filled_in() {
        let definition: TemplateDefinition = serde_json::from_value(serde_json::json!({
            "name": "delivery_day", "language": "en", "category": "UTILITY",
            "components": [
                {"type": "HEADER", "format": "TEXT", "text": "Delivery"},
                {"type": "BODY", "text": "Hi {{first_name}}, order {{order}} can come on:"},
                {"type": "FOOTER", "text": "Reply STOP to opt out"},
                {"type": "BUTTONS", "buttons": [
                    {"type": "QUICK_REPLY", "text": "Monday"},
                    {"type": "QUICK_REPLY", "text": "Tuesday"}]}]
        }))
        .unwrap();
        let draft = from_session_reply(&definition, |name| {
            (name == "first_name").then(|| "Ayşe".to_string())
        });
        assert_eq!(draft.kind, DraftKind::Buttons);
        assert_eq!(draft.text, "Hi Ayşe, order {{order}} can come on:");
        assert_eq!(
            (draft.header.as_str(), draft.footer.as_str()),
            ("Delivery", "Reply STOP to opt out")
        );
        assert_eq!(draft.buttons, ["Monday", "Tuesday"]);
        assert!(draft.problems().is_empty());
    }

    #[test]
    fn a_saved_reply_with_more_than_three_options_becomes_a_list_in_its_language() {
        let days = ["Pazartesi", "Salı", "Çarşamba", "Perşembe", "Cuma"];
        let definition: TemplateDefinition = serde_json::from_value(serde_json::json!({
            "name": "delivery_day", "language": "tr", "category": "UTILITY",
            "components": [
                {"type": "BODY", "text": "Hangi gün gelelim?"},
                {"type": "BUTTONS", "buttons": days.iter().map(|d| serde_json::json!(
                    {"type": "QUICK_REPLY", "text": d})).collect::<Vec<_>>()}]
        }))
        .unwrap();
        let draft = from_session_reply(&definition, |_| None);
        assert_eq!(draft.kind, DraftKind::List);
        assert_eq!(draft.list_button, "Tüm seçenekler");
        let titles: Vec<&str> = draft.rows.iter().map(|r| r.title.as_str()).collect();
        assert_eq!(titles, days);
        assert!(draft.problems().is_empty(), "{:?}", draft.problems());
        assert_eq!(all_options_label("en_US"), "See all options");
        assert_eq!(all_options_label("pt_BR"), "Ver opções");
    }

    #[test]
    fn a_quote_becomes_the_context_of_the_request() {
        let draft = SessionDraft {
            reply_to: Some("wamid.ABC".into()),
            ..SessionDraft::text("Yes, that one")
        };
        let message = draft.message("+905551112233");
        assert_eq!(
            message.context.map(|c| c.message_id).as_deref(),
            Some("wamid.ABC")
        );
        let wire = serde_json::to_value(draft.message("+905551112233")).unwrap();
        assert_eq!(wire["context"]["message_id"], "wamid.ABC");
        assert_eq!(wire["type"], "text");
    }
}
