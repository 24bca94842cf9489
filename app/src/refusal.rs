//! How a port says no. The variant decides the HTTP status a server function or API answers
//! with, so a rule the input broke is a 4xx with the rule named, and only Herald's own failure is
//! a 500. Compiled for the browser too, where server functions map their errors.

use domain::ids::UnknownId;
use domain::Problem;

/// A port method's refusal. Every message is a sentence for the person who asked; the internal
/// detail of a server failure stays in the server log under [`PortError::Internal`]'s reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortError {
    /// The thing asked for does not exist ("no such campaign").
    NotFound(String),
    /// The input broke rules: each names its field, the rule and how to fix it.
    Invalid(Vec<Problem>),
    /// The input is fine but the current state does not allow it (launching a running campaign).
    Conflict(String),
    /// The caller may not do this.
    Forbidden(String),
    /// Something Herald depends on — WhatsApp, the network — failed; trying later may work.
    Unavailable(String),
    /// Herald itself failed; `reference` finds the detail in the server log.
    Internal {
        /// A short id printed beside the logged detail.
        reference: String,
    },
}

impl PortError {
    /// "no such {what}".
    pub fn not_found(what: &str) -> Self {
        Self::NotFound(format!("no such {what}"))
    }

    /// One broken rule of one field.
    pub fn invalid(field: &'static str, rule: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![Problem::new(field, rule, message)])
    }

    /// An action the current state does not allow.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict(message.into())
    }

    /// A dependency failed.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::Unavailable(message.into())
    }

    /// The HTTP status the refusal deserves.
    pub fn status(&self) -> u16 {
        match self {
            Self::NotFound(_) => 404,
            Self::Invalid(_) => 422,
            Self::Conflict(_) => 409,
            Self::Forbidden(_) => 403,
            Self::Unavailable(_) => 503,
            Self::Internal { .. } => 500,
        }
    }

    /// The problems of an [`PortError::Invalid`] refusal (empty for the others).
    pub fn problems(&self) -> &[Problem] {
        match self {
            Self::Invalid(problems) => problems,
            _ => &[],
        }
    }
}

/// `Ok` when no rule is broken, else every broken rule as one [`PortError::Invalid`].
pub fn refuse_problems(problems: Vec<Problem>) -> Result<(), PortError> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(PortError::Invalid(problems))
    }
}

impl std::fmt::Display for PortError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotFound(m) | Self::Conflict(m) | Self::Forbidden(m) | Self::Unavailable(m) => {
                f.write_str(m)
            }
            Self::Invalid(problems) => {
                let mut first = true;
                for problem in problems {
                    if !first {
                        f.write_str(" ")?;
                    }
                    first = false;
                    f.write_str(&problem.message)?;
                }
                Ok(())
            }
            Self::Internal { reference } => write!(
                f,
                "Herald could not read or write its data; see the server log (reference {reference})."
            ),
        }
    }
}

impl std::error::Error for PortError {}

impl From<UnknownId> for PortError {
    fn from(unknown: UnknownId) -> Self {
        Self::NotFound(unknown.to_string())
    }
}

impl From<domain::campaign::lifecycle::Refusal> for PortError {
    fn from(refusal: domain::campaign::lifecycle::Refusal) -> Self {
        Self::Conflict(refusal.0)
    }
}

impl From<Vec<Problem>> for PortError {
    fn from(problems: Vec<Problem>) -> Self {
        Self::Invalid(problems)
    }
}

impl From<Problem> for PortError {
    fn from(problem: Problem) -> Self {
        Self::Invalid(vec![problem])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_refusal_carries_the_status_a_client_can_act_on() {
        let invalid = PortError::invalid("price", "price.range", "Use a price from 0 to 10.");
        assert_eq!(invalid.status(), 422);
        assert_eq!(invalid.to_string(), "Use a price from 0 to 10.");
        assert_eq!(invalid.problems()[0].field, "price");
        assert_eq!(PortError::not_found("campaign").status(), 404);
        assert_eq!(PortError::conflict("already running").status(), 409);
        let internal = PortError::Internal {
            reference: "e1f2".into(),
        };
        assert_eq!(internal.status(), 500);
        assert!(internal.to_string().contains("e1f2"));
    }

    #[test]
    fn several_broken_rules_are_all_told() {
        let both = PortError::Invalid(vec![
            Problem::new("name", "name.empty", "Give it a name."),
            Problem::new("language", "language.unknown", "Pick a language."),
        ]);
        assert_eq!(both.to_string(), "Give it a name. Pick a language.");
    }
}
