//! Meta's documented limits on a send request (fact sheet §1.1, §1.3, §1.4) as pure rules. The
//! sandbox refuses what breaks them with the code Meta uses ([`graph_code`]); the UI shows the
//! same problems while the user types.

use super::messages::{Interactive, Media, MessageContent, OutgoingMessage, Parameter};
use crate::problem::Problem;

/// Largest `biz_opaque_callback_data`.
pub const MAX_CALLBACK_DATA: usize = 512;
/// Largest text message body.
pub const MAX_TEXT_BODY: usize = 4096;
/// Largest media caption.
pub const MAX_CAPTION: usize = 1024;

fn chars(s: &str) -> usize {
    s.chars().count()
}

fn too_long(problems: &mut Vec<Problem>, field: &'static str, value: &str, max: usize) {
    let n = chars(value);
    if n > max {
        problems.push(Problem::new(
            field,
            "graph.too_long",
            format!("{field} is {n} characters; WhatsApp allows at most {max}"),
        ));
    }
}

fn required(problems: &mut Vec<Problem>, field: &'static str, value: &str) {
    if value.trim().is_empty() {
        problems.push(Problem::new(
            field,
            "graph.missing",
            format!("{field} is required"),
        ));
    }
}

/// Every broken rule of `message`; empty when Meta would accept its shape.
pub fn outgoing_message(message: &OutgoingMessage) -> Vec<Problem> {
    let mut p = Vec::new();
    recipient(&mut p, &message.to);
    if let Some(data) = &message.biz_opaque_callback_data {
        too_long(&mut p, "biz_opaque_callback_data", data, MAX_CALLBACK_DATA);
    }
    match &message.content {
        MessageContent::Text { text } => {
            required(&mut p, "text.body", &text.body);
            too_long(&mut p, "text.body", &text.body, MAX_TEXT_BODY);
        }
        MessageContent::Image { image: m }
        | MessageContent::Document { document: m }
        | MessageContent::Video { video: m } => {
            media(&mut p, m);
            if let Some(caption) = &m.caption {
                too_long(&mut p, "caption", caption, MAX_CAPTION);
            }
        }
        MessageContent::Audio { audio: m } | MessageContent::Sticker { sticker: m } => {
            media(&mut p, m);
        }
        MessageContent::Location { location } => {
            coordinate(&mut p, "location.latitude", &location.latitude, 90.0);
            coordinate(&mut p, "location.longitude", &location.longitude, 180.0);
        }
        MessageContent::Interactive { interactive } => self::interactive(&mut p, interactive),
        MessageContent::Template { template } => {
            required(&mut p, "template.name", &template.name);
            required(&mut p, "template.language.code", &template.language.code);
            for component in &template.components {
                for parameter in &component.parameters {
                    if let Parameter::Text { text, .. } = parameter {
                        template_text_parameter(&mut p, text);
                    }
                }
            }
        }
        MessageContent::Reaction { reaction } => {
            required(&mut p, "reaction.message_id", &reaction.message_id);
            if message.context.is_some() {
                p.push(Problem::new(
                    "context",
                    "graph.reaction_context",
                    "a reaction cannot be sent as a contextual reply",
                ));
            }
        }
    }
    p
}

/// `to`: a phone number in any of the accepted spellings, or a wa_id.
fn recipient(p: &mut Vec<Problem>, to: &str) {
    let digits = to.chars().filter(char::is_ascii_digit).count();
    let allowed = to
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '(' | ')' | ' '));
    if to.trim().is_empty() {
        required(p, "to", to);
    } else if !allowed || !(6..=15).contains(&digits) {
        p.push(Problem::new(
            "to",
            "graph.invalid_recipient",
            "to must be a phone number with its country code, e.g. +16505551234",
        ));
    }
}

fn media(p: &mut Vec<Problem>, media: &Media) {
    match (&media.id, &media.link) {
        (Some(_), None) => {}
        (None, Some(link)) if link.starts_with("https://") || link.starts_with("http://") => {}
        (None, Some(_)) => p.push(Problem::new(
            "link",
            "graph.invalid_link",
            "a media link must start with http:// or https://",
        )),
        _ => p.push(Problem::new(
            "id",
            "graph.media_source",
            "give exactly one of a media id or a link",
        )),
    }
}

fn coordinate(p: &mut Vec<Problem>, field: &'static str, value: &str, limit: f64) {
    match value.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v.abs() <= limit => {}
        _ => p.push(Problem::new(
            field,
            "graph.invalid_coordinate",
            format!("{field} must be a number between -{limit} and {limit}"),
        )),
    }
}

fn interactive(p: &mut Vec<Problem>, i: &Interactive) {
    required(p, "interactive.body.text", &i.body.text);
    if let Some(footer) = &i.footer {
        too_long(p, "interactive.footer.text", &footer.text, 60);
    }
    match i.kind.as_str() {
        "button" => {
            too_long(p, "interactive.body.text", &i.body.text, 1024);
            let buttons = i.action.buttons.as_deref().unwrap_or_default();
            if buttons.is_empty() || buttons.len() > 3 {
                p.push(Problem::new(
                    "interactive.action.buttons",
                    "graph.button_count",
                    "reply-button messages need 1 to 3 buttons",
                ));
            }
            for b in buttons {
                required(p, "interactive.action.buttons.reply.title", &b.reply.title);
                too_long(
                    p,
                    "interactive.action.buttons.reply.title",
                    &b.reply.title,
                    20,
                );
                too_long(p, "interactive.action.buttons.reply.id", &b.reply.id, 256);
            }
        }
        "list" => {
            too_long(p, "interactive.body.text", &i.body.text, 4096);
            if let Some(header) = &i.header {
                if header.kind != "text" {
                    p.push(Problem::new(
                        "interactive.header.type",
                        "graph.list_header",
                        "a list message's header must be text",
                    ));
                }
                too_long(
                    p,
                    "interactive.header.text",
                    header.text.as_deref().unwrap_or_default(),
                    60,
                );
            }
            let button = i.action.button.as_deref().unwrap_or_default();
            required(p, "interactive.action.button", button);
            too_long(p, "interactive.action.button", button, 20);
            let sections = i.action.sections.as_deref().unwrap_or_default();
            if sections.len() > 10 {
                p.push(Problem::new(
                    "interactive.action.sections",
                    "graph.section_count",
                    "a list has at most 10 sections",
                ));
            }
            let rows: usize = sections.iter().map(|s| s.rows.len()).sum();
            if rows == 0 || rows > 10 {
                p.push(Problem::new(
                    "interactive.action.sections.rows",
                    "graph.row_count",
                    "a list needs 1 to 10 rows across all sections",
                ));
            }
            for s in sections {
                if let Some(title) = &s.title {
                    too_long(p, "interactive.action.sections.title", title, 24);
                }
                for r in &s.rows {
                    too_long(p, "interactive.action.sections.rows.id", &r.id, 200);
                    too_long(p, "interactive.action.sections.rows.title", &r.title, 24);
                    if let Some(d) = &r.description {
                        too_long(p, "interactive.action.sections.rows.description", d, 72);
                    }
                }
            }
        }
        _ => p.push(Problem::new(
            "interactive.type",
            "graph.interactive_type",
            "interactive.type must be button or list",
        )),
    }
}

/// Template text parameters may not contain newlines, tabs or more than 4 consecutive spaces.
fn template_text_parameter(p: &mut Vec<Problem>, text: &str) {
    if text.contains(['\n', '\t']) || text.contains("     ") {
        p.push(Problem::new(
            "template.components.parameters.text",
            "graph.parameter_whitespace",
            "Param text cannot have new-line/tab characters or more than 4 consecutive spaces",
        ));
    }
}

/// The Graph API error code Meta answers for a broken rule: 131008 for a missing parameter,
/// 132018 for template parameter formatting, 100 for anything else invalid.
pub fn graph_code(problem: &Problem) -> i64 {
    match problem.rule {
        "graph.missing" => 131008,
        "graph.parameter_whitespace" => 132018,
        _ => 100,
    }
}
