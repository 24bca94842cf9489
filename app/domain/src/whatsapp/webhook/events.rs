//! The typed events Herald acts on, built from [`super::wire`].

use serde_json::Value;

use super::{decode, wire, ParsedWebhook};
use crate::contacts::phone;
use crate::whatsapp::limits::MessagingLimit;
use crate::whatsapp::status::DeliveryStatus;

/// One thing that happened, with the account (and number) it happened to.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEvent {
    /// The WhatsApp Business Account (`entry.id`).
    pub waba_id: String,
    /// The business number the event concerns, when Meta says (`metadata.phone_number_id`).
    pub phone_number_id: Option<String>,
    /// What happened.
    pub kind: EventKind,
}

/// The kinds of event.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// A user wrote to the business.
    Inbound(InboundMessage),
    /// A delivery report for a message the business sent.
    Status(StatusReport),
    /// A problem not tied to one message (e.g. 130429), from `value.errors`.
    Error(ApiError),
    /// A template was approved, rejected, paused, …
    TemplateStatus(TemplateStatusUpdate),
    /// A template's quality score changed.
    TemplateQuality(TemplateQualityUpdate),
    /// Meta recategorised a template.
    TemplateCategory(TemplateCategoryUpdate),
    /// The number's limit or throughput changed (current and legacy forms).
    PhoneNumberQuality(PhoneNumberQualityUpdate),
    /// The portfolio's messaging limit changed.
    BusinessCapability(BusinessCapabilityUpdate),
    /// Account-level news (violations, bans, partner changes, pricing tiers).
    AccountUpdate(AccountUpdate),
    /// A user stopped or resumed marketing messages.
    UserPreference(UserPreference),
    /// A field Herald does not interpret yet, kept whole.
    Unknown {
        /// The webhook field name.
        field: String,
        /// Its value as received.
        value: Value,
    },
}

/// A Meta error object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// Meta's code; see [`crate::whatsapp::errors::classify`].
    pub code: i64,
    /// Meta's title (equal to its message in webhooks).
    pub title: Option<String>,
    /// `error_data.details`, the most specific explanation.
    pub details: Option<String>,
    /// Link to Meta's documentation.
    pub href: Option<String>,
}

impl From<wire::ErrorWire> for ApiError {
    fn from(e: wire::ErrorWire) -> Self {
        Self {
            code: e.code,
            title: e.title.or(e.message),
            details: e.error_data.and_then(|d| d.details),
            href: e.href,
        }
    }
}

/// A message from a user.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundMessage {
    /// The wamid; the deduplication key.
    pub id: String,
    /// The user's number as WhatsApp reports it (may differ from what was imported); `None` when
    /// Meta identified the user only by their business-scoped user id.
    pub from: Option<String>,
    /// The user's profile name, when the payload carried a matching contact.
    pub profile_name: Option<String>,
    /// The user's business-scoped user id (BSUID), sent from 2026-03-31.
    pub user_id: Option<String>,
    /// Unix seconds.
    pub timestamp: i64,
    /// The message this one replies to or was forwarded from.
    pub context: Option<MessageContext>,
    /// Click-to-WhatsApp ad referral, raw.
    pub referral: Option<Value>,
    /// What the user sent.
    pub content: InboundContent,
}

/// Reply and forwarding context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageContext {
    /// The business number the original came from.
    pub from: Option<String>,
    /// The wamid of the original (e.g. the template whose button was tapped).
    pub id: Option<String>,
    /// Forwarded up to five times.
    pub forwarded: bool,
    /// Forwarded more than five times.
    pub frequently_forwarded: bool,
}

/// The kinds of media a user can send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    /// Photo.
    Image,
    /// Video.
    Video,
    /// Audio or voice note.
    Audio,
    /// File.
    Document,
    /// Sticker.
    Sticker,
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderItem {
    /// The product's id in the catalog.
    pub product_retailer_id: String,
    /// How many.
    pub quantity: f64,
    /// The price of one, when given.
    pub item_price: Option<f64>,
    /// ISO 4217 currency.
    pub currency: Option<String>,
}

/// The content of an inbound message.
#[derive(Debug, Clone, PartialEq)]
pub enum InboundContent {
    /// Free text.
    Text {
        /// The text.
        body: String,
    },
    /// A tap on a template's quick-reply button.
    Button {
        /// The payload set when sending (or the label).
        payload: String,
        /// The button label.
        text: String,
    },
    /// A tap on an interactive reply button.
    ButtonReply {
        /// The button id set when sending.
        id: String,
        /// Its title.
        title: String,
    },
    /// A pick from an interactive list.
    ListReply {
        /// The row id set when sending.
        id: String,
        /// Its title.
        title: String,
        /// Its description.
        description: Option<String>,
    },
    /// A photo, video, voice note, file or sticker.
    Media {
        /// Which kind.
        kind: MediaKind,
        /// Media id to download.
        id: String,
        /// MIME type.
        mime_type: Option<String>,
        /// SHA-256 of the file.
        sha256: Option<String>,
        /// Caption.
        caption: Option<String>,
        /// File name (documents).
        filename: Option<String>,
        /// Direct download URL (since 2025-10).
        url: Option<String>,
    },
    /// A shared location.
    Location {
        /// Latitude.
        latitude: f64,
        /// Longitude.
        longitude: f64,
        /// Place name.
        name: Option<String>,
        /// Address.
        address: Option<String>,
    },
    /// Shared contact cards, raw.
    Contacts(Value),
    /// An emoji reaction (an empty emoji removes it).
    Reaction {
        /// The wamid reacted to.
        message_id: String,
        /// The emoji.
        emoji: Option<String>,
    },
    /// A system notice, e.g. the user changed number.
    System {
        /// Human-readable text.
        body: Option<String>,
        /// e.g. `user_changed_number`.
        kind: Option<String>,
        /// The user's new WhatsApp id, when they changed number.
        new_wa_id: Option<String>,
    },
    /// A cart the user sent from the business's catalog.
    Order {
        /// The catalog it came from.
        catalog_id: Option<String>,
        /// The user's note with it.
        text: Option<String>,
        /// Its lines.
        items: Vec<OrderItem>,
    },
    /// A type Herald does not interpret (unsupported, future types), kept whole.
    Other {
        /// Meta's `type`.
        kind: String,
        /// The message as received.
        raw: Value,
        /// Errors attached to `unsupported` messages.
        errors: Vec<ApiError>,
    },
}

/// A delivery report.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusReport {
    /// The wamid of the message sent.
    pub message_id: String,
    /// The new status.
    pub status: DeliveryStatus,
    /// Unix seconds.
    pub timestamp: i64,
    /// The recipient's WhatsApp id.
    pub recipient_id: Option<String>,
    /// Echo of what Herald attached to the send (campaign and recipient).
    pub biz_opaque_callback_data: Option<String>,
    /// Conversation (absent from v24.0 on outside free-entry-point windows).
    pub conversation_id: Option<String>,
    /// Conversation origin type.
    pub conversation_origin: Option<String>,
    /// When the conversation window closes (Unix seconds; only on `sent`).
    pub conversation_expires_at: Option<i64>,
    /// Pricing, on `sent` and on one of `delivered`/`read`.
    pub pricing: Option<Pricing>,
    /// Why, for `failed`.
    pub errors: Vec<ApiError>,
}

/// What a delivered message costs, as Meta categorises it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pricing {
    /// Deprecated; prefer `kind` and `category`.
    pub billable: Option<bool>,
    /// `PMP` (per message) or legacy `CBP`.
    pub pricing_model: Option<String>,
    /// `regular`, `free_customer_service` or `free_entry_point`.
    pub kind: Option<String>,
    /// `marketing`, `utility`, `authentication`, `service`, …
    pub category: Option<String>,
}

/// `message_template_status_update`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateStatusUpdate {
    /// `APPROVED`, `REJECTED`, `PAUSED`, `DISABLED`, `IN_APPEAL`, …
    pub event: String,
    /// Meta's template id.
    pub template_id: String,
    /// Template name.
    pub name: String,
    /// Language code.
    pub language: String,
    /// Meta's reason code (e.g. `INCORRECT_CATEGORY`), if any.
    pub reason: Option<String>,
    /// Category at the time of the event.
    pub category: Option<String>,
    /// When a disabled template was disabled (Unix seconds).
    pub disable_date: Option<i64>,
    /// Title of the lock/pause notice.
    pub info_title: Option<String>,
    /// Description of the lock/pause notice.
    pub info_description: Option<String>,
    /// Rejection reason in words.
    pub rejection_reason: Option<String>,
    /// Meta's recommendation after a rejection.
    pub rejection_recommendation: Option<String>,
}

/// `message_template_quality_update`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateQualityUpdate {
    /// Meta's template id.
    pub template_id: String,
    /// Template name.
    pub name: String,
    /// Language code.
    pub language: String,
    /// GREEN/YELLOW/RED/UNKNOWN before.
    pub previous: Option<String>,
    /// GREEN/YELLOW/RED/UNKNOWN now.
    pub new: String,
}

/// `template_category_update`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateCategoryUpdate {
    /// Meta's template id.
    pub template_id: String,
    /// Template name.
    pub name: String,
    /// Language code.
    pub language: String,
    /// The category now.
    pub new_category: String,
    /// The category before, or the one Meta says is correct.
    pub previous_category: Option<String>,
}

/// `phone_number_quality_update`, in either the current or the legacy form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumberQualityUpdate {
    /// The number as displayed.
    pub display_phone_number: Option<String>,
    /// `ONBOARDING`, `THROUGHPUT_UPGRADE`, or legacy `FLAGGED`/`UPGRADE`/`DOWNGRADE`/…
    pub event: String,
    /// The limit now, from `max_daily_conversations_per_business` or else `current_limit`.
    pub limit: Option<MessagingLimit>,
    /// The limit before (legacy `old_limit`).
    pub previous_limit: Option<MessagingLimit>,
}

/// `business_capability_update`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessCapabilityUpdate {
    /// The portfolio's limit (or the legacy per-phone limit).
    pub limit: Option<MessagingLimit>,
}

/// `account_update`.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountUpdate {
    /// e.g. `ACCOUNT_VIOLATION`, `DISABLED_UPDATE`, `VOLUME_BASED_PRICING_TIER_UPDATE`.
    pub event: String,
    /// Violation type, for violations.
    pub violation_type: Option<String>,
    /// Ban state, for disables.
    pub ban_state: Option<String>,
    /// Ban date, for disables.
    pub ban_date: Option<String>,
    /// The whole value, for the details Herald does not model.
    pub raw: Value,
}

/// `user_preferences`: a user stopped or resumed marketing messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPreference {
    /// The user's WhatsApp id.
    pub wa_id: String,
    /// `marketing_messages`.
    pub category: String,
    /// True for `stop`, false for `resume`.
    pub stopped: bool,
    /// Meta's sentence.
    pub detail: Option<String>,
    /// Unix seconds.
    pub timestamp: i64,
}

pub(super) fn from_change(
    waba_id: &str,
    _entry_time: Option<i64>,
    field: String,
    value: Value,
    at: &str,
    out: &mut ParsedWebhook,
) {
    let mut push = |phone_number_id: Option<String>, kind: EventKind| {
        out.events.push(WebhookEvent {
            waba_id: waba_id.to_string(),
            phone_number_id,
            kind,
        });
    };
    let problems = &mut out.problems;
    match field.as_str() {
        "messages" => {
            let Some(v) = decode::<wire::MessagesValue>(value, at, problems) else {
                return;
            };
            let phone = v.metadata.map(|m| m.phone_number_id);
            for error in v.errors {
                push(phone.clone(), EventKind::Error(error.into()));
            }
            for (i, raw) in v.messages.into_iter().enumerate() {
                let at = format!("{at}.messages[{i}]");
                if let Some(message) = inbound(raw, &v.contacts, &at, problems) {
                    push(phone.clone(), EventKind::Inbound(message));
                }
            }
            for (i, raw) in v.statuses.into_iter().enumerate() {
                let at = format!("{at}.statuses[{i}]");
                if let Some(report) = status(raw, &at, problems) {
                    push(phone.clone(), EventKind::Status(report));
                }
            }
        }
        "message_template_status_update" => {
            if let Some(w) = decode::<wire::TemplateStatusWire>(value, at, problems) {
                push(
                    None,
                    EventKind::TemplateStatus(TemplateStatusUpdate {
                        event: w.event,
                        template_id: w.message_template_id,
                        name: w.message_template_name,
                        language: w.message_template_language,
                        reason: w.reason.filter(|r| !r.is_empty() && r != "NONE"),
                        category: w.message_template_category,
                        disable_date: w.disable_info.and_then(|d| d.disable_date),
                        info_title: w.other_info.as_ref().and_then(|o| o.title.clone()),
                        info_description: w.other_info.and_then(|o| o.description),
                        rejection_reason: w.rejection_info.as_ref().and_then(|r| r.reason.clone()),
                        rejection_recommendation: w.rejection_info.and_then(|r| r.recommendation),
                    }),
                );
            }
        }
        "message_template_quality_update" => {
            if let Some(w) = decode::<wire::TemplateQualityWire>(value, at, problems) {
                push(
                    None,
                    EventKind::TemplateQuality(TemplateQualityUpdate {
                        template_id: w.message_template_id,
                        name: w.message_template_name,
                        language: w.message_template_language,
                        previous: w.previous_quality_score,
                        new: w.new_quality_score,
                    }),
                );
            }
        }
        "template_category_update" => {
            if let Some(w) = decode::<wire::TemplateCategoryWire>(value, at, problems) {
                push(
                    None,
                    EventKind::TemplateCategory(TemplateCategoryUpdate {
                        template_id: w.message_template_id,
                        name: w.message_template_name,
                        language: w.message_template_language,
                        new_category: w.new_category,
                        previous_category: w.previous_category.or(w.correct_category),
                    }),
                );
            }
        }
        "phone_number_quality_update" => {
            if let Some(w) = decode::<wire::PhoneQualityWire>(value, at, problems) {
                let limit = w
                    .max_daily_conversations_per_business
                    .as_deref()
                    .or(w.current_limit.as_deref())
                    .and_then(MessagingLimit::parse);
                push(
                    None,
                    EventKind::PhoneNumberQuality(PhoneNumberQualityUpdate {
                        display_phone_number: w.display_phone_number,
                        event: w.event,
                        limit,
                        previous_limit: w.old_limit.as_deref().and_then(MessagingLimit::parse),
                    }),
                );
            }
        }
        "business_capability_update" => {
            if let Some(w) = decode::<wire::CapabilityWire>(value, at, problems) {
                let limit = w
                    .max_daily_conversations_per_business
                    .or(w.max_daily_conversation_per_phone)
                    .as_deref()
                    .and_then(MessagingLimit::parse);
                push(
                    None,
                    EventKind::BusinessCapability(BusinessCapabilityUpdate { limit }),
                );
            }
        }
        "account_update" => {
            if let Some(w) = decode::<wire::AccountUpdateWire>(value.clone(), at, problems) {
                push(
                    None,
                    EventKind::AccountUpdate(AccountUpdate {
                        event: w.event,
                        violation_type: w.violation_info.and_then(|v| v.violation_type),
                        ban_state: w
                            .ban_info
                            .as_ref()
                            .and_then(|b| b.waba_ban_state.clone())
                            .map(|s| match s {
                                Value::String(s) => s,
                                other => other.to_string(),
                            }),
                        ban_date: w.ban_info.and_then(|b| b.waba_ban_date),
                        raw: value,
                    }),
                );
            }
        }
        "user_preferences" => {
            if let Some(w) = decode::<wire::UserPreferencesWire>(value, at, problems) {
                for p in w.user_preferences {
                    let stopped = match p.value.as_str() {
                        "stop" => true,
                        // `signup` is sent when the user subscribes to marketing messages.
                        "resume" | "signup" => false,
                        other => {
                            problems.push(format!("{at}: unknown user preference value `{other}`"));
                            continue;
                        }
                    };
                    push(
                        None,
                        EventKind::UserPreference(UserPreference {
                            wa_id: p.wa_id,
                            category: p.category,
                            stopped,
                            detail: p.detail,
                            timestamp: p.timestamp,
                        }),
                    );
                }
            }
        }
        _ => push(None, EventKind::Unknown { field, value }),
    }
}

fn inbound(
    raw: Value,
    contacts: &[wire::ContactWire],
    at: &str,
    problems: &mut Vec<String>,
) -> Option<InboundMessage> {
    let w: wire::InboundWire = decode(raw.clone(), at, problems)?;
    let missing = |part: &str| format!("{at}: `{}` message without its `{part}` object", w.kind);
    let media = |kind: MediaKind, key: &str| -> Result<InboundContent, String> {
        let object = raw.get(key).cloned().ok_or_else(|| missing(key))?;
        let m: wire::MediaWire =
            serde_json::from_value(object).map_err(|e| format!("{at}: {e}"))?;
        Ok(InboundContent::Media {
            kind,
            id: m.id,
            mime_type: m.mime_type,
            sha256: m.sha256,
            caption: m.caption,
            filename: m.filename,
            url: m.url,
        })
    };
    let content = match w.kind.as_str() {
        "text" => w
            .text
            .map(|t| InboundContent::Text { body: t.body })
            .ok_or_else(|| missing("text")),
        "button" => w
            .button
            .map(|b| {
                let text = b.text.unwrap_or_default();
                InboundContent::Button {
                    payload: b.payload.unwrap_or_else(|| text.clone()),
                    text,
                }
            })
            .ok_or_else(|| missing("button")),
        "interactive" => match w.interactive {
            Some(i) if i.kind == "button_reply" => i
                .button_reply
                .map(|r| InboundContent::ButtonReply {
                    id: r.id,
                    title: r.title.unwrap_or_default(),
                })
                .ok_or_else(|| missing("button_reply")),
            Some(i) if i.kind == "list_reply" => i
                .list_reply
                .map(|r| InboundContent::ListReply {
                    id: r.id,
                    title: r.title.unwrap_or_default(),
                    description: r.description,
                })
                .ok_or_else(|| missing("list_reply")),
            Some(i) => Ok(InboundContent::Other {
                kind: format!("interactive/{}", i.kind),
                raw: raw.clone(),
                errors: vec![],
            }),
            None => Err(missing("interactive")),
        },
        "image" => media(MediaKind::Image, "image"),
        "video" => media(MediaKind::Video, "video"),
        "audio" => media(MediaKind::Audio, "audio"),
        "document" => media(MediaKind::Document, "document"),
        "sticker" => media(MediaKind::Sticker, "sticker"),
        "location" => w
            .location
            .map(|l| InboundContent::Location {
                latitude: l.latitude,
                longitude: l.longitude,
                name: l.name,
                address: l.address,
            })
            .ok_or_else(|| missing("location")),
        "contacts" => w
            .contacts
            .map(InboundContent::Contacts)
            .ok_or_else(|| missing("contacts")),
        "reaction" => w
            .reaction
            .map(|r| InboundContent::Reaction {
                message_id: r.message_id,
                emoji: r.emoji.filter(|e| !e.is_empty()),
            })
            .ok_or_else(|| missing("reaction")),
        "system" => w
            .system
            .map(|s| InboundContent::System {
                body: s.body,
                kind: s.kind,
                new_wa_id: s.new_wa_id.or(s.wa_id),
            })
            .ok_or_else(|| missing("system")),
        "order" => w
            .order
            .map(|o| InboundContent::Order {
                catalog_id: o.catalog_id,
                text: o.text.filter(|t| !t.trim().is_empty()),
                items: o
                    .product_items
                    .into_iter()
                    .map(|i| OrderItem {
                        product_retailer_id: i.product_retailer_id,
                        quantity: i.quantity.unwrap_or(1.0),
                        item_price: i.item_price,
                        currency: i.currency,
                    })
                    .collect(),
            })
            .ok_or_else(|| missing("order")),
        other => Ok(InboundContent::Other {
            kind: other.to_string(),
            raw: raw.clone(),
            errors: w.errors.iter().cloned().map(ApiError::from).collect(),
        }),
    };
    // A message whose object is missing is still a message (Meta sends `errors[]` instead of the
    // object for content it cannot show): keep it, with what Meta said, rather than drop it.
    let errors = || w.errors.iter().cloned().map(ApiError::from).collect();
    let content = match content {
        Ok(content) => content,
        Err(problem) => {
            if w.errors.is_empty() {
                problems.push(problem);
            }
            InboundContent::Other {
                kind: w.kind.clone(),
                raw: raw.clone(),
                errors: errors(),
            }
        }
    };
    let from = match w.from {
        Some(from) if phone::is_plausible_wa_id(&from) => Some(from),
        Some(from) => {
            problems.push(format!(
                "{at}: sender `{from}` is not a phone number; the message is kept without one"
            ));
            None
        }
        None => None,
    };
    let contact = contacts
        .iter()
        .find(|c| from.is_some() && c.wa_id == from)
        .or(contacts.first().filter(|_| contacts.len() == 1));
    let profile_name = contact.and_then(|c| c.profile.as_ref().and_then(|p| p.name.clone()));
    let user_id = contact.and_then(|c| c.user_id.clone()).or(w.from_user_id);
    if from.is_none() && user_id.is_none() {
        problems.push(format!(
            "{at}: message {} names neither a sender number nor a user id",
            w.id
        ));
        return None;
    }
    Some(InboundMessage {
        id: w.id,
        from,
        profile_name,
        user_id,
        timestamp: w.timestamp,
        context: w.context.map(|c| MessageContext {
            from: c.from,
            id: c.id,
            forwarded: c.forwarded,
            frequently_forwarded: c.frequently_forwarded,
        }),
        referral: w.referral,
        content,
    })
}

fn status(raw: Value, at: &str, problems: &mut Vec<String>) -> Option<StatusReport> {
    let w: wire::StatusWire = decode(raw, at, problems)?;
    let Some(status) = DeliveryStatus::parse(&w.status) else {
        problems.push(format!("{at}: unknown status `{}`", w.status));
        return None;
    };
    Some(StatusReport {
        message_id: w.id,
        status,
        timestamp: w.timestamp,
        recipient_id: w.recipient_id,
        biz_opaque_callback_data: w.biz_opaque_callback_data,
        conversation_id: w.conversation.as_ref().and_then(|c| c.id.clone()),
        conversation_expires_at: w.conversation.as_ref().and_then(|c| c.expiration_timestamp),
        conversation_origin: w.conversation.and_then(|c| c.origin.map(|o| o.kind)),
        pricing: w.pricing.map(|p| Pricing {
            billable: p.billable,
            pricing_model: p.pricing_model,
            kind: p.kind,
            category: p.category,
        }),
        errors: w.errors.into_iter().map(ApiError::from).collect(),
    })
}
