//! Campaign follow-ups, seed 004's cart reminder: "reply 1" gets A, a tap on the coupon button
//! gets B, silence gets nothing but a tag once the wait ends — each exactly once, however often
//! WhatsApp delivers the replies and however often the runner looks.

use domain::automation::follow_up::{Branch, FollowUps, NoReplyAction, ReplyAction};
use domain::automation::reply::Trigger;
use server::whatsapp::sandbox::SimulatedInbound;

use crate::campaigns::{draft, fast_sandbox, spring_sale, wait_until};
use crate::contacts::import;
use crate::helpers::{owner, typed, TestApp};

const CART: &str = "Here is your cart: https://shop.example/cart";
const COUPON: &str = "Your code: SPRING10";

fn cart_reminder() -> FollowUps {
    let send = |text: &str| ReplyAction::SendText { text: text.into() };
    FollowUps {
        branches: vec![
            Branch {
                trigger: Trigger::Text {
                    values: vec!["1".into()],
                },
                action: send(CART),
            },
            Branch {
                trigger: Trigger::Payload {
                    payload: "COUPON".into(),
                },
                action: send(COUPON),
            },
            Branch {
                trigger: Trigger::Text {
                    values: vec!["2".into()],
                },
                action: send(COUPON),
            },
        ],
        wait_minutes: 60,
        no_reply: NoReplyAction::Tag {
            tag: "no-answer".into(),
        },
    }
}

/// What the sandbox accepted for `number`, in order: a template's name, or a text's body (read
/// from the ledger entry its callback data names).
fn texts_to(app: &TestApp, number: &str) -> Vec<String> {
    use domain::whatsapp::callback::{decode, Callback};
    use domain::whatsapp::graph::MessageContent;
    let ledger = server::storage::messages::MessageStore::open(&app.state.store).unwrap();
    app.state
        .sandbox
        .send_log()
        .unwrap()
        .into_iter()
        .filter(|s| s.wa_id == number && s.refused.is_none())
        .map(|s| {
            if let Some(template) = s.template {
                return template;
            }
            let Some(Callback::Message(id)) = s.callback_data.as_deref().and_then(decode) else {
                return "?".into();
            };
            match ledger.content(&id).unwrap() {
                Some(MessageContent::Text { text }) => text.body,
                other => format!("{other:?}"),
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reply_1_gets_a_the_coupon_button_gets_b_and_silence_only_a_tag_each_exactly_once() {
    let app = TestApp::signed_in().await;
    let connection = fast_sandbox(&app, 80, "TIER_10K");
    let template = spring_sale(&app, &connection).await;
    let list = import(
        &app,
        "three.csv",
        "phone,first_name\n+905321600001,Ada\n+905321600002,Bora\n+905321600003,Cem\n",
    )
    .await;
    let mut with_follow_ups = draft(&connection, &template, &list.id);
    with_follow_ups.follow_ups = Some(cart_reminder());
    let campaigns = &app.state.services.campaigns;
    let id = campaigns
        .save(&owner(), None, with_follow_ups)
        .await
        .unwrap();
    campaigns.launch(&owner(), id).await.unwrap();
    wait_until(&app, &id.to_string(), "completed").await;
    let bora_got = app
        .state
        .campaigns
        .engine()
        .campaigns()
        .recipient(&id.uuid(), "+905321600002")
        .unwrap()
        .and_then(|r| r.wamid)
        .expect("Bora's campaign message");

    // Ada types "1️⃣"; Bora taps the coupon button on the campaign message; Cem says nothing.
    let sandbox = &app.state.sandbox;
    sandbox
        .simulate_inbound(
            typed(&connection),
            "+905321600001",
            SimulatedInbound::Text("1️⃣".into()),
        )
        .await
        .unwrap();
    sandbox
        .simulate_inbound(
            typed(&connection),
            "+905321600002",
            SimulatedInbound::Button {
                payload: "COUPON".into(),
                text: "Coupon".into(),
                context: Some(bora_got),
            },
        )
        .await
        .unwrap();
    app.webhook_worker.process_pending().unwrap();
    let follow_ups = &app.state.follow_ups;
    let now = chrono::Utc::now().timestamp_millis();
    follow_ups.run_due(now, None).await.unwrap();
    for _ in 0..100 {
        if texts_to(&app, "905321600001").len() == 2 && texts_to(&app, "905321600002").len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(texts_to(&app, "905321600001")[1], CART, "1️⃣ is 1");
    assert_eq!(texts_to(&app, "905321600002")[1], COUPON);
    let report = |app: &TestApp| {
        let campaigns = app.state.services.campaigns.clone();
        async move {
            campaigns
                .progress(&owner(), id)
                .await
                .unwrap()
                .follow_ups
                .expect("a report")
        }
    };
    let during = report(&app).await;
    let chosen: Vec<u64> = during.branches.iter().map(|b| b.chosen).collect();
    assert_eq!(chosen, [1, 1, 0]);
    assert_eq!(
        (during.waiting, during.no_reply),
        (1, 0),
        "Cem may still answer"
    );
    assert_eq!(during.branches[0].label, "replied “1”");

    // WhatsApp delivers every webhook again, and the runner looks again, an hour later.
    for (entry, _) in app.state.webhooks.inbox.recent(100).unwrap() {
        app.state.webhooks.inbox.requeue(&entry).unwrap();
    }
    app.webhook_worker.process_pending().unwrap();
    let later = now + 61 * 60_000;
    follow_ups.run_due(later, None).await.unwrap();
    follow_ups.run_due(later, None).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(texts_to(&app, "905321600001").len(), 2, "A once");
    assert_eq!(texts_to(&app, "905321600002").len(), 2, "B once");
    assert_eq!(
        texts_to(&app, "905321600003").len(),
        1,
        "silence gets nothing more"
    );
    let tags = |phone: &str| app.state.contacts.store().get(phone).unwrap().unwrap().tags;
    assert!(tags("+905321600003").contains("no-answer"));
    assert!(!tags("+905321600001").contains("no-answer"), "Ada answered");
    assert_eq!(
        follow_ups.runs().due(i64::MAX, 10).unwrap(),
        [],
        "nothing left to do"
    );
    let after = report(&app).await;
    let done: Vec<(u64, u64, u64)> = after
        .branches
        .iter()
        .map(|b| (b.chosen, b.done, b.failed))
        .collect();
    assert_eq!(done, [(1, 1, 0), (1, 1, 0), (0, 0, 0)]);
    assert_eq!(
        (after.waiting, after.no_reply, after.other_replies),
        (0, 1, 0)
    );
    let page = app
        .get(&format!("/campaigns/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("data-testid=\"follow-ups\"") && page.contains("replied “1”"),
        "the campaign page shows the report"
    );
}
