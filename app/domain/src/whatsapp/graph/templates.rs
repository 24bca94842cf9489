//! Template management (fact sheet §2): create, list, get, edit and delete bodies. Component
//! definitions use Meta's upper-case `type`/`format` values; fields Herald does not model are kept
//! in `extra` so a template read from Meta can be written back without loss.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `POST /{waba-id}/message_templates` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateDefinition {
    /// Lowercase letters, digits and underscores; max 512.
    pub name: String,
    /// Language code, e.g. `en_US`.
    pub language: String,
    /// `MARKETING`, `UTILITY` or `AUTHENTICATION`.
    pub category: String,
    /// `named` or `positional` (default positional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter_format: Option<String>,
    /// Template time-to-live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_send_ttl_seconds: Option<i64>,
    /// Header, body, footer, buttons.
    pub components: Vec<ComponentDefinition>,
}

/// One component of a template definition.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ComponentDefinition {
    /// `HEADER`, `BODY`, `FOOTER` or `BUTTONS`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Header format: `TEXT`, `IMAGE`, `VIDEO`, `DOCUMENT`, `GIF`, `LOCATION`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Text with `{{1}}` or `{{name}}` placeholders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Example values for every placeholder (required by review).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<ComponentExample>,
    /// For `BUTTONS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buttons: Option<Vec<ButtonDefinition>>,
    /// Anything else Meta sent (e.g. authentication options).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `example` of a component.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentExample {
    /// Positional header example: `["v1"]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_text: Option<Vec<String>>,
    /// Positional body examples, nested: `[["v1","v2"]]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_text: Option<Vec<Vec<String>>>,
    /// Media header sample handle(s) from the Resumable Upload API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_handle: Option<Vec<String>>,
    /// Named header examples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_text_named_params: Option<Vec<NamedExample>>,
    /// Named body examples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_text_named_params: Option<Vec<NamedExample>>,
}

/// `{"param_name":"first_name","example":"Pablo"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedExample {
    /// The placeholder's name.
    pub param_name: String,
    /// Its example value.
    pub example: String,
}

/// A button of a `BUTTONS` component.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ButtonDefinition {
    /// `QUICK_REPLY`, `URL`, `PHONE_NUMBER`, `COPY_CODE`, `OTP`, `FLOW`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// Label (max 25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// For `URL` (max 2000; one trailing variable allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// For `PHONE_NUMBER` (max 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// `URL` variable example (`["summer2023"]`) or `COPY_CODE` sample (`"25OFF"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<ButtonExample>,
    /// Anything else Meta sent (flow ids, OTP types, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A button example: Meta uses a list for URLs and a single string for copy codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ButtonExample {
    /// `"25OFF"`.
    One(String),
    /// `["summer2023"]`.
    Many(Vec<String>),
}

/// The answer to a create: `{"id","status","category"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateCreated {
    /// Template id.
    pub id: String,
    /// Usually `PENDING`.
    pub status: String,
    /// The category Meta assigned (may differ from the one asked for).
    pub category: String,
}

/// A template as `GET /{template-id}` and the list return it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateDetails {
    /// Template id.
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Language code.
    #[serde(default)]
    pub language: String,
    /// `APPROVED`, `PENDING`, `REJECTED`, `PAUSED`, …
    #[serde(default)]
    pub status: String,
    /// Category.
    #[serde(default)]
    pub category: String,
    /// `NAMED` or `POSITIONAL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter_format: Option<String>,
    /// The definition.
    #[serde(default)]
    pub components: Vec<ComponentDefinition>,
    /// Rejection reason, e.g. `INVALID_FORMAT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected_reason: Option<String>,
    /// Quality score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality_score: Option<QualityScore>,
    /// Category before a re-categorisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_category: Option<String>,
    /// Template TTL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_send_ttl_seconds: Option<i64>,
    /// Fields Herald does not model (`sub_category`, `library_template_name`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `quality_score`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QualityScore {
    /// `GREEN`, `YELLOW`, `RED` or `UNKNOWN`.
    pub score: String,
    /// Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<i64>,
}

/// A page of `GET /{waba-id}/message_templates`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplatePage {
    /// The templates.
    pub data: Vec<TemplateDetails>,
    /// Cursors; absent on the last page of some responses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paging: Option<Paging>,
}

/// Graph API cursor paging.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paging {
    /// `before` / `after`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursors: Option<Cursors>,
    /// URL of the next page, absent on the last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// URL of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
}

/// Opaque cursors.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursors {
    /// Before the first item of this page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// After the last item of this page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

/// `POST /{template-id}` body: components are replaced whole.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TemplateEdit {
    /// New category (not allowed for approved templates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// New components.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub components: Option<Vec<ComponentDefinition>>,
    /// New TTL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_send_ttl_seconds: Option<i64>,
}
