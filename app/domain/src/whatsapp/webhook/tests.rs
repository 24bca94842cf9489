//! Fact-sheet examples (§3.3–§3.6) parsed into the right typed events, and property tests that no
//! input makes the parser panic.

use serde_json::json;

use super::*;
use crate::whatsapp::limits::MessagingLimit;
use crate::whatsapp::status::DeliveryStatus;

fn envelope(field: &str, value: serde_json::Value) -> Vec<u8> {
    json!({"object":"whatsapp_business_account","entry":[{"id":"102290129340398","time":1751247548,
        "changes":[{"field":field,"value":value}]}]})
    .to_string()
    .into_bytes()
}

fn messages(messages: serde_json::Value) -> Vec<u8> {
    envelope(
        "messages",
        json!({"messaging_product":"whatsapp",
        "metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
        "contacts":[{"profile":{"name":"Sheena Nelson"},"wa_id":"16505551234","user_id":"US.13491208655302741918"}],
        "messages": messages}),
    )
}

fn only(body: &[u8]) -> EventKind {
    let parsed = parse(body).expect("envelope parses");
    assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
    assert_eq!(parsed.events.len(), 1, "{:?}", parsed.events);
    parsed.events.into_iter().next().unwrap().kind
}

fn inbound(message: serde_json::Value) -> InboundMessage {
    match only(&messages(json!([message]))) {
        EventKind::Inbound(m) => m,
        other => panic!("not an inbound message: {other:?}"),
    }
}

#[test]
fn an_inbound_text_carries_sender_profile_and_number_id() {
    let body = messages(
        json!([{"from":"16505551234","id":"wamid.A","timestamp":"1750030073",
        "type":"text","text":{"body":"Hello"}}]),
    );
    let parsed = parse(&body).unwrap();
    let event = &parsed.events[0];
    assert_eq!(event.waba_id, "102290129340398");
    assert_eq!(event.phone_number_id.as_deref(), Some("106540352242922"));
    let EventKind::Inbound(m) = &event.kind else {
        panic!()
    };
    assert_eq!(m.from.as_deref(), Some("16505551234"));
    assert_eq!(m.timestamp, 1_750_030_073);
    assert_eq!(m.profile_name.as_deref(), Some("Sheena Nelson"));
    assert_eq!(m.user_id.as_deref(), Some("US.13491208655302741918"));
    assert_eq!(
        m.content,
        InboundContent::Text {
            body: "Hello".into()
        }
    );
}

#[test]
fn a_template_quick_reply_tap_names_the_template_message() {
    let m = inbound(
        json!({"from":"16505551234","id":"wamid.B","timestamp":"1750030073","type":"button",
        "context":{"from":"15550783881","id":"wamid.TEMPLATE"},
        "button":{"payload":"STOP_PROMO","text":"Stop promotions"}}),
    );
    assert_eq!(
        m.content,
        InboundContent::Button {
            payload: "STOP_PROMO".into(),
            text: "Stop promotions".into()
        }
    );
    assert_eq!(m.context.unwrap().id.as_deref(), Some("wamid.TEMPLATE"));
}

#[test]
fn interactive_button_and_list_replies_parse() {
    let button = inbound(
        json!({"from":"16505551234","id":"w","timestamp":"1","type":"interactive",
        "context":{"id":"wamid.ORIG"},
        "interactive":{"type":"button_reply","button_reply":{"id":"yes","title":"Yes"}}}),
    );
    assert_eq!(
        button.content,
        InboundContent::ButtonReply {
            id: "yes".into(),
            title: "Yes".into()
        }
    );
    let list = inbound(
        json!({"from":"16505551234","id":"w","timestamp":"1","type":"interactive",
        "interactive":{"type":"list_reply","list_reply":{"id":"r1","title":"Row","description":"More"}}}),
    );
    assert_eq!(
        list.content,
        InboundContent::ListReply {
            id: "r1".into(),
            title: "Row".into(),
            description: Some("More".into())
        }
    );
}

#[test]
fn media_location_contacts_reaction_and_system_messages_parse() {
    let image = inbound(
        json!({"from":"16505551234","id":"w","timestamp":"1","type":"image",
        "image":{"caption":"Look","mime_type":"image/jpeg","sha256":"abc","id":"4242","url":"https://x"}}),
    );
    assert!(
        matches!(image.content, InboundContent::Media { kind: MediaKind::Image, ref id, .. } if id == "4242")
    );
    for kind in ["video", "audio", "document", "sticker"] {
        let m = inbound(
            json!({"from":"16505551234","id":"w","timestamp":"1","type":kind, kind:{"id":"9","mime_type":"x/y"}}),
        );
        assert!(matches!(m.content, InboundContent::Media { .. }), "{kind}");
    }
    let location = inbound(
        json!({"from":"16505551234","id":"w","timestamp":"1","type":"location",
        "location":{"latitude":41.0082,"longitude":"28.9784","name":"Istanbul"}}),
    );
    assert!(
        matches!(location.content, InboundContent::Location { latitude, longitude, .. } if latitude > 41.0 && longitude > 28.9)
    );
    let contacts = inbound(
        json!({"from":"16505551234","id":"w","timestamp":"1","type":"contacts","contacts":[{"name":{"formatted_name":"Ada"}}]}),
    );
    assert!(matches!(contacts.content, InboundContent::Contacts(_)));
    let reaction = inbound(
        json!({"from":"16505551234","id":"w","timestamp":"1","type":"reaction","reaction":{"message_id":"wamid.X","emoji":"👍"}}),
    );
    assert_eq!(
        reaction.content,
        InboundContent::Reaction {
            message_id: "wamid.X".into(),
            emoji: Some("👍".into())
        }
    );
    let system = inbound(
        json!({"from":"16505551234","id":"w","timestamp":"1","type":"system",
        "system":{"body":"User changed number","type":"user_changed_number","new_wa_id":"16505550000"}}),
    );
    assert!(
        matches!(system.content, InboundContent::System { new_wa_id: Some(ref id), .. } if id == "16505550000")
    );
}

#[test]
fn unknown_message_types_are_kept_raw_with_their_errors() {
    let m = inbound(
        json!({"from":"16505551234","id":"w","timestamp":"1","type":"unsupported",
        "errors":[{"code":131051,"title":"Message type unknown","message":"Message type unknown"}]}),
    );
    let InboundContent::Other { kind, raw, errors } = m.content else {
        panic!()
    };
    assert_eq!(kind, "unsupported");
    assert_eq!(errors[0].code, 131051);
    assert_eq!(raw["type"], "unsupported");
}

#[test]
fn a_failed_status_carries_errors_pricing_and_the_callback_data() {
    let body = envelope(
        "messages",
        json!({"messaging_product":"whatsapp",
        "metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
        "statuses":[{"id":"wamid.S","status":"failed","timestamp":"1750030073","recipient_id":"16505551234",
            "biz_opaque_callback_data":"campaign=7;recipient=42",
            "conversation":{"id":"c1","expiration_timestamp":"1750116473","origin":{"type":"marketing"}},
            "pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"marketing"},
            "errors":[{"code":131049,"title":"t","message":"t","error_data":{"details":"healthy ecosystem"},"href":"https://h"}]}]}),
    );
    let EventKind::Status(s) = only(&body) else {
        panic!()
    };
    assert_eq!(s.status, DeliveryStatus::Failed);
    assert_eq!(
        s.biz_opaque_callback_data.as_deref(),
        Some("campaign=7;recipient=42")
    );
    assert_eq!(s.conversation_origin.as_deref(), Some("marketing"));
    assert_eq!(s.conversation_expires_at, Some(1_750_116_473));
    assert_eq!(s.pricing.unwrap().category.as_deref(), Some("marketing"));
    assert_eq!(s.errors[0].code, 131049);
    assert_eq!(s.errors[0].details.as_deref(), Some("healthy ecosystem"));
}

#[test]
fn a_batch_keeps_every_status_in_order() {
    let statuses: Vec<_> = (0..1000)
        .map(|i| json!({"id":format!("wamid.{i}"),"status":"delivered","timestamp":"1","recipient_id":"1"}))
        .collect();
    let body = envelope(
        "messages",
        json!({"metadata":{"phone_number_id":"1"},"statuses":statuses}),
    );
    let parsed = parse(&body).unwrap();
    assert_eq!(parsed.events.len(), 1000);
    let EventKind::Status(last) = &parsed.events[999].kind else {
        panic!()
    };
    assert_eq!(last.message_id, "wamid.999");
}

#[test]
fn top_level_errors_become_error_events() {
    let body = envelope(
        "messages",
        json!({"metadata":{"phone_number_id":"1"},
        "errors":[{"code":130429,"title":"Rate limit hit","message":"Rate limit hit","error_data":{"details":"slow down"}}]}),
    );
    let EventKind::Error(e) = only(&body) else {
        panic!()
    };
    assert_eq!((e.code, e.details.as_deref()), (130429, Some("slow down")));
}

#[test]
fn template_status_updates_carry_rejection_and_pause_details() {
    let rejected = envelope(
        "message_template_status_update",
        json!({"event":"REJECTED",
        "message_template_id":1234567890,"message_template_name":"spring_sale","message_template_language":"en_US",
        "reason":"INCORRECT_CATEGORY","message_template_category":"UTILITY",
        "rejection_info":{"reason":"Promotional content in a utility template","recommendation":"Submit as MARKETING"}}),
    );
    let EventKind::TemplateStatus(t) = only(&rejected) else {
        panic!()
    };
    assert_eq!(
        (t.event.as_str(), t.template_id.as_str()),
        ("REJECTED", "1234567890")
    );
    assert_eq!(t.reason.as_deref(), Some("INCORRECT_CATEGORY"));
    assert_eq!(
        t.rejection_recommendation.as_deref(),
        Some("Submit as MARKETING")
    );

    let paused = envelope(
        "message_template_status_update",
        json!({"event":"PAUSED",
        "message_template_id":"99","message_template_name":"n","message_template_language":"tr","reason":"NONE",
        "other_info":{"title":"FIRST_PAUSE","description":"Paused for 3 hours"}}),
    );
    let EventKind::TemplateStatus(t) = only(&paused) else {
        panic!()
    };
    assert_eq!(t.reason, None);
    assert_eq!(t.info_description.as_deref(), Some("Paused for 3 hours"));

    let disabled = envelope(
        "message_template_status_update",
        json!({"event":"DISABLED",
        "message_template_id":"99","message_template_name":"n","message_template_language":"tr",
        "disable_info":{"disable_date":1751000000}}),
    );
    let EventKind::TemplateStatus(t) = only(&disabled) else {
        panic!()
    };
    assert_eq!(t.disable_date, Some(1_751_000_000));
}

#[test]
fn template_quality_and_category_updates_parse() {
    let quality = envelope(
        "message_template_quality_update",
        json!({"previous_quality_score":"GREEN",
        "new_quality_score":"RED","message_template_id":5,"message_template_name":"n","message_template_language":"en"}),
    );
    let EventKind::TemplateQuality(q) = only(&quality) else {
        panic!()
    };
    assert_eq!(
        (q.previous.as_deref(), q.new.as_str()),
        (Some("GREEN"), "RED")
    );
    let category = envelope(
        "template_category_update",
        json!({"message_template_id":5,
        "message_template_name":"n","message_template_language":"en","new_category":"MARKETING","previous_category":"UTILITY"}),
    );
    let EventKind::TemplateCategory(c) = only(&category) else {
        panic!()
    };
    assert_eq!(
        (c.new_category.as_str(), c.previous_category.as_deref()),
        ("MARKETING", Some("UTILITY"))
    );
}

#[test]
fn phone_number_quality_updates_parse_in_current_and_legacy_form() {
    let current = envelope(
        "phone_number_quality_update",
        json!({"display_phone_number":"15550783881",
        "event":"THROUGHPUT_UPGRADE","old_limit":"TIER_100K","current_limit":"TIER_UNLIMITED",
        "max_daily_conversations_per_business":"UNLIMITED"}),
    );
    let EventKind::PhoneNumberQuality(p) = only(&current) else {
        panic!()
    };
    assert_eq!(p.limit, Some(MessagingLimit::Unlimited));
    assert_eq!(p.previous_limit, Some(MessagingLimit::Users(100_000)));
    let newest = envelope(
        "phone_number_quality_update",
        json!({"display_phone_number":"1","event":"ONBOARDING",
        "max_daily_conversations_per_business":2000}),
    );
    let EventKind::PhoneNumberQuality(p) = only(&newest) else {
        panic!()
    };
    assert_eq!(p.limit, Some(MessagingLimit::Users(2000)));
    let legacy = envelope(
        "phone_number_quality_update",
        json!({"display_phone_number":"1","event":"DOWNGRADE",
        "current_limit":"TIER_1K"}),
    );
    let EventKind::PhoneNumberQuality(p) = only(&legacy) else {
        panic!()
    };
    assert_eq!(
        (p.event.as_str(), p.limit),
        ("DOWNGRADE", Some(MessagingLimit::Users(1000)))
    );
}

#[test]
fn business_capability_account_and_user_preference_updates_parse() {
    let capability = envelope(
        "business_capability_update",
        json!({"max_daily_conversations_per_business":10000}),
    );
    let EventKind::BusinessCapability(c) = only(&capability) else {
        panic!()
    };
    assert_eq!(c.limit, Some(MessagingLimit::Users(10_000)));
    let legacy = envelope(
        "business_capability_update",
        json!({"max_daily_conversation_per_phone":250}),
    );
    let EventKind::BusinessCapability(c) = only(&legacy) else {
        panic!()
    };
    assert_eq!(c.limit, Some(MessagingLimit::Users(250)));

    let account = envelope(
        "account_update",
        json!({"event":"DISABLED_UPDATE",
        "ban_info":{"waba_ban_state":["SCHEDULE_FOR_DISABLE"],"waba_ban_date":"2026-01-01"}}),
    );
    let EventKind::AccountUpdate(a) = only(&account) else {
        panic!()
    };
    assert_eq!(a.event, "DISABLED_UPDATE");
    assert!(a.ban_state.unwrap().contains("SCHEDULE_FOR_DISABLE"));
    assert_eq!(a.ban_date.as_deref(), Some("2026-01-01"));

    let prefs = envelope(
        "user_preferences",
        json!({"messaging_product":"whatsapp",
        "metadata":{"phone_number_id":"1"},
        "user_preferences":[{"wa_id":"16505551234","detail":"User requested to stop marketing messages",
            "category":"marketing_messages","value":"stop","timestamp":1731705721}]}),
    );
    let EventKind::UserPreference(p) = only(&prefs) else {
        panic!()
    };
    assert!(p.stopped);
    assert_eq!(p.wa_id, "16505551234");
}

#[test]
fn unknown_fields_are_kept_whole() {
    let body = envelope("smb_message_echoes", json!({"anything":[1,2,3]}));
    let EventKind::Unknown { field, value } = only(&body) else {
        panic!()
    };
    assert_eq!(field, "smb_message_echoes");
    assert_eq!(value["anything"][2], 3);
}

#[test]
fn a_bad_item_is_reported_without_losing_its_neighbours() {
    let body = messages(json!([
        {"from":"16505551234","id":"good","timestamp":"1","type":"text","text":{"body":"ok"}},
        {"from":"16505551234","id":"bad","timestamp":"yesterday","type":"text","text":{"body":"x"}},
        {"from":"16505551234","id":"also-bad","timestamp":"1","type":"text"}
    ]));
    let parsed = parse(&body).unwrap();
    // The message without its object is still a message (kept raw); the unreadable one is not.
    assert_eq!(parsed.events.len(), 2);
    assert_eq!(parsed.problems.len(), 2, "{:?}", parsed.problems);
    assert!(
        parsed.problems[0].contains("messages[1]"),
        "{:?}",
        parsed.problems
    );
    assert!(
        parsed.problems[1].contains("without its `text` object"),
        "{:?}",
        parsed.problems
    );
}

#[test]
fn senders_that_are_not_phone_numbers_never_become_senders() {
    for sender in [
        "PHONE_NUMBER",
        "",
        "1",
        "0000000000000000000000000000000000000000",
    ] {
        let body = envelope(
            "messages",
            json!({"messaging_product":"whatsapp",
            "metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
            "messages":[{"from":sender,"id":"wamid.X","timestamp":"1","type":"text","text":{"body":"hi"}}]}),
        );
        let parsed = parse(&body).unwrap();
        assert!(parsed.events.is_empty(), "{sender:?}: {:?}", parsed.events);
        assert!(
            parsed
                .problems
                .iter()
                .any(|p| p.contains("is not a phone number")),
            "{sender:?}: {:?}",
            parsed.problems
        );
    }
}

#[test]
fn a_message_with_only_a_business_scoped_user_id_is_kept() {
    let m = inbound(
        json!({"id":"wamid.U","timestamp":"1750030073","type":"text",
        "text":{"body":"Hello"}}),
    );
    assert_eq!(m.from, None);
    assert_eq!(m.user_id.as_deref(), Some("US.13491208655302741918"));
    assert_eq!(
        m.content,
        InboundContent::Text {
            body: "Hello".into()
        }
    );
}

#[test]
fn an_unsupported_interactive_message_keeps_meta_s_errors() {
    let m = inbound(
        json!({"from":"16505551234","id":"wamid.I","timestamp":"1750090702",
        "type":"interactive","errors":[{"code":131051,"title":"Message type unknown",
        "message":"Message type unknown","error_data":{"details":"Message type is currently not supported."}}]}),
    );
    match m.content {
        InboundContent::Other { kind, errors, .. } => {
            assert_eq!(kind, "interactive");
            assert_eq!(errors[0].code, 131051);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_marketing_signup_preference_is_an_opt_in() {
    let body = envelope(
        "user_preferences",
        json!({"messaging_product":"whatsapp",
        "metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
        "user_preferences":[{"wa_id":"16505551234","detail":"User signed up for marketing messages",
            "category":"marketing_messages","value":"signup","timestamp":1731705721}]}),
    );
    match only(&body) {
        EventKind::UserPreference(p) => assert!(!p.stopped),
        other => panic!("{other:?}"),
    }
}

#[test]
fn other_objects_and_garbage_are_envelope_errors() {
    assert!(parse(b"not json").is_err());
    assert!(parse(br#"{"object":"page","entry":[]}"#).is_err());
    assert!(parse(br#"{"entry":[]}"#).is_err());
}

fn arbitrary_json() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(serde_json::Value::from),
        prop_oneof![
            ".*".prop_map(serde_json::Value::from),
            Just("messages".into()),
            Just("text".into()),
            Just("statuses".into()),
            Just("read".into()),
        ],
    ];
    leaf.prop_recursive(5, 64, 8, |inner| {
        let keys = prop_oneof![
            ".{0,8}",
            Just("object".to_string()),
            Just("entry".to_string()),
            Just("changes".to_string()),
            Just("field".to_string()),
            Just("value".to_string()),
            Just("messages".to_string()),
            Just("statuses".to_string()),
            Just("type".to_string()),
            Just("id".to_string()),
            Just("timestamp".to_string()),
            Just("from".to_string()),
            Just("status".to_string()),
        ];
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            proptest::collection::btree_map(keys, inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
        let _ = parse(&bytes);
    }

    #[test]
    fn arbitrary_json_in_a_valid_envelope_never_panics(field in prop_oneof_fields(), value in arbitrary_json()) {
        let _ = parse(&envelope(&field, value));
    }

    #[test]
    fn arbitrary_json_anywhere_never_panics(value in arbitrary_json()) {
        let _ = parse(value.to_string().as_bytes());
    }
}

fn prop_oneof_fields() -> impl proptest::strategy::Strategy<Value = String> {
    proptest::sample::select(vec![
        "messages",
        "message_template_status_update",
        "message_template_quality_update",
        "template_category_update",
        "phone_number_quality_update",
        "business_capability_update",
        "account_update",
        "user_preferences",
        "security",
    ])
    .prop_map(str::to_string)
}

use proptest::strategy::Strategy as _;
