//! `GET /healthz`: for load balancers and uptime checks; no session needed.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::AppState;

/// 200 with the version and storage status when storage answers, 503 otherwise.
pub async fn healthz(State(state): State<AppState>) -> Response {
    let version = env!("CARGO_PKG_VERSION");
    match state.store.schema_version() {
        Ok(schema_version) => Json(json!({
            "status": "ok",
            "version": version,
            "storage": { "status": "ok", "schema_version": schema_version },
        }))
        .into_response(),
        Err(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({
                "status": "unavailable",
                "version": version,
                "storage": { "status": "error", "error": error.to_string() },
            })),
        )
            .into_response(),
    }
}
