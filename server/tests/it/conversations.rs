//! The inbox: a customer's messages become a conversation with its thread, once however often
//! Meta delivers them; the campaign message they answer is shown above the reply; an answer
//! inside the service window goes out through the one outbound path and its ticks move; after the
//! window only an approved template may go, and a free-form send is refused before WhatsApp is
//! called.

use std::time::Duration;

use app::api::conversations::ThreadView;
use app::ports::PortError;
use domain::conversation::body::Body;
use domain::conversation::compose::{DraftKind, DraftRow, SessionDraft};
use domain::conversation::filter::{InboxFilter, InboxView};
use domain::ids::ConversationId;
use serde_json::json;
use server::whatsapp::sandbox::SimulatedInbound;
use server::whatsapp::signature;

use crate::campaigns::{draft, fast_sandbox, spring_sale};
use crate::contacts::import;
use crate::helpers::{owner, typed, TestApp};

fn everything() -> InboxFilter {
    InboxFilter {
        view: InboxView::All,
        ..InboxFilter::default()
    }
}

async fn only_conversation(app: &TestApp) -> ConversationId {
    let page = app
        .state
        .services
        .conversations
        .inbox(&owner(), everything(), None)
        .await
        .unwrap();
    assert_eq!(page.rows.len(), 1, "{:?}", page.rows);
    typed(&page.rows[0].id)
}

async fn thread(app: &TestApp, id: ConversationId) -> ThreadView {
    app.state
        .services
        .conversations
        .thread(&owner(), id)
        .await
        .unwrap()
}

/// Posts a customer's text message to the sandbox connection's webhook as Meta would, signed
/// with its app secret, written `age_s` seconds ago.
async fn deliver_text(app: &TestApp, connection: &str, wamid: &str, from: &str, age_s: i64) {
    let connection = app
        .state
        .webhooks
        .connections
        .get(&connection.parse().unwrap())
        .unwrap()
        .unwrap();
    let at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        - age_s;
    let body = json!({"object":"whatsapp_business_account","entry":[{"id": connection.waba_id.clone().unwrap(),"changes":[{"field":"messages",
        "value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001111",
            "phone_number_id": connection.phone_number_id.clone().unwrap()},
        "contacts":[{"profile":{"name":"Deniz"},"wa_id":from}],
        "messages":[{"from":from,"id":wamid,"timestamp":at.to_string(),"type":"text","text":{"body":"Is my order on its way?"}}]}}]}]})
    .to_string()
    .into_bytes();
    let secret = connection.secrets.app_secret.clone().unwrap();
    let header = signature::sign(secret.as_bytes(), &body);
    let response = app
        .post_bytes(
            &format!("/webhooks/whatsapp/{}", connection.id),
            body,
            &[
                ("x-hub-signature-256", &header),
                ("content-type", "application/json"),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
    app.webhook_worker.process_pending().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tap_on_a_campaign_message_opens_a_conversation_showing_what_was_tapped_once() {
    let app = TestApp::signed_in().await;
    let connection = fast_sandbox(&app, 80, "TIER_10K");
    let template = spring_sale(&app, &connection).await;
    let list = import(&app, "one.csv", "phone,first_name\n+905320000417,Ayşe\n").await;
    let campaigns = &app.state.services.campaigns;
    let campaign = campaigns
        .save(&owner(), None, draft(&connection, &template, &list.id))
        .await
        .unwrap();
    campaigns.launch(&owner(), campaign).await.unwrap();
    let sandbox = app.state.sandbox.clone();
    let mut wamid = None;
    for _ in 0..200 {
        wamid = sandbox
            .send_log()
            .unwrap()
            .first()
            .and_then(|s| s.wamid.clone());
        if wamid.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let wamid = wamid.expect("the campaign message was sent");
    let inbox = &app.state.services.conversations;
    let before = inbox.inbox(&owner(), everything(), None).await.unwrap();
    assert!(
        before.rows.is_empty(),
        "a broadcast alone is no conversation"
    );

    sandbox
        .simulate_inbound(
            typed(&connection),
            "905320000417",
            SimulatedInbound::Button {
                payload: "MORE_INFO".into(),
                text: "Tell me more".into(),
                context: Some(wamid.clone()),
            },
        )
        .await
        .unwrap();
    app.webhook_worker.process_pending().unwrap();
    let id = only_conversation(&app).await;
    let opened = thread(&app, id).await;
    assert_eq!(
        opened.row.name, "Ayşe",
        "the contact's name, not the number"
    );
    assert_eq!(opened.row.unread, 1);
    assert!(
        opened.row.waiting_since_ms.is_some(),
        "the customer waits for us"
    );
    assert_eq!(opened.row.preview, "Tapped “Tell me more”");
    let bodies: Vec<&Body> = opened.messages.iter().map(|m| &m.body).collect();
    assert!(
        matches!(bodies[..], [Body::Template { name, .. }, Body::Tap { label, payload }]
            if name == "spring_sale" && label == "Tell me more" && payload == "MORE_INFO"),
        "{bodies:?}"
    );
    assert_eq!(
        opened.messages[1].quote.as_deref(),
        Some("Template “spring_sale”"),
        "the tap is shown as an answer to the campaign message"
    );
    assert!(opened.window.is_open(), "their tap opened the window");

    // Meta delivers the same webhook again: nothing is added or counted twice.
    let log = app
        .state
        .services
        .whatsapp
        .webhook_log(&owner())
        .await
        .unwrap();
    for entry in log {
        app.state
            .services
            .whatsapp
            .reprocess_webhook(&owner(), typed(&entry.id))
            .await
            .unwrap();
    }
    app.webhook_worker.process_pending().unwrap();
    let again = thread(&app, id).await;
    assert_eq!(again.messages.len(), 2);
    assert_eq!(again.row.unread, 1);
    assert_eq!(inbox.unread(&owner()).await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_inside_the_window_goes_out_ends_the_wait_and_its_ticks_move() {
    let app = TestApp::signed_in().await;
    let connection = fast_sandbox(&app, 80, "TIER_10K");
    let sandbox = app.state.sandbox.clone();
    let mut changes = app.state.conversations.threads().subscribe();
    sandbox
        .simulate_inbound(
            typed(&connection),
            "+15550101234",
            SimulatedInbound::Text("Do you ship to Izmir?".into()),
        )
        .await
        .unwrap();
    app.webhook_worker.process_pending().unwrap();
    let id = only_conversation(&app).await;
    assert_eq!(
        changes.try_recv().ok(),
        Some(id.uuid()),
        "open pages are told at once"
    );
    let inbox = &app.state.services.conversations;
    inbox.mark(&owner(), id, "read".into()).await.unwrap();
    assert_eq!(inbox.unread(&owner()).await.unwrap(), 0);

    inbox
        .reply(
            &owner(),
            id,
            SessionDraft::text("Yes, *next day* to Izmir."),
        )
        .await
        .unwrap();
    let log = sandbox.send_log().unwrap();
    assert_eq!(log.len(), 1, "one request to WhatsApp");
    assert_eq!(log[0].wa_id, "15550101234");
    let view = thread(&app, id).await;
    assert!(view.row.waiting_since_ms.is_none(), "answered");
    assert_eq!(view.row.preview, "Yes, *next day* to Izmir.");
    let reply = view.messages.last().unwrap();
    assert_eq!(reply.direction, "outbound");
    // Delivery reports arrive from the sandbox and move the ticks.
    let mut ticks = reply.ticks.clone();
    for _ in 0..100 {
        app.webhook_worker.process_pending().unwrap();
        ticks = thread(&app, id)
            .await
            .messages
            .last()
            .unwrap()
            .ticks
            .clone();
        if matches!(ticks.as_deref(), Some("delivered" | "read")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        matches!(ticks.as_deref(), Some("delivered" | "read")),
        "{ticks:?}"
    );

    // An internal note shows in the thread and is never sent.
    inbox
        .note(&owner(), id, "Customer is in Izmir".into())
        .await
        .unwrap();
    let with_note = thread(&app, id).await;
    let note = with_note.messages.last().unwrap();
    assert_eq!(
        (note.direction.as_str(), note.author.as_deref()),
        ("note", Some("owner"))
    );
    assert_eq!(sandbox.send_log().unwrap().len(), 1);

    // Closed conversations leave the open tab; the next message reopens them.
    inbox.mark(&owner(), id, "close".into()).await.unwrap();
    let open_tab = inbox
        .inbox(&owner(), InboxFilter::default(), None)
        .await
        .unwrap();
    assert!(open_tab.rows.is_empty());
    sandbox
        .simulate_inbound(
            typed(&connection),
            "+15550101234",
            SimulatedInbound::Text("Thanks!".into()),
        )
        .await
        .unwrap();
    app.webhook_worker.process_pending().unwrap();
    let reopened = thread(&app, id).await;
    assert_eq!(reopened.row.status, "Open");
    assert_eq!(reopened.row.unread, 1);
}

/// Waits until the sandbox's status reports for what was sent have been applied.
async fn settle(app: &TestApp) {
    for _ in 0..40 {
        app.webhook_worker.process_pending().unwrap();
        if app.state.sandbox.statuses_to_play() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.webhook_worker.process_pending().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reply_buttons_a_list_a_quote_and_a_reaction_go_out_as_meta_expects_and_taps_come_back() {
    let app = TestApp::signed_in().await;
    let connection = fast_sandbox(&app, 80, "TIER_10K");
    let sandbox = app.state.sandbox.clone();
    let question = sandbox
        .simulate_inbound(
            typed(&connection),
            "+15550107777",
            SimulatedInbound::Text("Can I change my delivery day?".into()),
        )
        .await
        .unwrap();
    app.webhook_worker.process_pending().unwrap();
    let id = only_conversation(&app).await;
    let inbox = &app.state.services.conversations;
    let customer_line = thread(&app, id).await.messages[0].clone();
    assert_eq!(customer_line.wamid.as_deref(), Some(question.as_str()));

    // Broken drafts are refused by the composer's own rules, naming the field, before any request.
    let four = SessionDraft {
        kind: DraftKind::Buttons,
        text: "Which day?".into(),
        buttons: vec!["Mon".into(), "Tue".into(), "Wed".into(), "Thu".into()],
        ..SessionDraft::default()
    };
    let refused = inbox.reply(&owner(), id, four).await.unwrap_err();
    let PortError::Invalid(problems) = &refused else {
        panic!("{refused:?}");
    };
    assert_eq!(problems[0].field, "buttons");
    let foreign_quote = SessionDraft {
        reply_to: Some("wamid.SOMEONE_ELSES".into()),
        ..SessionDraft::text("Yes")
    };
    let refused = inbox.reply(&owner(), id, foreign_quote).await.unwrap_err();
    assert!(
        matches!(&refused, PortError::Invalid(p) if p[0].field == "reply_to"),
        "{refused:?}"
    );
    assert!(
        sandbox.send_log().unwrap().is_empty(),
        "WhatsApp was never called"
    );

    // Reply buttons quoting the customer's question.
    let buttons = SessionDraft {
        kind: DraftKind::Buttons,
        text: "Sure, which day suits you?".into(),
        footer: "Deliveries 9:00-18:00".into(),
        buttons: vec!["Monday".into(), "Tuesday".into(), String::new()],
        reply_to: Some(question.clone()),
        ..SessionDraft::default()
    };
    inbox.reply(&owner(), id, buttons).await.unwrap();
    let view = thread(&app, id).await;
    let sent = view.messages.last().unwrap();
    assert_eq!(sent.quote.as_deref(), Some("Can I change my delivery day?"));
    let Body::Interactive {
        options, footer, ..
    } = &sent.body
    else {
        panic!("{:?}", sent.body);
    };
    assert_eq!(options, &["Monday", "Tuesday"]);
    assert_eq!(footer.as_deref(), Some("Deliveries 9:00-18:00"));
    let buttons_wamid = sent.wamid.clone().expect("accepted, so it has a wamid");

    // The customer taps "Tuesday": the thread shows what was tapped, quoting the buttons.
    inbox
        .simulate(
            &owner(),
            id,
            app::api::conversations::CustomerAction::Choose {
                wamid: buttons_wamid.clone(),
                index: 1,
            },
        )
        .await
        .unwrap();
    app.webhook_worker.process_pending().unwrap();
    let view = thread(&app, id).await;
    let tap = view.messages.last().unwrap();
    assert_eq!(
        tap.body,
        Body::Tap {
            label: "Tuesday".into(),
            payload: "button-2".into()
        }
    );
    assert_eq!(tap.quote.as_deref(), Some("Sure, which day suits you?"));

    // A list, then the customer picks its second row.
    let list = SessionDraft {
        kind: DraftKind::List,
        text: "Pick a time on Tuesday".into(),
        list_button: "Times".into(),
        rows: vec![
            DraftRow {
                title: "Morning".into(),
                description: "9:00-12:00".into(),
            },
            DraftRow {
                title: "Afternoon".into(),
                description: "13:00-18:00".into(),
            },
        ],
        ..SessionDraft::default()
    };
    inbox.reply(&owner(), id, list).await.unwrap();
    let list_wamid = thread(&app, id)
        .await
        .messages
        .last()
        .unwrap()
        .wamid
        .clone()
        .unwrap();
    inbox
        .simulate(
            &owner(),
            id,
            app::api::conversations::CustomerAction::Choose {
                wamid: list_wamid,
                index: 1,
            },
        )
        .await
        .unwrap();
    app.webhook_worker.process_pending().unwrap();
    let pick = thread(&app, id).await.messages.last().unwrap().body.clone();
    assert!(
        matches!(&pick, Body::ListPick { title, id, .. } if title == "Afternoon" && id == "row-2"),
        "{pick:?}"
    );

    // A reaction to the customer's question.
    inbox
        .react(&owner(), id, question.clone(), "👍".into())
        .await
        .unwrap();
    let refused = inbox
        .react(&owner(), id, question.clone(), "great".into())
        .await
        .unwrap_err();
    assert!(matches!(refused, PortError::Invalid(_)), "{refused:?}");

    // What went over the wire is Meta's shape: interactive objects, a context, a reaction.
    let log = sandbox.send_log().unwrap();
    assert_eq!(log.len(), 3, "buttons, list and reaction; nothing else");
    settle(&app).await;
    let view = thread(&app, id).await;
    let ticks: Vec<_> = view
        .messages
        .iter()
        .filter(|m| m.direction == "outbound")
        .map(|m| m.ticks.clone().unwrap_or_default())
        .collect();
    assert!(
        ticks.iter().all(|t| t == "delivered" || t == "read"),
        "session messages get their statuses too: {ticks:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_session_reply_is_offered_filled_from_the_contact_and_sends_as_buttons() {
    let app = TestApp::signed_in().await;
    let connection = fast_sandbox(&app, 80, "TIER_10K");
    let people = import(&app, "people.csv", "phone,first_name\n+905321106666,Elif\n").await;
    assert_eq!(people.created, 1, "{people:?}");
    let definition = serde_json::from_value(json!({
        "name": "delivery_day", "language": "en", "category": "UTILITY",
        "parameter_format": "NAMED",
        "components": [
            {"type": "BODY", "text": "Hi {{first_name}}, which day suits you?"},
            {"type": "BUTTONS", "buttons": [
                {"type": "QUICK_REPLY", "text": "Monday"},
                {"type": "QUICK_REPLY", "text": "Tuesday"}]}]
    }))
    .unwrap();
    app.state
        .services
        .templates
        .save(
            &owner(),
            None,
            domain::template::TemplateKind::SessionReply,
            None,
            definition,
        )
        .await
        .unwrap();
    // What WhatsApp could not send inside the window is refused on save, naming the rule.
    let link: domain::whatsapp::graph::TemplateDefinition = serde_json::from_value(json!({
        "name": "with_link", "language": "en", "category": "UTILITY",
        "components": [
            {"type": "BODY", "text": "See the shop"},
            {"type": "BUTTONS", "buttons": [
                {"type": "URL", "text": "Shop", "url": "https://example.com"}]}]
    }))
    .unwrap();
    let refused = app
        .state
        .services
        .templates
        .save(
            &owner(),
            None,
            domain::template::TemplateKind::SessionReply,
            None,
            link,
        )
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("quick replies"), "{refused}");
    app.state
        .sandbox
        .simulate_inbound(
            typed(&connection),
            "+905321106666",
            SimulatedInbound::Text("Can you deliver this week?".into()),
        )
        .await
        .unwrap();
    app.webhook_worker.process_pending().unwrap();
    let id = only_conversation(&app).await;
    let view = thread(&app, id).await;
    let saved = view
        .saved_replies
        .iter()
        .find(|r| r.name == "delivery_day")
        .expect("the saved reply is offered");
    assert_eq!(saved.draft.text, "Hi Elif, which day suits you?");
    assert_eq!(saved.draft.kind, DraftKind::Buttons);
    app.state
        .services
        .conversations
        .reply(&owner(), id, saved.draft.clone())
        .await
        .unwrap();
    let sent = thread(&app, id).await.messages.last().unwrap().body.clone();
    assert!(
        matches!(&sent, Body::Interactive { text, options, .. }
            if text == "Hi Elif, which day suits you?" && options == &["Monday", "Tuesday"]),
        "{sent:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sandbox_number_with_a_short_window_shows_it_close_and_then_refuses_free_text() {
    let app = TestApp::signed_in().await;
    let connection = fast_sandbox(&app, 80, "TIER_10K");
    // The settings page refuses a window shorter than 10 s; the profile itself is not checked.
    let mut stored = app
        .state
        .webhooks
        .connections
        .get(&connection.parse().unwrap())
        .unwrap()
        .unwrap();
    stored.sandbox.as_mut().unwrap().service_window_secs = 2;
    app.state.webhooks.connections.save(&stored).unwrap();
    app.state
        .sandbox
        .simulate_inbound(
            typed(&connection),
            "+15550108888",
            SimulatedInbound::Text("Still open?".into()),
        )
        .await
        .unwrap();
    app.webhook_worker.process_pending().unwrap();
    let id = only_conversation(&app).await;
    let view = thread(&app, id).await;
    let domain::conversation::ReplyWindow::Open { closes_at_ms } = view.window else {
        panic!(
            "the window opens when the customer writes: {:?}",
            view.window
        );
    };
    assert!(
        closes_at_ms - view.now_ms <= 2_000,
        "it lasts the simulated 2 s, not 24 h"
    );
    // Webhook timestamps are whole seconds: wait out the window and the second it began in.
    tokio::time::sleep(Duration::from_millis(3_200)).await;
    let view = thread(&app, id).await;
    assert!(!view.window.is_open(), "{:?}", view.window);
    let refused = app
        .state
        .services
        .conversations
        .reply(&owner(), id, SessionDraft::text("Too late?"))
        .await
        .unwrap_err();
    assert!(matches!(refused, PortError::Conflict(_)), "{refused:?}");
    assert!(app.state.sandbox.send_log().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_window_free_text_is_refused_without_a_request_and_an_approved_template_goes() {
    let app = TestApp::signed_in().await;
    let connection = fast_sandbox(&app, 80, "TIER_10K");
    let template = spring_sale(&app, &connection).await;
    // The customer wrote 25 hours ago: the customer-service window has closed.
    deliver_text(&app, &connection, "wamid.OLD1", "905320000427", 25 * 3600).await;
    let id = only_conversation(&app).await;
    let view = thread(&app, id).await;
    assert!(!view.window.is_open());
    assert!(
        view.window_sentence.contains("only an approved template"),
        "{}",
        view.window_sentence
    );
    assert_eq!(view.row.name, "Deniz", "the WhatsApp profile name");

    let inbox = &app.state.services.conversations;
    let refused = inbox
        .reply(&owner(), id, SessionDraft::text("Sorry for the wait!"))
        .await
        .unwrap_err();
    let PortError::Conflict(reason) = &refused else {
        panic!("expected a refusal the user can act on, got {refused:?}");
    };
    assert!(reason.contains("more than 24 hours"), "{reason}");
    assert!(
        app.state.sandbox.send_log().unwrap().is_empty(),
        "WhatsApp was never called"
    );
    assert_eq!(
        thread(&app, id).await.messages.len(),
        1,
        "nothing that looks sent"
    );

    // The composer offers the number's approved templates, variables filled from what is known.
    let choice = view
        .templates
        .iter()
        .find(|t| t.id == template)
        .expect("the approved template is offered");
    assert_eq!(choice.variables.len(), 1);
    let wrong = inbox
        .send_template(&owner(), id, typed(&template), vec![])
        .await
        .unwrap_err();
    assert!(matches!(wrong, PortError::Invalid(_)), "{wrong:?}");
    inbox
        .send_template(&owner(), id, typed(&template), vec!["Deniz".into()])
        .await
        .unwrap();
    let log = app.state.sandbox.send_log().unwrap();
    assert_eq!(log.len(), 1);
    let sent = thread(&app, id).await;
    assert!(
        matches!(&sent.messages.last().unwrap().body, Body::Template { name, .. } if name == "spring_sale"),
        "{:?}",
        sent.messages
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inbox_finds_people_by_name_without_accents_by_national_number_and_by_message_text() {
    let app = TestApp::signed_in().await;
    let connection = fast_sandbox(&app, 80, "TIER_10K");
    import(
        &app,
        "two.csv",
        "phone,first_name,last_name\n+905326430017,Ayşe,Yılmaz\n+905551110027,Mehmet,Öz\n",
    )
    .await;
    let sandbox = app.state.sandbox.clone();
    for (from, text) in [
        ("905326430017", "Where is my parcel?"),
        ("905551110027", "I want a refund"),
    ] {
        sandbox
            .simulate_inbound(
                typed(&connection),
                from,
                SimulatedInbound::Text(text.into()),
            )
            .await
            .unwrap();
    }
    // Mehmet writes again, so the parcel question is no longer his newest message.
    sandbox
        .simulate_inbound(
            typed(&connection),
            "905551110027",
            SimulatedInbound::Text("Hello?".into()),
        )
        .await
        .unwrap();
    app.webhook_worker.process_pending().unwrap();
    let inbox = &app.state.services.conversations;
    let find = |search: &str| {
        let filter = InboxFilter {
            view: InboxView::All,
            search: search.into(),
            ..InboxFilter::default()
        };
        async move {
            inbox
                .inbox(&owner(), filter, None)
                .await
                .unwrap()
                .rows
                .into_iter()
                .map(|r| r.name)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(find("").await, ["Mehmet Öz", "Ayşe Yılmaz"], "newest first");
    assert_eq!(find("ayse").await, ["Ayşe Yılmaz"]);
    assert_eq!(find("0532 643").await, ["Ayşe Yılmaz"]);
    assert_eq!(
        find("refund").await,
        ["Mehmet Öz"],
        "an older message's text"
    );
    assert_eq!(
        find("REF want").await,
        ["Mehmet Öz"],
        "words by their start"
    );
    assert!(find("fund").await.is_empty(), "not from inside a word");
    assert!(find("invoice").await.is_empty());
    assert!(
        find("refund parcel").await.is_empty(),
        "every word must match"
    );

    // Renamed in the contact list after writing: found by the new name at once, and still by
    // the name they wrote under.
    app.state
        .services
        .contacts
        .save(
            &owner(),
            true,
            app::api::contacts::ContactEdit {
                phone: "+905551110027".into(),
                default_country: String::new(),
                first_name: "Memo".into(),
                last_name: "Öztürk".into(),
                language: String::new(),
                time_zone: String::new(),
                tags: String::new(),
                consent: Vec::new(),
            },
        )
        .await
        .unwrap();
    assert_eq!(find("memo").await, ["Memo Öztürk"]);
    assert_eq!(find("mehmet").await, ["Memo Öztürk"]);

    // The unread switch narrows a search, and both narrow through their indexes.
    let [ayse] = inbox
        .inbox(&owner(), find_filter("ayse"), None)
        .await
        .unwrap()
        .rows
        .try_into()
        .unwrap();
    inbox
        .mark(&owner(), typed(&ayse.id), "read".into())
        .await
        .unwrap();
    let unread = |search: &str| InboxFilter {
        unread_only: true,
        ..find_filter(search)
    };
    let names = |filter| async move {
        inbox
            .inbox(&owner(), filter, None)
            .await
            .unwrap()
            .rows
            .into_iter()
            .map(|r| r.name)
            .collect::<Vec<_>>()
    };
    assert_eq!(names(unread("")).await, ["Memo Öztürk"]);
    assert!(names(unread("ayse")).await.is_empty());
}

fn find_filter(search: &str) -> InboxFilter {
    InboxFilter {
        view: InboxView::All,
        search: search.into(),
        ..InboxFilter::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_pages_newest_first_through_more_conversations_than_fit_on_a_page() {
    let app = TestApp::signed_in().await;
    let connection = fast_sandbox(&app, 80, "TIER_10K");
    let sandbox = app.state.sandbox.clone();
    for n in 0..130u32 {
        let text = if n % 2 == 0 {
            "Where is my parcel?"
        } else {
            "Hello"
        };
        sandbox
            .simulate_inbound(
                typed(&connection),
                &format!("90532{n:07}"),
                SimulatedInbound::Text(text.into()),
            )
            .await
            .unwrap();
    }
    app.webhook_worker.process_pending().unwrap();
    let inbox = &app.state.services.conversations;
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = inbox
            .inbox(&owner(), find_filter("parcel"), after)
            .await
            .unwrap();
        seen.extend(page.rows.iter().map(|r| (r.last_activity_ms, r.id.clone())));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(
        seen.len(),
        65,
        "every conversation asking for its parcel, once"
    );
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "newest first across pages");
    let numbers = inbox
        .inbox(&owner(), find_filter("0532 000 012"), None)
        .await
        .unwrap()
        .rows;
    assert_eq!(numbers.len(), 10, "905320000120 to 905320000129");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inbound_photo_whose_download_fails_twice_is_retried_then_shown_to_signed_in_users_only()
{
    use server::whatsapp::sandbox::SAMPLE_PHOTO;
    let app = TestApp::signed_in().await;
    let connection = fast_sandbox(&app, 80, "TIER_10K");
    app.state.sandbox.fail_next_media_downloads(2);
    app.state
        .sandbox
        .simulate_inbound(
            typed(&connection),
            "+905321107777",
            SimulatedInbound::Media {
                mime_type: "image/png".into(),
                bytes: SAMPLE_PHOTO.to_vec(),
                caption: Some("The box arrived like this".into()),
                filename: None,
            },
        )
        .await
        .unwrap();
    app.webhook_worker.process_pending().unwrap();
    let id = only_conversation(&app).await;

    // The photo shows at once as a photo with its caption, and the thread says what the
    // downloader is going through until the file is kept.
    let mut problems_seen = Vec::new();
    let mut stored = None;
    for _ in 0..200 {
        let view = thread(&app, id).await;
        let message = view.messages.last().unwrap().clone();
        assert!(
            matches!(&message.body, Body::Media { media, caption, .. }
                if media == "image" && caption.as_deref() == Some("The box arrived like this")),
            "{:?}",
            message.body
        );
        let media = message.media.clone().expect("the file's state is shown");
        if let Some(problem) = media.problem.clone() {
            if problems_seen.last() != Some(&problem) {
                problems_seen.push(problem);
            }
        }
        if media.state == "stored" {
            stored = Some(media);
            break;
        }
        assert_ne!(
            media.state, "failed",
            "two failures are no reason to give up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stored = stored.expect("the third try keeps the file");
    println!("the thread said: {problems_seen:?}");
    assert!(
        problems_seen
            .iter()
            .any(|p| p.contains("try 1 failed") && p.contains("tries again by itself")),
        "{problems_seen:?}"
    );
    assert!(stored.problem.is_none() && stored.inline);
    assert_eq!(stored.size.as_deref(), Some("242 bytes"));

    let url = stored.url.expect("a stored file has an address");
    let response = app.get(&url).await;
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "image/png");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert_eq!(response.bytes().await.unwrap().as_ref(), SAMPLE_PHOTO);

    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}{url}", app.base))
        .send()
        .await
        .unwrap();
    assert_ne!(anonymous.status(), reqwest::StatusCode::OK);
    assert_ne!(
        anonymous.bytes().await.unwrap().as_ref(),
        SAMPLE_PHOTO,
        "only signed-in users see customers' files"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_whatsapp_no_longer_has_fails_with_the_reason_and_can_be_tried_again() {
    use server::whatsapp::sandbox::SAMPLE_PHOTO;
    let app = TestApp::signed_in().await;
    let connection = fast_sandbox(&app, 80, "TIER_10K");
    // Every try fails (more failures than the quick retries).
    app.state.sandbox.fail_next_media_downloads(u32::MAX);
    app.state
        .sandbox
        .simulate_inbound(
            typed(&connection),
            "+905321108888",
            SimulatedInbound::Media {
                mime_type: "image/png".into(),
                bytes: SAMPLE_PHOTO.to_vec(),
                caption: None,
                filename: None,
            },
        )
        .await
        .unwrap();
    app.webhook_worker.process_pending().unwrap();
    let id = only_conversation(&app).await;
    let media = |view: &ThreadView| view.messages.last().unwrap().media.clone().unwrap();
    let conversations = &app.state.services.conversations;
    let wait_for = |state: &'static str| {
        let app = &app;
        async move {
            for _ in 0..100 {
                let now = media(&thread(app, id).await);
                if now.state == state {
                    return now;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            panic!("the file never became {state}");
        }
    };
    // While it is still being tried, a retry is refused: Herald is on it.
    let pending = wait_for("downloading").await;
    let refused = conversations
        .retry_media(&owner(), id, pending.media_id.clone())
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("not failed"), "{refused}");

    // Meta forgets the file (its media id expired): the next try gives up with the reason.
    app.state.sandbox.expire_media(&pending.media_id);
    app.state.sandbox.fail_next_media_downloads(0);
    let failed = wait_for("failed").await;
    let reason = failed.problem.unwrap_or_default();
    assert!(reason.contains("no longer has this file"), "{reason}");
    assert_eq!(failed.url, None, "nothing to open");

    // A person may try again; it is fetched afresh (and, still gone, fails again).
    conversations
        .retry_media(&owner(), id, failed.media_id.clone())
        .await
        .unwrap();
    let key = (typed::<uuid::Uuid>(&connection), failed.media_id.clone());
    let tries = || {
        app.state
            .conversations
            .media()
            .store()
            .get(&key)
            .unwrap()
            .unwrap()
            .attempts
    };
    for _ in 0..100 {
        if tries() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(tries(), 1, "tried once more, counted afresh");
    assert_eq!(wait_for("failed").await.state, "failed");
    let other = conversations
        .retry_media(&owner(), id, "999".into())
        .await
        .unwrap_err();
    assert!(matches!(other, PortError::NotFound(_)), "{other}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_uploads_a_photo_to_whatsapp_and_sends_it_by_media_id_with_a_caption() {
    use domain::conversation::compose::DraftMedia;
    use server::whatsapp::sandbox::SAMPLE_PHOTO;
    let app = TestApp::signed_in().await;
    let connection = fast_sandbox(&app, 80, "TIER_10K");
    app.state
        .sandbox
        .simulate_inbound(
            typed(&connection),
            "+905321109999",
            SimulatedInbound::Text("Where is my parcel?".into()),
        )
        .await
        .unwrap();
    app.webhook_worker.process_pending().unwrap();
    let id = only_conversation(&app).await;
    let upload = format!("/conversations/{id}/media");

    // What WhatsApp would refuse is refused here, naming the field, before any upload.
    let refused = app
        .upload_typed(
            &upload,
            "setup.exe",
            Some("application/x-msdownload"),
            vec![1; 10],
        )
        .await;
    assert_eq!(refused.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    let why = refused.text().await.unwrap();
    assert!(why.contains("file") && why.contains("JPEG or PNG"), "{why}");

    let response = app
        .upload_typed(
            &upload,
            "parcel.png",
            Some("image/png"),
            SAMPLE_PHOTO.to_vec(),
        )
        .await;
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let media: DraftMedia = response.json().await.unwrap();
    assert_eq!((media.kind.as_str(), media.size), ("image", 242));
    assert!(!media.media_id.is_empty());

    let draft = SessionDraft {
        kind: DraftKind::Media,
        text: "Here it is at the depot".into(),
        media: Some(media.clone()),
        ..SessionDraft::default()
    };
    app.state
        .services
        .conversations
        .reply(&owner(), id, draft)
        .await
        .unwrap();
    let log = app.state.sandbox.send_log().unwrap();
    assert_eq!(log.len(), 1);
    assert!(
        log[0].refused.is_none(),
        "WhatsApp took the photo by its id"
    );
    let sent = thread(&app, id).await.messages.last().unwrap().clone();
    assert!(
        matches!(&sent.body, Body::Media { media: kind, caption, media_id, .. }
            if kind == "image"
                && caption.as_deref() == Some("Here it is at the depot")
                && media_id.as_deref() == Some(media.media_id.as_str())),
        "{:?}",
        sent.body
    );
    // The thread shows the photo that went, from Herald's own copy.
    let shown = sent.media.expect("the sent file is shown");
    let bytes = app.get(&shown.url.unwrap()).await.bytes().await.unwrap();
    assert_eq!(bytes.as_ref(), SAMPLE_PHOTO);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conversations_are_assigned_and_found_by_who_works_them_and_by_the_campaign_answered() {
    use domain::conversation::filter::AssignedFilter;
    let app = TestApp::signed_in().await;
    let connection = fast_sandbox(&app, 80, "TIER_10K");
    let template = spring_sale(&app, &connection).await;
    let both = import(
        &app,
        "both.csv",
        "phone,first_name\n+905321200001,Ada\n+905321200002,Bora\n",
    )
    .await;
    let only_bora = import(&app, "bora.csv", "phone,first_name\n+905321200002,Bora\n").await;
    let spring = crate::campaigns::send_to_completion(&app, &connection, &template, &both.id).await;
    let autumn =
        crate::campaigns::send_to_completion(&app, &connection, &template, &only_bora.id).await;
    // Ada answers spring; Bora answers autumn, the last campaign he got; Cem just writes.
    for (from, text) in [
        ("+905321200001", "Is the sale still on?"),
        ("+905321200002", "Do you ship abroad?"),
        ("+905321200003", "Hello, a question"),
    ] {
        app.state
            .sandbox
            .simulate_inbound(
                typed(&connection),
                from,
                SimulatedInbound::Text(text.into()),
            )
            .await
            .unwrap();
    }
    app.webhook_worker.process_pending().unwrap();
    let conversations = &app.state.services.conversations;
    let names = |filter: InboxFilter| async move {
        let mut names: Vec<String> = conversations
            .inbox(&owner(), filter, None)
            .await
            .unwrap()
            .rows
            .into_iter()
            .map(|r| r.name)
            .collect();
        names.sort();
        names
    };
    let replied = |campaign: &str| InboxFilter {
        replied_to: Some(typed::<uuid::Uuid>(campaign)),
        ..everything()
    };
    assert_eq!(names(replied(&spring)).await, vec!["Ada"]);
    assert_eq!(
        names(replied(&autumn)).await,
        vec!["Bora"],
        "a reply counts once, for the campaign it answers"
    );
    let page = conversations
        .inbox(&owner(), everything(), None)
        .await
        .unwrap();
    assert_eq!(
        page.campaigns.len(),
        2,
        "both campaigns are offered as filters"
    );
    assert_eq!(page.me.as_deref(), Some(crate::helpers::OWNER));

    // Ada's conversation is taken; the filters follow.
    let ada = page
        .rows
        .iter()
        .find(|r| r.name == "Ada")
        .unwrap()
        .id
        .clone();
    conversations
        .assign(&owner(), typed(&ada), Some(crate::helpers::OWNER.into()))
        .await
        .unwrap();
    let by = |assigned| InboxFilter {
        assigned,
        ..everything()
    };
    assert_eq!(names(by(AssignedFilter::Me)).await, vec!["Ada"]);
    assert_eq!(names(by(AssignedFilter::Unassigned)).await.len(), 2);
    let view = thread(&app, typed(&ada)).await;
    assert_eq!(view.row.assignee.as_deref(), Some(crate::helpers::OWNER));
    let refused = conversations
        .assign(&owner(), typed(&ada), Some("nobody-here".into()))
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, PortError::Invalid(p) if p[0].field == "assignee"),
        "{refused:?}"
    );
    conversations
        .assign(&owner(), typed(&ada), None)
        .await
        .unwrap();
    assert!(names(by(AssignedFilter::Me)).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_contact_page_shows_the_contacts_messages_and_the_campaigns_that_reached_them() {
    let app = TestApp::signed_in().await;
    let connection = fast_sandbox(&app, 80, "TIER_10K");
    let template = spring_sale(&app, &connection).await;
    let list = import(
        &app,
        "two.csv",
        "phone,first_name\n+905321300001,Ada\n+905321300002,Bora\n",
    )
    .await;
    let spring = crate::campaigns::send_to_completion(&app, &connection, &template, &list.id).await;
    app.state
        .sandbox
        .simulate_inbound(
            typed(&connection),
            "+905321300001",
            SimulatedInbound::Text("Is the sale still on?".into()),
        )
        .await
        .unwrap();
    app.webhook_worker.process_pending().unwrap();
    let conversations = &app.state.services.conversations;

    let ada = conversations
        .contact_history(&owner(), "+905321300001".into())
        .await
        .unwrap();
    assert_eq!(ada.conversations.len(), 1);
    let thread = &ada.conversations[0];
    assert_eq!(thread.total, 2);
    let directions: Vec<&str> = thread
        .messages
        .iter()
        .map(|m| m.direction.as_str())
        .collect();
    assert_eq!(
        directions,
        ["outbound", "inbound"],
        "the campaign message, then the reply"
    );
    assert!(
        matches!(&thread.messages[0].body, Body::Template { name, .. } if name == "spring_sale")
    );
    assert!(thread.messages[0].ticks.is_some(), "its ticks are shown");
    assert_eq!(ada.campaigns.len(), 1);
    assert_eq!(ada.campaigns[0].id, spring);
    assert_eq!(ada.campaigns[0].state, "replied");
    let page = app
        .get("/contacts/905321300001")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("contact-history"), "the page has the card");
    assert!(
        page.contains("Is the sale still on?") && page.contains("Open the conversation"),
        "the page shows the messages"
    );

    let bora = conversations
        .contact_history(&owner(), "+905321300002".into())
        .await
        .unwrap();
    assert!(bora.conversations.is_empty(), "Bora never wrote");
    assert_eq!(bora.campaigns.len(), 1, "but the campaign reached him");
    assert_ne!(bora.campaigns[0].state, "replied");
    let stranger = conversations
        .contact_history(&owner(), "+905321399999".into())
        .await
        .unwrap();
    assert!(stranger.conversations.is_empty() && stranger.campaigns.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulated_user_in_settings_taps_the_campaign_message_sends_a_photo_a_place_and_a_reaction(
) {
    let app = TestApp::signed_in().await;
    let connection = fast_sandbox(&app, 80, "TIER_10K");
    let template = spring_sale(&app, &connection).await;
    let list = import(&app, "one.csv", "phone,first_name\n+905321400001,Ada\n").await;
    crate::campaigns::send_to_completion(&app, &connection, &template, &list.id).await;
    let whatsapp = &app.state.services.whatsapp;
    let number = &connection;
    let does = |kind: &'static str, what: &'static str| async move {
        whatsapp
            .simulate_inbound(
                &owner(),
                typed(number),
                "+905321400001".into(),
                kind.into(),
                what.into(),
            )
            .await
    };
    does("button", "Show me the sale").await.unwrap();
    does("photo", "My receipt").await.unwrap();
    does("location", "Kadıköy pier").await.unwrap();
    does("reaction", "❤️").await.unwrap();
    let refused = does("wave", "").await.unwrap_err();
    assert!(
        matches!(&refused, PortError::Invalid(p) if p[0].field == "kind"),
        "{refused:?}"
    );
    let stranger = whatsapp
        .simulate_inbound(
            &owner(),
            typed(&connection),
            "+905321499999".into(),
            "reaction".into(),
            String::new(),
        )
        .await
        .unwrap_err();
    assert!(
        stranger.to_string().contains("no message from the number"),
        "{stranger}"
    );
    app.webhook_worker.process_pending().unwrap();

    let id = only_conversation(&app).await;
    let view = thread(&app, id).await;
    let bodies: Vec<&Body> = view.messages.iter().map(|m| &m.body).collect();
    assert!(
        matches!(bodies[0], Body::Template { name, .. } if name == "spring_sale"),
        "the campaign message the tap answers: {bodies:?}"
    );
    let tap = &view.messages[1];
    assert!(matches!(&tap.body, Body::Tap { label, .. } if label == "Show me the sale"));
    assert!(
        tap.quote.is_some(),
        "the tap is linked to the campaign message: {tap:?}"
    );
    assert!(bodies.iter().any(
        |b| matches!(b, Body::Media { caption, .. } if caption.as_deref() == Some("My receipt"))
    ));
    assert!(
        bodies.iter().any(
            |b| matches!(b, Body::Location { name, .. } if name.as_deref() == Some("Kadıköy pier"))
        ),
        "{bodies:?}"
    );
    assert!(
        bodies.iter().any(|b| b.preview().contains("❤️")),
        "the reaction to the campaign message: {bodies:?}"
    );

    // The agent sends a list; the simulated user picks a row of it by its title.
    let list = SessionDraft {
        kind: DraftKind::List,
        text: "When shall we come?".into(),
        list_button: "Times".into(),
        rows: vec![
            DraftRow {
                title: "Morning".into(),
                description: String::new(),
            },
            DraftRow {
                title: "Evening".into(),
                description: String::new(),
            },
        ],
        ..SessionDraft::default()
    };
    app.state
        .services
        .conversations
        .reply(&owner(), id, list)
        .await
        .unwrap();
    let missing = does("choose", "Night").await.unwrap_err();
    assert!(
        missing.to_string().contains("no reply button or list row"),
        "{missing}"
    );
    does("choose", "evening").await.unwrap();
    app.webhook_worker.process_pending().unwrap();
    let last = thread(&app, id).await.messages.last().unwrap().body.clone();
    assert!(
        matches!(&last, Body::ListPick { title, .. } if title == "Evening"),
        "{last:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_reply_with_a_photo_uploads_it_to_the_number_when_used_and_sends_it_with_its_caption(
) {
    use server::whatsapp::sandbox::SAMPLE_PHOTO;
    let app = TestApp::signed_in().await;
    let connection = fast_sandbox(&app, 80, "TIER_10K");
    import(&app, "one.csv", "phone,first_name\n+905321500001,Elif\n").await;
    let templates = &app.state.services.templates;
    let save = |id: Option<domain::ids::TemplateId>, body: serde_json::Value| async move {
        templates
            .save(
                &owner(),
                id,
                domain::template::TemplateKind::SessionReply,
                None,
                serde_json::from_value(body).unwrap(),
            )
            .await
    };
    let menu = json!({
        "name": "our_menu", "language": "en", "category": "UTILITY", "parameter_format": "NAMED",
        "components": [{"type": "BODY", "text": "Here is our menu, {{first_name}}"}]
    });
    let id = save(None, menu.clone()).await.unwrap();
    let upload = format!("/templates/{id}/media");

    // Only what WhatsApp sends with a caption is kept.
    let voice = app
        .upload_typed(&upload, "hello.ogg", Some("audio/ogg"), b"OggS".to_vec())
        .await;
    assert_eq!(voice.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    assert!(voice.text().await.unwrap().contains("carries no caption"));
    let attached = app
        .upload_typed(
            &upload,
            "menu.png",
            Some("image/png"),
            SAMPLE_PHOTO.to_vec(),
        )
        .await;
    assert_eq!(attached.status(), reqwest::StatusCode::OK);
    let kept = app.get(&upload).await;
    assert_eq!(kept.headers()["content-type"], "image/png");
    assert_eq!(kept.bytes().await.unwrap().as_ref(), SAMPLE_PHOTO);
    // A file's caption cannot carry buttons: adding them is refused, naming the rule.
    let with_buttons = json!({
        "name": "our_menu", "language": "en", "category": "UTILITY", "parameter_format": "NAMED",
        "components": [
            {"type": "BODY", "text": "Here is our menu, {{first_name}}"},
            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Order"}]}]
    });
    let refused = save(Some(id), with_buttons).await.unwrap_err();
    assert!(
        matches!(&refused, PortError::Invalid(p) if p[0].rule == "session_reply.file_buttons"),
        "{refused:?}"
    );

    app.state
        .sandbox
        .simulate_inbound(
            typed(&connection),
            "+905321500001",
            SimulatedInbound::Text("What do you have today?".into()),
        )
        .await
        .unwrap();
    app.webhook_worker.process_pending().unwrap();
    let conversation = only_conversation(&app).await;
    let view = thread(&app, conversation).await;
    let offered = view
        .saved_replies
        .iter()
        .find(|r| r.name == "our_menu")
        .expect("offered");
    assert_eq!(offered.file.as_deref(), Some("Photo menu.png"));

    let inbox = &app.state.services.conversations;
    let draft = inbox
        .use_saved_reply(&owner(), conversation, id)
        .await
        .unwrap();
    assert_eq!(draft.kind, DraftKind::Media);
    assert_eq!(draft.text, "Here is our menu, Elif");
    let media = draft.media.clone().expect("uploaded to the number");
    assert!(draft.problems().is_empty(), "{:?}", draft.problems());
    inbox.reply(&owner(), conversation, draft).await.unwrap();
    let log = app.state.sandbox.send_log().unwrap();
    assert_eq!(log.len(), 1);
    assert!(
        log[0].refused.is_none(),
        "WhatsApp took the photo by its id"
    );
    let sent = thread(&app, conversation)
        .await
        .messages
        .last()
        .unwrap()
        .clone();
    assert!(
        matches!(&sent.body, Body::Media { media: kind, caption, media_id, .. }
            if kind == "image"
                && caption.as_deref() == Some("Here is our menu, Elif")
                && media_id.as_deref() == Some(media.media_id.as_str())),
        "{:?}",
        sent.body
    );

    // Detached, the reply sends its text alone again.
    let detached = app.delete(&upload).await;
    assert_eq!(detached.status(), reqwest::StatusCode::NO_CONTENT);
    let draft = inbox
        .use_saved_reply(&owner(), conversation, id)
        .await
        .unwrap();
    assert_eq!((draft.kind, draft.media), (DraftKind::Text, None));
    assert_eq!(
        app.get(&upload).await.status(),
        reqwest::StatusCode::NOT_FOUND
    );
}
