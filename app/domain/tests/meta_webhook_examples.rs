//! Every webhook example in Meta's own OpenAPI document (fixtures/meta-webhooks) is read without a
//! problem, and every message in it shows in a thread as what it is: a text as its words, a tap
//! as what was tapped, media as its kind, an order as an order. Only what Meta itself marks
//! `unsupported` shows as unsupported, and events that are not messages (groups) are kept whole
//! rather than dropped.

use std::path::Path;

use domain::conversation::body::Body;
use domain::whatsapp::webhook::{parse, EventKind};

fn examples() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/meta-webhooks");
    let mut found: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .expect("the fixtures directory")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let name = p
                .file_name()
                .expect("a file name")
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read(&p).expect("a fixture"))
        })
        .collect();
    found.sort();
    found
}

#[test]
fn every_example_meta_publishes_is_read_and_every_message_shows_as_what_it_is() {
    let examples = examples();
    assert_eq!(
        examples.len(),
        16,
        "all of Meta's webhook examples are here"
    );
    let mut shown = Vec::new();
    for (name, body) in &examples {
        let parsed = parse(body).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(parsed.problems.is_empty(), "{name}: {:?}", parsed.problems);
        assert!(!parsed.events.is_empty(), "{name}: nothing read");
        for event in &parsed.events {
            match &event.kind {
                EventKind::Inbound(message) => {
                    let body = Body::from_inbound(&message.content);
                    let unsupported = matches!(body, Body::Unsupported { .. });
                    assert_eq!(
                        unsupported,
                        name == "unsupported-message.json",
                        "{name}: {body:?}"
                    );
                    assert!(
                        !body.preview().trim().is_empty(),
                        "{name}: an empty preview"
                    );
                    shown.push((name.clone(), body.preview()));
                }
                EventKind::Unknown { field, .. } => {
                    // Group events are not messages of a conversation; they are kept whole.
                    assert!(
                        name.starts_with("group-"),
                        "{name}: `{field}` not interpreted"
                    );
                }
                other => panic!("{name}: an unexpected event {other:?}"),
            }
        }
    }
    for (name, preview) in &shown {
        println!("{name}: {preview}");
    }
    let preview_of = |file: &str| {
        shown
            .iter()
            .find(|(n, _)| n == file)
            .map(|(_, p)| p.clone())
            .unwrap_or_default()
    };
    assert_eq!(
        preview_of("order-message.json"),
        "Order: 2 items, 85.00 USD"
    );
    assert!(preview_of("location-message.json").starts_with("Location"));
    assert!(preview_of("image-message.json").starts_with("Photo"));
    assert!(preview_of("interactive-list-reply-message.json").starts_with("Chose “"));
    assert!(preview_of("interactive-button-reply-message.json").starts_with("Tapped “"));
    assert!(preview_of("button-message.json").starts_with("Tapped “"));
}
