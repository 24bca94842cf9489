//! Message-template rules (fact sheet §2.1–§2.2): placeholders and the lint Meta's review applies.
//! The template editor shows these problems live, the server refuses to submit a template that
//! has any, and the sandbox's reviewer rejects with them — one definition for all three.

pub mod form;
pub mod lifecycle;
pub mod lint;
pub mod placeholders;
pub mod preview;

use serde::{Deserialize, Serialize};

use crate::Problem;

/// Approved templates go to Meta for review; session replies stay in Herald and are usable only
/// inside an open customer-service window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateKind {
    /// Submitted to Meta for review.
    Approved,
    /// Herald-only, never submitted.
    SessionReply,
}

impl TemplateKind {
    /// The name forms and the API use.
    pub fn name(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::SessionReply => "session_reply",
        }
    }

    /// Reads a form's or API body's kind.
    pub fn parse(text: &str) -> Result<Self, Problem> {
        match text.trim() {
            "approved" => Ok(Self::Approved),
            "session_reply" => Ok(Self::SessionReply),
            _ => Err(Problem::new(
                "kind",
                "template.kind",
                "Choose approved (reviewed by Meta) or session_reply (Herald-only).",
            )),
        }
    }
}
