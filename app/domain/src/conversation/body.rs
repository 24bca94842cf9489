//! What a thread shows for a message, whatever WhatsApp delivered: a tap shows the button that
//! was tapped (never "[Message]"), a list pick its row, media its kind and caption, a location its
//! place. Stored with the thread entry, so the thread never re-parses webhooks.

use serde::{Deserialize, Serialize};

use crate::whatsapp::graph::{Interactive, MessageContent};
use crate::whatsapp::webhook::{InboundContent, MediaKind, OrderItem};

/// A message as the thread shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "body", rename_all = "snake_case")]
pub enum Body {
    /// Free text.
    Text {
        /// The text as written (WhatsApp formatting kept).
        text: String,
    },
    /// A tap on a quick-reply button (of a template or an interactive message).
    Tap {
        /// The button's label.
        label: String,
        /// The payload or button id it carried.
        payload: String,
    },
    /// A row picked from a list message.
    ListPick {
        /// The row's title.
        title: String,
        /// The row id it carried.
        id: String,
        /// The row's description.
        description: Option<String>,
    },
    /// A photo, video, voice note, file or sticker.
    Media {
        /// `image`, `video`, `audio`, `document` or `sticker`.
        media: String,
        /// Caption.
        caption: Option<String>,
        /// File name, for documents.
        filename: Option<String>,
        /// MIME type, when known.
        mime_type: Option<String>,
        /// Meta's media id (inbound) to download it by.
        media_id: Option<String>,
    },
    /// A shared location.
    Location {
        /// Latitude.
        latitude: f64,
        /// Longitude.
        longitude: f64,
        /// Place name.
        name: Option<String>,
        /// Address.
        address: Option<String>,
    },
    /// Shared contact cards.
    Contacts {
        /// The names on the cards.
        names: Vec<String>,
    },
    /// An emoji reaction to a message; `None` removed it.
    Reaction {
        /// The emoji.
        emoji: Option<String>,
        /// The wamid reacted to.
        to: String,
    },
    /// An approved template sent by the business.
    Template {
        /// Its name.
        name: String,
        /// Its language.
        language: String,
    },
    /// An interactive message sent by the business (buttons or a list).
    Interactive {
        /// Its body text.
        text: String,
        /// The buttons' or rows' titles.
        options: Vec<String>,
        /// The id each option brings back when tapped, in the same order.
        #[serde(default)]
        ids: Vec<String>,
        /// For a list: the label of the button that opens it.
        #[serde(default)]
        list_button: Option<String>,
        /// Header text.
        #[serde(default)]
        header: Option<String>,
        /// Footer text.
        #[serde(default)]
        footer: Option<String>,
    },
    /// A notice from WhatsApp (the user changed number, …).
    System {
        /// What it says.
        text: String,
    },
    /// A cart sent from the business's catalog.
    Order {
        /// One line per product ("2 × di9ozbzfi4 at 30.00 USD").
        lines: Vec<String>,
        /// The sum, when every line has a price in one currency ("85.00 USD").
        total: Option<String>,
        /// The customer's note.
        note: Option<String>,
    },
    /// What WhatsApp itself marks unsupported, or a type Herald does not show yet.
    Unsupported {
        /// Meta's `type`.
        kind: String,
        /// Why, when Meta said.
        reason: Option<String>,
    },
}

/// The word for a kind of media.
pub fn media_word(media: &str) -> &'static str {
    match media {
        "image" => "Photo",
        "video" => "Video",
        "audio" => "Voice message",
        "document" => "Document",
        "sticker" => "Sticker",
        _ => "File",
    }
}

/// Meta's name for a kind of media (`image`, `video`, …), as messages and files are labelled.
pub fn media_name(kind: MediaKind) -> &'static str {
    match kind {
        MediaKind::Image => "image",
        MediaKind::Video => "video",
        MediaKind::Audio => "audio",
        MediaKind::Document => "document",
        MediaKind::Sticker => "sticker",
    }
}

impl Body {
    /// What a customer's message shows.
    pub fn from_inbound(content: &InboundContent) -> Self {
        match content {
            InboundContent::Text { body } => Self::Text { text: body.clone() },
            InboundContent::Button { payload, text } => Self::Tap {
                label: if text.is_empty() {
                    payload.clone()
                } else {
                    text.clone()
                },
                payload: payload.clone(),
            },
            InboundContent::ButtonReply { id, title } => Self::Tap {
                label: title.clone(),
                payload: id.clone(),
            },
            InboundContent::ListReply {
                id,
                title,
                description,
            } => Self::ListPick {
                title: title.clone(),
                id: id.clone(),
                description: description.clone(),
            },
            InboundContent::Media {
                kind,
                id,
                mime_type,
                caption,
                filename,
                ..
            } => Self::Media {
                media: media_name(*kind).into(),
                caption: caption.clone(),
                filename: filename.clone(),
                mime_type: mime_type.clone(),
                media_id: Some(id.clone()),
            },
            InboundContent::Location {
                latitude,
                longitude,
                name,
                address,
            } => Self::Location {
                latitude: *latitude,
                longitude: *longitude,
                name: name.clone(),
                address: address.clone(),
            },
            InboundContent::Contacts(cards) => Self::Contacts {
                names: card_names(cards),
            },
            InboundContent::Reaction { message_id, emoji } => Self::Reaction {
                emoji: emoji.clone().filter(|e| !e.is_empty()),
                to: message_id.clone(),
            },
            InboundContent::System { body, kind, .. } => Self::System {
                text: body
                    .clone()
                    .or_else(|| kind.clone())
                    .unwrap_or_else(|| "A notice from WhatsApp".into()),
            },
            InboundContent::Order { text, items, .. } => order(items, text.clone()),
            InboundContent::Other { kind, errors, .. } => Self::Unsupported {
                kind: kind.clone(),
                reason: errors.first().map(|e| {
                    e.details
                        .clone()
                        .or_else(|| e.title.clone())
                        .unwrap_or_else(|| format!("error {}", e.code))
                }),
            },
        }
    }

    /// What a message the business sent shows.
    pub fn from_outgoing(content: &MessageContent) -> Self {
        let media = |media: &str, m: &crate::whatsapp::graph::Media| Self::Media {
            media: media.into(),
            caption: m.caption.clone(),
            filename: m.filename.clone(),
            mime_type: None,
            media_id: m.id.clone(),
        };
        match content {
            MessageContent::Text { text } => Self::Text {
                text: text.body.clone(),
            },
            MessageContent::Image { image } => media("image", image),
            MessageContent::Document { document } => media("document", document),
            MessageContent::Video { video } => media("video", video),
            MessageContent::Audio { audio } => media("audio", audio),
            MessageContent::Sticker { sticker } => media("sticker", sticker),
            MessageContent::Location { location } => Self::Location {
                latitude: location.latitude.parse().unwrap_or_default(),
                longitude: location.longitude.parse().unwrap_or_default(),
                name: location.name.clone(),
                address: location.address.clone(),
            },
            MessageContent::Interactive { interactive } => interactive_body(interactive),
            MessageContent::Template { template } => Self::Template {
                name: template.name.clone(),
                language: template.language.code.clone(),
            },
            MessageContent::Reaction { reaction } => Self::Reaction {
                emoji: Some(reaction.emoji.clone()).filter(|e| !e.is_empty()),
                to: reaction.message_id.clone(),
            },
        }
    }

    /// The message in one line, for the inbox row and notifications.
    pub fn preview(&self) -> String {
        match self {
            Self::Text { text } => text.clone(),
            Self::Tap { label, .. } => format!("Tapped “{label}”"),
            Self::ListPick { title, .. } => format!("Chose “{title}”"),
            Self::Media {
                media,
                caption,
                filename,
                ..
            } => {
                let word = media_word(media);
                match caption.as_deref().or(filename.as_deref()) {
                    Some(extra) if !extra.is_empty() => format!("{word}: {extra}"),
                    _ => word.to_string(),
                }
            }
            Self::Location { name, address, .. } => match name.as_deref().or(address.as_deref()) {
                Some(place) => format!("Location: {place}"),
                None => "Location".into(),
            },
            Self::Contacts { names } if names.is_empty() => "Contact card".into(),
            Self::Contacts { names } => format!("Contact: {}", names.join(", ")),
            Self::Reaction { emoji: Some(e), .. } => format!("Reacted {e}"),
            Self::Reaction { emoji: None, .. } => "Removed a reaction".into(),
            Self::Template { name, .. } => format!("Template “{name}”"),
            Self::Interactive { text, .. } => text.clone(),
            Self::System { text } => text.clone(),
            Self::Order { lines, total, .. } => {
                let items = match lines.len() {
                    1 => "1 item".to_string(),
                    n => format!("{n} items"),
                };
                match total {
                    Some(total) => format!("Order: {items}, {total}"),
                    None => format!("Order: {items}"),
                }
            }
            Self::Unsupported { kind, reason } if kind == "unsupported" => match reason {
                Some(reason) => format!("A message WhatsApp does not support: {reason}"),
                None => "A message WhatsApp does not support".into(),
            },
            Self::Unsupported { kind, reason } => match reason {
                Some(reason) => format!("A {kind} message WhatsApp does not support: {reason}"),
                None => format!("A {kind} message Herald cannot show yet"),
            },
        }
    }

    /// The text a search looks in.
    pub fn searchable(&self) -> String {
        self.preview()
    }
}

fn interactive_body(interactive: &Interactive) -> Body {
    let action = &interactive.action;
    let mut options = Vec::new();
    let mut ids = Vec::new();
    for button in action.buttons.iter().flatten() {
        options.push(button.reply.title.clone());
        ids.push(button.reply.id.clone());
    }
    for row in action.sections.iter().flatten().flat_map(|s| &s.rows) {
        options.push(row.title.clone());
        ids.push(row.id.clone());
    }
    Body::Interactive {
        text: interactive.body.text.clone(),
        options,
        ids,
        list_button: (interactive.kind == "list")
            .then(|| action.button.clone())
            .flatten(),
        header: interactive.header.as_ref().and_then(|h| h.text.clone()),
        footer: interactive.footer.as_ref().map(|f| f.text.clone()),
    }
}

/// An order's lines and total as the thread shows them.
fn order(items: &[OrderItem], note: Option<String>) -> Body {
    let quantity = |q: f64| {
        if q.fract() == 0.0 {
            format!("{q:.0}")
        } else {
            q.to_string()
        }
    };
    let lines = items
        .iter()
        .map(|item| match (item.item_price, &item.currency) {
            (Some(price), Some(currency)) => format!(
                "{} × {} at {price:.2} {currency}",
                quantity(item.quantity),
                item.product_retailer_id
            ),
            _ => format!("{} × {}", quantity(item.quantity), item.product_retailer_id),
        })
        .collect();
    let currency = items.first().and_then(|i| i.currency.clone());
    let total = items
        .iter()
        .map(|i| {
            i.item_price
                .filter(|_| i.currency == currency)
                .map(|p| p * i.quantity)
        })
        .sum::<Option<f64>>()
        .zip(currency)
        .filter(|_| !items.is_empty())
        .map(|(sum, currency)| format!("{sum:.2} {currency}"));
    Body::Order { lines, total, note }
}

/// The formatted names on shared contact cards.
fn card_names(cards: &serde_json::Value) -> Vec<String> {
    cards
        .as_array()
        .map(|cards| {
            cards
                .iter()
                .filter_map(|card| {
                    card.pointer("/name/formatted_name")
                        .or_else(|| card.pointer("/name/first_name"))
                        .and_then(|n| n.as_str())
                        .map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn taps_show_what_was_tapped_never_a_placeholder() {
        let tap = Body::from_inbound(&InboundContent::Button {
            payload: "YES_PAYLOAD".into(),
            text: "Yes, please".into(),
        });
        assert_eq!(tap.preview(), "Tapped “Yes, please”");
        let reply = Body::from_inbound(&InboundContent::ButtonReply {
            id: "opt-2".into(),
            title: "Coupon".into(),
        });
        assert_eq!(
            reply,
            Body::Tap {
                label: "Coupon".into(),
                payload: "opt-2".into()
            }
        );
        let pick = Body::from_inbound(&InboundContent::ListReply {
            id: "r1".into(),
            title: "Tomorrow 10:00".into(),
            description: None,
        });
        assert_eq!(pick.preview(), "Chose “Tomorrow 10:00”");
    }

    #[test]
    fn media_locations_cards_and_reactions_read_in_words() {
        let photo = Body::from_inbound(&InboundContent::Media {
            kind: MediaKind::Image,
            id: "m1".into(),
            mime_type: Some("image/jpeg".into()),
            sha256: None,
            caption: Some("my receipt".into()),
            filename: None,
            url: None,
        });
        assert_eq!(photo.preview(), "Photo: my receipt");
        let place = Body::from_inbound(&InboundContent::Location {
            latitude: 41.0,
            longitude: 29.0,
            name: Some("Kadıköy pier".into()),
            address: None,
        });
        assert_eq!(place.preview(), "Location: Kadıköy pier");
        let card = Body::from_inbound(&InboundContent::Contacts(json!([
            {"name": {"formatted_name": "Ayşe Yılmaz", "first_name": "Ayşe"}}
        ])));
        assert_eq!(card.preview(), "Contact: Ayşe Yılmaz");
        let removed = Body::from_inbound(&InboundContent::Reaction {
            message_id: "wamid.1".into(),
            emoji: Some(String::new()),
        });
        assert_eq!(removed.preview(), "Removed a reaction");
    }

    #[test]
    fn outgoing_messages_show_their_text_template_or_options() {
        let sent = crate::whatsapp::graph::OutgoingMessage::text("+1", "*Hi* there");
        assert_eq!(Body::from_outgoing(&sent.content).preview(), "*Hi* there");
        let buttons: MessageContent = serde_json::from_value(json!({
            "type": "interactive",
            "interactive": {"type": "button", "body": {"text": "Pick one"},
                "action": {"buttons": [
                    {"type": "reply", "reply": {"id": "a", "title": "A"}},
                    {"type": "reply", "reply": {"id": "b", "title": "B"}}]}}
        }))
        .unwrap();
        assert_eq!(
            Body::from_outgoing(&buttons),
            Body::Interactive {
                text: "Pick one".into(),
                options: vec!["A".into(), "B".into()],
                ids: vec!["a".into(), "b".into()],
                list_button: None,
                header: None,
                footer: None,
            }
        );
    }
}
