//! The shape every validation rule reports in, so forms and APIs can show any rule's result the
//! same way.

use serde::{Deserialize, Serialize};

/// One broken rule: which field, which rule (a stable id programs can match on), and a sentence a
/// person can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// The input field the rule applies to, as named in forms and API bodies.
    pub field: &'static str,
    /// Stable identifier of the rule, e.g. `password.too_short`.
    pub rule: &'static str,
    /// Plain-language explanation including how to fix it.
    pub message: String,
}

impl Problem {
    /// Builds a problem for `field` breaking `rule`.
    pub fn new(field: &'static str, rule: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            rule,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} ({})", self.field, self.message, self.rule)
    }
}
