//! The WhatsApp webhook endpoint as Meta drives it: handshake, signed deliveries, retries,
//! duplicates and out-of-order statuses.

use domain::whatsapp::status::DeliveryStatus;
use reqwest::StatusCode;
use serde_json::json;
use server::storage::connections::{Connection, ConnectionKind, ConnectionSecrets};
use server::storage::inbox::InboxState;
use server::storage::messages::MessageStore;
use server::whatsapp::signature;
use uuid::Uuid;

use crate::helpers::TestApp;

const APP_SECRET: &str = "test-app-secret";
const VERIFY_TOKEN: &str = "verify-me-please";

fn cloud_connection(app: &TestApp) -> Connection {
    let connection = Connection {
        id: Uuid::now_v7(),
        name: "Test number".into(),
        kind: ConnectionKind::CloudApi,
        base_url: "https://graph.facebook.com".into(),
        api_version: Some("v23.0".into()),
        waba_id: Some("102290129340398".into()),
        phone_number_id: Some("106540352242922".into()),
        secrets: ConnectionSecrets {
            access_token: Some("token".into()),
            app_secret: Some(APP_SECRET.into()),
            verify_token: Some(VERIFY_TOKEN.into()),
            api_key: None,
        },
        created_at_ms: 0,
        sandbox: None,
    };
    app.state.webhooks.connections.save(&connection).unwrap();
    connection
}

fn path(connection: &Connection) -> String {
    format!("/webhooks/whatsapp/{}", connection.id)
}

fn statuses(items: &[(&str, &str, &str)]) -> Vec<u8> {
    let statuses: Vec<_> = items
        .iter()
        .map(|(id, status, ts)| {
            json!({"id":id,"status":status,"timestamp":ts,"recipient_id":"16505551234",
            "biz_opaque_callback_data":"campaign=1;recipient=2"})
        })
        .collect();
    json!({"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages",
        "value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
        "statuses":statuses}}]}]})
    .to_string()
    .into_bytes()
}

async fn deliver(app: &TestApp, connection: &Connection, body: Vec<u8>) -> reqwest::Response {
    let header = signature::sign(APP_SECRET.as_bytes(), &body);
    app.post_bytes(
        &path(connection),
        body,
        &[
            ("x-hub-signature-256", &header),
            ("content-type", "application/json"),
        ],
    )
    .await
}

fn messages(app: &TestApp) -> MessageStore {
    MessageStore::open(&app.state.store).unwrap()
}

#[tokio::test]
async fn the_verification_handshake_echoes_the_challenge_only_for_the_right_token() {
    let app = TestApp::spawn().await;
    let connection = cloud_connection(&app);
    let ok = app
        .get(&format!(
            "{}?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token={VERIFY_TOKEN}",
            path(&connection)
        ))
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ok.text().await.unwrap(), "1158201444");
    let wrong = app
        .get(&format!(
            "{}?hub.mode=subscribe&hub.challenge=1&hub.verify_token=guess",
            path(&connection)
        ))
        .await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let unknown = app
        .get(&format!(
            "/webhooks/whatsapp/{}?hub.mode=subscribe",
            Uuid::now_v7()
        ))
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn only_correctly_signed_bodies_are_stored() {
    let app = TestApp::spawn().await;
    let connection = cloud_connection(&app);
    let body = statuses(&[("wamid.1", "sent", "1")]);

    let unsigned = app.post_bytes(&path(&connection), body.clone(), &[]).await;
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
    let wrong_secret = signature::sign(b"another-secret", &body);
    let forged = app
        .post_bytes(
            &path(&connection),
            body.clone(),
            &[("x-hub-signature-256", &wrong_secret)],
        )
        .await;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    let header = signature::sign(APP_SECRET.as_bytes(), &body);
    let mut altered = body.clone();
    let last = altered.len() - 3;
    altered[last] ^= 1;
    let tampered = app
        .post_bytes(
            &path(&connection),
            altered,
            &[("x-hub-signature-256", &header)],
        )
        .await;
    assert_eq!(tampered.status(), StatusCode::UNAUTHORIZED);
    assert!(
        app.state.webhooks.inbox.recent(10).unwrap().is_empty(),
        "a refused body was stored"
    );

    assert_eq!(
        deliver(&app, &connection, body).await.status(),
        StatusCode::OK
    );
    assert_eq!(app.state.webhooks.inbox.recent(10).unwrap().len(), 1);
}

#[tokio::test]
async fn bodies_over_three_megabytes_are_refused() {
    let app = TestApp::spawn().await;
    let connection = cloud_connection(&app);
    let body = vec![b' '; 3 * 1024 * 1024 + 1];
    assert_eq!(
        deliver(&app, &connection, body).await.status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
}

#[tokio::test]
async fn a_redelivered_payload_changes_nothing() {
    let app = TestApp::spawn().await;
    let connection = cloud_connection(&app);
    let inbound = json!({"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages",
        "value":{"metadata":{"phone_number_id":"106540352242922"},
        "contacts":[{"profile":{"name":"Ada"},"wa_id":"16505551234"}],
        "messages":[{"from":"16505551234","id":"wamid.IN","timestamp":"1750030073","type":"text","text":{"body":"STOP"}}]}}]}]})
    .to_string()
    .into_bytes();
    for _ in 0..3 {
        assert_eq!(
            deliver(&app, &connection, inbound.clone()).await.status(),
            StatusCode::OK
        );
        assert_eq!(
            deliver(
                &app,
                &connection,
                statuses(&[("wamid.1", "delivered", "5")])
            )
            .await
            .status(),
            StatusCode::OK
        );
    }
    app.webhook_worker.process_pending().unwrap();
    let store = messages(&app);
    assert_eq!(store.inbound_count(), 1);
    let record = store.status("wamid.1").unwrap().unwrap();
    assert_eq!(
        (record.status, record.status_at),
        (DeliveryStatus::Delivered, 5)
    );
    assert_eq!(
        record.callback_data.as_deref(),
        Some("campaign=1;recipient=2")
    );
}

#[tokio::test]
async fn statuses_arriving_out_of_order_never_lower_the_state() {
    let app = TestApp::spawn().await;
    let connection = cloud_connection(&app);
    deliver(&app, &connection, statuses(&[("wamid.A", "read", "30")])).await;
    deliver(
        &app,
        &connection,
        statuses(&[("wamid.A", "sent", "10"), ("wamid.A", "delivered", "20")]),
    )
    .await;
    deliver(&app, &connection, statuses(&[("wamid.B", "sent", "10")])).await;
    app.webhook_worker.process_pending().unwrap();
    let store = messages(&app);
    assert_eq!(
        store.status("wamid.A").unwrap().unwrap().status,
        DeliveryStatus::Read
    );
    assert_eq!(
        store.status("wamid.B").unwrap().unwrap().status,
        DeliveryStatus::Sent
    );
}

#[tokio::test]
async fn an_unreadable_payload_is_kept_with_its_error_and_can_be_reprocessed() {
    let app = TestApp::spawn().await;
    let connection = cloud_connection(&app);
    assert_eq!(
        deliver(&app, &connection, b"{not json".to_vec())
            .await
            .status(),
        StatusCode::OK
    );
    // Either this call or the background worker processes it; the outcome is what matters.
    app.webhook_worker.process_pending().unwrap();
    let (id, entry) = app.state.webhooks.inbox.recent(1).unwrap().remove(0);
    let InboxState::Failed { error, .. } = entry.state else {
        panic!("not failed: {entry:?}")
    };
    assert!(error.contains("not a WhatsApp webhook"), "{error}");
    assert_eq!(
        app.state.webhooks.inbox.body(&id).unwrap().unwrap(),
        b"{not json"
    );

    assert!(app.state.webhooks.inbox.requeue(&id).unwrap());
    assert!(app.state.webhooks.inbox.pending(10).unwrap().len() <= 1);
    app.webhook_worker.process_pending().unwrap();
    assert!(app.state.webhooks.inbox.pending(10).unwrap().is_empty());
    let entry = app.state.webhooks.inbox.entry(&id).unwrap().unwrap();
    assert!(
        matches!(entry.state, InboxState::Failed { .. }),
        "{entry:?}"
    );
}

#[tokio::test]
async fn the_background_worker_applies_webhooks_without_being_asked() {
    let app = TestApp::spawn().await;
    let connection = cloud_connection(&app);
    deliver(
        &app,
        &connection,
        statuses(&[("wamid.BG", "delivered", "7")]),
    )
    .await;
    let store = messages(&app);
    for _ in 0..100 {
        if store.status("wamid.BG").unwrap().is_some() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the worker did not process the webhook within 2 s");
}

#[tokio::test]
async fn dialog360_webhooks_authenticate_with_the_configured_header() {
    let app = TestApp::spawn().await;
    let mut connection = cloud_connection(&app);
    connection.kind = ConnectionKind::Dialog360;
    app.state.webhooks.connections.save(&connection).unwrap();
    let body = statuses(&[("wamid.D", "sent", "1")]);
    let without = app.post_bytes(&path(&connection), body.clone(), &[]).await;
    assert_eq!(without.status(), StatusCode::UNAUTHORIZED);
    let with = app
        .post_bytes(
            &path(&connection),
            body,
            &[("x-herald-webhook-token", VERIFY_TOKEN)],
        )
        .await;
    assert_eq!(with.status(), StatusCode::OK);
}
