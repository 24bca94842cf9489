//! The sandbox's side of webhooks: payloads in Meta's envelope (fact sheet §3.3–§3.6), signed
//! with the connection's app secret and POSTed to Herald's own intake over real HTTP, retried like
//! Meta retries.

use std::sync::Arc;
use std::time::Duration;

use domain::whatsapp::errors::classify;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::whatsapp::signature;

/// Attempts per webhook before the sandbox gives up (Meta keeps trying for days).
const ATTEMPTS: u32 = 6;

/// Which number a webhook speaks for.
#[derive(Debug, Clone)]
pub struct Sender {
    /// The sandbox connection.
    pub connection_id: Uuid,
    /// Its WABA id (`entry[].id`).
    pub waba_id: String,
    /// Its phone-number id.
    pub phone_number_id: String,
    /// Its display number.
    pub display_phone_number: String,
    /// The key of the signature.
    pub app_secret: String,
}

fn envelope(sender: &Sender, field: &str, value: Value) -> Value {
    json!({"object": "whatsapp_business_account", "entry": [{
        "id": sender.waba_id,
        "changes": [{"field": field, "value": value}],
    }]})
}

fn metadata(sender: &Sender) -> Value {
    json!({"display_phone_number": sender.display_phone_number,
           "phone_number_id": sender.phone_number_id})
}

/// A status report of one message.
pub struct StatusReport<'a> {
    /// The wamid.
    pub wamid: &'a str,
    /// `sent`, `delivered`, `read` or `failed`.
    pub status: &'a str,
    /// Unix seconds.
    pub timestamp: i64,
    /// The user's wa_id.
    pub recipient_id: &'a str,
    /// Echo of the send's `biz_opaque_callback_data`.
    pub callback_data: Option<&'a str>,
    /// Pricing `(category, type)` when this report carries it.
    pub pricing: Option<(&'a str, &'a str)>,
    /// Error code of a `failed` report.
    pub error_code: Option<i64>,
}

/// A `messages` webhook carrying one status.
pub fn status(sender: &Sender, report: &StatusReport<'_>) -> Value {
    let mut item = json!({
        "id": report.wamid,
        "status": report.status,
        "timestamp": report.timestamp.to_string(),
        "recipient_id": report.recipient_id,
    });
    if let Some(data) = report.callback_data {
        item["biz_opaque_callback_data"] = json!(data);
    }
    if let Some((category, kind)) = report.pricing {
        item["pricing"] = json!({"billable": kind == "regular", "pricing_model": "PMP",
                                 "type": kind, "category": category});
    }
    if let Some(code) = report.error_code {
        let title = classify(code).meaning;
        item["errors"] = json!([{"code": code, "title": title, "message": title,
            "error_data": {"details": format!("Simulated by the Herald sandbox: {title}")},
            "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}]);
    }
    envelope(
        sender,
        "messages",
        json!({"messaging_product": "whatsapp", "metadata": metadata(sender), "statuses": [item]}),
    )
}

/// A `messages` webhook carrying one inbound message (`message` holds `type` and its object).
pub fn inbound(
    sender: &Sender,
    from: &str,
    name: &str,
    wamid: &str,
    timestamp: i64,
    message: Value,
) -> Value {
    let mut item = json!({"from": from, "id": wamid, "timestamp": timestamp.to_string()});
    if let (Some(item), Value::Object(fields)) = (item.as_object_mut(), message) {
        item.extend(fields);
    }
    envelope(
        sender,
        "messages",
        json!({"messaging_product": "whatsapp", "metadata": metadata(sender),
               "contacts": [{"profile": {"name": name}, "wa_id": from}],
               "messages": [item]}),
    )
}

/// A `user_preferences` webhook: the user stopped or resumed marketing messages.
pub fn user_preference(sender: &Sender, wa_id: &str, stop: bool, timestamp: i64) -> Value {
    let (value, detail) = if stop {
        ("stop", "User requested to stop marketing messages")
    } else {
        ("resume", "User requested to resume marketing messages")
    };
    envelope(
        sender,
        "user_preferences",
        json!({"messaging_product": "whatsapp", "metadata": metadata(sender),
               "contacts": [{"wa_id": wa_id}],
               "user_preferences": [{"wa_id": wa_id, "detail": detail,
                   "category": "marketing_messages", "value": value, "timestamp": timestamp}]}),
    )
}

/// A `message_template_status_update` webhook.
pub fn template_status(
    sender: &Sender,
    template: &domain::whatsapp::graph::TemplateDetails,
    reason: Option<&str>,
    recommendation: Option<&str>,
    now_s: i64,
) -> Value {
    let id: Value = template
        .id
        .parse::<u64>()
        .map_or_else(|_| json!(template.id), |n| json!(n));
    let mut value = json!({
        "event": template.status,
        "message_template_id": id,
        "message_template_name": template.name,
        "message_template_language": template.language,
        "message_template_category": template.category,
        "reason": reason.unwrap_or("NONE"),
    });
    if let (Some(reason), Some(recommendation)) = (reason, recommendation) {
        value["rejection_info"] = json!({"reason": reason, "recommendation": recommendation});
    }
    let mut payload = envelope(sender, "message_template_status_update", value);
    payload["entry"][0]["time"] = json!(now_s);
    payload
}

/// Webhook requests in flight at once. Meta delivers over a bounded number of connections; a
/// request per played status, all at once, would hold thousands of connections (and their
/// buffers, on both ends) open in one process.
const POSTS_AT_ONCE: usize = 64;

/// Posts signed webhooks to Herald's own intake.
#[derive(Clone)]
pub struct WebhookPoster {
    http: reqwest::Client,
    self_url: Arc<str>,
    posting: Arc<tokio::sync::Semaphore>,
}

impl WebhookPoster {
    /// Posts to `{self_url}/webhooks/whatsapp/{connection}`.
    pub fn new(http: reqwest::Client, self_url: &str) -> Self {
        Self {
            http,
            self_url: self_url.into(),
            posting: Arc::new(tokio::sync::Semaphore::new(POSTS_AT_ONCE)),
        }
    }

    /// Signs and posts `payload`, retrying with exponential backoff until a 200 or the last
    /// attempt. Returns whether it was acknowledged.
    pub async fn deliver(&self, sender: &Sender, payload: &Value) -> bool {
        let body = payload.to_string().into_bytes();
        let signature = signature::sign(sender.app_secret.as_bytes(), &body);
        let url = format!(
            "{}/webhooks/whatsapp/{}",
            self.self_url, sender.connection_id
        );
        for attempt in 0..ATTEMPTS {
            let sent = {
                let Ok(_turn) = self.posting.acquire().await else {
                    return false;
                };
                self.http
                    .post(&url)
                    .header("content-type", "application/json")
                    .header(signature::HEADER, &signature)
                    .body(body.clone())
                    .send()
                    .await
            };
            match sent {
                Ok(response) if response.status().is_success() => return true,
                Ok(response) => {
                    tracing::warn!(status = %response.status(), attempt, "sandbox webhook refused")
                }
                Err(error) => {
                    tracing::warn!(error = %error.without_url(), attempt, "sandbox webhook not delivered")
                }
            }
            tokio::time::sleep(Duration::from_millis(500 << attempt)).await;
        }
        false
    }
}
