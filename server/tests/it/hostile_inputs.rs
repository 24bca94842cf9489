//! Input a careless or hostile user gives Herald through its own screens: spreadsheets built to
//! exhaust memory, files named to break headers, templates of a thousand placeholders, contact
//! fields full of control characters, campaigns whose audience has vanished.

use std::io::Write;
use std::time::Duration;

use domain::campaign::{CampaignDraft, CampaignStatus};
use domain::contacts::segment::SegmentDefinition;
use domain::whatsapp::graph::TemplateDefinition;
use reqwest::{header, StatusCode};
use serde_json::json;
use server::storage::campaigns::CampaignStore;
use server::storage::templates::TemplateStore;
use uuid::Uuid;

use crate::contacts::{import, import_bytes};
use crate::helpers::{owner, TestApp};

/// An .xlsx of 1.5 KB whose cells sit at A1 and XFD1048576.
fn corner_workbook() -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(&mut bytes));
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file("xl/workbook.xml", options).unwrap();
    zip.write_all(br#"<workbook xmlns:r="r"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>"#).unwrap();
    zip.start_file("xl/_rels/workbook.xml.rels", options)
        .unwrap();
    zip.write_all(br#"<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>"#).unwrap();
    zip.start_file("xl/worksheets/sheet1.xml", options).unwrap();
    zip.write_all(br#"<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>phone</t></is></c></row><row r="1048576"><c r="XFD1048576"><v>905321234567</v></c></row></sheetData></worksheet>"#).unwrap();
    zip.finish().unwrap();
    bytes
}

#[tokio::test]
async fn a_workbook_claiming_the_whole_grid_is_refused_and_the_server_lives_on() {
    let app = TestApp::signed_in().await;
    let bytes = corner_workbook();
    assert!(bytes.len() < 2_000);
    let response = app
        .upload("/contacts/imports/upload", "corner.xlsx", bytes)
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("column XFD"));
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn any_file_name_downloads_its_report_with_a_valid_header() {
    let app = TestApp::signed_in().await;
    let name = "Ekim \"VIP\"\r\nlist Şehir.csv";
    let encoded: String = form_urlencoded::byte_serialize(name.as_bytes()).collect();
    let view = import(&app, &encoded, "phone\n+905321234567\nnot a number\n").await;
    let report = app
        .get(&format!("/contacts/imports/{}/report.csv", view.id))
        .await;
    assert_eq!(report.status(), StatusCode::OK);
    let disposition = report.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.starts_with("attachment; filename=\"Ekim _VIP___list _ehir-rejected.csv\""),
        "{disposition}"
    );
    assert!(
        disposition
            .contains("filename*=UTF-8''Ekim%20%22VIP%22%0D%0Alist%20%C5%9Eehir-rejected.csv"),
        "{disposition}"
    );
    assert!(report.text().await.unwrap().contains("not a number"));
}

#[tokio::test]
async fn control_characters_and_utf16_never_reach_a_contact() {
    let app = TestApp::signed_in().await;
    // NUL inside a name, and a byte Windows-1252 leaves undefined (0x81).
    let mut list = b"phone,first_name\n+905321234567,Ay\x00se\n+905321234568,Can\x81\n".to_vec();
    import_bytes(&app, "list.csv", list.clone(), vec![]).await;
    let contacts = &app.state.services.contacts;
    let first = contacts
        .contact(&owner(), "+905321234567".into())
        .await
        .unwrap();
    assert_eq!(first.contact.first_name, "Ayse");
    let second = contacts
        .contact(&owner(), "+905321234568".into())
        .await
        .unwrap();
    assert_eq!(second.contact.first_name, "Can\u{fffd}");

    // The same list saved as UTF-16 is refused with what to do.
    list = "phone,first_name\n+905321234569,Zeynep\n"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    list.splice(0..0, [0xff, 0xfe]);
    let refused = app
        .upload("/contacts/imports/upload", "unicode.csv", list)
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.text().await.unwrap().contains("UTF-8"));
}

#[tokio::test]
async fn a_template_of_a_thousand_placeholders_keeps_its_page_usable() {
    let app = TestApp::signed_in().await;
    let body: String = (1..=1000).map(|i| format!("{{{{{i}}}}} ")).collect();
    let definition: TemplateDefinition = serde_json::from_value(json!({
        "name": "many", "language": "en", "category": "UTILITY",
        "components": [{"type": "BODY", "text": body}]}))
    .unwrap();
    // Saving it is refused: Meta caps a body at 1,024 characters.
    let refused = app
        .state
        .services
        .templates
        .save(
            &owner(),
            None,
            domain::template::TemplateKind::Approved,
            None,
            definition.clone(),
        )
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("1024"), "{refused}");
    // One already stored (say, before that rule) still opens.
    let id = Uuid::now_v7();
    TemplateStore::open(&app.state.store)
        .unwrap()
        .save(id, &crate::helpers::stored_template(None, None, definition))
        .unwrap();
    let page = app.get(&format!("/templates/{id}")).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert_eq!(html.matches("data-testid=\"body-example\"").count(), 1000);
}

#[tokio::test]
async fn a_campaign_whose_audience_is_gone_is_refused_or_paused_with_the_reason() {
    let app = TestApp::signed_in().await;
    let connection = app.sandbox_connection().id.to_string();
    let template = crate::campaigns::spring_sale(&app, &connection).await;
    let list = import(&app, "list.csv", "phone\n+905321234567\n").await;
    let contacts = &app.state.services.contacts;
    let campaigns = &app.state.services.campaigns;
    let segment = contacts
        .save_segment(
            &owner(),
            None,
            SegmentDefinition {
                name: "everyone".into(),
                match_all: true,
                conditions: vec![],
            },
        )
        .await
        .unwrap();
    let with_segment = |segment: String| CampaignDraft {
        segment_id: Some(segment),
        import_id: None,
        ..crate::campaigns::draft(&connection, &template, &list.id)
    };

    // A segment deleted after the draft was saved: launch says so and changes nothing.
    let id = campaigns
        .save(&owner(), None, with_segment(segment.to_string()))
        .await
        .unwrap();
    contacts.delete_segment(&owner(), segment).await.unwrap();
    let refused = campaigns.launch(&owner(), id).await.unwrap_err();
    assert!(
        refused.to_string().contains("segment no longer exists"),
        "{refused}"
    );
    assert_eq!(
        campaigns
            .campaign(&owner(), id)
            .await
            .unwrap()
            .summary
            .status,
        "draft"
    );

    // Launched, then the segment went away before the audience was read: paused, with why.
    let segment = contacts
        .save_segment(
            &owner(),
            None,
            SegmentDefinition {
                name: "again".into(),
                match_all: true,
                conditions: vec![],
            },
        )
        .await
        .unwrap();
    let id = campaigns
        .save(&owner(), None, with_segment(segment.to_string()))
        .await
        .unwrap();
    contacts.delete_segment(&owner(), segment).await.unwrap();
    let store = CampaignStore::open(&app.state.store).unwrap();
    store
        .update(&id.uuid(), |r| {
            r.status = CampaignStatus::Preparing;
            true
        })
        .unwrap();
    app.state.campaigns.engine().wake();
    for _ in 0..200 {
        let view = campaigns.campaign(&owner(), id).await.unwrap();
        if view.summary.status == "paused" {
            let detail = view.summary.status_detail.unwrap_or_default();
            assert!(detail.contains("segment no longer exists"), "{detail}");
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the campaign stayed preparing");
}
