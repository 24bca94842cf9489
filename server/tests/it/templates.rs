//! Templates through the service the UI uses: drafts, submission to the sandbox, review by
//! webhook, sync of templates created elsewhere, deletion; and the JSON server functions' CSRF check.

use std::time::Duration;

use domain::whatsapp::graph::TemplateDefinition;
use serde_json::json;

use crate::helpers::{owner, typed, TestApp};

fn definition(name: &str, body: &str) -> TemplateDefinition {
    serde_json::from_value(json!({"name": name, "language": "en_US", "category": "UTILITY",
        "components": [{"type": "BODY", "text": body, "example": {"body_text": [["Pablo", "#42"]]}}]}))
    .unwrap()
}

fn sandbox_id(app: &TestApp) -> String {
    let mut connection = app.sandbox_connection();
    let profile = connection.sandbox.as_mut().unwrap();
    profile.review_delay_ms = 0;
    profile.status_delay_ms = 10;
    app.state.webhooks.connections.save(&connection).unwrap();
    connection.id.to_string()
}

async fn wait_for(app: &TestApp, id: &str, label: &str) -> app::api::templates::TemplateView {
    let templates = &app.state.services.templates;
    for _ in 0..200 {
        app.state.sandbox.review_due().await.unwrap();
        app.webhook_worker.process_pending().unwrap();
        let view = templates.template(&owner(), typed(id)).await.unwrap();
        if view.status.label == label {
            return view;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("template {id} never became {label}");
}

#[tokio::test]
async fn a_draft_is_submitted_reviewed_by_webhook_and_deleted() {
    let app = TestApp::spawn().await;
    let connection = sandbox_id(&app);
    let templates = app.state.services.templates.clone();

    // A draft with lint errors saves, but cannot be submitted.
    let broken = definition("order_update", "{{1}} {{3}} shipped");
    let id = templates
        .save(
            &owner(),
            None,
            domain::template::TemplateKind::Approved,
            Some(typed(&connection)),
            broken,
        )
        .await
        .unwrap();
    let refused = templates.submit(&owner(), id).await.unwrap_err();
    assert!(
        refused.to_string().starts_with("Fix this first"),
        "{refused}"
    );
    assert_eq!(
        templates.template(&owner(), id).await.unwrap().status.label,
        "Draft"
    );

    let fixed = definition(
        "order_update",
        "Hello {{1}}, your order {{2}} has shipped today.",
    );
    templates
        .save(
            &owner(),
            Some(id),
            domain::template::TemplateKind::Approved,
            Some(typed(&connection)),
            fixed,
        )
        .await
        .unwrap();
    let submitted = templates.submit(&owner(), id).await.unwrap();
    assert_eq!(submitted.status.label, "In review");
    let active = wait_for(&app, &id.to_string(), "Active – quality pending").await;
    assert_eq!(active.edits_left, Some(10));
    assert!(active.history.iter().any(|h| h.status == "APPROVED"));

    // Designed to be rejected: promotional wording in a UTILITY template.
    let promo = definition(
        "weekend_promo",
        "Hello {{1}}, our big sale on {{2}} starts today.",
    );
    let promo_id = templates
        .save(
            &owner(),
            None,
            domain::template::TemplateKind::Approved,
            Some(typed(&connection)),
            promo,
        )
        .await
        .unwrap();
    templates.submit(&owner(), promo_id).await.unwrap();
    let rejected = wait_for(&app, &promo_id.to_string(), "Rejected").await;
    assert_eq!(
        rejected.rejected_reason.as_deref(),
        Some("INCORRECT_CATEGORY")
    );
    assert!(rejected.status_detail.unwrap().contains("MARKETING"));

    // A clone is a new draft with a free name, ready to be changed and submitted.
    let copy = templates.clone_template(&owner(), id).await.unwrap();
    let copied = templates.template(&owner(), copy).await.unwrap();
    assert_eq!(copied.definition.name, "order_update_copy");
    assert_eq!(copied.status.label, "Draft");
    let second = templates.clone_template(&owner(), id).await.unwrap();
    assert_eq!(
        templates
            .template(&owner(), second)
            .await
            .unwrap()
            .definition
            .name,
        "order_update_copy2"
    );

    templates.delete(&owner(), id).await.unwrap();
    assert!(templates.template(&owner(), id).await.is_err());
}

#[tokio::test]
async fn sync_imports_templates_created_elsewhere() {
    let app = TestApp::spawn().await;
    let connection = sandbox_id(&app);
    let stored = app
        .state
        .webhooks
        .connections
        .get(&connection.parse().unwrap())
        .unwrap()
        .unwrap();
    let client = app.state.providers.for_connection(&stored).unwrap();
    client
        .create_template(&definition(
            "made_in_manager",
            "Hello {{1}}, your order {{2}} has shipped today.",
        ))
        .await
        .unwrap();
    app.state.sandbox.review_due().await.unwrap();
    let templates = app.state.services.templates.clone();
    assert_eq!(
        templates.sync(&owner(), typed(&connection)).await.unwrap(),
        1
    );
    let list = templates.templates(&owner()).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].name, "made_in_manager");
    assert_eq!(list[0].status.label, "Active – quality pending");
    // A second sync changes nothing.
    assert_eq!(
        templates.sync(&owner(), typed(&connection)).await.unwrap(),
        1
    );
    assert_eq!(templates.templates(&owner()).await.unwrap().len(), 1);
}

#[tokio::test]
async fn json_server_functions_need_the_csrf_token_in_their_body() {
    let app = TestApp::signed_in().await;
    let token = app.cookie("herald_csrf").unwrap();
    let body = |csrf: &str| {
        json!({"csrf_token": csrf, "id": null, "kind": "session_reply", "connection_id": null,
               "definition": {"name": "thanks", "language": "en", "category": "UTILITY",
                              "components": [{"type": "BODY", "text": "Thanks for your message!"}]}})
        .to_string()
        .into_bytes()
    };
    let cookie = format!(
        "herald_session={}; herald_csrf={token}",
        app.cookie("herald_session").unwrap()
    );
    let headers = [
        ("content-type", "application/json"),
        ("cookie", cookie.as_str()),
    ];
    let refused = app
        .post_bytes("/api/templates/save", body("wrong"), &headers)
        .await;
    assert_eq!(refused.status(), 403);
    let saved = app
        .post_bytes("/api/templates/save", body(&token), &headers)
        .await;
    assert_eq!(saved.status(), 200, "{:?}", saved.text().await);
    assert_eq!(
        app.state
            .services
            .templates
            .templates(&owner())
            .await
            .unwrap()
            .len(),
        1
    );
}
