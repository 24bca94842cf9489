//! Template lint speed on typical drafts: `cargo bench -p domain --bench lint`.
//! Prints templates per second for a short utility draft and a long marketing draft with buttons.
#![allow(
    clippy::unwrap_used,
    reason = "a benchmark that cannot set up should stop"
)]

use std::hint::black_box;
use std::time::Instant;

use domain::template::lint::lint;
use domain::whatsapp::graph::TemplateDefinition;
use serde_json::json;

fn main() {
    let short: TemplateDefinition = serde_json::from_value(json!({"name":"order_update",
        "language":"en_US","category":"UTILITY","components":[
        {"type":"BODY","text":"Hello {{1}}, your order {{2}} has shipped today.",
         "example":{"body_text":[["Pablo","#42"]]}}]}))
    .unwrap();
    let long: TemplateDefinition = serde_json::from_value(json!({"name":"seasonal_promotion",
        "language":"en_US","category":"MARKETING","components":[
        {"type":"HEADER","format":"TEXT","text":"Our {{1}} is on!","example":{"header_text":["Summer Sale"]}},
        {"type":"BODY","text":"Dear {{1}}, ".to_string() + &"shop our collection of summer favourites now. ".repeat(18)
            + "Use code {{2}} before {{3}} to get {{4}} off your next order.",
         "example":{"body_text":[["Pablo","25OFF","August 31","25%"]]}},
        {"type":"FOOTER","text":"Use the buttons below to manage your marketing subscriptions"},
        {"type":"BUTTONS","buttons":[{"type":"QUICK_REPLY","text":"Stop promotions"},
          {"type":"QUICK_REPLY","text":"Tell me more"},
          {"type":"URL","text":"Shop","url":"https://x.example/shop?promo={{1}}","example":["summer"]},
          {"type":"COPY_CODE","example":"25OFF"}]}]}))
    .unwrap();
    for (name, template) in [
        ("short utility draft", &short),
        ("long marketing draft", &long),
    ] {
        let rounds = 200_000;
        let started = Instant::now();
        for _ in 0..rounds {
            black_box(lint(black_box(template)));
        }
        let per_second = f64::from(rounds) / started.elapsed().as_secs_f64();
        println!("{name}: {per_second:.0} templates/s");
    }
}
