//! What can go wrong talking to WhatsApp, classified so callers never guess: Meta's refusals carry
//! their [`ErrorInfo`] (retry, per-recipient outcome or stop-the-sender), and transport failures
//! say whether the request could have been processed.

use domain::whatsapp::errors::{classify, Disposition, ErrorInfo, RetryKind, StopReason};
use domain::whatsapp::graph::GraphError;

/// A failed WhatsApp API call.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// Meta (or the BSP) answered with a Graph error body.
    #[error("WhatsApp refused the request: {} (code {})", .error.details(), .error.code)]
    Refused {
        /// HTTP status of the answer.
        status: u16,
        /// The error body (boxed to keep `Result`s small).
        error: Box<GraphError>,
        /// What the code means for a sender.
        info: ErrorInfo,
    },
    /// An HTTP error without a Graph body (a proxy, 360dialog's "Invalid api_key", …).
    #[error("WhatsApp answered HTTP {status}: {body}")]
    Http {
        /// HTTP status.
        status: u16,
        /// The start of the body, for the log.
        body: String,
    },
    /// The request never reached the server (DNS, refused connection, TLS): nothing happened,
    /// so it is safe to retry.
    #[error("cannot reach the WhatsApp API: {0}")]
    Unreachable(String),
    /// The request may or may not have been processed (timeout or connection lost after sending,
    /// gateway error). A send in this state is reported as *unknown*, never as sent or failed;
    /// its status webhook, if any, settles it.
    #[error("no answer from the WhatsApp API; the outcome is unknown: {0}")]
    Unknown(String),
    /// A 2xx answer that is not the JSON Meta documents.
    #[error("unexpected answer from the WhatsApp API: {0}")]
    Protocol(String),
    /// The connection lacks something the call needs.
    #[error("{0}")]
    Config(String),
    /// The provider does not offer this operation.
    #[error("{0}")]
    Unsupported(&'static str),
}

impl ApiError {
    /// What a sender should do about this error, on the same scale as Meta's codes.
    pub fn disposition(&self) -> Disposition {
        match self {
            Self::Refused { info, .. } => info.disposition,
            Self::Http { status, .. } => match status {
                401 | 403 => Disposition::StopSender(StopReason::Authentication),
                429 | 500..=599 => Disposition::Retry(RetryKind::Backoff),
                _ => Disposition::InvalidRequest,
            },
            Self::Unreachable(_) | Self::Unknown(_) => Disposition::Retry(RetryKind::Backoff),
            Self::Protocol(_) | Self::Config(_) | Self::Unsupported(_) => {
                Disposition::InvalidRequest
            }
        }
    }

    /// Whether a send with this error may have reached the user.
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, Self::Unknown(_))
    }

    /// Meta's error code, when Meta refused.
    pub fn code(&self) -> Option<i64> {
        match self {
            Self::Refused { error, .. } => Some(error.code),
            _ => None,
        }
    }

    /// Builds the error for a Graph error body.
    pub fn refused(status: u16, error: GraphError) -> Self {
        let info = classify(error.code);
        Self::Refused {
            status,
            error: Box::new(error),
            info,
        }
    }

    /// The refusal a port answers with: Meta turning the request down is a conflict the user
    /// can resolve (409, with Meta's code and advice); a host that did not answer, or answered
    /// with a server error, is unavailable (503) — trying later may work.
    pub fn refusal(&self) -> app::ports::PortError {
        let unavailable = match self {
            Self::Refused { status, info, .. } => {
                *status >= 500 || matches!(info.disposition, Disposition::Retry(_))
            }
            Self::Http { status, .. } => *status >= 500,
            Self::Unreachable(_) | Self::Unknown(_) => true,
            _ => false,
        };
        if unavailable {
            app::ports::PortError::Unavailable(self.explain())
        } else {
            app::ports::PortError::Conflict(self.explain())
        }
    }

    /// One plain sentence for a person checking a connection.
    pub fn explain(&self) -> String {
        match self {
            Self::Refused { error, info, .. } => {
                let advice = match error.code {
                    0 | 190 => "The access token is wrong or expired: create a new system-user token and save it here.",
                    100 if error.error_subcode == Some(33) || error.details().contains("does not exist") => {
                        "The phone-number id or WhatsApp Business Account id is wrong, or this token cannot see it."
                    }
                    3 | 10 | 200..=299 => "The token lacks a permission: it needs whatsapp_business_messaging and whatsapp_business_management.",
                    4 | 80007 | 130429 => "Too many calls right now; try again in a minute.",
                    _ => match info.disposition {
                        Disposition::StopSender(_) => "Meta has stopped this sender; check WhatsApp Manager.",
                        Disposition::Retry(_) => "A temporary problem at WhatsApp; try again shortly.",
                        _ => "Meta refused the request.",
                    },
                };
                format!("{advice} (Meta error {}: {})", error.code, error.details())
            }
            Self::Http {
                status: 401 | 403, ..
            } => "The credentials were refused: check the access token or API key.".into(),
            Self::Http { status: 404, .. } => {
                "The address answered 404: check the base URL and API version.".into()
            }
            Self::Http { status, .. } => format!("The server answered HTTP {status}."),
            Self::Unreachable(why) => format!(
                "Cannot reach the host: {why}. Check the base URL and this server's network."
            ),
            Self::Unknown(why) => format!("The host did not answer in time: {why}."),
            Self::Protocol(why) => {
                format!("The host does not speak the WhatsApp Cloud API: {why}.")
            }
            Self::Config(why) => format!("{why}."),
            Self::Unsupported(why) => (*why).to_string(),
        }
    }
}

/// Classifies a transport failure: before the request left it is [`ApiError::Unreachable`];
/// after, for a request that changes something, [`ApiError::Unknown`].
pub fn transport(error: &reqwest::Error) -> ApiError {
    // reqwest's Display for URLs never includes headers, so no credential reaches this text.
    let text = error.without_url_text();
    if error.is_connect() || error.is_builder() {
        ApiError::Unreachable(text)
    } else {
        ApiError::Unknown(text)
    }
}

trait WithoutUrl {
    fn without_url_text(&self) -> String;
}

impl WithoutUrl for reqwest::Error {
    /// The error without its URL (which may carry query strings) and with its root cause.
    fn without_url_text(&self) -> String {
        let mut text = if self.is_timeout() {
            "timed out".to_string()
        } else if self.is_connect() {
            "connection failed".to_string()
        } else {
            "request failed".to_string()
        };
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            text = format!("{text}: {cause}");
            source = cause.source();
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::whatsapp::errors::RecipientOutcome;

    #[test]
    fn refusals_carry_metas_classification_and_plain_advice() {
        let token = ApiError::refused(401, GraphError::new(190, "Access token expired", "expired"));
        assert_eq!(
            token.disposition(),
            Disposition::StopSender(StopReason::Authentication)
        );
        assert!(token
            .explain()
            .starts_with("The access token is wrong or expired"));
        let opted_out = ApiError::refused(400, GraphError::new(131050, "stopped", "user stopped"));
        assert_eq!(
            opted_out.disposition(),
            Disposition::Recipient(RecipientOutcome::OptedOut)
        );
    }

    #[test]
    fn only_unknown_transport_failures_leave_a_send_unsettled() {
        assert!(ApiError::Unknown("timed out".into()).outcome_unknown());
        assert!(!ApiError::Unreachable("refused".into()).outcome_unknown());
        assert_eq!(
            ApiError::Http {
                status: 503,
                body: String::new()
            }
            .disposition(),
            Disposition::Retry(RetryKind::Backoff)
        );
    }
}
