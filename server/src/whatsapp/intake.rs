//! The public webhook endpoint of each connection, `/webhooks/whatsapp/{connection}` (fact sheet
//! §3.1–§3.2): the GET verification handshake, and POSTs that are authenticated on the raw body,
//! stored durably in the [`Inbox`], acknowledged at once and processed later by
//! [`super::worker`].

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use subtle::ConstantTimeEq;
use tokio::sync::Notify;
use uuid::Uuid;

use super::signature;
use crate::clock::Clock;
use crate::http::AppState;
use crate::storage::connections::{Connection, ConnectionKind, ConnectionStore};
use crate::storage::inbox::Inbox;
use crate::storage::Store;

/// Largest webhook body accepted; Meta's limit is 3 MB.
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;
/// Header carrying the shared token on 360dialog webhooks, configured together with the URL
/// (360dialog does not sign with the Meta app secret).
pub const DIALOG360_TOKEN_HEADER: &str = "x-herald-webhook-token";

/// What the webhook handlers need.
#[derive(Clone)]
pub struct Webhooks {
    /// Connection lookup.
    pub connections: ConnectionStore,
    /// Durable inbox.
    pub inbox: Inbox,
    /// Wakes the worker after a receipt.
    pub wake: Arc<Notify>,
    store: Store,
    clock: Arc<dyn Clock>,
}

impl Webhooks {
    /// Opens the trees the intake writes to.
    pub fn new(store: &Store, clock: Arc<dyn Clock>) -> Result<Self, crate::storage::StorageError> {
        Ok(Self {
            connections: ConnectionStore::open(store)?,
            inbox: Inbox::open(store)?,
            wake: Arc::new(Notify::new()),
            store: store.clone(),
            clock,
        })
    }
}

/// Query of Meta's verification GET.
#[derive(Deserialize)]
pub struct Handshake {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

/// The connection a webhook URL names, or the status to answer with.
fn connection(state: &AppState, id: &str) -> Result<Connection, (StatusCode, &'static str)> {
    const UNKNOWN: (StatusCode, &str) = (StatusCode::NOT_FOUND, "no such connection");
    let id = Uuid::parse_str(id).map_err(|_| UNKNOWN)?;
    match state.webhooks.connections.get(&id) {
        Ok(Some(connection)) => Ok(connection),
        Ok(None) => Err(UNKNOWN),
        Err(error) => {
            tracing::error!(%error, "cannot read connections");
            Err((StatusCode::SERVICE_UNAVAILABLE, "storage unavailable"))
        }
    }
}

fn same(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// `GET /webhooks/whatsapp/{connection}`: answers the challenge when the verify token matches.
pub async fn verify(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<Handshake>,
) -> Response {
    let connection = match connection(&state, &id) {
        Ok(c) => c,
        Err(refusal) => return refusal.into_response(),
    };
    let expected = connection
        .secrets
        .verify_token
        .as_deref()
        .unwrap_or_default();
    let given = q.verify_token.as_deref().unwrap_or_default();
    match (q.mode.as_deref(), q.challenge) {
        (Some("subscribe"), Some(challenge)) if !expected.is_empty() && same(expected, given) => {
            tracing::info!(connection = %connection.name, "webhook subscription verified");
            ([(header::CONTENT_TYPE, "text/plain")], challenge).into_response()
        }
        _ => {
            tracing::warn!(connection = %connection.name, "webhook verification refused: wrong mode or token");
            (StatusCode::FORBIDDEN, "verification failed").into_response()
        }
    }
}

/// `POST /webhooks/whatsapp/{connection}`: authenticate, store durably, acknowledge.
pub async fn receive(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let connection = match connection(&state, &id) {
        Ok(c) => c,
        Err(refusal) => return refusal.into_response(),
    };
    if let Err(reason) = authenticate(&connection, &headers, &body) {
        tracing::warn!(connection = %connection.name, %reason, "webhook refused");
        return (StatusCode::UNAUTHORIZED, reason).into_response();
    }
    let webhooks = &state.webhooks;
    let (inbox, at_ms, connection_id) = (
        webhooks.inbox.clone(),
        webhooks.clock.now_ms(),
        connection.id,
    );
    let stored =
        crate::storage::Store::offload(move || inbox.receive(connection_id, at_ms, &body)).await;
    let durable = match stored {
        Ok(_) => webhooks.store.flush().await,
        Err(e) => Err(e),
    };
    match durable {
        Ok(()) => {
            webhooks.wake.notify_one();
            StatusCode::OK.into_response()
        }
        Err(error) => {
            // Not acknowledged, so Meta retries it later.
            tracing::error!(%error, "cannot store webhook");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

fn authenticate(connection: &Connection, headers: &HeaderMap, body: &[u8]) -> Result<(), String> {
    match connection.kind {
        ConnectionKind::CloudApi | ConnectionKind::Sandbox => {
            let secret = connection
                .secrets
                .app_secret
                .as_deref()
                .filter(|s| !s.is_empty())
                .ok_or("this connection has no app secret to check signatures with")?;
            let header = headers.get(signature::HEADER).and_then(|v| v.to_str().ok());
            signature::verify(secret.as_bytes(), body, header).map_err(|e| e.to_string())
        }
        ConnectionKind::Dialog360 => {
            let expected = connection
                .secrets
                .verify_token
                .as_deref()
                .unwrap_or_default();
            let given = headers
                .get(DIALOG360_TOKEN_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !expected.is_empty() && same(expected, given) {
                Ok(())
            } else {
                Err(format!("missing or wrong {DIALOG360_TOKEN_HEADER} header"))
            }
        }
    }
}
