//! What a hostile client meets at the HTTP edge: escaped document heads and a script policy, a
//! sign-in redirect that stays on the site, read timeouts, `/metrics` closed by default, and
//! refusals with the right status and a readable body.

use std::time::Duration;

use domain::campaign::CampaignDraft;
use reqwest::{header, StatusCode};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{location, owner, TestApp, OWNER, PASSWORD};

const SCRIPT_NAME: &str = "</title><script>document.title='pwned'</script>";

#[tokio::test]
async fn a_campaign_name_with_markup_stays_text_and_only_herald_s_scripts_may_run() {
    let app = TestApp::signed_in().await;
    let connection = app.sandbox_connection().id.to_string();
    let template = crate::campaigns::spring_sale(&app, &connection).await;
    let list = crate::contacts::import(&app, "list.csv", "phone\n+905321234567\n").await;
    let draft = CampaignDraft {
        name: SCRIPT_NAME.into(),
        ..crate::campaigns::draft(&connection, &template, &list.id)
    };
    let id = app
        .state
        .services
        .campaigns
        .save(&owner(), None, draft)
        .await
        .unwrap();
    let response = app.get(&format!("/campaigns/{id}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let policy = response
        .headers()
        .get(header::CONTENT_SECURITY_POLICY)
        .expect("a Content-Security-Policy")
        .to_str()
        .unwrap()
        .to_string();
    let html = response.text().await.unwrap();
    assert!(!html.contains(SCRIPT_NAME), "the name ended the title");
    let head = &html[..html.find("</head>").expect("a head")];
    assert!(
        head.contains("&lt;/title&gt;&lt;script&gt;"),
        "escaped in the title: {head}"
    );
    // Every script the page carries has the nonce the policy names; an injected one would not.
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in the policy");
    assert!(policy.contains("script-src 'self' 'nonce-"), "{policy}");
    assert!(
        !policy.contains("unsafe-inline' 'wasm")
            && !policy.contains("script-src 'self' 'unsafe-inline'")
    );
    let scripts = html.matches("<script").count();
    assert!(scripts >= 1);
    assert_eq!(
        html.matches(&format!("<script nonce=\"{nonce}\"")).count()
            + html
                .matches(&format!("<script type=\"module\" nonce=\"{nonce}\""))
                .count(),
        scripts,
        "every script carries the nonce: {html}"
    );
    // A second page gets a fresh nonce.
    let again = app.get(&format!("/campaigns/{id}")).await;
    let second = again.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert_ne!(second, policy);
}

#[tokio::test]
async fn after_sign_in_only_paths_of_this_site_are_followed() {
    // Sign-in allows five attempts a minute per account: four cases per fresh Herald.
    let cases = [
        ("/campaigns?page=2", "/campaigns?page=2"),
        ("/\t/evil.example", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example", "/"),
        ("/campaigns\r\nSet-Cookie: a=b", "/"),
        ("/campaigns\u{7f}", "/"),
        ("/caf\u{e9}", "/"),
    ];
    for chunk in cases.chunks(4) {
        let app = TestApp::spawn().await;
        app.set_up_owner().await;
        follow(&app, chunk).await;
    }
}

async fn follow(app: &TestApp, cases: &[(&str, &str)]) {
    for &(next, expected) in cases {
        app.forget_cookie("herald_session");
        let response = app
            .post_form(
                "/auth/login",
                &[("username", OWNER), ("password", PASSWORD), ("next", next)],
            )
            .await;
        assert_eq!(location(&response), expected, "next = {next:?}");
        assert!(app.cookie("herald_session").is_some());
    }
}

/// Opens a connection and sends `bytes`, then waits for the server to close it; returns what
/// it answered, or `None` if it was still open after `patience`.
async fn send_and_wait(base: &str, bytes: &[u8], patience: Duration) -> Option<String> {
    let mut stream = TcpStream::connect(base.trim_start_matches("http://"))
        .await
        .unwrap();
    stream.write_all(bytes).await.unwrap();
    let mut answer = Vec::new();
    match tokio::time::timeout(patience, stream.read_to_end(&mut answer)).await {
        Ok(_) => Some(String::from_utf8_lossy(&answer).into_owned()),
        Err(_) => None,
    }
}

#[tokio::test]
async fn half_sent_requests_do_not_hold_connections_open() {
    let temp = tempfile::tempdir().unwrap();
    let mut config = server::config::Config::for_data_dir(temp.path());
    config.timeouts.header_read = Duration::from_millis(500);
    config.timeouts.body_idle = Duration::from_millis(500);
    let app = TestApp::spawn_with(config).await;
    let patience = Duration::from_secs(5);

    // Half a request head.
    let closed = send_and_wait(&app.base, b"GET /healthz HTTP/1.1\r\nHost: x\r\n", patience).await;
    assert!(closed.is_some(), "a half-sent head is closed");

    // A body that stops after a few bytes: the server gives up on it.
    let stalled = send_and_wait(
        &app.base,
        b"POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nusername=",
        patience,
    )
    .await;
    assert!(stalled.is_some(), "a stalled body is closed");

    // A complete request is still answered.
    let fine = send_and_wait(
        &app.base,
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        patience,
    )
    .await
    .expect("answered");
    assert!(fine.starts_with("HTTP/1.1 200"), "{fine}");
}

#[tokio::test]
async fn metrics_are_for_this_machine_unless_a_token_is_set() {
    let temp = tempfile::tempdir().unwrap();
    let mut config = server::config::Config::for_data_dir(temp.path());
    config.trust_proxy = true;
    let app = TestApp::spawn_with(config).await;
    assert_eq!(app.get("/metrics").await.status(), StatusCode::OK);
    let remote = app
        .get_with("/metrics", &[("x-forwarded-for", "203.0.113.7")])
        .await;
    assert_eq!(remote.status(), StatusCode::FORBIDDEN);
    assert!(remote.text().await.unwrap().contains("metrics_token"));
}

#[tokio::test]
async fn refusals_are_client_errors_with_a_readable_body() {
    let app = TestApp::signed_in().await;
    // A price no message costs is a rule broken, not a server failure.
    let mut table =
        serde_json::to_value(domain::campaign::estimate::PriceTable::default()).unwrap();
    table["rows"][0]["marketing"] = json!(1e308);
    let refused = app
        .post_json("/api/campaigns/set_prices", json!({"table": table}))
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refused.headers()[header::CONTENT_TYPE],
        "text/plain; charset=utf-8"
    );
    assert!(refused.text().await.unwrap().contains("from 0 to"));

    // A contact saved with a made-up time zone: 422, and its words arrive intact.
    let edit = json!({"existing": false, "edit": {
        "phone": "+905321234567", "default_country": "", "first_name": "Şule", "last_name": "",
        "language": "", "time_zone": "Mars/Olympus", "tags": "", "consent": []}});
    let refused = app.post_json("/api/contacts/save", edit).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("“Mars/Olympus” is not a time zone"));

    // Something that does not exist is 404.
    let missing = app.get("/api/contacts/get?phone=%2B905329999999").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}
