//! What every port implementation shares: the one check of a [`Caller`] against the permission a
//! use case needs, made first thing in every port method (`server/scripts/check-invariants.sh`
//! refuses a port method without it), so roles and API keys change [`domain::access`], not the
//! services.

use app::ports::PortError;
use domain::access::{Caller, Permission};

/// Refuses a caller who may not do `permission`.
pub fn allow(caller: &Caller, permission: Permission) -> Result<(), PortError> {
    if caller.may(permission) {
        Ok(())
    } else {
        tracing::info!(caller = %caller.name(), ?permission, "refused: not permitted");
        Err(PortError::Forbidden(format!(
            "{} may not do this ({permission:?})",
            caller.name()
        )))
    }
}

/// A fault of Herald's own as a port's refusal: logged here with its detail under a fresh short
/// reference, answered as [`PortError::Internal`] (HTTP 500) with only that reference, so the
/// person who sees it can hand the operator a line to find in the log.
pub fn fault(what: &str, detail: impl std::fmt::Display) -> PortError {
    let reference = uuid::Uuid::now_v7().simple().to_string()[24..].to_string();
    tracing::error!(%detail, %reference, "{what}");
    PortError::Internal { reference }
}

/// A list of sentences (rules a table or setting broke) as the problems of one field.
pub fn invalid_field(field: &'static str, rule: &'static str, messages: Vec<String>) -> PortError {
    PortError::Invalid(
        messages
            .into_iter()
            .map(|m| domain::Problem::new(field, rule, m))
            .collect(),
    )
}

/// A refusal as a plain HTTP answer, for the handlers outside server functions (downloads,
/// event streams): the variant's status and the sentence.
pub fn refusal(error: &PortError) -> axum::response::Response {
    use axum::response::IntoResponse;
    let status = axum::http::StatusCode::from_u16(error.status())
        .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
    (status, error.to_string()).into_response()
}
