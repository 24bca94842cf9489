//! The Graph API error body (fact sheet §4): `{"error":{"message","type","code","error_data",
//! "error_subcode","fbtrace_id"}}`. Handling keys on `code` and `error_data.details`; `message`
//! titles may change.

use serde::{Deserialize, Serialize};

/// The whole error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphErrorBody {
    /// The error.
    pub error: GraphError,
}

/// One Graph API error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphError {
    /// Title, e.g. `(#130429) Rate limit hit`; for people, not for logic.
    pub message: String,
    /// `OAuthException` and the like.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The code every decision is based on (see `whatsapp::errors::classify`).
    pub code: i64,
    /// WhatsApp specifics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_data: Option<GraphErrorData>,
    /// Deprecated since v16.0 but still seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_subcode: Option<i64>,
    /// Meta's trace id, worth quoting to Meta support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fbtrace_id: Option<String>,
}

/// `error.error_data`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphErrorData {
    /// Always `whatsapp` when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messaging_product: Option<String>,
    /// The useful explanation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
}

impl GraphError {
    /// An error in Meta's form: `message` is `(#code) title`, `details` the explanation.
    pub fn new(code: i64, title: &str, details: impl Into<String>) -> Self {
        Self {
            message: format!("(#{code}) {title}"),
            kind: Some("OAuthException".into()),
            code,
            error_data: Some(GraphErrorData {
                messaging_product: Some("whatsapp".into()),
                details: Some(details.into()),
            }),
            error_subcode: None,
            fbtrace_id: None,
        }
    }

    /// `error_data.details`, or the title when there are none.
    pub fn details(&self) -> &str {
        self.error_data
            .as_ref()
            .and_then(|d| d.details.as_deref())
            .unwrap_or(&self.message)
    }
}

/// `{"success":true}`, the answer to edits and deletes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Success {
    /// Whether Meta did it.
    pub success: bool,
}
