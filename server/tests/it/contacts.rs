//! Contacts over real HTTP: upload a list, confirm the mapping, let the background importer run,
//! read the report and its CSV, build a segment, export it, and see a STOP from WhatsApp opt the
//! contact out.

use std::time::Duration;

use app::api::contacts::ImportView;
use domain::contacts::import::ImportSettings;
use domain::contacts::segment::{Condition, SegmentDefinition};
use domain::contacts::Category;
use reqwest::StatusCode;

use crate::helpers::{owner, typed, TestApp};

const LIST: &str = "\u{feff}Telefon;Ad;Soyad;Etiket;Score\r\n\
0532 123 45 67;Ayşe;Yılmaz;vip;7\r\n\
+14155552671;John;Doe;;3\r\n\
12345;Bad;Number;;1\r\n\
;No;Phone;;1\r\n\
05321234567;Ayşe;Again;;2\r\n\
+4915112345678;Hans;Müller;vip;lots\r\n";

pub async fn finished(app: &TestApp, id: &str) -> ImportView {
    let contacts = &app.state.services.contacts;
    for _ in 0..200 {
        let view = contacts.import(&owner(), typed(id)).await.unwrap();
        if view.state == "done" || view.state == "failed" {
            return view;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("import did not finish");
}

pub async fn import(app: &TestApp, name: &str, body: &str) -> ImportView {
    import_bytes(
        app,
        name,
        body.as_bytes().to_vec(),
        vec![Category::Marketing],
    )
    .await
}

/// Uploads `bytes` as `name`, keeps the guessed mapping, records `consent`, and waits for the end.
pub async fn import_bytes(
    app: &TestApp,
    name: &str,
    bytes: Vec<u8>,
    consent: Vec<Category>,
) -> ImportView {
    let response = app.upload("/contacts/imports/upload", name, bytes).await;
    assert_eq!(response.status(), StatusCode::OK);
    let id = response.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let contacts = &app.state.services.contacts;
    let uploaded = contacts.import(&owner(), typed(&id)).await.unwrap();
    assert_eq!(uploaded.state, "uploaded");
    contacts
        .start_import(
            &owner(),
            typed(&id),
            ImportSettings {
                columns: uploaded.columns.clone(),
                default_country: "TR".into(),
                consent,
                has_header: true,
            },
        )
        .await
        .unwrap();
    finished(app, &id).await
}

#[tokio::test]
async fn an_uploaded_list_is_imported_with_a_report_of_every_rejected_row() {
    let app = TestApp::signed_in().await;
    let report = import(&app, "customers.csv", LIST).await;
    assert_eq!(
        report.headers,
        ["Telefon", "Ad", "Soyad", "Etiket", "Score"]
    );
    assert_eq!((report.read, report.created, report.rejected), (6, 2, 4));
    let reasons: Vec<_> = report
        .rejects
        .iter()
        .map(|(line, _, why)| (*line, why.clone()))
        .collect();
    assert_eq!(
        reasons.iter().map(|r| r.0).collect::<Vec<_>>(),
        [4, 5, 6, 7]
    );
    assert!(reasons[0].1.contains("not a valid number"), "{reasons:?}");
    assert!(reasons[1].1.contains("empty"), "{reasons:?}");
    assert!(
        reasons[2].1.contains("line 2"),
        "duplicate names the first line: {reasons:?}"
    );
    assert!(reasons[3].1.contains("not a number"), "{reasons:?}");

    let csv = app
        .get(&format!("/contacts/imports/{}/report.csv", report.id))
        .await;
    assert_eq!(csv.status(), StatusCode::OK);
    let csv = csv.text().await.unwrap();
    assert!(
        csv.starts_with("line,phone,rule,reason\r\n4,12345,phone.invalid,"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 5);

    // The same file again changes nothing.
    let again = import(&app, "customers.csv", LIST).await;
    assert_eq!(
        (
            again.created,
            again.updated,
            again.unchanged,
            again.rejected
        ),
        (0, 0, 2, 4)
    );

    // A segment of VIPs counts and exports the one valid VIP.
    let contacts = &app.state.services.contacts;
    let vip = SegmentDefinition {
        name: "VIP".into(),
        match_all: true,
        conditions: vec![Condition {
            field: "tag".into(),
            op: "has".into(),
            ..Condition::default()
        }],
    };
    assert!(
        contacts
            .save_segment(&owner(), None, vip.clone())
            .await
            .is_err(),
        "a condition without value is refused"
    );
    let mut vip = vip;
    vip.conditions[0].value = "vip".into();
    assert_eq!(
        contacts.count_segment(&owner(), vip.clone()).await.unwrap(),
        1
    );
    let segment = contacts.save_segment(&owner(), None, vip).await.unwrap();
    let all = contacts
        .page(&owner(), String::new(), None, None)
        .await
        .unwrap();
    assert_eq!(all.rows.len(), 2);
    let filtered = contacts
        .page(&owner(), String::new(), None, Some(segment))
        .await
        .unwrap();
    assert_eq!(filtered.rows.len(), 1);
    assert_eq!(filtered.rows[0].phone, "+905321234567");
    let by_name = contacts
        .page(&owner(), "joh".into(), None, None)
        .await
        .unwrap();
    assert_eq!(by_name.rows[0].name, "John Doe");
    let export = app
        .get(&format!("/contacts/export.csv?segment={segment}"))
        .await
        .text()
        .await
        .unwrap();
    let lines: Vec<_> = export.lines().collect();
    assert_eq!(lines.len(), 2, "{export}");
    assert!(lines[0].starts_with("phone,first_name,last_name") && lines[0].ends_with(",score"));
    assert!(
        lines[1].starts_with("+905321234567,Ayşe,Yılmaz,"),
        "{export}"
    );
    assert!(lines[1].contains(",opted_in,"));

    // Anonymous users get nothing.
    app.forget_cookie("herald_session");
    let anonymous = app.get("/contacts/export.csv").await;
    assert_ne!(anonymous.status(), StatusCode::OK);
}

#[tokio::test]
async fn uploads_that_are_not_lists_are_refused_with_the_reason() {
    let app = TestApp::signed_in().await;
    let xls = app
        .upload(
            "/contacts/imports/upload",
            "old.xls",
            b"\xd0\xcf\x11\xe0".to_vec(),
        )
        .await;
    assert_eq!(xls.status(), StatusCode::BAD_REQUEST);
    assert!(xls.text().await.unwrap().contains(".xlsx"));
    let broken = app
        .upload(
            "/contacts/imports/upload",
            "list.xlsx",
            b"PK\x03\x04 not really".to_vec(),
        )
        .await;
    assert_eq!(broken.status(), StatusCode::BAD_REQUEST);
    let template = app.get("/contacts/template.xlsx").await;
    assert_eq!(template.status(), StatusCode::OK);
    let bytes = template.bytes().await.unwrap().to_vec();
    let reimported = app
        .upload("/contacts/imports/upload", "template.xlsx", bytes)
        .await;
    assert_eq!(reimported.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_stop_from_whatsapp_opts_the_contact_out_and_an_import_cannot_undo_it() {
    let app = TestApp::signed_in().await;
    import(&app, "customers.csv", LIST).await;
    let sandbox = app.sandbox_connection();
    app.state
        .services
        .whatsapp
        .simulate_inbound(
            &owner(),
            typed(&sandbox.id.to_string()),
            "905321234567".into(),
            "text".into(),
            "Stop".into(),
        )
        .await
        .unwrap();
    let contacts = &app.state.services.contacts;
    let mut detail = None;
    for _ in 0..100 {
        app.webhook_worker.process_pending().unwrap();
        let d = contacts
            .contact(&owner(), "+905321234567".into())
            .await
            .unwrap();
        if d.contact.last_inbound_ms.is_some() {
            detail = Some(d);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let detail = detail.expect("the inbound message reached the contact");
    assert!(detail.contact.opted_out(Category::Marketing));
    assert!(detail.contact.opted_out(Category::Utility));
    assert_eq!(detail.consent[0].action, "opted out");
    assert!(detail.consent[0].source.contains("STOP"));

    // Importing the list again (with marketing consent) does not re-subscribe them.
    import(&app, "customers.csv", LIST).await;
    let after = contacts
        .contact(&owner(), "+905321234567".into())
        .await
        .unwrap();
    assert!(after.contact.opted_out(Category::Marketing));

    // Deleting keeps the opt-out for a later re-import.
    contacts
        .delete(&owner(), "+905321234567".into())
        .await
        .unwrap();
    import(&app, "customers.csv", LIST).await;
    let recreated = contacts
        .contact(&owner(), "+905321234567".into())
        .await
        .unwrap();
    assert!(recreated.contact.opted_out(Category::Marketing));
    assert_eq!(recreated.contact.first_name, "Ayşe");
}
