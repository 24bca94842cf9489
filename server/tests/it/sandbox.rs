//! The provider client against the built-in sandbox over real HTTP: every status, template and
//! media path a campaign will use, Meta's error codes for the sandbox's limits, and the plain
//! explanations of bad connections.

use std::time::Duration;

use domain::whatsapp::errors::{Disposition, RecipientOutcome, RetryKind};
use domain::whatsapp::graph::{OutgoingMessage, TemplateDefinition, TemplateEdit};
use domain::whatsapp::status::DeliveryStatus;
use serde_json::json;
use server::storage::connections::{Connection, ConnectionKind, SandboxProfile};
use server::storage::messages::MessageStore;
use server::whatsapp::provider::{ApiError, MediaFile, WhatsAppApi};
use std::sync::Arc;

use crate::helpers::TestApp;

/// The first-run sandbox connection with a fast, deterministic profile.
fn sandbox(app: &TestApp, profile: SandboxProfile) -> (Connection, Arc<dyn WhatsAppApi>) {
    let mut connection = app.sandbox_connection();
    connection.sandbox = Some(profile);
    app.state.webhooks.connections.save(&connection).unwrap();
    let client = app.state.providers.for_connection(&connection).unwrap();
    (connection, client)
}

fn fast() -> SandboxProfile {
    SandboxProfile {
        seed: 7,
        status_delay_ms: 10,
        review_delay_ms: 0,
        read_per_mille: 1000,
        ..SandboxProfile::default()
    }
}

/// Waits until `wamid` reaches `status` through the real webhook intake and worker.
async fn wait_for_status(app: &TestApp, wamid: &str, status: DeliveryStatus) -> Vec<i64> {
    let messages = MessageStore::open(&app.state.store).unwrap();
    for _ in 0..200 {
        app.webhook_worker.process_pending().unwrap();
        if let Some(record) = messages.status(wamid).unwrap() {
            if record.status == status {
                return record.errors.iter().map(|(code, _)| *code).collect();
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{wamid} never reached {status:?}");
}

fn refused_code(error: &ApiError) -> i64 {
    match error {
        ApiError::Refused { error, .. } => error.code,
        other => panic!("expected a Graph error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_text_goes_sent_delivered_read_through_signed_webhooks() {
    let app = TestApp::spawn().await;
    let (_, client) = sandbox(&app, fast());
    let mut message = OutgoingMessage::text("+1 555 010 1234", "Hello from the test");
    message.biz_opaque_callback_data = Some("test=1".into());
    let accepted = client.send(&message).await.unwrap();
    assert_eq!(accepted.contacts[0].input, "+1 555 010 1234");
    assert_eq!(accepted.contacts[0].wa_id, "15550101234");
    let wamid = &accepted.messages[0].id;
    assert!(wamid.starts_with("wamid."));
    assert_eq!(
        accepted.messages[0].message_status, None,
        "only templates carry pacing status"
    );
    wait_for_status(&app, wamid, DeliveryStatus::Read).await;
    let record = MessageStore::open(&app.state.store)
        .unwrap()
        .status(wamid)
        .unwrap()
        .unwrap();
    assert_eq!(record.callback_data.as_deref(), Some("test=1"));
    assert_eq!(
        record.pricing_type.as_deref(),
        Some("free_customer_service")
    );
}

#[tokio::test]
async fn undeliverable_numbers_fail_with_131026_by_webhook() {
    let app = TestApp::spawn().await;
    let (_, client) = sandbox(&app, fast());
    let accepted = client
        .send(&OutgoingMessage::text("+15550100404", "Hi"))
        .await
        .unwrap();
    let codes = wait_for_status(&app, &accepted.messages[0].id, DeliveryStatus::Failed).await;
    assert_eq!(codes, [131026]);
}

#[tokio::test]
async fn invalid_requests_get_metas_codes_and_are_never_retried() {
    let app = TestApp::spawn().await;
    let (_, client) = sandbox(&app, fast());
    let too_long = client
        .send(&OutgoingMessage::text("+15550101234", "x".repeat(4097)))
        .await
        .unwrap_err();
    assert_eq!(refused_code(&too_long), 100);
    assert_eq!(too_long.disposition(), Disposition::InvalidRequest);
    let no_template: OutgoingMessage = serde_json::from_value(json!({"messaging_product":"whatsapp",
        "to":"15550101234","type":"template","template":{"name":"nope","language":{"code":"en_US"}}}))
    .unwrap();
    let missing = client.send(&no_template).await.unwrap_err();
    assert_eq!(refused_code(&missing), 132001);
    assert!(matches!(missing, ApiError::Refused { status: 404, .. }));
}

#[tokio::test]
async fn throughput_and_pair_rate_limits_answer_130429_and_131056() {
    let app = TestApp::spawn().await;
    let (_, client) = sandbox(
        &app,
        SandboxProfile {
            messages_per_second: 5,
            ..fast()
        },
    );
    let mut throttled = 0;
    for n in 0..20 {
        if let Err(e) = client
            .send(&OutgoingMessage::text(format!("+1555020{n:04}"), "Hi"))
            .await
        {
            assert_eq!(refused_code(&e), 130429);
            assert_eq!(e.disposition(), Disposition::Retry(RetryKind::Throughput));
            throttled += 1;
        }
    }
    assert!(
        throttled >= 10,
        "only {throttled} of 20 sends throttled at 5 mps"
    );

    let (_, client) = sandbox(
        &app,
        SandboxProfile {
            messages_per_second: 10_000,
            ..fast()
        },
    );
    let mut codes = Vec::new();
    for _ in 0..46 {
        codes.push(
            client
                .send(&OutgoingMessage::text("+15550301234", "Hi"))
                .await
                .err(),
        );
    }
    assert!(
        codes[..45].iter().all(Option::is_none),
        "a burst of 45 is allowed"
    );
    let last = codes[45]
        .as_ref()
        .expect("the 46th message to one user is refused");
    assert_eq!(refused_code(last), 131056);
    assert_eq!(last.disposition(), Disposition::Retry(RetryKind::PairRate));
}

fn utility_template(name: &str, body: &str) -> TemplateDefinition {
    serde_json::from_value(json!({"name": name, "language": "en_US", "category": "UTILITY",
        "components": [{"type": "BODY", "text": body, "example": {"body_text": [["Pablo", "#42"]]}}]}))
    .unwrap()
}

async fn wait_for_template(app: &TestApp, client: &dyn WhatsAppApi, id: &str, status: &str) {
    for _ in 0..200 {
        app.state.sandbox.review_due().await.unwrap();
        if client.template(id).await.unwrap().status == status {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("template {id} never became {status}");
}

#[tokio::test]
async fn templates_are_reviewed_listed_sent_edited_and_deleted() {
    let app = TestApp::spawn().await;
    let (_, client) = sandbox(&app, fast());
    let good = utility_template(
        "order_update",
        "Hello {{1}}, your order {{2}} has shipped today.",
    );
    let created = client.create_template(&good).await.unwrap();
    assert_eq!(
        (created.status.as_str(), created.category.as_str()),
        ("PENDING", "UTILITY")
    );
    wait_for_template(&app, client.as_ref(), &created.id, "APPROVED").await;

    let promo = utility_template(
        "promo_update",
        "Hello {{1}}, big sale on order {{2}} today only.",
    );
    let rejected = client.create_template(&promo).await.unwrap();
    wait_for_template(&app, client.as_ref(), &rejected.id, "REJECTED").await;
    let details = client.template(&rejected.id).await.unwrap();
    assert_eq!(
        details.rejected_reason.as_deref(),
        Some("INCORRECT_CATEGORY")
    );

    let duplicate = client.create_template(&good).await.unwrap_err();
    assert_eq!(refused_code(&duplicate), 100);

    let page = client.list_templates(None, 1).await.unwrap();
    assert_eq!(page.data.len(), 1);
    let after = page.paging.unwrap().cursors.unwrap().after.unwrap();
    let rest = client.list_templates(Some(&after), 10).await.unwrap();
    assert_eq!(rest.data.len(), 1);
    assert_ne!(page.data[0].id, rest.data[0].id);

    let send = |params: serde_json::Value| -> OutgoingMessage {
        serde_json::from_value(json!({"messaging_product":"whatsapp","to":"+15550401234",
            "type":"template","template":{"name":"order_update","language":{"code":"en_US"},
            "components":[{"type":"body","parameters":params}]}}))
        .unwrap()
    };
    let wrong_count = client
        .send(&send(json!([{"type":"text","text":"Pablo"}])))
        .await
        .unwrap_err();
    assert_eq!(refused_code(&wrong_count), 132000);
    let accepted = client
        .send(&send(
            json!([{"type":"text","text":"Pablo"},{"type":"text","text":"#42"}]),
        ))
        .await
        .unwrap();
    assert_eq!(
        accepted.messages[0].message_status.as_deref(),
        Some("accepted")
    );

    client
        .edit_template(
            &rejected.id,
            &TemplateEdit {
                category: Some("MARKETING".into()),
                ..TemplateEdit::default()
            },
        )
        .await
        .unwrap();
    wait_for_template(&app, client.as_ref(), &rejected.id, "APPROVED").await;

    client.delete_template("order_update", None).await.unwrap();
    let gone = client.template(&created.id).await.unwrap_err();
    assert_eq!(refused_code(&gone), 100);
}

#[tokio::test]
async fn marketing_to_a_user_who_stopped_fails_with_131050() {
    let app = TestApp::spawn().await;
    let (_, client) = sandbox(&app, fast());
    let mut promo = utility_template(
        "weekend_sale",
        "Hello {{1}}, our sale on {{2}} starts this weekend.",
    );
    promo.category = "MARKETING".into();
    let created = client.create_template(&promo).await.unwrap();
    wait_for_template(&app, client.as_ref(), &created.id, "APPROVED").await;
    let message: OutgoingMessage = serde_json::from_value(json!({"messaging_product":"whatsapp",
        "to":"+15550100050","type":"template","template":{"name":"weekend_sale","language":{"code":"en_US"},
        "components":[{"type":"body","parameters":[{"type":"text","text":"Ann"},{"type":"text","text":"shoes"}]}]}}))
    .unwrap();
    let accepted = client.send(&message).await.unwrap();
    let codes = wait_for_status(&app, &accepted.messages[0].id, DeliveryStatus::Failed).await;
    assert_eq!(codes, [131050]);
    assert_eq!(
        domain::whatsapp::errors::classify(codes[0]).disposition,
        Disposition::Recipient(RecipientOutcome::OptedOut)
    );
}

#[tokio::test]
async fn media_uploads_are_read_downloaded_and_deleted() {
    let app = TestApp::spawn().await;
    let (_, client) = sandbox(&app, fast());
    let png = b"\x89PNG\r\n\x1a\n fake image".to_vec();
    let uploaded = client
        .upload_media(MediaFile {
            filename: "a.png".into(),
            mime_type: "image/png".into(),
            bytes: png.clone(),
        })
        .await
        .unwrap();
    let info = client.media(&uploaded.id).await.unwrap();
    assert_eq!(
        (info.mime_type.as_str(), info.file_size),
        ("image/png", Some(png.len() as u64))
    );
    assert_eq!(
        client.download_media(&info.url, 1 << 20).await.unwrap(),
        png
    );
    let refused = client
        .upload_media(MediaFile {
            filename: "a.gif".into(),
            mime_type: "image/gif".into(),
            bytes: vec![1],
        })
        .await
        .unwrap_err();
    assert!(
        matches!(refused, ApiError::Config(_)),
        "refused before sending: {refused:?}"
    );
}

#[tokio::test]
async fn simulated_users_write_through_the_real_intake() {
    let app = TestApp::spawn().await;
    let (connection, _) = sandbox(&app, fast());
    let sandbox = &app.state.sandbox;
    use server::whatsapp::sandbox::SimulatedInbound;
    let wamid = sandbox
        .simulate_inbound(
            connection.id,
            "+15550501234",
            SimulatedInbound::Text("STOP".into()),
        )
        .await
        .unwrap();
    sandbox
        .simulate_inbound(
            connection.id,
            "+15550501234",
            SimulatedInbound::Button {
                payload: "STOP_PROMO".into(),
                text: "Stop promotions".into(),
                context: Some("wamid.X".into()),
            },
        )
        .await
        .unwrap();
    sandbox
        .simulate_inbound(
            connection.id,
            "+15550501234",
            SimulatedInbound::StopMarketing,
        )
        .await
        .unwrap();
    // The background worker may get there first; either way every payload ends processed.
    app.webhook_worker.process_pending().unwrap();
    let entries = app.state.webhooks.inbox.recent(10).unwrap();
    assert_eq!(entries.len(), 3);
    assert!(entries.iter().all(|(_, e)| matches!(
        e.state,
        server::storage::inbox::InboxState::Processed { .. }
    )));
    let messages = MessageStore::open(&app.state.store).unwrap();
    let inbound = messages.recent_inbound(10).unwrap();
    assert_eq!(inbound.len(), 2);
    assert!(inbound
        .iter()
        .any(|(id, r)| id == &wamid && r.text.as_deref() == Some("STOP")));
    assert!(inbound
        .iter()
        .any(|(_, r)| r.kind == "button" && r.text.as_deref() == Some("STOP_PROMO")));
}

#[tokio::test]
async fn the_service_window_is_enforced_when_the_profile_asks() {
    let app = TestApp::spawn().await;
    let (connection, client) = sandbox(
        &app,
        SandboxProfile {
            enforce_service_window: true,
            ..fast()
        },
    );
    let closed = client
        .send(&OutgoingMessage::text("+15550601234", "Hi"))
        .await
        .unwrap_err();
    assert_eq!(refused_code(&closed), 131047);
    app.state
        .sandbox
        .simulate_inbound(
            connection.id,
            "+15550601234",
            server::whatsapp::sandbox::SimulatedInbound::Text("hello".into()),
        )
        .await
        .unwrap();
    client
        .send(&OutgoingMessage::text("+15550601234", "Hi"))
        .await
        .unwrap();
}

#[tokio::test]
async fn bad_connections_are_explained_in_plain_words() {
    let app = TestApp::spawn().await;
    let (mut connection, _) = sandbox(&app, fast());
    // A Cloud API connection pointed at the sandbox works unchanged…
    connection.kind = ConnectionKind::CloudApi;
    connection.base_url = format!("{}/sandbox/graph", app.base);
    let check = app
        .state
        .providers
        .for_connection(&connection)
        .unwrap()
        .check()
        .await
        .unwrap();
    assert!(check
        .facts
        .contains(&("Quality rating".to_string(), "GREEN".to_string())));
    // …and with a wrong token it says so.
    connection.secrets.access_token = Some("not-the-token".into());
    let error = app
        .state
        .providers
        .for_connection(&connection)
        .unwrap()
        .check()
        .await
        .unwrap_err();
    assert_eq!(refused_code(&error), 190);
    assert!(error
        .explain()
        .starts_with("The access token is wrong or expired"));
    connection.secrets.access_token = app
        .state
        .webhooks
        .connections
        .get(&connection.id)
        .unwrap()
        .unwrap()
        .secrets
        .access_token;
    connection.phone_number_id = Some("123".into());
    let error = app
        .state
        .providers
        .for_connection(&connection)
        .unwrap()
        .check()
        .await
        .unwrap_err();
    assert!(
        error.explain().starts_with("The phone-number id"),
        "{}",
        error.explain()
    );
    // An unreachable host is not an unknown outcome: nothing was sent.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = listener.local_addr().unwrap().port();
    drop(listener);
    connection.base_url = format!("http://127.0.0.1:{closed_port}");
    let error = app
        .state
        .providers
        .for_connection(&connection)
        .unwrap()
        .send(&OutgoingMessage::text("+15550101234", "Hi"))
        .await
        .unwrap_err();
    assert!(matches!(error, ApiError::Unreachable(_)), "{error:?}");
    assert!(error.explain().starts_with("Cannot reach the host"));
}

#[tokio::test]
async fn a_send_whose_answer_is_lost_is_unknown_not_failed() {
    let app = TestApp::spawn().await;
    let (mut connection, _) = sandbox(&app, fast());
    // A server that reads the request and hangs up without answering.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        use tokio::io::AsyncReadExt;
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buffer = [0u8; 4096];
            let _ = socket.read(&mut buffer).await;
            drop(socket);
        }
    });
    connection.kind = ConnectionKind::CloudApi;
    connection.base_url = format!("http://127.0.0.1:{port}");
    let error = app
        .state
        .providers
        .for_connection(&connection)
        .unwrap()
        .send(&OutgoingMessage::text("+15550101234", "Hi"))
        .await
        .unwrap_err();
    assert!(error.outcome_unknown(), "{error:?}");
}

#[tokio::test]
async fn review_webhooks_update_the_stored_template_and_its_history() {
    use server::storage::templates::{TemplateKind, TemplateRecord, TemplateStore};
    let app = TestApp::spawn().await;
    let (connection, client) = sandbox(&app, fast());
    let definition = utility_template(
        "promo_notice",
        "Hello {{1}}, big sale on order {{2}} today only.",
    );
    let created = client.create_template(&definition).await.unwrap();
    let templates = TemplateStore::open(&app.state.store).unwrap();
    let id = uuid::Uuid::now_v7();
    templates
        .save(
            id,
            &TemplateRecord {
                kind: TemplateKind::Approved,
                connection_id: Some(connection.id),
                definition,
                meta_id: Some(created.id.clone()),
                status: Some("PENDING".into()),
                quality: None,
                rejected_reason: None,
                status_detail: None,
                approved_edits_ms: Vec::new(),
                history: Vec::new(),
                created_at_ms: 0,
                updated_at_ms: 0,
                session_media: None,
            },
        )
        .unwrap();
    for _ in 0..200 {
        app.state.sandbox.review_due().await.unwrap();
        app.webhook_worker.process_pending().unwrap();
        if templates.get(&id).unwrap().unwrap().status.as_deref() == Some("REJECTED") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let record = templates.get(&id).unwrap().unwrap();
    assert_eq!(record.status.as_deref(), Some("REJECTED"));
    assert_eq!(
        record.rejected_reason.as_deref(),
        Some("INCORRECT_CATEGORY")
    );
    assert_eq!(record.history.len(), 1, "{:?}", record.history);
    assert!(record.status_detail.unwrap().contains("MARKETING"));
}
