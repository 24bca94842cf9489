//! One fixture per rule of [`RULES`]: each must trigger its rule (so deleting a rule fails a test),
//! and the valid base template must trigger none.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;

fn base() -> Value {
    json!({"name":"order_update","language":"en_US","category":"UTILITY","components":[
        {"type":"HEADER","format":"TEXT","text":"Order {{1}}","example":{"header_text":["#42"]}},
        {"type":"BODY","text":"Hello {{1}}, your order {{2}} has shipped today.",
         "example":{"body_text":[["Pablo","#42"]]}},
        {"type":"FOOTER","text":"Reply STOP to opt out"},
        {"type":"BUTTONS","buttons":[{"type":"QUICK_REPLY","text":"Stop updates"},
          {"type":"URL","text":"Track","url":"https://x.example/t/{{1}}","example":["42"]}]}]})
}

fn template(value: Value) -> TemplateDefinition {
    serde_json::from_value(value).unwrap()
}

fn body(text: &str, examples: Value) -> Value {
    let mut t = base();
    t["components"][1] = json!({"type":"BODY","text":text,"example":{"body_text":[examples]}});
    t
}

fn with(mut t: Value, path: &[&str], value: Value) -> Value {
    let mut at = &mut t;
    for key in path {
        at = match key.parse::<usize>() {
            Ok(i) => &mut at[i],
            Err(_) => &mut at[*key],
        };
    }
    *at = value;
    t
}

fn buttons(list: Value) -> Value {
    with(base(), &["components", "3", "buttons"], list)
}

/// A template (and the account's other templates) that breaks `rule`.
fn fixture(rule: &str) -> (Value, Vec<Value>) {
    let alone = |t| (t, Vec::new());
    match rule {
        "template.name.missing" => alone(with(base(), &["name"], json!(""))),
        "template.name.characters" => alone(with(base(), &["name"], json!("Order Update"))),
        "template.name.too_long" => alone(with(base(), &["name"], json!("a".repeat(513)))),
        "template.category" => alone(with(base(), &["category"], json!("PROMO"))),
        "template.language" => alone(with(base(), &["language"], json!("english"))),
        "template.parameter_format" => {
            alone(with(base(), &["parameter_format"], json!("numbered")))
        }
        "template.ttl" => alone(with(base(), &["message_send_ttl_seconds"], json!(10))),
        "template.body.missing" => alone(with(
            base(),
            &["components", "1"],
            json!({"type":"FOOTER","text":"x"}),
        )),
        "template.body.empty" => alone(body(" ", json!([]))),
        "template.body.too_long" => alone(body(&"word ".repeat(210), json!([]))),
        "template.body.dangling_variable" => {
            alone(body("{{1}} is your code for today", json!(["1"])))
        }
        "template.body.adjacent_variables" => alone(body(
            "Dear customer {{1}} {{2}} thanks for all the fish",
            json!(["a", "b"]),
        )),
        "template.body.variable_ratio" => alone(body("Hi {{1}} and {{2}} ok", json!(["a", "b"]))),
        "template.header.duplicate" => {
            let mut t = base();
            t["components"]
                .as_array_mut()
                .unwrap()
                .push(json!({"type":"HEADER","format":"TEXT","text":"Again"}));
            alone(t)
        }
        "template.header.empty" => alone(with(
            base(),
            &["components", "0"],
            json!({"type":"HEADER","format":"TEXT","text":""}),
        )),
        "template.header.too_long" => alone(with(
            base(),
            &["components", "0"],
            json!({"type":"HEADER","format":"TEXT","text":"h".repeat(61)}),
        )),
        "template.header.variables" => alone(with(
            base(),
            &["components", "0"],
            json!({"type":"HEADER","format":"TEXT","text":"A {{1}} b {{2}}","example":{"header_text":["x","y"]}}),
        )),
        "template.header.format" => alone(with(
            base(),
            &["components", "0"],
            json!({"type":"HEADER","format":"AUDIO"}),
        )),
        "template.header.missing_sample" => alone(with(
            base(),
            &["components", "0"],
            json!({"type":"HEADER","format":"IMAGE"}),
        )),
        "template.header.location_category" => {
            let t = with(
                base(),
                &["components", "0"],
                json!({"type":"HEADER","format":"LOCATION"}),
            );
            alone(with(t, &["category"], json!("AUTHENTICATION")))
        }
        "template.footer.too_long" => alone(with(
            base(),
            &["components", "2", "text"],
            json!("f".repeat(61)),
        )),
        "template.footer.variable" => alone(with(
            base(),
            &["components", "2", "text"],
            json!("Bye {{1}}"),
        )),
        "template.placeholder.unbalanced" => alone(body(
            "Hello {{1}}, your order {{2 has shipped today to you.",
            json!(["a", "b"]),
        )),
        "template.placeholder.special_characters" => alone(body(
            "Hello {{#1}}, your order has shipped today to you.",
            json!(["a"]),
        )),
        "template.variable.format" => alone(body(
            "Hello {{name}}, your order has shipped today to you.",
            json!(["a"]),
        )),
        "template.variable.sequence" => alone(body(
            "Hi {{1}} and {{3}} welcome to the shop",
            json!(["a", "b"]),
        )),
        "template.variable.name" | "template.variable.duplicate_name" => {
            let text = if rule == "template.variable.name" {
                "Hello {{First}}, your order is ready for you today."
            } else {
                "Hello {{first}}, your order is ready for {{first}} today, thank you."
            };
            let mut t = base();
            t["parameter_format"] = json!("named");
            t["components"] = json!([{"type":"BODY","text":text,
                "example":{"body_text_named_params":[{"param_name":"first","example":"Ann"}]}}]);
            alone(t)
        }
        "template.variable.mixed" => alone(body(
            "Hello {{1}}, your order {{ref}} has shipped today.",
            json!(["a", "b"]),
        )),
        "template.example.missing" => alone(body(
            "Hello {{1}}, your order {{2}} has shipped today.",
            json!(["a"]),
        )),
        "template.example.whitespace" => alone(body(
            "Hello {{1}}, your order {{2}} has shipped today.",
            json!(["a\nb", "c"]),
        )),
        "template.buttons.count" => alone(buttons(json!((0..11)
            .map(|i| json!({"type":"QUICK_REPLY","text":format!("b{i}")}))
            .collect::<Vec<_>>()))),
        "template.buttons.kind_count" => alone(buttons(json!([
            {"type":"PHONE_NUMBER","text":"Call","phone_number":"+15550100"},
            {"type":"PHONE_NUMBER","text":"Call 2","phone_number":"+15550101"}]))),
        "template.buttons.grouping" => alone(buttons(json!([
            {"type":"QUICK_REPLY","text":"a"},{"type":"URL","text":"b","url":"https://x.example"},
            {"type":"QUICK_REPLY","text":"c"}]))),
        "template.button.empty" => alone(buttons(json!([{"type":"QUICK_REPLY","text":""}]))),
        "template.button.too_long" => alone(buttons(
            json!([{"type":"QUICK_REPLY","text":"A label much longer than allowed"}]),
        )),
        "template.button.url" => alone(buttons(
            json!([{"type":"URL","text":"Go","url":"x.example"}]),
        )),
        "template.button.url_variable" => alone(buttons(
            json!([{"type":"URL","text":"Go","url":"https://x/{{1}}/y","example":["1"]}]),
        )),
        "template.button.url_example" => alone(buttons(
            json!([{"type":"URL","text":"Go","url":"https://x/{{1}}"}]),
        )),
        "template.button.phone" => alone(buttons(
            json!([{"type":"PHONE_NUMBER","text":"Call","phone_number":"call us"}]),
        )),
        "template.button.copy_code" => alone(buttons(
            json!([{"type":"COPY_CODE","example":"A-CODE-LONGER-THAN-20"}]),
        )),
        "template.duplicate" => {
            let other = with(base(), &["name"], json!("order_update_copy"));
            (base(), vec![other])
        }
        "template.sensitive" => alone(body(
            "Hello {{1}}, reply with your card number to confirm {{2}} today.",
            json!(["a", "b"]),
        )),
        "template.category_hint" => alone(body(
            "Hello {{1}}, our big sale on {{2}} starts today.",
            json!(["a", "b"]),
        )),
        other => panic!("no fixture for {other}"),
    }
}

#[test]
fn the_base_template_is_clean() {
    assert_eq!(lint(&template(base())), Vec::new());
}

#[test]
fn every_rule_fires_on_its_fixture() {
    for (rule, _, _) in RULES {
        let (t, others) = fixture(rule);
        let others: Vec<TemplateDefinition> = others.into_iter().map(template).collect();
        let findings = lint_among(&template(t), &others);
        assert!(
            findings.iter().any(|f| f.rule == *rule),
            "{rule} did not fire; got {:?}",
            findings.iter().map(|f| f.rule).collect::<Vec<_>>()
        );
    }
}

#[test]
fn rule_ids_are_unique_and_warnings_do_not_block() {
    let mut ids: Vec<_> = RULES.iter().map(|r| r.0).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), RULES.len());
    let (hint, _) = fixture("template.category_hint");
    let findings = lint(&template(hint));
    assert!(findings.iter().all(|f| f.severity == Severity::Warning));
    assert!(!has_errors(&findings));
}

#[test]
fn findings_point_at_the_offending_characters() {
    let t = template(body(
        "Hi {{1}} and {{3}} — welcome, {{2}}{{4}} to the shop today",
        json!(["a", "b", "c", "d"]),
    ));
    let adjacent = lint(&t)
        .into_iter()
        .find(|f| f.rule == "template.body.adjacent_variables")
        .unwrap();
    // "Hi {{1}} and {{3}} — welcome, " is 30 characters (the dash is one character, three bytes).
    assert_eq!(adjacent.span, Some((35, 40)));
    let long = lint(&template(with(
        base(),
        &["components", "2", "text"],
        json!("f".repeat(70)),
    )));
    assert_eq!(long[0].span, Some((60, 70)));
}

proptest! {
    #[test]
    fn the_linter_never_panics(
        name in ".{0,40}",
        body_text in ".{0,300}",
        header in ".{0,80}",
        footer in ".{0,80}",
        url in ".{0,60}",
        named in any::<bool>(),
    ) {
        let t = json!({"name":name,"language":"en","category":"MARKETING",
            "parameter_format": if named { "named" } else { "positional" },
            "components":[
                {"type":"HEADER","format":"TEXT","text":header},
                {"type":"BODY","text":body_text,"example":{"body_text":[["x"]]}},
                {"type":"FOOTER","text":footer},
                {"type":"BUTTONS","buttons":[{"type":"URL","text":"go","url":url}]}]});
        let _ = lint(&template(t));
    }

    #[test]
    fn placeholders_made_of_braces_never_panic(text in "[{}a-z0-9 #$%]{0,120}") {
        let _ = lint(&template(body(&text, json!(["a", "b", "c"]))));
    }
}

#[test]
fn a_session_reply_skips_review_rules_but_keeps_the_interactive_limits() {
    // Variables without examples are fine: Meta never reviews a session reply.
    let without_examples: TemplateDefinition = serde_json::from_value(json!({
        "name": "shipping_answer", "language": "en", "category": "UTILITY", "parameter_format": "NAMED",
        "components": [{"type": "BODY", "text": "Hi {{first_name}}"}]
    }))
    .unwrap();
    assert!(lint(&without_examples)
        .iter()
        .any(|f| f.rule == "template.example.missing"));
    assert_eq!(lint_session_reply(&without_examples), Vec::new());
    // A link is not a session reply's button (four options are fine: they go as a list).
    let four: TemplateDefinition = serde_json::from_value(json!({
        "name": "pick_a_day", "language": "en", "category": "UTILITY",
        "components": [
            {"type": "BODY", "text": "Which day suits you?"},
            {"type": "BUTTONS", "buttons": [
                {"type": "QUICK_REPLY", "text": "Monday"},
                {"type": "QUICK_REPLY", "text": "Tuesday"},
                {"type": "QUICK_REPLY", "text": "Wednesday"},
                {"type": "URL", "text": "Other days", "url": "https://example.com/days"}]}]
    }))
    .unwrap();
    let rules: Vec<_> = lint_session_reply(&four)
        .into_iter()
        .map(|f| (f.rule, f.button))
        .collect();
    assert!(
        rules.contains(&("session_reply.button_kind", Some(3))),
        "{rules:?}"
    );
    assert_eq!(rules.len(), 1, "{rules:?}");
    // Eleven options are more than a list holds.
    let eleven: TemplateDefinition = serde_json::from_value(json!({
        "name": "pick_a_slot", "language": "en", "category": "UTILITY",
        "components": [
            {"type": "BODY", "text": "Which slot suits you?"},
            {"type": "BUTTONS", "buttons": (0..11).map(|n| json!(
                {"type": "QUICK_REPLY", "text": format!("Slot {n}")})).collect::<Vec<_>>()}]
    }))
    .unwrap();
    assert!(
        lint_session_reply(&eleven)
            .iter()
            .any(|f| f.rule == "session_reply.interactive"),
        "{:?}",
        lint_session_reply(&eleven)
    );
}
