//! Webhook intake benchmark: verified, durably stored and acknowledged payloads per second, and
//! acknowledgement latency (p50/p99), for a single-status payload and a 1000-status batch.
//!
//! Runs the real server on a random port with a temporary data directory and posts signed
//! payloads over HTTP with a fixed number of concurrent senders, as Meta does. The background
//! worker applies them meanwhile, as in production.
//!
//! `cargo bench -p server --bench intake` (add `-- --quick` for a short run). The report is
//! printed and written to `target/bench-reports/intake.md`.
#![allow(
    clippy::unwrap_used,
    reason = "a benchmark that cannot set up should stop"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use server::config::Config;
use server::startup::Application;
use server::storage::connections::{Connection, ConnectionKind, ConnectionSecrets};
use server::whatsapp::signature;
use uuid::Uuid;

const APP_SECRET: &str = "bench-app-secret";

fn statuses(count: usize, round: usize) -> Vec<u8> {
    let items: Vec<_> = (0..count)
        .map(|i| {
            json!({"id": format!("wamid.bench.{round}.{i}"), "status": "delivered",
                   "timestamp": "1750030073", "recipient_id": format!("1555{i:07}"),
                   "pricing": {"billable": true, "pricing_model": "PMP", "type": "regular", "category": "marketing"}})
        })
        .collect();
    json!({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550100000", "phone_number_id": "106540352242922"},
        "statuses": items}}]}]})
    .to_string()
    .into_bytes()
}

struct Figures {
    payloads: usize,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
}

async fn run(
    base: &str,
    connection: Uuid,
    statuses_per_payload: usize,
    payloads: usize,
    senders: usize,
) -> Figures {
    let client = reqwest::Client::new();
    let url = Arc::new(format!("{base}/webhooks/whatsapp/{connection}"));
    let bodies: Arc<Vec<(Vec<u8>, String)>> = Arc::new(
        (0..payloads)
            .map(|round| {
                let body = statuses(statuses_per_payload, round);
                let signature = signature::sign(APP_SECRET.as_bytes(), &body);
                (body, signature)
            })
            .collect(),
    );
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..senders {
        let (client, url, bodies, next) =
            (client.clone(), url.clone(), bodies.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some((body, signature)) = bodies.get(i) else {
                    break;
                };
                let sent = Instant::now();
                let response = client
                    .post(url.as_str())
                    .header(signature::HEADER, signature)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                assert!(response.status().is_success(), "{}", response.status());
                latencies.push(sent.elapsed());
            }
            latencies
        }));
    }
    let mut latencies: Vec<Duration> = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let pct = |p: f64| {
        latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)].as_secs_f64()
            * 1000.0
    };
    Figures {
        payloads,
        seconds,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
    }
}

#[tokio::main]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let temp = tempfile::tempdir().unwrap();
    let app = Application::build(Config::for_data_dir(temp.path()))
        .await
        .unwrap();
    let base = format!("http://{}", app.local_addr().unwrap());
    let connection = Connection {
        id: Uuid::now_v7(),
        name: "Bench".into(),
        kind: ConnectionKind::CloudApi,
        base_url: "https://graph.facebook.com".into(),
        api_version: Some("v23.0".into()),
        waba_id: Some("102290129340398".into()),
        phone_number_id: Some("106540352242922".into()),
        secrets: ConnectionSecrets {
            app_secret: Some(APP_SECRET.into()),
            ..Default::default()
        },
        created_at_ms: 0,
        sandbox: None,
    };
    app.state().webhooks.connections.save(&connection).unwrap();
    let inbox = app.state().webhooks.inbox.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    let senders = 16;
    let (single_n, batch_n) = if quick { (500, 20) } else { (5_000, 200) };
    // Warm-up (connection pool, sled caches).
    run(&base, connection.id, 1, 100, senders).await;
    let single = run(&base, connection.id, 1, single_n, senders).await;
    let batch = run(&base, connection.id, 1000, batch_n, senders).await;
    // The worker applies in the background; time how long the backlog takes to drain.
    let draining = Instant::now();
    while !inbox.pending(1).unwrap().is_empty() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let drained_s = batch.seconds + draining.elapsed().as_secs_f64();
    let applied_per_s = (batch_n * 1000) as f64 / drained_s;
    let _ = stop.send(());
    server.await.unwrap().unwrap();

    let line = |name: &str, f: &Figures, statuses: usize| {
        format!(
            "| {name} | {} | {:.0} | {:.0} | {:.2} | {:.2} |",
            f.payloads,
            f.payloads as f64 / f.seconds,
            (f.payloads * statuses) as f64 / f.seconds,
            f.p50_ms,
            f.p99_ms
        )
    };
    let report = format!(
        "# Webhook intake benchmark\n\n{senders} concurrent senders, signature verified, stored and flushed before each 200.\n\n\
         | payload | posted | payloads/s | statuses/s | ack p50 ms | ack p99 ms |\n|---|---|---|---|---|---|\n{}\n{}\n",
        line("1 status", &single, 1),
        line("1000 statuses (≈150 KB)", &batch, 1000),
    );
    let report = format!(
        "{report}\nThe worker applied the batch run's statuses (merged into delivery records) at \
         about {applied_per_s:.0} statuses/s, measured until the inbox was empty.\n"
    );
    println!("{report}");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-reports");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("intake.md"), report).unwrap();
}
