//! Meta's JSON, field for field. Private: the rest of Herald sees only the events built from it.
//! Meta writes timestamps and ids sometimes as strings and sometimes as numbers; the `flexible_*`
//! helpers accept both.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

#[derive(Deserialize)]
pub struct Envelope {
    pub object: String,
    #[serde(default)]
    pub entry: Vec<Entry>,
}

#[derive(Deserialize)]
pub struct Entry {
    #[serde(deserialize_with = "flexible_string")]
    pub id: String,
    #[serde(default, deserialize_with = "flexible_opt_i64")]
    pub time: Option<i64>,
    #[serde(default)]
    pub changes: Vec<Change>,
}

#[derive(Deserialize)]
pub struct Change {
    pub field: String,
    #[serde(default)]
    pub value: Value,
}

#[derive(Deserialize)]
pub struct MessagesValue {
    #[serde(default)]
    pub metadata: Option<Metadata>,
    #[serde(default)]
    pub contacts: Vec<ContactWire>,
    #[serde(default)]
    pub messages: Vec<Value>,
    #[serde(default)]
    pub statuses: Vec<Value>,
    #[serde(default)]
    pub errors: Vec<ErrorWire>,
}

#[derive(Deserialize)]
pub struct Metadata {
    #[serde(deserialize_with = "flexible_string")]
    pub phone_number_id: String,
}

#[derive(Deserialize)]
pub struct ContactWire {
    #[serde(default)]
    pub profile: Option<ProfileWire>,
    #[serde(default, deserialize_with = "flexible_opt_string")]
    pub wa_id: Option<String>,
    #[serde(default)]
    pub user_id: Option<String>,
}

#[derive(Deserialize)]
pub struct ProfileWire {
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Deserialize, Clone)]
pub struct ErrorWire {
    pub code: i64,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub error_data: Option<ErrorDataWire>,
    #[serde(default)]
    pub href: Option<String>,
}

#[derive(Deserialize, Clone)]
pub struct ErrorDataWire {
    #[serde(default)]
    pub details: Option<String>,
}

#[derive(Deserialize)]
pub struct InboundWire {
    /// Absent when the user hides their number behind a username (BSUID webhooks, 2026).
    #[serde(default, deserialize_with = "flexible_opt_string")]
    pub from: Option<String>,
    #[serde(default)]
    pub from_user_id: Option<String>,
    pub id: String,
    #[serde(deserialize_with = "flexible_i64")]
    pub timestamp: i64,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub context: Option<ContextWire>,
    #[serde(default)]
    pub referral: Option<Value>,
    #[serde(default)]
    pub text: Option<TextWire>,
    #[serde(default)]
    pub button: Option<ButtonWire>,
    #[serde(default)]
    pub interactive: Option<InteractiveWire>,
    #[serde(default)]
    pub location: Option<LocationWire>,
    #[serde(default)]
    pub contacts: Option<Value>,
    #[serde(default)]
    pub reaction: Option<ReactionWire>,
    #[serde(default)]
    pub system: Option<SystemWire>,
    #[serde(default)]
    pub order: Option<OrderWire>,
    #[serde(default)]
    pub errors: Vec<ErrorWire>,
}

/// `order`: a cart sent from the business's catalog.
#[derive(Deserialize)]
pub struct OrderWire {
    #[serde(default)]
    pub catalog_id: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub product_items: Vec<OrderItemWire>,
}

/// One line of an order.
#[derive(Deserialize)]
pub struct OrderItemWire {
    pub product_retailer_id: String,
    #[serde(default, deserialize_with = "flexible_opt_f64")]
    pub quantity: Option<f64>,
    #[serde(default, deserialize_with = "flexible_opt_f64")]
    pub item_price: Option<f64>,
    #[serde(default)]
    pub currency: Option<String>,
}

#[derive(Deserialize)]
pub struct ContextWire {
    #[serde(default, deserialize_with = "flexible_opt_string")]
    pub from: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub forwarded: bool,
    #[serde(default)]
    pub frequently_forwarded: bool,
}

#[derive(Deserialize)]
pub struct TextWire {
    pub body: String,
}

#[derive(Deserialize)]
pub struct ButtonWire {
    #[serde(default)]
    pub payload: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
}

#[derive(Deserialize)]
pub struct InteractiveWire {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub button_reply: Option<ReplyWire>,
    #[serde(default)]
    pub list_reply: Option<ReplyWire>,
}

#[derive(Deserialize)]
pub struct ReplyWire {
    pub id: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Deserialize)]
pub struct MediaWire {
    #[serde(deserialize_with = "flexible_string")]
    pub id: String,
    #[serde(default)]
    pub mime_type: Option<String>,
    #[serde(default)]
    pub sha256: Option<String>,
    #[serde(default)]
    pub caption: Option<String>,
    #[serde(default)]
    pub filename: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
}

#[derive(Deserialize)]
pub struct LocationWire {
    #[serde(deserialize_with = "flexible_f64")]
    pub latitude: f64,
    #[serde(deserialize_with = "flexible_f64")]
    pub longitude: f64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
}

#[derive(Deserialize)]
pub struct ReactionWire {
    pub message_id: String,
    #[serde(default)]
    pub emoji: Option<String>,
}

#[derive(Deserialize)]
pub struct SystemWire {
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "flexible_opt_string")]
    pub new_wa_id: Option<String>,
    #[serde(default, deserialize_with = "flexible_opt_string")]
    pub wa_id: Option<String>,
}

#[derive(Deserialize)]
pub struct StatusWire {
    pub id: String,
    pub status: String,
    #[serde(deserialize_with = "flexible_i64")]
    pub timestamp: i64,
    #[serde(default, deserialize_with = "flexible_opt_string")]
    pub recipient_id: Option<String>,
    #[serde(default)]
    pub biz_opaque_callback_data: Option<String>,
    #[serde(default)]
    pub conversation: Option<ConversationWire>,
    #[serde(default)]
    pub pricing: Option<PricingWire>,
    #[serde(default)]
    pub errors: Vec<ErrorWire>,
}

#[derive(Deserialize)]
pub struct ConversationWire {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "flexible_opt_i64")]
    pub expiration_timestamp: Option<i64>,
    #[serde(default)]
    pub origin: Option<OriginWire>,
}

#[derive(Deserialize)]
pub struct OriginWire {
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Deserialize)]
pub struct PricingWire {
    #[serde(default)]
    pub billable: Option<bool>,
    #[serde(default)]
    pub pricing_model: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
}

#[derive(Deserialize)]
pub struct TemplateStatusWire {
    pub event: String,
    #[serde(deserialize_with = "flexible_string")]
    pub message_template_id: String,
    pub message_template_name: String,
    pub message_template_language: String,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub message_template_category: Option<String>,
    #[serde(default)]
    pub disable_info: Option<DisableInfoWire>,
    #[serde(default)]
    pub other_info: Option<OtherInfoWire>,
    #[serde(default)]
    pub rejection_info: Option<RejectionInfoWire>,
}

#[derive(Deserialize)]
pub struct DisableInfoWire {
    #[serde(default, deserialize_with = "flexible_opt_i64")]
    pub disable_date: Option<i64>,
}

#[derive(Deserialize)]
pub struct OtherInfoWire {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Deserialize)]
pub struct RejectionInfoWire {
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub recommendation: Option<String>,
}

#[derive(Deserialize)]
pub struct TemplateQualityWire {
    #[serde(deserialize_with = "flexible_string")]
    pub message_template_id: String,
    pub message_template_name: String,
    pub message_template_language: String,
    #[serde(default)]
    pub previous_quality_score: Option<String>,
    pub new_quality_score: String,
}

#[derive(Deserialize)]
pub struct TemplateCategoryWire {
    #[serde(deserialize_with = "flexible_string")]
    pub message_template_id: String,
    pub message_template_name: String,
    pub message_template_language: String,
    pub new_category: String,
    #[serde(default)]
    pub previous_category: Option<String>,
    #[serde(default)]
    pub correct_category: Option<String>,
}

#[derive(Deserialize)]
pub struct PhoneQualityWire {
    #[serde(default, deserialize_with = "flexible_opt_string")]
    pub display_phone_number: Option<String>,
    pub event: String,
    #[serde(default)]
    pub current_limit: Option<String>,
    #[serde(default)]
    pub old_limit: Option<String>,
    #[serde(default, deserialize_with = "flexible_opt_string")]
    pub max_daily_conversations_per_business: Option<String>,
}

#[derive(Deserialize)]
pub struct CapabilityWire {
    #[serde(default, deserialize_with = "flexible_opt_string")]
    pub max_daily_conversations_per_business: Option<String>,
    #[serde(default, deserialize_with = "flexible_opt_string")]
    pub max_daily_conversation_per_phone: Option<String>,
}

#[derive(Deserialize)]
pub struct AccountUpdateWire {
    pub event: String,
    #[serde(default)]
    pub violation_info: Option<ViolationWire>,
    #[serde(default)]
    pub ban_info: Option<BanWire>,
}

#[derive(Deserialize)]
pub struct ViolationWire {
    #[serde(default)]
    pub violation_type: Option<String>,
}

#[derive(Deserialize)]
pub struct BanWire {
    #[serde(default)]
    pub waba_ban_state: Option<Value>,
    #[serde(default)]
    pub waba_ban_date: Option<String>,
}

#[derive(Deserialize)]
pub struct UserPreferencesWire {
    #[serde(default)]
    pub user_preferences: Vec<UserPreferenceWire>,
}

#[derive(Deserialize)]
pub struct UserPreferenceWire {
    #[serde(deserialize_with = "flexible_string")]
    pub wa_id: String,
    #[serde(default)]
    pub detail: Option<String>,
    pub category: String,
    pub value: String,
    #[serde(deserialize_with = "flexible_i64")]
    pub timestamp: i64,
}

/// A string or a number, as a string.
fn flexible_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "expected a string or number, got {other}"
        ))),
    }
}

fn flexible_opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        Value::Number(n) => Ok(Some(n.to_string())),
        other => Err(serde::de::Error::custom(format!(
            "expected a string or number, got {other}"
        ))),
    }
}

/// Unix seconds written as a number or a string of digits.
fn flexible_i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    flexible_opt_i64(d)?.ok_or_else(|| serde::de::Error::custom("expected a timestamp, got null"))
}

fn flexible_opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("expected an integer, got {n}"))),
        Value::String(s) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("expected an integer, got {s:?}"))),
        other => Err(serde::de::Error::custom(format!(
            "expected an integer, got {other}"
        ))),
    }
}

fn flexible_f64<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    match Value::deserialize(d)? {
        Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| serde::de::Error::custom("not a number")),
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| serde::de::Error::custom(format!("expected a number, got {s:?}"))),
        other => Err(serde::de::Error::custom(format!(
            "expected a number, got {other}"
        ))),
    }
}

fn flexible_opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        value => flexible_f64(value)
            .map(Some)
            .map_err(|e| serde::de::Error::custom(e.to_string())),
    }
}
