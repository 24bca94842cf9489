//! What webhooks mean for contacts: an inbound message marks the contact as having replied (and
//! records the `wa_id` WhatsApp uses for them); a stop word or a "stop" quick-reply button opts
//! them out, a start word back in; WhatsApp's `user_preferences` stop/resume and error 131050
//! opt them out of (or back into) marketing. Contacts are found through every form a `wa_id`
//! may take (Mexico 521, Argentina 549, Brazil's ninth digit). Numbers Herald has never seen
//! become contacts when they write in, so their consent has a home.

use domain::contacts::consent::{
    self, is_stop_payload, keyword_in, Category, ConsentAction, ConsentEvent, ConsentSource,
    DEFAULT_START_WORDS, DEFAULT_STOP_WORDS,
};
use domain::contacts::{phone, Contact};
use domain::whatsapp::webhook::{InboundContent, InboundMessage, UserPreference};

use crate::storage::contacts::ContactStore;
use crate::storage::StorageError;

/// Meta's code for "the user stopped marketing messages from you".
pub const STOPPED_MARKETING: i64 = 131_050;

/// Applies an inbound message to its contact.
pub fn inbound(
    contacts: &ContactStore,
    message: &InboundMessage,
    now_ms: i64,
) -> Result<(), StorageError> {
    let candidates = phone::wa_id_candidates(&message.from);
    let existing = contacts.find_any(&candidates)?;
    let key = existing
        .as_ref()
        .map_or_else(|| candidates[0].clone(), |c| c.phone.clone());
    let at_ms = message.timestamp.saturating_mul(1000);
    let event = consent_change(&message.content, at_ms);
    contacts.update(&key, |current| {
        let mut c = current.unwrap_or_else(|| Contact {
            phone: key.clone(),
            country: phone::country_of(&key),
            first_name: message.profile_name.clone().unwrap_or_default(),
            created_at_ms: now_ms,
            updated_at_ms: now_ms,
            ..Contact::default()
        });
        c.wa_id = Some(message.from.clone());
        c.last_inbound_ms = Some(c.last_inbound_ms.map_or(at_ms, |t| t.max(at_ms)));
        if let Some(event) = event.clone() {
            consent::record(&mut c.consent, event);
        }
        c.updated_at_ms = now_ms;
        Some(c)
    })?;
    Ok(())
}

/// The consent change an inbound message asks for, if any.
fn consent_change(content: &InboundContent, at_ms: i64) -> Option<ConsentEvent> {
    let (action, categories, source) = match content {
        InboundContent::Text { body } => {
            if let Some(word) = keyword_in(body, DEFAULT_STOP_WORDS) {
                (
                    ConsentAction::OptOut,
                    Category::ALL.to_vec(),
                    ConsentSource::Keyword { word: word.into() },
                )
            } else if let Some(word) = keyword_in(body, DEFAULT_START_WORDS) {
                (
                    ConsentAction::OptIn,
                    Category::ALL.to_vec(),
                    ConsentSource::Keyword { word: word.into() },
                )
            } else {
                return None;
            }
        }
        InboundContent::Button { payload, .. }
        | InboundContent::ButtonReply { id: payload, .. }
            if is_stop_payload(payload) =>
        {
            (
                ConsentAction::OptOut,
                vec![Category::Marketing],
                ConsentSource::Button {
                    payload: payload.clone(),
                },
            )
        }
        _ => return None,
    };
    Some(ConsentEvent {
        at_ms,
        action,
        categories,
        source,
    })
}

/// Applies WhatsApp's stop/resume marketing preference.
pub fn preference(contacts: &ContactStore, pref: &UserPreference) -> Result<(), StorageError> {
    let action = if pref.stopped {
        ConsentAction::OptOut
    } else {
        ConsentAction::OptIn
    };
    record(
        contacts,
        &pref.wa_id,
        pref.timestamp.saturating_mul(1000),
        action,
        ConsentSource::WhatsAppPreference,
    )
}

/// Applies a failed status carrying 131050 (marketing stopped by the user).
pub fn stopped_marketing(
    contacts: &ContactStore,
    recipient_wa_id: &str,
    at_ms: i64,
) -> Result<(), StorageError> {
    record(
        contacts,
        recipient_wa_id,
        at_ms,
        ConsentAction::OptOut,
        ConsentSource::Error131050,
    )
}

fn record(
    contacts: &ContactStore,
    wa_id: &str,
    at_ms: i64,
    action: ConsentAction,
    source: ConsentSource,
) -> Result<(), StorageError> {
    let Some(contact) = contacts.find_any(&phone::wa_id_candidates(wa_id))? else {
        return Ok(());
    };
    contacts.record_consent(
        &contact.phone,
        ConsentEvent {
            at_ms,
            action,
            categories: vec![Category::Marketing],
            source,
        },
    )?;
    Ok(())
}
