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

/// Applies an inbound message to its contact; `extra_stop_words` come from the configuration.
pub fn inbound(
    contacts: &ContactStore,
    message: &InboundMessage,
    extra_stop_words: &[String],
    now_ms: i64,
) -> Result<(), StorageError> {
    // A user known only by their business-scoped id has no number to keep consent under yet.
    let Some(from) = message.from.as_deref() else {
        return Ok(());
    };
    let candidates = phone::wa_id_candidates(from);
    let existing = contacts.find_any(&candidates)?;
    let key = existing
        .as_ref()
        .map_or_else(|| candidates[0].clone(), |c| c.phone.clone());
    let at_ms = message.timestamp.saturating_mul(1000);
    let event = consent_change(
        &message.content,
        extra_stop_words,
        consent::webhook_event_ms(message.timestamp),
    );
    contacts.update(&key, |current| {
        let mut c = current.unwrap_or_else(|| Contact {
            phone: key.clone(),
            country: phone::country_of(&key),
            first_name: message.profile_name.clone().unwrap_or_default(),
            created_at_ms: now_ms,
            updated_at_ms: now_ms,
            ..Contact::default()
        });
        c.wa_id = Some(from.to_string());
        c.last_inbound_ms = Some(c.last_inbound_ms.map_or(at_ms, |t| t.max(at_ms)));
        if let Some(event) = event.clone() {
            consent::record(&mut c.consent, event);
        }
        c.updated_at_ms = now_ms;
        Some(c)
    })?;
    Ok(())
}

/// Whether `content` asks for a consent change (a stop or start word, a stop button): such a
/// message is about consent, never an answer an automation reacts to.
pub fn changes_consent(content: &InboundContent, extra_stop_words: &[String]) -> bool {
    consent_change(content, extra_stop_words, 0).is_some()
}

/// The consent change an inbound message asks for, if any.
fn consent_change(
    content: &InboundContent,
    extra_stop_words: &[String],
    at_ms: i64,
) -> Option<ConsentEvent> {
    let (action, categories, source) = match content {
        InboundContent::Text { body } => {
            let stop_words = DEFAULT_STOP_WORDS
                .iter()
                .copied()
                .chain(extra_stop_words.iter().map(String::as_str));
            if let Some(word) = keyword_in(body, stop_words) {
                (
                    ConsentAction::OptOut,
                    Category::ALL.to_vec(),
                    ConsentSource::Keyword { word: word.into() },
                )
            } else if let Some(word) = keyword_in(body, DEFAULT_START_WORDS.iter().copied()) {
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
        consent::webhook_event_ms(pref.timestamp),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Store;
    use domain::contacts::consent::Standing;

    fn message(from: &str, content: InboundContent) -> InboundMessage {
        InboundMessage {
            id: "wamid.1".into(),
            from: Some(from.into()),
            profile_name: Some("Ana".into()),
            user_id: None,
            timestamp: 1_750_000_000,
            context: None,
            referral: None,
            content,
        }
    }

    fn text(body: &str) -> InboundContent {
        InboundContent::Text { body: body.into() }
    }

    #[test]
    fn a_configured_word_opts_out_and_a_mexican_wa_id_finds_the_stored_number() {
        let dir = tempfile::tempdir().unwrap();
        let contacts = ContactStore::open(&Store::open(dir.path()).unwrap()).unwrap();
        let stored = Contact {
            phone: "+525512345678".into(),
            ..Contact::default()
        };
        contacts.put(&stored, None).unwrap();
        let extra = vec!["Nein danke".to_string()];

        inbound(
            &contacts,
            &message("5215512345678", text("hola")),
            &extra,
            5,
        )
        .unwrap();
        let c = contacts.get("+525512345678").unwrap().unwrap();
        assert_eq!(c.wa_id.as_deref(), Some("5215512345678"));
        assert_eq!(c.last_inbound_ms, Some(1_750_000_000_000));
        assert!(
            c.consent.is_empty(),
            "an ordinary message changes no consent"
        );

        inbound(
            &contacts,
            &message("5215512345678", text("NEIN DANKE!")),
            &extra,
            6,
        )
        .unwrap();
        let c = contacts.get("+525512345678").unwrap().unwrap();
        assert!(c.opted_out(Category::Marketing) && c.opted_out(Category::Utility));
        assert_eq!(contacts.count(), 1, "no second contact for the 521 form");
    }

    #[test]
    fn stop_buttons_preferences_and_131050_touch_marketing_only() {
        let dir = tempfile::tempdir().unwrap();
        let contacts = ContactStore::open(&Store::open(dir.path()).unwrap()).unwrap();
        let button = InboundContent::Button {
            payload: "STOP_PROMO".into(),
            text: "Stop promotions".into(),
        };
        inbound(&contacts, &message("905321234567", button), &[], 1).unwrap();
        let c = contacts.get("+905321234567").unwrap().unwrap();
        assert_eq!(
            c.first_name, "Ana",
            "a new number becomes a contact with its profile name"
        );
        assert!(c.opted_out(Category::Marketing));
        assert_eq!(
            consent::standing(&c.consent, Category::Utility),
            Standing::Unknown
        );

        preference(
            &contacts,
            &UserPreference {
                wa_id: "905321234567".into(),
                category: "marketing_messages".into(),
                stopped: false,
                detail: None,
                timestamp: 1_750_000_100,
            },
        )
        .unwrap();
        assert!(contacts
            .get("+905321234567")
            .unwrap()
            .unwrap()
            .may_receive(Category::Marketing));
        stopped_marketing(&contacts, "905321234567", 1_750_000_200_000).unwrap();
        assert!(contacts
            .get("+905321234567")
            .unwrap()
            .unwrap()
            .opted_out(Category::Marketing));
        // Unknown numbers are ignored rather than created by a status.
        stopped_marketing(&contacts, "14155552671", 1).unwrap();
        assert_eq!(contacts.count(), 1);
    }
}
