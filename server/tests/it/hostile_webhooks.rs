//! Webhooks as Meta really sends them — late, twice, out of order, in shapes third-party test
//! suites use — and as an attacker holding one connection's secret would: none may revert a
//! user's STOP, stall the other webhooks, or touch another connection's data.

use domain::campaign::{CampaignDraft, CampaignStatus, RecipientState};
use domain::contacts::Category;
use domain::whatsapp::graph::TemplateDefinition;
use domain::whatsapp::status::DeliveryStatus;
use reqwest::StatusCode;
use serde_json::{json, Value};
use server::storage::campaigns::{CampaignRecord, CampaignStore, RecipientRecord};
use server::storage::connections::{Connection, ConnectionKind, ConnectionSecrets};
use server::storage::contacts::ContactStore;
use server::storage::inbox::InboxState;
use server::storage::templates::TemplateStore;
use server::whatsapp::signature;
use uuid::Uuid;

use crate::helpers::TestApp;

const WABA_A: &str = "102290129340398";
const NUMBER_A: &str = "106540352242922";

fn connection(app: &TestApp, secret: &str, waba: &str, number: &str) -> Connection {
    let connection = Connection {
        id: Uuid::now_v7(),
        name: format!("Number {number}"),
        kind: ConnectionKind::CloudApi,
        base_url: "https://graph.facebook.com".into(),
        api_version: Some("v23.0".into()),
        waba_id: Some(waba.into()),
        phone_number_id: Some(number.into()),
        secrets: ConnectionSecrets {
            access_token: Some("token".into()),
            app_secret: Some(secret.into()),
            verify_token: Some("verify-me-please".into()),
            api_key: None,
        },
        created_at_ms: 0,
        sandbox: None,
    };
    app.state.webhooks.connections.save(&connection).unwrap();
    connection
}

async fn deliver(app: &TestApp, to: &Connection, body: &Value) {
    let bytes = body.to_string().into_bytes();
    let secret = to.secrets.app_secret.clone().unwrap();
    let header = signature::sign(secret.as_bytes(), &bytes);
    let response = app
        .post_bytes(
            &format!("/webhooks/whatsapp/{}", to.id),
            bytes,
            &[
                ("x-hub-signature-256", &header),
                ("content-type", "application/json"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

fn change(waba: &str, number: &str, field: &str, mut value: Value) -> Value {
    value["messaging_product"] = json!("whatsapp");
    value["metadata"] = json!({"display_phone_number": "15550783881", "phone_number_id": number});
    json!({"object": "whatsapp_business_account",
        "entry": [{"id": waba, "changes": [{"field": field, "value": value}]}]})
}

fn text(from: &str, id: &str, timestamp: i64, body: &str) -> Value {
    change(
        WABA_A,
        NUMBER_A,
        "messages",
        json!({"contacts": [{"profile": {"name": "Ada"}, "wa_id": from}],
            "messages": [{"from": from, "id": id, "timestamp": timestamp.to_string(),
                "type": "text", "text": {"body": body}}]}),
    )
}

fn contacts(app: &TestApp) -> ContactStore {
    ContactStore::open(&app.state.store).unwrap()
}

fn marketing_out(app: &TestApp, phone: &str) -> bool {
    contacts(app)
        .get(phone)
        .unwrap()
        .expect("the contact exists")
        .opted_out(Category::Marketing)
}

#[tokio::test]
async fn an_older_start_never_undoes_a_newer_stop_whatever_the_order_or_repetition() {
    let app = TestApp::spawn().await;
    let a = connection(&app, "secret-a", WABA_A, NUMBER_A);
    let worker = &app.webhook_worker;

    // START (t=100), STOP (t=200), then START delivered again.
    deliver(&app, &a, &text("16505551234", "wamid.start", 100, "START")).await;
    deliver(&app, &a, &text("16505551234", "wamid.stop", 200, "STOP")).await;
    worker.process_pending().unwrap();
    deliver(&app, &a, &text("16505551234", "wamid.start", 100, "START")).await;
    worker.process_pending().unwrap();
    assert!(marketing_out(&app, "+16505551234"), "a replayed START");

    // STOP (t=200) arrives before the START (t=100) it followed.
    deliver(&app, &a, &text("16505559876", "wamid.stop2", 200, "STOP")).await;
    worker.process_pending().unwrap();
    deliver(&app, &a, &text("16505559876", "wamid.start2", 100, "START")).await;
    worker.process_pending().unwrap();
    assert!(marketing_out(&app, "+16505559876"), "a late START");

    // A START written after the STOP does bring them back.
    deliver(&app, &a, &text("16505559876", "wamid.start3", 300, "START")).await;
    worker.process_pending().unwrap();
    assert!(!marketing_out(&app, "+16505559876"));
}

#[tokio::test]
async fn a_webhook_that_cannot_be_applied_is_parked_and_the_rest_go_on() {
    let app = TestApp::spawn().await;
    let a = connection(&app, "secret-a", WABA_A, NUMBER_A);
    // A campaign of A's whose statistics record cannot be read, as a poisoned value left it.
    let campaign = Uuid::now_v7();
    let store = CampaignStore::open(&app.state.store).unwrap();
    store
        .put(
            &campaign,
            &CampaignRecord {
                draft: CampaignDraft {
                    connection_id: a.id.to_string(),
                    ..CampaignDraft::default()
                },
                status: CampaignStatus::Running,
                template: None,
                slots: vec![],
                exclude_campaign: None,
                created_at_ms: 0,
                updated_at_ms: 0,
                started_at_ms: Some(0),
                history: vec![],
            },
        )
        .unwrap();
    store
        .add_recipients(
            &campaign,
            &[(
                "+16505551234".to_string(),
                RecipientRecord::new(RecipientState::Sent, 0),
            )],
            &server::storage::campaigns::Unrecorded::default(),
        )
        .unwrap();
    let stats: server::storage::Collection<Uuid, Value> =
        app.state.store.collection("campaign_stats").unwrap();
    stats.insert(&campaign, &json!("not statistics")).unwrap();

    let status = change(
        WABA_A,
        NUMBER_A,
        "messages",
        json!({"statuses": [{"id": "wamid.c", "status": "delivered", "timestamp": "5",
            "recipient_id": "16505551234",
            "biz_opaque_callback_data": format!("herald:{campaign}:+16505551234")}]}),
    );
    deliver(&app, &a, &status).await;
    deliver(&app, &a, &text("16505550000", "wamid.other", 10, "STOP")).await;
    // (The background worker may take either first; the outcome is the same.)
    app.webhook_worker.process_pending().unwrap();
    assert!(
        marketing_out(&app, "+16505550000"),
        "the unrelated STOP was applied"
    );
    let parked = app.state.webhooks.inbox.recent(10).unwrap();
    let errors: Vec<String> = parked
        .iter()
        .filter_map(|(_, e)| match &e.state {
            InboxState::Failed { error, .. } => Some(error.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].contains("could not be applied"), "{errors:?}");
    // Nothing is left pending to be retried forever.
    assert!(app.state.webhooks.inbox.pending(10).unwrap().is_empty());
}

#[tokio::test]
async fn a_payload_signed_by_one_connection_changes_nothing_of_another() {
    let app = TestApp::spawn().await;
    let a = connection(&app, "secret-a", WABA_A, NUMBER_A);
    let b = connection(&app, "secret-b", "200000000000002", "200000000000009");
    // B's approved template and a message B sent.
    let templates = TemplateStore::open(&app.state.store).unwrap();
    let template_id = Uuid::now_v7();
    let definition: TemplateDefinition = serde_json::from_value(json!({
        "name": "welcome", "language": "en_US", "category": "UTILITY",
        "components": [{"type": "BODY", "text": "Welcome!"}]}))
    .unwrap();
    let mut record = crate::helpers::stored_template(Some(b.id), Some("9001"), definition);
    record.status = Some("APPROVED".into());
    templates.save(template_id, &record).unwrap();
    let sent = change(
        "200000000000002",
        "200000000000009",
        "messages",
        json!({"statuses": [{"id": "wamid.B", "status": "sent", "timestamp": "5",
            "recipient_id": "16505551234"}]}),
    );
    deliver(&app, &b, &sent).await;
    app.webhook_worker.process_pending().unwrap();

    // Signed with A's secret: once naming A's own account, once naming B's.
    for (waba, number) in [(WABA_A, NUMBER_A), ("200000000000002", "200000000000009")] {
        let failed = change(
            waba,
            number,
            "messages",
            json!({"statuses": [{"id": "wamid.B", "status": "failed", "timestamp": "6",
                "recipient_id": "16505551234",
                "errors": [{"code": 131026, "title": "Message undeliverable"}]}]}),
        );
        deliver(&app, &a, &failed).await;
        let disable = change(
            waba,
            number,
            "message_template_status_update",
            json!({"event": "DISABLED", "message_template_id": 9001,
                "message_template_name": "welcome", "message_template_language": "en_US",
                "reason": "NONE"}),
        );
        deliver(&app, &a, &disable).await;
        let category = change(
            waba,
            number,
            "template_category_update",
            json!({"message_template_id": 9001, "message_template_name": "welcome",
                "message_template_language": "en_US", "previous_category": "UTILITY",
                "new_category": "MARKETING"}),
        );
        deliver(&app, &a, &category).await;
    }
    app.webhook_worker.process_pending().unwrap();

    let status = server::storage::messages::MessageStore::open(&app.state.store)
        .unwrap()
        .status("wamid.B")
        .unwrap()
        .unwrap();
    assert_eq!(status.status, DeliveryStatus::Sent);
    let template = templates.get(&template_id).unwrap().unwrap();
    assert_eq!(template.status.as_deref(), Some("APPROVED"));
    assert_eq!(template.definition.category, "UTILITY");
    // What was ignored is visible in the webhook log.
    let log = app.state.webhooks.inbox.recent(20).unwrap();
    assert!(log.iter().any(|(_, e)| matches!(&e.state,
        InboxState::Failed { error, .. } if error.contains("ignored"))));
}

#[tokio::test]
async fn senders_that_are_not_numbers_never_become_contacts() {
    let app = TestApp::spawn().await;
    let a = connection(&app, "secret-a", WABA_A, NUMBER_A);
    let zeros = "0".repeat(40);
    for (i, sender) in ["PHONE_NUMBER", "", "1", zeros.as_str()].iter().enumerate() {
        let body = change(
            WABA_A,
            NUMBER_A,
            "messages",
            json!({"messages": [{"from": sender, "id": format!("wamid.s{i}"),
                "timestamp": "5", "type": "text", "text": {"body": "hi"}}]}),
        );
        deliver(&app, &a, &body).await;
    }
    app.webhook_worker.process_pending().unwrap();
    assert_eq!(contacts(&app).count(), 0);
}

#[tokio::test]
async fn real_shapes_that_were_dropped_are_applied() {
    let app = TestApp::spawn().await;
    let a = connection(&app, "secret-a", WABA_A, NUMBER_A);
    // A STOP, then WhatsApp's "signup" preference: marketing is back on.
    deliver(&app, &a, &text("16505551234", "wamid.stop", 100, "STOP")).await;
    let signup = change(
        WABA_A,
        NUMBER_A,
        "user_preferences",
        json!({"user_preferences": [{"wa_id": "16505551234", "detail": "User signed up",
            "category": "marketing_messages", "value": "signup", "timestamp": 200}]}),
    );
    deliver(&app, &a, &signup).await;
    // A message with only a business-scoped user id, and an unsupported interactive one.
    let bsuid = change(
        WABA_A,
        NUMBER_A,
        "messages",
        json!({"contacts": [{"profile": {"name": "Kim"}, "user_id": "US.13491208655302741918"}],
            "messages": [{"id": "wamid.bsuid", "timestamp": "300", "type": "text",
                "text": {"body": "hello"}}]}),
    );
    deliver(&app, &a, &bsuid).await;
    let unsupported = change(
        WABA_A,
        NUMBER_A,
        "messages",
        json!({"contacts": [{"profile": {"name": "Ada"}, "wa_id": "16505551234"}],
            "messages": [{"from": "16505551234", "id": "wamid.unsupported", "timestamp": "400",
                "type": "interactive", "errors": [{"code": 131051,
                "title": "Message type unknown", "message": "Message type unknown",
                "error_data": {"details": "Message type is currently not supported."}}]}]}),
    );
    deliver(&app, &a, &unsupported).await;
    app.webhook_worker.process_pending().unwrap();
    let log = app.state.webhooks.inbox.recent(10).unwrap();
    assert!(
        log.iter()
            .all(|(_, e)| matches!(e.state, InboxState::Processed { .. })),
        "{log:?}"
    );
    assert!(!marketing_out(&app, "+16505551234"));
    assert!(contacts(&app)
        .get("+16505551234")
        .unwrap()
        .unwrap()
        .may_receive(Category::Marketing));
    let messages = server::storage::messages::MessageStore::open(&app.state.store).unwrap();
    assert!(messages.knows_inbound("wamid.bsuid").unwrap());
    assert!(messages.knows_inbound("wamid.unsupported").unwrap());
}
