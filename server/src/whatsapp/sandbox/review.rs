//! The sandbox's template reviewer: Herald's own lint decides `INVALID_FORMAT`, and a fixed
//! keyword rule demonstrates the category rejections — promotional wording in a UTILITY template
//! is rejected as `INCORRECT_CATEGORY`, in an AUTHENTICATION template as `PROMOTIONAL`.

use domain::template::lint::{has_errors, lint, promotional_word, Severity};
use domain::whatsapp::graph::{TemplateDefinition, TemplateDetails};

/// The review outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// `APPROVED`.
    Approved,
    /// `REJECTED` with Meta's reason and a recommendation.
    Rejected {
        /// `INVALID_FORMAT`, `INCORRECT_CATEGORY` or `PROMOTIONAL`.
        reason: &'static str,
        /// What to change.
        recommendation: String,
    },
}

/// Reviews a submitted template.
pub fn review(template: &TemplateDetails) -> Verdict {
    let definition = TemplateDefinition {
        name: template.name.clone(),
        language: template.language.clone(),
        category: template.category.clone(),
        parameter_format: template.parameter_format.clone(),
        message_send_ttl_seconds: template.message_send_ttl_seconds,
        components: template.components.clone(),
    };
    let findings = lint(&definition);
    if has_errors(&findings) {
        let recommendation = findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| f.message.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        return Verdict::Rejected {
            reason: "INVALID_FORMAT",
            recommendation,
        };
    }
    let text: String = template
        .components
        .iter()
        .filter_map(|c| c.text.as_deref())
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    let promotional = promotional_word(&text);
    match (template.category.as_str(), promotional) {
        ("UTILITY", Some(word)) => Verdict::Rejected {
            reason: "INCORRECT_CATEGORY",
            recommendation: format!("\"{word}\" is promotional: submit this template as MARKETING"),
        },
        ("AUTHENTICATION", Some(word)) => Verdict::Rejected {
            reason: "PROMOTIONAL",
            recommendation: format!("authentication templates cannot promote (\"{word}\")"),
        },
        _ => Verdict::Approved,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn details(category: &str, body: &str) -> TemplateDetails {
        serde_json::from_value(
            json!({"id":"1","name":"n","language":"en_US","status":"PENDING",
            "category":category,"components":[{"type":"BODY","text":body}]}),
        )
        .unwrap()
    }

    #[test]
    fn both_category_outcomes_and_format_rejections_can_be_demonstrated() {
        assert_eq!(
            review(&details("UTILITY", "Your parcel has shipped")),
            Verdict::Approved
        );
        assert_eq!(
            review(&details("MARKETING", "Big sale this weekend")),
            Verdict::Approved
        );
        assert!(matches!(
            review(&details("UTILITY", "Big sale this weekend")),
            Verdict::Rejected {
                reason: "INCORRECT_CATEGORY",
                ..
            }
        ));
        assert!(matches!(
            review(&details("AUTHENTICATION", "Use this coupon today")),
            Verdict::Rejected {
                reason: "PROMOTIONAL",
                ..
            }
        ));
        assert!(matches!(
            review(&details("UTILITY", "{{1}} shipped")),
            Verdict::Rejected {
                reason: "INVALID_FORMAT",
                ..
            }
        ));
    }
}
