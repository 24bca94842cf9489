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
