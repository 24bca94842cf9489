//! Campaign engine benchmark: a 100,000-recipient campaign (override with
//! `HERALD_BENCH_RECIPIENTS`) sent by the real engine through the real HTTP client to the
//! built-in sandbox, in one process on a temporary data directory, with throttling lifted so the
//! figure is what Herald itself can do. Every state change is durable as in production: each batch
//! is marked `sending` and flushed before its sends, every outcome is written, and the sandbox logs
//! and flushes every message before accepting it.
//!
//! The sandbox's status webhooks are held back by default (they are Meta's load, not the
//! engine's); `HERALD_BENCH_STATUSES=1` plays them too, through the real intake and worker. With
//! them on, the sandbox defers numbers ending in 049 by 24 hours (131049, as Meta defers some
//! users) and fails those ending in 050 and 404, so the run ends when nothing is left but those
//! deferrals (the campaign waits a day for them, as it should) and reports how many.
//!
//! `cargo bench -p server --bench campaign`. Reports sends per second, CPU per 1,000 sends (the
//! whole process: engine and sandbox) and peak resident memory; the report is printed and written
//! to `target/bench-reports/campaign.md`.
#![allow(
    clippy::unwrap_used,
    reason = "a benchmark that cannot set up should stop"
)]

use domain::access::Caller;
use std::time::{Duration, Instant};

use domain::campaign::{BindingSource, CampaignDraft, Slot, VariableBinding};
use domain::contacts::consent::{ConsentAction, ConsentEvent, ConsentSource};
use domain::contacts::segment::SegmentDefinition;
use domain::contacts::{Category, Contact};
use server::config::Config;
use server::storage::connections::{ConnectionKind, SandboxProfile};
use server::Application;

mod support;
use support::{cpu_seconds, peak_rss_mb, rss_mb};

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let recipients: usize = std::env::var("HERALD_BENCH_RECIPIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let statuses = std::env::var("HERALD_BENCH_STATUSES").is_ok_and(|v| v == "1");
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_data_dir(dir.path());
    config.unthrottled_for_benchmarks = true;
    config.log_level = "warn".into();
    let app = Application::build(config).await.unwrap();
    let state = app.state().clone();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stop_rx.await;
    }));

    // The sandbox number: no throughput limit, an unlimited tier, statuses off unless asked.
    let mut connection = state
        .webhooks
        .connections
        .list()
        .unwrap()
        .into_iter()
        .find(|c| c.kind == ConnectionKind::Sandbox)
        .unwrap();
    *connection.sandbox.as_mut().unwrap() = SandboxProfile {
        review_delay_ms: 0,
        status_delay_ms: if statuses { 50 } else { 86_400_000 },
        messages_per_second: u32::MAX,
        messaging_limit: "TIER_UNLIMITED".into(),
        ..SandboxProfile::default()
    };
    state.webhooks.connections.save(&connection).unwrap();
    let connection = connection.id.to_string();

    eprintln!("writing {recipients} contacts…");
    let contacts = state.contacts.store();
    let consent = ConsentEvent {
        at_ms: 0,
        action: ConsentAction::OptIn,
        categories: vec![Category::Marketing, Category::Utility],
        source: ConsentSource::Api,
    };
    for i in 0..recipients {
        let contact = Contact {
            phone: format!("+90533{i:07}"),
            country: Some("TR".into()),
            first_name: format!("Name{i}"),
            consent: vec![consent.clone()],
            ..Contact::default()
        };
        contacts.put(&contact, None).unwrap();
    }
    state.store.flush().await.unwrap();

    let definition = serde_json::from_value(serde_json::json!({
        "name": "bench_offer", "language": "en_US", "category": "MARKETING",
        "components": [{"type": "BODY", "text": "Hello {{1}}, this week's offer is waiting for you.",
            "example": {"body_text": [["Ayşe"]]}}]}))
    .unwrap();
    let templates = state.services.templates.clone();
    let template = templates
        .save(
            &Caller::System,
            None,
            domain::template::TemplateKind::Approved,
            Some(connection.parse().unwrap()),
            definition,
        )
        .await
        .unwrap();
    templates.submit(&Caller::System, template).await.unwrap();
    while templates
        .template(&Caller::System, template)
        .await
        .unwrap()
        .meta_status
        .as_deref()
        != Some("APPROVED")
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let segment = state
        .services
        .contacts
        .save_segment(
            &Caller::System,
            None,
            SegmentDefinition {
                name: "All".into(),
                match_all: true,
                conditions: Vec::new(),
            },
        )
        .await
        .unwrap();
    let campaigns = state.services.campaigns.clone();
    let id = campaigns
        .save(
            &Caller::System,
            None,
            CampaignDraft {
                name: "Benchmark".into(),
                connection_id: connection,
                segment_id: Some(segment.to_string()),
                template_id: template.to_string(),
                bindings: vec![VariableBinding {
                    slot: Slot::Body { name: "1".into() },
                    source: BindingSource::FirstName,
                    fallback: "there".into(),
                }],
                ..CampaignDraft::default()
            },
        )
        .await
        .unwrap();

    eprintln!("sending… ({:.0} MB resident)", rss_mb());
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    campaigns.launch(&Caller::System, id).await.unwrap();
    let mut first_send: Option<Instant> = None;
    let mut said_at = Instant::now();
    let counts = loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let view = campaigns.progress(&Caller::System, id).await.unwrap();
        if first_send.is_none() && view.counts.accepted() > 0 {
            first_send = Some(Instant::now());
        }
        // Done, or done for today: with status webhooks on, the sandbox defers every number
        // ending in 049 by 24 hours (131049) as Meta does some, and the campaign rightly waits
        // for them with nothing in flight.
        let deferred_only = view.waiting.is_some() && view.counts.sending == 0;
        if view.status == "completed" || deferred_only {
            break view.counts;
        }
        // A campaign that stalls says where, instead of a silent bench.
        if said_at.elapsed() >= Duration::from_secs(5) {
            said_at = Instant::now();
            eprintln!(
                "{:>5.0} s: {} — {:?}, {:.0} MB resident",
                started.elapsed().as_secs_f64(),
                view.status,
                view.counts,
                rss_mb()
            );
            assert!(
                started.elapsed() < Duration::from_secs(600),
                "the campaign did not complete in 10 minutes"
            );
        }
    };
    let total = started.elapsed();
    let sending = first_send.map_or(total, |t| t.elapsed());
    // With statuses on, Meta's reports trail the last send: the run counts until the sandbox
    // has posted them all and Herald's worker has applied them.
    let reported = if statuses {
        while state.sandbox.statuses_to_play() > 0
            || state.webhooks.inbox.pending(1).is_ok_and(|p| !p.is_empty())
        {
            tokio::time::sleep(Duration::from_millis(200)).await;
            assert!(
                started.elapsed() < Duration::from_secs(1_200),
                "the status webhooks were not all applied in 20 minutes"
            );
        }
        Some(started.elapsed())
    } else {
        None
    };
    let cpu = cpu_seconds() - cpu_before;
    #[allow(clippy::cast_precision_loss)]
    let accepted = counts.accepted() as f64;
    let report = format!(
        "# Campaign engine benchmark\n\n\
         {recipients} recipients, sandbox in the same process, throttling lifted, status webhooks {}.\n\n\
         | figure | value |\n|---|---|\n\
         | accepted sends (when sending ended) | {} |\n\
         | held back 24 h by WhatsApp (131049) when sending ended | {} |\n\
         | launch to done (incl. audience snapshot) | {:.1} s |\n\
         | sending time (first accepted to done) | {:.1} s |\n\
         | **sends per second** | **{:.0}** |\n\
         | every status webhook applied | {} |\n\
         | CPU per 1,000 sends (engine + sandbox, statuses included) | {:.3} s |\n\
         | peak RSS | {:.0} MB |\n",
        if statuses { "on" } else { "held back" },
        counts.accepted(),
        counts.pending,
        total.as_secs_f64(),
        sending.as_secs_f64(),
        accepted / sending.as_secs_f64(),
        reported.map_or_else(|| "—".to_string(), |t| format!("{:.1} s after launch", t.as_secs_f64())),
        cpu / accepted * 1000.0,
        peak_rss_mb(),
    );
    println!("{report}");
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-reports");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("campaign.md"), report).unwrap();
    drop(campaigns);
    drop(templates);
    let _ = stop_tx.send(());
    let _ = tokio::time::timeout(Duration::from_secs(30), server).await;
}
