//! What an operator relies on: health, metrics, server functions, assets, 404s.

use reqwest::StatusCode;
use server::config::{Config, Secret};

use crate::helpers::TestApp;

#[tokio::test]
async fn healthz_reports_version_and_storage_without_a_session() {
    let app = TestApp::spawn().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["storage"]["status"], "ok");
    assert_eq!(
        body["storage"]["schema_version"],
        server::storage::CURRENT_SCHEMA
    );
}

#[tokio::test]
async fn metrics_count_requests_by_route_template() {
    let app = TestApp::spawn().await;
    app.get("/healthz").await;
    app.get("/healthz").await;
    app.get("/assets/nope.css").await;
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    assert!(
        text.contains(
            r#"herald_http_requests_total{method="GET",route="/healthz",status="200"} 2"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"route="/assets/{*path}",status="404""#),
        "{text}"
    );
    assert!(
        text.contains("herald_http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(text.contains("herald_build_info"), "{text}");
}

#[tokio::test]
async fn a_metrics_token_guards_the_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        metrics_token: Some(Secret::from("scrape-token-0123456789")),
        ..Config::for_data_dir(dir.path())
    };
    let app = TestApp::spawn_with(config).await;
    assert_eq!(app.get("/metrics").await.status(), StatusCode::UNAUTHORIZED);
    let ok = app
        .get_with(
            "/metrics",
            &[("authorization", "Bearer scrape-token-0123456789")],
        )
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_dashboard_server_function_reports_real_figures() {
    let app = TestApp::signed_in().await;
    let response = app.get("/api/system/overview").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        body["storage"]["schema_version"],
        server::storage::CURRENT_SCHEMA
    );
    assert!(body["storage"]["size_on_disk"].as_u64().unwrap() > 0);
    assert_eq!(
        body["storage"]["data_dir"],
        app.data_dir().display().to_string()
    );
    let dashboard = app.get("/").await.text().await.unwrap();
    assert!(
        dashboard.contains("data-testid=\"server-clock\""),
        "{dashboard}"
    );
}

#[tokio::test]
async fn assets_are_hashed_compressed_and_cached_forever() {
    let app = TestApp::spawn().await;
    let page = app.get("/setup").await.text().await.unwrap();
    let start = page.find("/assets/main.").expect("stylesheet link");
    let href = &page[start..start + page[start..].find('"').unwrap()];
    let response = app.get_with(href, &[("accept-encoding", "gzip, br")]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-encoding"], "br");
    assert_eq!(
        response.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
    assert!(
        response.headers().get("set-cookie").is_none(),
        "cacheable files must not set cookies"
    );
    let plain = app.get(href).await;
    assert!(plain.headers().get("content-encoding").is_none());
    assert!(plain.text().await.unwrap().contains("--accent"));
}

#[tokio::test]
async fn unknown_pages_answer_404_with_a_way_back() {
    let app = TestApp::signed_in().await;
    let response = app.get("/no/such/page").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(response.text().await.unwrap().contains("Page not found"));
}

#[tokio::test]
async fn every_response_carries_protective_headers() {
    let app = TestApp::spawn().await;
    let response = app.get("/setup").await;
    assert_eq!(response.headers()["x-frame-options"], "DENY");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert_eq!(response.headers()["cache-control"], "no-store");
}
