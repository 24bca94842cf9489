//! The fact sheet's JSON examples read into the typed bodies and written back unchanged.

use serde_json::{json, Value};

use super::*;

/// Deserialises `value` as `T`, serialises it again and checks nothing changed.
fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(value: Value) -> T {
    let typed: T = serde_json::from_value(value.clone()).unwrap();
    assert_eq!(serde_json::to_value(&typed).unwrap(), value);
    typed
}

#[test]
fn text_message_matches_the_common_body() {
    let value = json!({"messaging_product":"whatsapp","recipient_type":"individual",
        "to":"+16505551234","type":"text","text":{"body":"Hi","preview_url":true}});
    let message: OutgoingMessage = round_trip(value);
    assert_eq!(message.content.kind(), "text");
    let built = OutgoingMessage::text("+16505551234", "Hi");
    assert_eq!(
        serde_json::to_value(&built).unwrap(),
        json!({"messaging_product":"whatsapp","recipient_type":"individual",
            "to":"+16505551234","type":"text","text":{"body":"Hi"}})
    );
}

#[test]
fn context_and_callback_data_are_top_level_fields() {
    let value = json!({"messaging_product":"whatsapp","to":"16505551234",
        "context":{"message_id":"wamid.X"},"biz_opaque_callback_data":"campaign=7",
        "type":"image","image":{"id":"2871834006348767","caption":"New in"}});
    let message: OutgoingMessage = round_trip(value);
    assert_eq!(message.context.unwrap().message_id, "wamid.X");
    assert_eq!(
        message.biz_opaque_callback_data.as_deref(),
        Some("campaign=7")
    );
}

#[test]
fn every_media_and_location_shape_round_trips() {
    for value in [
        json!({"messaging_product":"whatsapp","to":"1","type":"document",
            "document":{"link":"https://x.example/a.pdf","caption":"c","filename":"a.pdf"}}),
        json!({"messaging_product":"whatsapp","to":"1","type":"video","video":{"id":"9"}}),
        json!({"messaging_product":"whatsapp","to":"1","type":"location",
            "location":{"latitude":"37.4421","longitude":"-122.1615","name":"HQ","address":"1 Hacker Way"}}),
        json!({"messaging_product":"whatsapp","to":"1","type":"reaction",
            "reaction":{"message_id":"wamid.A","emoji":"👍"}}),
    ] {
        round_trip::<OutgoingMessage>(value);
    }
    let numeric: OutgoingMessage = serde_json::from_value(json!({"messaging_product":"whatsapp",
        "to":"1","type":"location","location":{"latitude":37.5,"longitude":-122}}))
    .unwrap();
    match numeric.content {
        MessageContent::Location { location } => {
            assert_eq!(
                (location.latitude.as_str(), location.longitude.as_str()),
                ("37.5", "-122")
            );
        }
        other => panic!("not a location: {other:?}"),
    }
}

#[test]
fn interactive_buttons_and_lists_round_trip() {
    round_trip::<OutgoingMessage>(json!({"messaging_product":"whatsapp","to":"1",
        "type":"interactive","interactive":{"type":"button","header":{"type":"text","text":"Hi"},
        "body":{"text":"Pick"},"footer":{"text":"f"},
        "action":{"buttons":[{"type":"reply","reply":{"id":"yes","title":"Yes"}}]}}}));
    round_trip::<OutgoingMessage>(json!({"messaging_product":"whatsapp","to":"1",
        "type":"interactive","interactive":{"type":"list","header":{"type":"text","text":"Menu"},
        "body":{"text":"Choose"},"footer":{"text":"f"},"action":{"button":"Open",
        "sections":[{"title":"Mains","rows":[{"id":"r1","title":"Soup","description":"Hot"}]}]}}}));
}

#[test]
fn the_template_send_example_reads_every_parameter_kind() {
    let value = json!({"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"template",
    "template":{"name":"order_update","language":{"code":"en_US"},
     "components":[
      {"type":"header","parameters":[{"type":"image","image":{"id":"2871834006348767"}}]},
      {"type":"body","parameters":[{"type":"text","text":"Pablo"},{"type":"text","text":"860198"}]},
      {"type":"button","sub_type":"url","index":"0","parameters":[{"type":"text","text":"A12345"}]},
      {"type":"button","sub_type":"quick_reply","index":"1","parameters":[{"type":"payload","payload":"STOP_PROMO"}]},
      {"type":"button","sub_type":"COPY_CODE","index":2,"parameters":[{"type":"coupon_code","coupon_code":"25OFF"}]}
     ]}});
    let message: OutgoingMessage = serde_json::from_value(value).unwrap();
    let MessageContent::Template { template } = message.content else {
        panic!("not a template");
    };
    assert_eq!(template.components.len(), 5);
    // The numeric index is read and written as Meta's string form.
    assert_eq!(template.components[4].index.as_deref(), Some("2"));
    assert_eq!(
        template.components[3].parameters[0],
        Parameter::Payload {
            payload: "STOP_PROMO".into()
        }
    );
    round_trip::<Parameter>(json!({"type":"text","parameter_name":"first_name","text":"Pablo"}));
    round_trip::<Parameter>(
        json!({"type":"currency","currency":{"fallback_value":"$100.99","code":"USD","amount_1000":100990}}),
    );
    round_trip::<Parameter>(json!({"type":"date_time","date_time":{"fallback_value":"May 1"}}));
    round_trip::<Parameter>(
        json!({"type":"action","action":{"flow_token":"t","flow_action_data":{"a":1}}}),
    );
}

#[test]
fn the_success_response_keeps_input_wa_id_and_pacing_status() {
    let response: SendResponse = round_trip(json!({"messaging_product":"whatsapp",
        "contacts":[{"input":"+16505551234","wa_id":"16505551234"}],
        "messages":[{"id":"wamid.HBgL","message_status":"accepted"}]}));
    assert_eq!(response.contacts[0].wa_id, "16505551234");
    assert_eq!(
        response.messages[0].message_status.as_deref(),
        Some("accepted")
    );
}

#[test]
fn the_error_example_reads_code_and_details() {
    let body: GraphErrorBody = round_trip(json!({"error":{"message":"(#130429) Rate limit hit",
        "type":"OAuthException","code":130429,
        "error_data":{"messaging_product":"whatsapp","details":"..."},
        "error_subcode":2494055,"fbtrace_id":"Az8or2yhqkZfEZ-_4Qn_Bam"}}));
    assert_eq!(body.error.code, 130429);
    assert_eq!(body.error.details(), "...");
    // Minimal errors (no error_data) still parse.
    let bare: GraphErrorBody = serde_json::from_value(
        json!({"error":{"message":"Invalid OAuth access token","code":190}}),
    )
    .unwrap();
    assert_eq!(bare.error.details(), "Invalid OAuth access token");
    assert_eq!(
        GraphError::new(131056, "Pair rate limit hit", "wait").message,
        "(#131056) Pair rate limit hit"
    );
}

#[test]
fn template_create_and_its_answer_round_trip() {
    let definition: TemplateDefinition = round_trip(json!({"name":"seasonal_promotion",
        "language":"en_US","category":"MARKETING","parameter_format":"POSITIONAL",
        "message_send_ttl_seconds":43200,"components":[
          {"type":"HEADER","format":"TEXT","text":"Our {{1}} is on!","example":{"header_text":["Summer Sale"]}},
          {"type":"BODY","text":"Shop now through {{1}} and use code {{2}} to get {{3}} off.",
           "example":{"body_text":[["the end of August","25OFF","25%"]]}},
          {"type":"FOOTER","text":"Use the buttons below to manage your marketing subscriptions"},
          {"type":"BUTTONS","buttons":[
            {"type":"QUICK_REPLY","text":"Unsubscribe from Promos"},
            {"type":"URL","text":"Shop","url":"https://x.example/shop?promo={{1}}","example":["summer2023"]},
            {"type":"COPY_CODE","example":"25OFF"},
            {"type":"FLOW","text":"Book","flow_id":"123","navigate_screen":"A"}]}]}));
    let buttons = definition.components[3].buttons.as_ref().unwrap();
    assert_eq!(buttons[2].example, Some(ButtonExample::One("25OFF".into())));
    assert_eq!(buttons[3].extra["flow_id"], json!("123"));
    round_trip::<ComponentDefinition>(json!({"type":"BODY","text":"Hi {{first_name}}",
        "example":{"body_text_named_params":[{"param_name":"first_name","example":"Pablo"}]}}));
    let created: TemplateCreated =
        round_trip(json!({"id":"1924084211297547","status":"PENDING","category":"MARKETING"}));
    assert_eq!(created.status, "PENDING");
}

#[test]
fn template_reads_keep_quality_paging_and_unknown_fields() {
    let page: TemplatePage = round_trip(json!({"data":[{"id":"1","name":"a","language":"en_US",
        "status":"APPROVED","category":"UTILITY","parameter_format":"POSITIONAL",
        "components":[{"type":"BODY","text":"Hi"}],
        "quality_score":{"score":"GREEN","date":1758754645},"sub_category":"ORDER_DETAILS"}],
        "paging":{"cursors":{"before":"QVFI","after":"QVFJ"},"next":"https://graph/next"}}));
    assert_eq!(page.data[0].extra["sub_category"], json!("ORDER_DETAILS"));
    assert_eq!(
        page.paging.unwrap().cursors.unwrap().after.as_deref(),
        Some("QVFJ")
    );
    let quality: TemplateDetails = serde_json::from_value(
        json!({"quality_score":{"score":"GREEN","date":1758754645},"id":"9"}),
    )
    .unwrap();
    assert_eq!(quality.quality_score.unwrap().score, "GREEN");
    round_trip::<Success>(json!({"success":true}));
    round_trip::<TemplateEdit>(json!({"components":[{"type":"BODY","text":"New"}]}));
}

#[test]
fn media_and_phone_number_answers_read() {
    let info: MediaInfo = serde_json::from_value(json!({"messaging_product":"whatsapp",
        "url":"https://lookaside.example/x","mime_type":"image/jpeg","sha256":"ab",
        "file_size":"303833","id":"2621233374848975"}))
    .unwrap();
    assert_eq!(info.file_size, Some(303_833));
    round_trip::<MediaUploaded>(json!({"id":"2621233374848975"}));
    assert_eq!(media_limit("image/png"), Some(("image", 5 * 1024 * 1024)));
    assert_eq!(media_limit("image/gif"), None);
    let phone: PhoneNumberInfo = round_trip(json!({"id":"106540352242922",
        "display_phone_number":"+1 555-0100","verified_name":"Acme","quality_rating":"GREEN",
        "whatsapp_business_manager_messaging_limit":"TIER_250","throughput":{"level":"STANDARD"}}));
    assert_eq!(phone.messaging_limit(), Some("TIER_250"));
    let legacy: PhoneNumberInfo =
        serde_json::from_value(json!({"id":"1","messaging_limit_tier":"TIER_1K"})).unwrap();
    assert_eq!(legacy.messaging_limit(), Some("TIER_1K"));
}

mod validation {
    use super::*;
    use crate::whatsapp::graph::validate::{graph_code, outgoing_message};

    fn rules(message: &OutgoingMessage) -> Vec<&'static str> {
        outgoing_message(message).iter().map(|p| p.rule).collect()
    }

    #[test]
    fn a_plain_text_message_is_valid_and_limits_are_enforced() {
        assert!(rules(&OutgoingMessage::text("+1 (650) 555-1234", "Hello")).is_empty());
        let long = OutgoingMessage::text("+16505551234", "x".repeat(4097));
        assert_eq!(rules(&long), ["graph.too_long"]);
        assert_eq!(
            rules(&OutgoingMessage::text("+16505551234", " ")),
            ["graph.missing"]
        );
        assert_eq!(
            rules(&OutgoingMessage::text("call me", "Hi")),
            ["graph.invalid_recipient"]
        );
        let mut tagged = OutgoingMessage::text("+16505551234", "Hi");
        tagged.biz_opaque_callback_data = Some("x".repeat(513));
        assert_eq!(
            outgoing_message(&tagged)[0].field,
            "biz_opaque_callback_data"
        );
    }

    #[test]
    fn media_needs_exactly_one_source() {
        let both = OutgoingMessage::to(
            "16505551234",
            MessageContent::Image {
                image: Media {
                    id: Some("1".into()),
                    link: Some("https://x".into()),
                    ..Media::default()
                },
            },
        );
        assert_eq!(rules(&both), ["graph.media_source"]);
        let ftp = OutgoingMessage::to(
            "16505551234",
            MessageContent::Document {
                document: Media {
                    link: Some("ftp://x".into()),
                    ..Media::default()
                },
            },
        );
        assert_eq!(rules(&ftp), ["graph.invalid_link"]);
    }

    #[test]
    fn interactive_limits_follow_the_fact_sheet() {
        let message: OutgoingMessage =
            serde_json::from_value(json!({"messaging_product":"whatsapp",
            "to":"16505551234","type":"interactive","interactive":{"type":"button",
            "body":{"text":"Pick"},"action":{"buttons":[
              {"type":"reply","reply":{"id":"1","title":"A title that is far too long"}},
              {"type":"reply","reply":{"id":"2","title":"b"}},
              {"type":"reply","reply":{"id":"3","title":"c"}},
              {"type":"reply","reply":{"id":"4","title":"d"}}]}}}))
            .unwrap();
        assert_eq!(rules(&message), ["graph.button_count", "graph.too_long"]);
    }

    #[test]
    fn template_parameters_refuse_newlines_with_metas_code() {
        let message: OutgoingMessage =
            serde_json::from_value(json!({"messaging_product":"whatsapp",
            "to":"16505551234","type":"template","template":{"name":"t","language":{"code":"en"},
            "components":[{"type":"body","parameters":[{"type":"text","text":"a\nb"}]}]}}))
            .unwrap();
        let problems = outgoing_message(&message);
        assert_eq!(problems.len(), 1);
        assert_eq!(graph_code(&problems[0]), 132018);
    }
}
