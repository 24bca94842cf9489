//! What may be sent is decided once, in the dispatcher, for every origin: free text only inside
//! the customer-service window (refused before WhatsApp is called, never a message that looks
//! sent and is not), and no template in a category the person opted out of, even one who opts
//! out while their campaign is already sending.

use app::ports::PortError;
use server::whatsapp::sandbox::SimulatedInbound;

use crate::campaigns::{campaigns_pace, draft, fast_sandbox, spring_sale, wait_until};
use crate::contacts::import;
use crate::helpers::{owner, typed, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn free_text_to_someone_who_never_wrote_is_refused_before_whatsapp_and_goes_once_they_write()
{
    let app = TestApp::signed_in().await;
    let connection = fast_sandbox(&app, 80, "TIER_10K");
    let whatsapp = &app.state.services.whatsapp;
    let me = owner();
    let send = || {
        whatsapp.send_test(
            &me,
            typed(&connection),
            "+1 555 010 1234".into(),
            "Your order has shipped".into(),
        )
    };

    let refused = send().await.unwrap_err();
    let PortError::Conflict(reason) = &refused else {
        panic!("expected a refusal the user can act on, got {refused:?}");
    };
    assert!(reason.contains("never written"), "{reason}");
    assert!(
        app.state.sandbox.send_log().unwrap().is_empty(),
        "WhatsApp was never called"
    );
    let listed = whatsapp
        .recent_sends(&owner(), typed(&connection))
        .await
        .unwrap();
    assert!(listed.is_empty(), "nothing that looks sent: {listed:?}");

    // The person writes; their window opens and the same text goes out.
    app.state
        .sandbox
        .simulate_inbound(
            typed(&connection),
            "+15550101234",
            SimulatedInbound::Text("Where is my order?".into()),
        )
        .await
        .unwrap();
    app.webhook_worker.process_pending().unwrap();
    let sent = send().await.unwrap();
    assert_eq!(sent.state, "accepted");
    let log = app.state.sandbox.send_log().unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].wa_id, "15550101234");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn someone_who_opts_out_while_their_campaign_is_sending_is_skipped_not_messaged() {
    let app = TestApp::signed_in().await;
    let connection = fast_sandbox(&app, 80, "TIER_10K");
    campaigns_pace(&app, &connection, 2).await;
    let template = spring_sale(&app, &connection).await;
    let mut csv = String::from("phone,first_name\n");
    for i in 0..6 {
        csv.push_str(&format!("+90532000{i:02}37,User{i}\n"));
    }
    let list = import(&app, "six.csv", &csv).await;
    let campaigns = &app.state.services.campaigns;
    let id = campaigns
        .save(&owner(), None, draft(&connection, &template, &list.id))
        .await
        .unwrap();
    campaigns.launch(&owner(), id).await.unwrap();

    // At 2 a second the last of six goes out after about three seconds; they say STOP first.
    let last = "+905320000537";
    app.state
        .sandbox
        .simulate_inbound(
            typed(&connection),
            last,
            SimulatedInbound::Text("STOP".into()),
        )
        .await
        .unwrap();
    app.webhook_worker.process_pending().unwrap();

    let view = wait_until(&app, &id.to_string(), "completed").await;
    let counts = view.progress.counts;
    assert_eq!((counts.total, counts.skipped), (6, 1), "{counts:?}");
    assert!(
        view.progress
            .skipped
            .iter()
            .any(|(reason, n)| reason.starts_with("Opted out") && *n == 1),
        "{:?}",
        view.progress.skipped
    );
    let reached: Vec<String> = app
        .state
        .sandbox
        .send_log()
        .unwrap()
        .into_iter()
        .map(|s| s.wa_id)
        .collect();
    assert_eq!(reached.len(), 5, "{reached:?}");
    assert!(!reached.contains(&last.trim_start_matches('+').to_string()));
}
