//! The sandbox's HTTP surface: the Graph API endpoints Herald's client uses, with Meta's
//! request checks, error bodies and status codes (fact sheet §1, §2, §4, §5, §8).
// Helpers return the finished HTTP answer as their error; boxing it would only add noise.
#![allow(clippy::result_large_err)]

use domain::whatsapp::window::UserWindows;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use domain::template::placeholders;
use domain::whatsapp::errors::classify;
use domain::whatsapp::graph::{
    media_limit, validate, Cursors, GraphError, GraphErrorBody, MediaInfo, MediaUploaded,
    MessageContent, OutgoingMessage, Paging, PhoneNumberInfo, SendResponse, SentContact,
    SentMessage, Success, TemplateCreated, TemplateDefinition, TemplateDetails, TemplateEdit,
    TemplatePage, Throughput,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::fate::{self, Fate};
use super::outbox::{self, Sender, StatusReport};
use super::{new_numeric_id, new_wamid, Sandbox, StoredMedia};
use crate::storage::connections::{Connection, ConnectionKind};
use crate::storage::sandbox::{SandboxSend, SandboxTemplate};
use crate::storage::Store;

/// Largest upload the sandbox takes (Meta allows 100 MB documents; the sandbox keeps media in
/// memory).
const MAX_UPLOAD_BYTES: usize = 32 * 1024 * 1024;

pub(super) fn router(sandbox: Sandbox) -> Router {
    Router::new()
        .route(
            "/graph/{version}/{id}",
            get(read_object).post(edit_template).delete(delete_object),
        )
        .route("/graph/{version}/{id}/messages", post(send))
        .route(
            "/graph/{version}/{id}/message_templates",
            get(list_templates)
                .post(create_template)
                .delete(delete_templates),
        )
        .route(
            "/graph/{version}/{id}/media",
            post(upload_media).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
        )
        .route("/media/{id}", get(download_media))
        .with_state(sandbox)
}

/// A Graph error response.
fn refuse(status: StatusCode, code: i64, details: impl Into<String>) -> Response {
    let mut error = GraphError::new(code, classify(code).meaning, details);
    error.fbtrace_id = Some(format!("sandbox-{}", new_numeric_id()));
    (status, Json(GraphErrorBody { error })).into_response()
}

/// Meta's answer for an id the caller cannot see.
fn no_object(id: &str) -> Response {
    let mut error = GraphError::new(
        100,
        "Invalid parameter",
        format!("Unsupported request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation."),
    );
    error.error_subcode = Some(33);
    (StatusCode::BAD_REQUEST, Json(GraphErrorBody { error })).into_response()
}

fn invalid(details: impl Into<String>) -> Response {
    refuse(StatusCode::BAD_REQUEST, 100, details)
}

/// The sandbox connection whose access token the request bears.
fn caller(sandbox: &Sandbox, headers: &HeaderMap, version: &str) -> Result<Connection, Response> {
    let valid_version = version
        .strip_prefix('v')
        .and_then(|v| v.split_once('.'))
        .is_some_and(|(a, b)| {
            !a.is_empty()
                && !b.is_empty()
                && (a.to_string() + b).chars().all(|c| c.is_ascii_digit())
        });
    if !valid_version {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            2500,
            "Unknown path components",
        ));
    }
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            refuse(
                StatusCode::UNAUTHORIZED,
                0,
                "An access token is required to request this resource.",
            )
        })?;
    let connections = sandbox.inner.connections.list().map_err(|e| {
        tracing::error!(error = %e, "sandbox cannot read connections");
        refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            2,
            "Service temporarily unavailable",
        )
    })?;
    connections
        .into_iter()
        .filter(|c| c.kind == ConnectionKind::Sandbox)
        .find(|c| {
            c.secrets
                .access_token
                .as_deref()
                .is_some_and(|t| bool::from(t.as_bytes().ct_eq(token.as_bytes())))
        })
        .ok_or_else(|| {
            refuse(
                StatusCode::UNAUTHORIZED,
                190,
                "Invalid OAuth access token - Cannot parse access token",
            )
        })
}

macro_rules! try_reply {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(response) => return response,
        }
    };
}

fn storage_failure(error: impl std::fmt::Display) -> Response {
    tracing::error!(%error, "sandbox storage failed");
    refuse(
        StatusCode::INTERNAL_SERVER_ERROR,
        131000,
        "Something went wrong",
    )
}

/// A refused send: HTTP status, Meta's code and details.
struct Refusal(StatusCode, i64, String);

impl Refusal {
    fn new(status: StatusCode, code: i64, details: impl Into<String>) -> Self {
        Self(status, code, details.into())
    }

    fn storage(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "sandbox storage failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            131000,
            "Something went wrong",
        )
    }
}

/// An accepted send, before it is logged and answered.
struct Accepted {
    plan: Plan,
    input: String,
    is_template: bool,
    template: Option<String>,
}

/// `POST /{phone-number-id}/messages`. Every well-formed request is written to the sandbox's send
/// log — and flushed before an acceptance is answered, as Meta would not forget a message it
/// acknowledged — then its status webhooks are played.
async fn send(
    State(sandbox): State<Sandbox>,
    Path((version, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // Arrival time, before any work: what a rate limit at Meta's door would count.
    let received_ms = sandbox.inner.clock.now_ms();
    let connection = try_reply!(caller(&sandbox, &headers, &version));
    let Some(sender) = Sandbox::sender(&connection).filter(|s| s.phone_number_id == id) else {
        return no_object(&id);
    };
    let message: OutgoingMessage = match serde_json::from_slice(&body) {
        Ok(m) => m,
        Err(e) => return invalid(format!("Invalid parameter: {e}")),
    };
    if let Some(problem) = validate::outgoing_message(&message).first() {
        return refuse(
            StatusCode::BAD_REQUEST,
            validate::graph_code(problem),
            problem.message.clone(),
        );
    }
    let decided = {
        let (sandbox, connection, message) = (sandbox.clone(), connection.clone(), message.clone());
        tokio::task::spawn_blocking(move || decide(&sandbox, &connection, sender, &message))
            .await
            .unwrap_or_else(|e| Err(Refusal::storage(e)))
    };
    let mut entry = SandboxSend {
        connection_id: connection.id,
        wa_id: fate::wa_id(&message.to),
        at_ms: received_ms,
        template: None,
        callback_data: message.biz_opaque_callback_data.clone(),
        wamid: None,
        refused: None,
        pricing: None,
        played: false,
    };
    let accepted = match decided {
        Ok(accepted) => accepted,
        Err(Refusal(status, code, details)) => {
            entry.refused = Some(code);
            entry.played = true;
            let log = sandbox.inner.store.clone();
            if let Err(e) = Store::offload(move || log.log_send(&entry)).await {
                tracing::error!(error = %e, "sandbox cannot log a refused send");
            }
            return refuse(status, code, details);
        }
    };
    entry.template = accepted.template.clone();
    entry.wamid = Some(accepted.plan.wamid.clone());
    entry.pricing = Some((
        accepted.plan.category.clone(),
        accepted.plan.pricing_type.to_string(),
    ));
    let log = sandbox.inner.store.clone();
    // Logged with its place in the status queue; the player takes it from there.
    if let Err(e) = Store::offload(move || log.log_send(&entry)).await {
        return storage_failure(e);
    }
    if let Err(e) = sandbox.inner.store_handle.flush().await {
        return storage_failure(e);
    }
    let wamid = accepted.plan.wamid.clone();
    let wa_id = accepted.plan.wa_id.clone();
    sandbox.inner.player_wake.notify_one();
    Json(SendResponse {
        messaging_product: Default::default(),
        contacts: vec![SentContact {
            input: accepted.input,
            wa_id,
        }],
        messages: vec![SentMessage {
            id: wamid,
            message_status: accepted.is_template.then(|| "accepted".to_string()),
            group_id: None,
        }],
    })
    .into_response()
}

/// What the sandbox does with a valid message: Meta's throughput, window, template and pair-rate
/// rules, in Meta's order.
fn decide(
    sandbox: &Sandbox,
    connection: &Connection,
    sender: Sender,
    message: &OutgoingMessage,
) -> Result<Accepted, Refusal> {
    let id = sender.phone_number_id.clone();
    let profile = Sandbox::profile(connection);
    if !sandbox.within_throughput(&id, profile.messages_per_second) {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            130429,
            format!(
                "Cloud API message throughput ({} messages per second) has been reached.",
                profile.messages_per_second
            ),
        ));
    }
    let wa_id = fate::wa_id(&message.to);
    if wa_id == fate::wa_id(&profile.display_phone_number) {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            131021,
            "Sender and recipient phone number is the same.",
        ));
    }
    let now_ms = sandbox.inner.clock.now_ms();
    let last_inbound = sandbox
        .inner
        .store
        .last_inbound(&id, &wa_id)
        .map_err(Refusal::storage)?;
    // The same window rule as Herald's own (`domain::whatsapp::window`), applied to what the
    // fake knows of its simulated users.
    let in_window = last_inbound.is_some_and(|at| {
        UserWindows::default()
            .after_inbound_lasting(at, false, profile.service_window_ms())
            .allows_free_form(now_ms)
    });
    let (category, pricing_type, marketing, template_name) = match &message.content {
        MessageContent::Template { template } => {
            let stored = sandbox
                .inner
                .store
                .templates_of(&sender.waba_id)
                .map_err(Refusal::storage)?
                .into_iter()
                .find(|t| {
                    t.details.name == template.name && t.details.language == template.language.code
                });
            let Some(stored) = stored else {
                return Err(Refusal::new(
                    StatusCode::NOT_FOUND,
                    132001,
                    format!(
                        "template name ({}) does not exist in {}",
                        template.name, template.language.code
                    ),
                ));
            };
            match stored.details.status.as_str() {
                "APPROVED" => {}
                "PAUSED" => {
                    return Err(Refusal::new(
                        StatusCode::BAD_REQUEST,
                        132015,
                        "Template is paused due to low quality.",
                    ))
                }
                "DISABLED" => {
                    return Err(Refusal::new(
                        StatusCode::BAD_REQUEST,
                        132016,
                        "Template has been disabled due to low quality.",
                    ))
                }
                other => {
                    return Err(Refusal::new(
                        StatusCode::NOT_FOUND,
                        132001,
                        format!("template {} is {other}, not APPROVED", template.name),
                    ))
                }
            }
            let expected = body_variables(&stored.details);
            let given: usize = template
                .components
                .iter()
                .filter(|c| c.kind.eq_ignore_ascii_case("body"))
                .map(|c| c.parameters.len())
                .sum();
            if expected != given {
                return Err(Refusal::new(
                    StatusCode::BAD_REQUEST,
                    132000,
                    format!("body: number of localizable_params ({given}) does not match the expected number of params ({expected})"),
                ));
            }
            let category = stored.details.category.to_lowercase();
            let free = category == "utility" && in_window;
            let kind = if free {
                "free_customer_service"
            } else {
                "regular"
            };
            let marketing = category == "marketing";
            (category, kind, marketing, Some(template.name.clone()))
        }
        _ => {
            if profile.enforce_service_window && !in_window {
                return Err(Refusal::new(
                    StatusCode::BAD_REQUEST,
                    131047,
                    "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
                ));
            }
            ("service".to_string(), "free_customer_service", false, None)
        }
    };
    if !sandbox.within_pair_rate(&id, &wa_id) {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            131056,
            "Too many messages sent from the sender phone number to the same recipient phone number in a short period of time.",
        ));
    }
    Ok(Accepted {
        plan: Plan {
            sender,
            wamid: new_wamid(),
            wa_id: wa_id.clone(),
            callback_data: message.biz_opaque_callback_data.clone(),
            category,
            pricing_type,
            fate: fate::fate(&profile, &wa_id, marketing),
            step: Duration::from_millis(profile.status_delay_ms),
        },
        input: message.to.clone(),
        is_template: template_name.is_some(),
        template: template_name,
    })
}

/// Distinct variables of a template's body.
fn body_variables(details: &TemplateDetails) -> usize {
    let text = details
        .components
        .iter()
        .find(|c| c.kind.eq_ignore_ascii_case("BODY"))
        .and_then(|c| c.text.as_deref())
        .unwrap_or_default();
    let mut names: Vec<String> = placeholders::find(text)
        .into_iter()
        .map(|p| p.name)
        .collect();
    names.sort_unstable();
    names.dedup();
    names.len()
}

/// What will happen to one accepted message.
pub(super) struct Plan {
    pub(super) sender: Sender,
    pub(super) wamid: String,
    pub(super) wa_id: String,
    pub(super) callback_data: Option<String>,
    pub(super) category: String,
    pub(super) pricing_type: &'static str,
    pub(super) fate: Fate,
    pub(super) step: Duration,
}

/// Posts the message's status webhooks, the first after `first_wait`: sent → delivered (→ read),
/// or failed.
pub(super) async fn play(
    sandbox: Sandbox,
    plan: Plan,
    first_wait: Duration,
    log_id: Option<uuid::Uuid>,
) {
    let report = |status: &'static str, pricing: bool, error_code: Option<i64>| {
        outbox::status(
            &plan.sender,
            &StatusReport {
                wamid: &plan.wamid,
                status,
                timestamp: sandbox.now_s(),
                recipient_id: &plan.wa_id,
                callback_data: plan.callback_data.as_deref(),
                pricing: pricing.then_some((plan.category.as_str(), plan.pricing_type)),
                error_code,
            },
        )
    };
    let poster = &sandbox.inner.poster;
    tokio::time::sleep(first_wait).await;
    // Meta keeps retrying a report Herald did not acknowledge; so does the queue: a play that
    // could not deliver every report stays queued and is played again in full (Herald merges
    // repeated reports).
    let acknowledged = match plan.fate {
        Fate::Fails(code) => {
            poster
                .deliver(&plan.sender, &report("failed", false, Some(code)))
                .await
        }
        Fate::Delivered { read } => {
            poster
                .deliver(&plan.sender, &report("sent", true, None))
                .await
                && {
                    tokio::time::sleep(plan.step).await;
                    poster
                        .deliver(&plan.sender, &report("delivered", true, None))
                        .await
                }
                && (!read || {
                    tokio::time::sleep(plan.step * 2).await;
                    poster
                        .deliver(&plan.sender, &report("read", false, None))
                        .await
                })
        }
    };
    if !acknowledged {
        return;
    }
    if let Some(id) = log_id {
        let log = sandbox.inner.store.clone();
        if let Err(error) = Store::offload(move || log.played(&id)).await {
            tracing::warn!(%error, "sandbox cannot mark a send as played");
        }
    }
}

/// `GET /{id}`: a phone number, a template or a media object.
async fn read_object(
    State(sandbox): State<Sandbox>,
    Path((version, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let connection = try_reply!(caller(&sandbox, &headers, &version));
    let profile = Sandbox::profile(&connection);
    if connection.phone_number_id.as_deref() == Some(id.as_str()) {
        return Json(PhoneNumberInfo {
            id,
            display_phone_number: Some(format!("+{}", profile.display_phone_number)),
            verified_name: Some(connection.name.clone()),
            quality_rating: Some("GREEN".into()),
            whatsapp_business_manager_messaging_limit: Some(profile.messaging_limit.clone()),
            messaging_limit_tier: None,
            // Meta has two levels; a simulated number at 1,000 mps is an upgraded one.
            throughput: Some(Throughput {
                level: if profile.messages_per_second >= domain::campaign::pacing::MAX_MPS {
                    "HIGH"
                } else {
                    "STANDARD"
                }
                .into(),
            }),
            name_status: Some("APPROVED".into()),
        })
        .into_response();
    }
    match owned_template(&sandbox, &connection, &id) {
        Ok(Some(template)) => return Json(template.details).into_response(),
        Ok(None) => {}
        Err(response) => return response,
    }
    let media = sandbox
        .inner
        .media
        .lock()
        .ok()
        .and_then(|shelf| shelf.items.get(&id).cloned());
    match media {
        Some(m) if connection.phone_number_id.as_deref() == Some(m.phone_number_id.as_str()) => {
            Json(MediaInfo {
                messaging_product: Some("whatsapp".into()),
                url: format!("{}/sandbox/media/{id}", sandbox.inner.self_url),
                mime_type: m.mime_type,
                sha256: m.sha256,
                file_size: Some(m.bytes.len() as u64),
                id,
            })
            .into_response()
        }
        _ => no_object(&id),
    }
}

fn owned_template(
    sandbox: &Sandbox,
    connection: &Connection,
    id: &str,
) -> Result<Option<SandboxTemplate>, Response> {
    let template = sandbox.inner.store.template(id).map_err(storage_failure)?;
    Ok(template.filter(|t| Some(&t.waba_id) == connection.waba_id.as_ref()))
}

/// `POST /{template-id}`: edit.
async fn edit_template(
    State(sandbox): State<Sandbox>,
    Path((version, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let connection = try_reply!(caller(&sandbox, &headers, &version));
    let Some(mut template) = try_reply!(owned_template(&sandbox, &connection, &id)) else {
        return no_object(&id);
    };
    let edit: TemplateEdit = match serde_json::from_slice(&body) {
        Ok(e) => e,
        Err(e) => return invalid(format!("Invalid parameter: {e}")),
    };
    let status = template.details.status.clone();
    if !matches!(status.as_str(), "APPROVED" | "REJECTED" | "PAUSED") {
        return invalid(format!("A template that is {status} cannot be edited."));
    }
    if let Some(category) = edit.category {
        if status == "APPROVED" && category != template.details.category {
            return invalid("The category of an approved template cannot be changed.");
        }
        template.details.category = category;
    }
    if let Some(components) = edit.components {
        template.details.components = components;
    }
    if edit.message_send_ttl_seconds.is_some() {
        template.details.message_send_ttl_seconds = edit.message_send_ttl_seconds;
    }
    template.details.status = "PENDING".into();
    template.details.rejected_reason = None;
    template.review_due_ms = Some(review_due(&sandbox, &connection));
    if let Err(e) = sandbox.inner.store.save_template(&template) {
        return storage_failure(e);
    }
    Json(Success { success: true }).into_response()
}

fn review_due(sandbox: &Sandbox, connection: &Connection) -> i64 {
    let delay = Sandbox::profile(connection).review_delay_ms;
    sandbox.inner.clock.now_ms() + i64::try_from(delay).unwrap_or(i64::MAX / 2)
}

/// `DELETE /{media-id}`.
async fn delete_object(
    State(sandbox): State<Sandbox>,
    Path((version, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let connection = try_reply!(caller(&sandbox, &headers, &version));
    let Ok(mut shelf) = sandbox.inner.media.lock() else {
        return refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            131000,
            "Something went wrong",
        );
    };
    let owned = shelf
        .items
        .get(&id)
        .is_some_and(|m| connection.phone_number_id.as_deref() == Some(m.phone_number_id.as_str()));
    if !owned {
        return no_object(&id);
    }
    if let Some(removed) = shelf.items.remove(&id) {
        shelf.bytes -= removed.bytes.len();
    }
    Json(Success { success: true }).into_response()
}

/// Query of the template list.
#[derive(Deserialize)]
struct ListQuery {
    limit: Option<usize>,
    after: Option<String>,
    name: Option<String>,
    status: Option<String>,
}

fn cursor(id: &str) -> String {
    URL_SAFE_NO_PAD.encode(id)
}

/// `GET /{waba-id}/message_templates`.
async fn list_templates(
    State(sandbox): State<Sandbox>,
    Path((version, id)): Path<(String, String)>,
    Query(query): Query<ListQuery>,
    headers: HeaderMap,
) -> Response {
    let connection = try_reply!(caller(&sandbox, &headers, &version));
    if connection.waba_id.as_deref() != Some(id.as_str()) {
        return no_object(&id);
    }
    let after = match query.after.as_deref().map(|c| URL_SAFE_NO_PAD.decode(c)) {
        Some(Ok(bytes)) => Some(String::from_utf8_lossy(&bytes).into_owned()),
        Some(Err(_)) => return invalid("Invalid parameter: after is not a valid cursor"),
        None => None,
    };
    let limit = query.limit.unwrap_or(25).clamp(1, 1000);
    let all = match sandbox.inner.store.templates_of(&id) {
        Ok(all) => all,
        Err(e) => return storage_failure(e),
    };
    let mut matching = all
        .into_iter()
        .map(|t| t.details)
        .filter(|d| after.as_ref().is_none_or(|a| &d.id > a))
        .filter(|d| {
            query
                .name
                .as_ref()
                .is_none_or(|n| d.name.contains(n.as_str()))
        })
        .filter(|d| {
            query
                .status
                .as_ref()
                .is_none_or(|s| d.status.eq_ignore_ascii_case(s))
        });
    let data: Vec<TemplateDetails> = matching.by_ref().take(limit).collect();
    let more = matching.next().is_some();
    let paging = match (data.first(), data.last()) {
        (Some(first), Some(last)) => Some(Paging {
            cursors: Some(Cursors {
                before: Some(cursor(&first.id)),
                after: Some(cursor(&last.id)),
            }),
            next: more.then(|| {
                format!(
                    "{}/sandbox/graph/{version}/{id}/message_templates?limit={limit}&after={}",
                    sandbox.inner.self_url,
                    cursor(&last.id)
                )
            }),
            previous: None,
        }),
        _ => None,
    };
    Json(TemplatePage { data, paging }).into_response()
}

/// `POST /{waba-id}/message_templates`.
async fn create_template(
    State(sandbox): State<Sandbox>,
    Path((version, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let connection = try_reply!(caller(&sandbox, &headers, &version));
    if connection.waba_id.as_deref() != Some(id.as_str()) {
        return no_object(&id);
    }
    let definition: TemplateDefinition = match serde_json::from_slice(&body) {
        Ok(d) => d,
        Err(e) => return invalid(format!("Invalid parameter: {e}")),
    };
    let name_ok = !definition.name.is_empty()
        && definition
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !name_ok {
        return invalid(
            "Invalid parameter: name may contain only lowercase letters, digits and underscores",
        );
    }
    if !matches!(
        definition.category.as_str(),
        "MARKETING" | "UTILITY" | "AUTHENTICATION"
    ) {
        return invalid("Invalid parameter: category must be MARKETING, UTILITY or AUTHENTICATION");
    }
    let existing = match sandbox.inner.store.templates_of(&id) {
        Ok(all) => all,
        Err(e) => return storage_failure(e),
    };
    if existing
        .iter()
        .any(|t| t.details.name == definition.name && t.details.language == definition.language)
    {
        let mut error = GraphError::new(
            100,
            "Invalid parameter",
            "Content in this language already exists",
        );
        error.error_subcode = Some(2_388_024);
        return (StatusCode::BAD_REQUEST, Json(GraphErrorBody { error })).into_response();
    }
    let details = TemplateDetails {
        id: new_numeric_id(),
        name: definition.name,
        language: definition.language,
        status: "PENDING".into(),
        category: definition.category,
        parameter_format: Some(
            definition
                .parameter_format
                .unwrap_or_else(|| "POSITIONAL".into())
                .to_uppercase(),
        ),
        components: definition.components,
        rejected_reason: None,
        quality_score: None,
        previous_category: None,
        message_send_ttl_seconds: definition.message_send_ttl_seconds,
        extra: Default::default(),
    };
    let created = TemplateCreated {
        id: details.id.clone(),
        status: details.status.clone(),
        category: details.category.clone(),
    };
    let template = SandboxTemplate {
        connection_id: connection.id,
        waba_id: id,
        details,
        review_due_ms: Some(review_due(&sandbox, &connection)),
    };
    if let Err(e) = sandbox.inner.store.save_template(&template) {
        return storage_failure(e);
    }
    Json(created).into_response()
}

/// Query of a template delete.
#[derive(Deserialize)]
struct DeleteQuery {
    name: Option<String>,
    hsm_id: Option<String>,
}

/// `DELETE /{waba-id}/message_templates?name=…[&hsm_id=…]`.
async fn delete_templates(
    State(sandbox): State<Sandbox>,
    Path((version, id)): Path<(String, String)>,
    Query(query): Query<DeleteQuery>,
    headers: HeaderMap,
) -> Response {
    let connection = try_reply!(caller(&sandbox, &headers, &version));
    if connection.waba_id.as_deref() != Some(id.as_str()) {
        return no_object(&id);
    }
    let Some(name) = query.name else {
        return refuse(
            StatusCode::BAD_REQUEST,
            131008,
            "The parameter name is required.",
        );
    };
    let all = match sandbox.inner.store.templates_of(&id) {
        Ok(all) => all,
        Err(e) => return storage_failure(e),
    };
    let doomed: Vec<SandboxTemplate> = all
        .into_iter()
        .filter(|t| t.details.name == name)
        .filter(|t| query.hsm_id.as_ref().is_none_or(|h| &t.details.id == h))
        .collect();
    if doomed.is_empty() {
        return invalid(format!("Message template \"{name}\" was not found"));
    }
    if doomed.iter().any(|t| t.details.status == "DISABLED") {
        return invalid("Disabled templates cannot be deleted.");
    }
    for template in doomed {
        if let Err(e) = sandbox.inner.store.delete_template(&template.details.id) {
            return storage_failure(e);
        }
    }
    Json(Success { success: true }).into_response()
}

/// `POST /{phone-number-id}/media` (multipart).
async fn upload_media(
    State(sandbox): State<Sandbox>,
    Path((version, id)): Path<(String, String)>,
    headers: HeaderMap,
    mut form: Multipart,
) -> Response {
    let connection = try_reply!(caller(&sandbox, &headers, &version));
    if connection.phone_number_id.as_deref() != Some(id.as_str()) {
        return no_object(&id);
    }
    let (mut file, mut declared, mut product) = (None, None, None);
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    131053,
                    format!("Media upload error: {e}"),
                )
            }
        };
        let name = field.name().unwrap_or_default().to_string();
        let content_type = field.content_type().map(str::to_string);
        let bytes = match field.bytes().await {
            Ok(b) => b,
            Err(e) => {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    131053,
                    format!("Media upload error: {e}"),
                )
            }
        };
        match name.as_str() {
            "file" => file = Some((content_type, bytes)),
            "type" => declared = Some(String::from_utf8_lossy(&bytes).into_owned()),
            "messaging_product" => product = Some(String::from_utf8_lossy(&bytes).into_owned()),
            _ => {}
        }
    }
    if product.as_deref() != Some("whatsapp") {
        return refuse(
            StatusCode::BAD_REQUEST,
            131008,
            "The parameter messaging_product is required.",
        );
    }
    let Some((content_type, bytes)) = file else {
        return refuse(
            StatusCode::BAD_REQUEST,
            131008,
            "The parameter file is required.",
        );
    };
    let mime_type = declared.or(content_type).unwrap_or_default();
    let Some((kind, max)) = media_limit(&mime_type) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            131053,
            format!("Media upload error: unsupported MIME type {mime_type}"),
        );
    };
    if bytes.len() as u64 > max {
        return refuse(
            StatusCode::BAD_REQUEST,
            131053,
            format!("Media upload error: {kind} files may be at most {max} bytes"),
        );
    }
    let stored = StoredMedia {
        phone_number_id: id,
        mime_type,
        sha256: hex::encode(Sha256::digest(&bytes)),
        bytes: std::sync::Arc::new(bytes.to_vec()),
    };
    let media_id = match sandbox.shelve(stored) {
        Ok(id) => id,
        Err(why) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                131053,
                format!("Media upload error: {why}"),
            )
        }
    };
    Json(MediaUploaded { id: media_id }).into_response()
}

/// `GET /sandbox/media/{id}`: the download URL handed out by `GET /{media-id}`.
async fn download_media(
    State(sandbox): State<Sandbox>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let connection = try_reply!(caller(&sandbox, &headers, "v1.0"));
    if sandbox.take_download_failure() {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "media server unavailable",
        )
            .into_response();
    }
    let media = sandbox
        .inner
        .media
        .lock()
        .ok()
        .and_then(|shelf| shelf.items.get(&id).cloned())
        .filter(|m| connection.phone_number_id.as_deref() == Some(m.phone_number_id.as_str()));
    match media {
        Some(m) => (
            [(header::CONTENT_TYPE, m.mime_type.clone())],
            m.bytes.as_ref().clone(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
