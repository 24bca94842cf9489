//! Inbox benchmark: 100,000 conversations holding 1,000,000 messages (override with
//! `HERALD_BENCH_CONVERSATIONS` and `HERALD_BENCH_MESSAGES_PER`), written into a temporary data
//! directory through the real conversation store, then read by the real service of a running
//! Herald: the inbox's first page (the default "open" tab), searches by number and by message
//! words that must look past the first page and a thread opened at random, each timed over many calls. Then an open
//! server-sent-events client of `/conversations/events`, signed in as a user would be, while
//! simulated customers write at 200 messages a second through the real webhook intake and worker
//! (`HERALD_BENCH_INBOUND_PER_SECOND`, for 10 s): the time from each webhook's post to its
//! conversation's event on the stream.
//!
//! `cargo bench -p server --bench inbox`. The report (median and 99th percentile of each) is
//! printed and written to `target/bench-reports/inbox.md`.
#![allow(
    clippy::unwrap_used,
    reason = "a benchmark that cannot set up should stop"
)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use domain::access::{Caller, Role};
use domain::conversation::body::Body;
use domain::conversation::filter::{InboxFilter, InboxView};
use domain::conversation::Direction;
use server::config::Config;
use server::storage::connections::ConnectionKind;
use server::storage::conversations::{ConversationStore, EntryRef, NewEntry, ThreadEntry};
use server::storage::Store;
use server::whatsapp::sandbox::SimulatedInbound;
use server::Application;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Median and 99th percentile in milliseconds.
fn percentiles(mut samples: Vec<f64>) -> (f64, f64) {
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| {
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let index = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples[index]
    };
    (at(0.5), at(0.99))
}

fn wa_id(n: usize) -> String {
    format!("90532{n:07}")
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let conversations = env_number("HERALD_BENCH_CONVERSATIONS", 100_000);
    let per = env_number("HERALD_BENCH_MESSAGES_PER", 10);
    let rate = env_number("HERALD_BENCH_INBOUND_PER_SECOND", 200);
    let dir = tempfile::tempdir().unwrap();

    // Start once so the sandbox connection exists, and learn its id.
    let mut config = Config::for_data_dir(dir.path());
    config.log_level = "warn".into();
    let connection = {
        let app = Application::build(config.clone()).await.unwrap();
        let id = app
            .state()
            .webhooks
            .connections
            .list()
            .unwrap()
            .into_iter()
            .find(|c| c.kind == ConnectionKind::Sandbox)
            .unwrap()
            .id;
        drop(app);
        id
    };

    // Fill the store directly: what a year of a busy inbox leaves.
    let filled = Instant::now();
    {
        let store = Store::open(dir.path()).unwrap();
        let threads = ConversationStore::open(&store).unwrap();
        let start_ms = chrono::Utc::now().timestamp_millis() - 365 * 86_400_000;
        for n in 0..conversations {
            let user = wa_id(n);
            for m in 0..per {
                let inbound = m % 2 == 0;
                let at_ms = start_ms + i64::try_from(n * per + m).unwrap() * 30_000;
                let text = format!("Message {m} about order {n}: is it on its way?");
                threads
                    .record(&NewEntry {
                        connection_id: connection,
                        wa_id: &user,
                        profile_name: Some("Bench customer"),
                        known_as: None,
                        entry: ThreadEntry {
                            at_ms,
                            direction: if inbound {
                                Direction::Inbound
                            } else {
                                Direction::Note
                            },
                            body: Body::Text { text },
                            reference: if inbound {
                                EntryRef::Inbound {
                                    wamid: format!("wamid.bench.{n}.{m}"),
                                }
                            } else {
                                EntryRef::Note {
                                    author: "bench".into(),
                                }
                            },
                            context_id: None,
                        },
                        answers: false,
                        answers_campaign: None,
                        now_ms: at_ms,
                    })
                    .unwrap();
            }
        }
        store.flush().await.unwrap();
    }
    let fill_s = filled.elapsed().as_secs_f64();
    println!(
        "filled {conversations} conversations, {} messages in {fill_s:.0} s",
        conversations * per
    );

    let app = Application::build(config).await.unwrap();
    let state = app.state().clone();
    let base = format!("http://{}", app.local_addr().unwrap());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stop_rx.await;
    }));
    let owner = Caller::Member {
        username: "bench-owner".into(),
        role: Role::Owner,
    };
    let inbox = state.services.conversations.clone();

    let mut first_page = Vec::new();
    let mut ids = Vec::new();
    for _ in 0..200 {
        let started = Instant::now();
        let page = inbox
            .inbox(&owner, InboxFilter::default(), None)
            .await
            .unwrap();
        first_page.push(started.elapsed().as_secs_f64() * 1_000.0);
        ids = page.rows.iter().map(|r| r.id.clone()).collect();
    }
    assert_eq!(ids.len(), 50, "a full first page");
    let mut search = Vec::new();
    for n in 0..50 {
        let started = Instant::now();
        let filter = InboxFilter {
            view: InboxView::All,
            search: format!("0532 {:07}", conversations / 2 + n),
            ..InboxFilter::default()
        };
        let page = inbox.inbox(&owner, filter, None).await.unwrap();
        search.push(started.elapsed().as_secs_f64() * 1_000.0);
        assert_eq!(page.rows.len(), 1, "the number is found");
    }
    let mut by_words = Vec::new();
    for n in 0..50 {
        let started = Instant::now();
        let filter = InboxFilter {
            view: InboxView::All,
            search: format!("order {}", conversations / 3 + n),
            ..InboxFilter::default()
        };
        let page = inbox.inbox(&owner, filter, None).await.unwrap();
        by_words.push(started.elapsed().as_secs_f64() * 1_000.0);
        assert!(!page.rows.is_empty(), "the message is found");
    }
    let threads = ConversationStore::open(&state.store).unwrap();
    let mut opened = Vec::new();
    for n in 0..300 {
        let user = wa_id((n * 7_919) % conversations);
        let id = threads.of_user(&connection, &user).unwrap().unwrap();
        let started = Instant::now();
        let view = inbox
            .thread(&owner, id.to_string().parse().unwrap())
            .await
            .unwrap();
        opened.push(started.elapsed().as_secs_f64() * 1_000.0);
        assert_eq!(view.messages.len(), per);
    }

    // A signed-in browser's event stream.
    state
        .accounts
        .create_owner(
            "bench-owner",
            "a long bench password",
            "a long bench password",
        )
        .await
        .unwrap();
    let (_, token) = state
        .accounts
        .login("bench-owner", "a long bench password")
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let mut stream = client
        .get(format!("{base}/conversations/events"))
        .header("cookie", format!("herald_session={}", token.expose()))
        .send()
        .await
        .unwrap();
    assert!(stream.status().is_success(), "{}", stream.status());
    let posted: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let latencies: Arc<Mutex<Vec<f64>>> = Arc::default();
    let reader = {
        let (posted, latencies) = (posted.clone(), latencies.clone());
        tokio::spawn(async move {
            let mut pending = String::new();
            while let Ok(Some(chunk)) = stream.chunk().await {
                pending.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = pending.find("\n\n") {
                    let event: String = pending.drain(..end + 2).collect();
                    let Some(id) = event.lines().find_map(|l| l.strip_prefix("data:")) else {
                        continue;
                    };
                    if let Some(at) = posted.lock().unwrap().remove(id.trim()) {
                        latencies
                            .lock()
                            .unwrap()
                            .push(at.elapsed().as_secs_f64() * 1_000.0);
                    }
                }
            }
        })
    };
    let total = rate * 10;
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    let mut writers = Vec::with_capacity(total);
    for n in 0..total {
        ticker.tick().await;
        let user = wa_id(n % conversations);
        let id = threads.of_user(&connection, &user).unwrap().unwrap();
        let (sandbox, posted) = (state.sandbox.clone(), posted.clone());
        writers.push(tokio::spawn(async move {
            posted
                .lock()
                .unwrap()
                .insert(id.to_string(), Instant::now());
            sandbox
                .simulate_inbound(
                    connection,
                    &format!("+{user}"),
                    SimulatedInbound::Text(format!("Live message {n}")),
                )
                .await
                .unwrap();
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    reader.abort();
    let received = latencies.lock().unwrap().clone();
    let missed = total - received.len();

    let (page_median, page_p99) = percentiles(first_page);
    let (search_median, search_p99) = percentiles(search);
    let (words_median, words_p99) = percentiles(by_words);
    let (thread_median, thread_p99) = percentiles(opened);
    let (live_median, live_p99) = percentiles(received);
    let report = format!(
        "# Inbox benchmark\n\n\
         {conversations} conversations, {} messages (filled in {fill_s:.0} s).\n\n\
         | what | median | p99 |\n|---|---|---|\n\
         | inbox first page (open tab) | {page_median:.1} ms | {page_p99:.1} ms |\n\
         | inbox search by national number | {search_median:.1} ms | {search_p99:.1} ms |\n\
         | inbox search by message words (\"order 33333\") | {words_median:.1} ms | {words_p99:.1} ms |\n\
         | thread open ({per} messages) | {thread_median:.1} ms | {thread_p99:.1} ms |\n\
         | inbound webhook → SSE event at {rate}/s | {live_median:.0} ms | {live_p99:.0} ms |\n\n\
         {total} live messages posted, {missed} events not seen (coalesced or lagged).\n",
        conversations * per
    );
    println!("{report}");
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-reports");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("inbox.md"), report).unwrap();
    let _ = stop_tx.send(());
    let _ = tokio::time::timeout(Duration::from_secs(30), server).await;
}
