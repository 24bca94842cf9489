//! `POST /{phone-number-id}/messages` (fact sheet §1.1–§1.4): the request body for every message
//! type Herald sends, and the 200 response.

use serde::{Deserialize, Serialize};

use super::lenient;

/// The literal `"whatsapp"` every request and response carries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum MessagingProduct {
    /// `whatsapp`.
    #[default]
    #[serde(rename = "whatsapp")]
    WhatsApp,
}

/// A message to send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutgoingMessage {
    /// Always `whatsapp`.
    pub messaging_product: MessagingProduct,
    /// `individual` (or `group` for the Groups API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_type: Option<String>,
    /// Phone number (E.164 recommended) or wa_id.
    pub to: String,
    /// Quote an earlier message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<ReplyContext>,
    /// Echoed back in every status webhook of this message (max 512 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub biz_opaque_callback_data: Option<String>,
    /// `type` and its object.
    #[serde(flatten)]
    pub content: MessageContent,
}

impl OutgoingMessage {
    /// A message to one person with default options.
    pub fn to(recipient: impl Into<String>, content: MessageContent) -> Self {
        Self {
            messaging_product: MessagingProduct::WhatsApp,
            recipient_type: Some("individual".into()),
            to: recipient.into(),
            context: None,
            biz_opaque_callback_data: None,
            content,
        }
    }

    /// A plain text message.
    pub fn text(recipient: impl Into<String>, body: impl Into<String>) -> Self {
        Self::to(
            recipient,
            MessageContent::Text {
                text: Text {
                    body: body.into(),
                    preview_url: None,
                },
            },
        )
    }
}

/// `context`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyContext {
    /// The wamid being replied to.
    pub message_id: String,
}

/// `type` plus the object of that name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MessageContent {
    /// Free text (inside the customer-service window).
    Text {
        /// The text object.
        text: Text,
    },
    /// An image.
    Image {
        /// The media object.
        image: Media,
    },
    /// A document.
    Document {
        /// The media object.
        document: Media,
    },
    /// A video.
    Video {
        /// The media object.
        video: Media,
    },
    /// An audio file.
    Audio {
        /// The media object.
        audio: Media,
    },
    /// A sticker.
    Sticker {
        /// The media object.
        sticker: Media,
    },
    /// A location pin.
    Location {
        /// The location object.
        location: Location,
    },
    /// Reply buttons or a list.
    Interactive {
        /// The interactive object (boxed: by far the largest variant).
        interactive: Box<Interactive>,
    },
    /// An approved template (the only kind allowed outside the window).
    Template {
        /// The template object.
        template: Template,
    },
    /// An emoji reaction to a message.
    Reaction {
        /// The reaction object.
        reaction: Reaction,
    },
}

impl MessageContent {
    /// Meta's `type` string.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Text { .. } => "text",
            Self::Image { .. } => "image",
            Self::Document { .. } => "document",
            Self::Video { .. } => "video",
            Self::Audio { .. } => "audio",
            Self::Sticker { .. } => "sticker",
            Self::Location { .. } => "location",
            Self::Interactive { .. } => "interactive",
            Self::Template { .. } => "template",
            Self::Reaction { .. } => "reaction",
        }
    }
}

/// `text`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text {
    /// Up to 4096 characters.
    pub body: String,
    /// Render a preview of the first URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview_url: Option<bool>,
}

/// An image, document, video, audio or sticker: an uploaded media `id` or a public `link`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Media {
    /// Uploaded media id (recommended).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Public https URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// Up to 1024 characters (image, document, video).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// Shown file name (document).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
}

/// `location`; coordinates are decimal degrees, written as strings as in Meta's examples.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// Latitude.
    #[serde(deserialize_with = "lenient::string")]
    pub latitude: String,
    /// Longitude.
    #[serde(deserialize_with = "lenient::string")]
    pub longitude: String,
    /// Place name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Street address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// `interactive`: reply buttons (`type: button`) or a list (`type: list`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interactive {
    /// `button` or `list`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Optional header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<InteractiveHeader>,
    /// The body text.
    pub body: TextObject,
    /// Optional footer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub footer: Option<TextObject>,
    /// Buttons or list sections.
    pub action: InteractiveAction,
}

/// `{"text": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextObject {
    /// The text.
    pub text: String,
}

/// An interactive header: text, or one media object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteractiveHeader {
    /// `text`, `image`, `video` or `document`.
    #[serde(rename = "type")]
    pub kind: String,
    /// For `text`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// For `image`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Media>,
    /// For `video`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video: Option<Media>,
    /// For `document`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<Media>,
}

/// `interactive.action`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteractiveAction {
    /// Reply buttons (at most 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buttons: Option<Vec<ReplyButton>>,
    /// The list's button label (at most 20 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub button: Option<String>,
    /// The list's sections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sections: Option<Vec<ListSection>>,
}

/// `{"type":"reply","reply":{"id","title"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyButton {
    /// Always `reply`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Id and title.
    pub reply: ButtonReply,
}

/// A reply button's id (max 256) and title (max 20).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ButtonReply {
    /// Comes back in the inbound `button_reply`.
    pub id: String,
    /// Shown on the button.
    pub title: String,
}

/// A list section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListSection {
    /// At most 24 characters; required when there is more than one section.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Rows (at most 10 across all sections).
    pub rows: Vec<ListRow>,
}

/// A list row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListRow {
    /// Max 200 characters.
    pub id: String,
    /// Max 24 characters.
    pub title: String,
    /// Max 72 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `template` of a template send (§1.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Template {
    /// Must match the approved template exactly.
    pub name: String,
    /// Must match one approved language.
    pub language: TemplateLanguage,
    /// Header, body and button parameters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<SendComponent>,
}

/// `template.language`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateLanguage {
    /// E.g. `en_US`.
    pub code: String,
    /// `deterministic`, still accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
}

/// One `components[]` entry of a template send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendComponent {
    /// `header`, `body` or `button`.
    #[serde(rename = "type")]
    pub kind: String,
    /// For buttons: `quick_reply`, `url`, `copy_code`, `flow` (any case).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_type: Option<String>,
    /// For buttons: zero-based position (Meta shows it as a string and as a number).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub index: Option<String>,
    /// The values.
    #[serde(default)]
    pub parameters: Vec<Parameter>,
}

/// A template parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Parameter {
    /// Text, positional or named.
    Text {
        /// The value.
        text: String,
        /// For named-parameter templates.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        parameter_name: Option<String>,
    },
    /// A money amount.
    Currency {
        /// The currency object.
        currency: Currency,
    },
    /// A date.
    DateTime {
        /// The date object.
        date_time: DateTime,
    },
    /// Header image.
    Image {
        /// The media object.
        image: Media,
    },
    /// Header video.
    Video {
        /// The media object.
        video: Media,
    },
    /// Header document.
    Document {
        /// The media object.
        document: Media,
    },
    /// Header location.
    Location {
        /// The location object.
        location: Location,
    },
    /// Quick-reply button payload.
    Payload {
        /// Comes back in the inbound `button` message.
        payload: String,
    },
    /// Copy-code button value.
    CouponCode {
        /// The code (max 20 characters).
        coupon_code: String,
    },
    /// Flow button action.
    Action {
        /// `flow_token`, `flow_action_data`.
        action: serde_json::Value,
    },
}

/// `currency` parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Currency {
    /// Shown where the amount cannot be localised.
    pub fallback_value: String,
    /// ISO 4217 code.
    pub code: String,
    /// Amount × 1000.
    pub amount_1000: i64,
}

/// `date_time` parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateTime {
    /// The text shown.
    pub fallback_value: String,
}

/// `reaction`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    /// The wamid reacted to.
    pub message_id: String,
    /// The emoji; empty removes the reaction.
    pub emoji: String,
}

/// The 200 response of a send: accepted, not delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendResponse {
    /// `whatsapp`.
    pub messaging_product: MessagingProduct,
    /// What was sent to and the WhatsApp id it resolved to (they may differ).
    #[serde(default)]
    pub contacts: Vec<SentContact>,
    /// The new message's wamid.
    pub messages: Vec<SentMessage>,
}

/// `contacts[]` of a send response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentContact {
    /// The `to` as given.
    pub input: String,
    /// The user's WhatsApp id.
    pub wa_id: String,
}

/// `messages[]` of a send response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentMessage {
    /// The wamid statuses will refer to.
    pub id: String,
    /// Template sends under pacing: `accepted` or `held_for_quality_assessment`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_status: Option<String>,
    /// Group sends only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
}
