//! Exactly-once under `kill -9`: a 2,000-recipient sandbox campaign is killed at random moments
//! ten times and restarted each time, at 50 and at 1,000 messages per second. The sandbox's own
//! log of received sends (flushed before it answers) is the ground truth: no number may appear
//! twice, Herald's report must agree with it, recipients claimed but never sent are sent after
//! the restart without anyone's action, and only the requests in flight at a kill may be left
//! *unknown* — never resent on its own — until a person resends them, after which everyone
//! eligible has exactly one message. Every accepted message must also end with its delivery
//! reports applied. `HERALD_CRASH_LOG=<file>` appends the children's logs to a file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use domain::campaign::lifecycle::CampaignCommand;
use domain::campaign::{BindingSource, CampaignDraft, RecipientState, Slot, VariableBinding};
use domain::contacts::segment::SegmentDefinition;
use rand::Rng;
use server::config::Config;
use server::storage::campaigns::CampaignStore;
use server::storage::connections::SandboxProfile;
use server::storage::sandbox::SandboxStore;
use server::storage::Store;

use crate::campaigns::approved_template;
use crate::helpers::{owner, typed, TestApp, OWNER, PASSWORD};
use crate::process::{free_port, wait_healthy};

const BIN: &str = env!("CARGO_BIN_EXE_herald");
const RECIPIENTS: usize = 2_000;
const KILLS: usize = 10;

/// Unknowns one kill may leave: the requests in flight (rate × a round trip of the disk sync
/// before each send and the loopback request), with room for a slow CI disk.
fn in_flight_bound(rate: u32) -> usize {
    usize::try_from(rate / 10).unwrap_or(usize::MAX).max(8)
}

fn start(data_dir: &Path, port: u16) -> Child {
    Command::new(BIN)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("HERALD_DATA_DIR", data_dir)
        .env("HERALD_LOG", "warn")
        .env("HERALD_UNKNOWN_AFTER_SECS", "3")
        .stderr(Stdio::null())
        .stdout(match std::env::var("HERALD_CRASH_LOG") {
            Ok(path) => std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_or_else(|_| Stdio::null(), Stdio::from),
            Err(_) => Stdio::null(),
        })
        .spawn()
        .expect("herald starts")
}

fn kill(child: &mut Child, signal: &str) {
    let _ = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "herald did not stop");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Builds the campaign in-process (contacts, approved template, segment, launch) and stops.
async fn prepare(dir: &Path, rate: u32) -> String {
    let mut config = Config::for_data_dir(dir);
    config.unknown_after_secs = 3;
    let app = TestApp::spawn_with(config).await;
    app.set_up_owner().await;
    app.log_in(OWNER, PASSWORD).await;
    let mut connection = app.sandbox_connection();
    *connection.sandbox.as_mut().unwrap() = SandboxProfile {
        review_delay_ms: 0,
        status_delay_ms: 10,
        messages_per_second: rate * 2,
        messaging_limit: "TIER_10K".into(),
        read_per_mille: 300,
        ..SandboxProfile::default()
    };
    app.state.webhooks.connections.save(&connection).unwrap();
    let connection = connection.id.to_string();
    let mut csv = String::from("phone,first_name\n");
    for i in 0..RECIPIENTS {
        // Ending in 7: clear of the sandbox's failure suffixes (404, 050, 049).
        csv.push_str(&format!("+905320{i:05}7,User{i}\n"));
    }
    crate::contacts::import(&app, "crowd.csv", &csv).await;
    let template = approved_template(
        &app,
        &connection,
        serde_json::json!({
            "name": "crowd_notice", "language": "en_US", "category": "MARKETING",
            "components": [{"type": "BODY", "text": "Hello {{1}}, our new season starts today.",
                "example": {"body_text": [["Ayşe"]]}}]}),
    )
    .await;
    let segment = app
        .state
        .services
        .contacts
        .save_segment(
            &owner(),
            None,
            SegmentDefinition {
                name: "All".into(),
                match_all: true,
                conditions: Vec::new(),
            },
        )
        .await
        .unwrap();
    let campaigns = app.state.services.campaigns.clone();
    campaigns
        .set_limits(&owner(), typed(&connection), rate, String::new())
        .await
        .unwrap();
    let id = campaigns
        .save(
            &owner(),
            None,
            CampaignDraft {
                name: "Crash test".into(),
                connection_id: connection,
                segment_id: Some(segment.to_string()),
                template_id: template,
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
    // Launched right before the process stops: the first real run happens in the binary.
    campaigns.launch(&owner(), id).await.unwrap();
    drop(campaigns);
    app.stop().await;
    id.to_string()
}

/// Reads the store of a stopped Herald: (accepted sends per number, recipient states).
fn read_back(
    dir: &Path,
    campaign: &str,
) -> (
    BTreeMap<String, usize>,
    BTreeMap<String, RecipientState>,
    String,
) {
    let store = Store::open(dir).unwrap();
    let mut sends = BTreeMap::new();
    for entry in SandboxStore::open(&store).unwrap().sends() {
        let (_, send) = entry.unwrap();
        if send.refused.is_none() {
            *sends.entry(format!("+{}", send.wa_id)).or_insert(0) += 1;
        }
    }
    let campaigns = CampaignStore::open(&store).unwrap();
    let id = campaign.parse().unwrap();
    let states = campaigns
        .recipients(&id)
        .map(|e| e.map(|(phone, r)| (phone, r.state)).unwrap())
        .collect();
    let status = campaigns
        .get(&id)
        .unwrap()
        .unwrap()
        .status
        .name()
        .to_string();
    (sends, states, status)
}

/// Runs Herald until the campaign is finished (stopping it gracefully to look), the first run
/// long enough for what is left at `rate`.
async fn run_to_completion(
    dir: &Path,
    campaign: &str,
    rate: u32,
) -> (BTreeMap<String, usize>, BTreeMap<String, RecipientState>) {
    let (sends, _, _) = read_back(dir, campaign);
    let left = u64::try_from(RECIPIENTS.saturating_sub(sends.len())).unwrap_or(0);
    let mut run = Duration::from_secs(4 + left / u64::from(rate));
    for _ in 0..30 {
        let port = free_port();
        let mut herald = start(dir, port);
        wait_healthy(port).await;
        tokio::time::sleep(run).await;
        run = Duration::from_secs(4);
        kill(&mut herald, "-TERM");
        let (sends, states, status) = read_back(dir, campaign);
        let mut tally: BTreeMap<&str, usize> = BTreeMap::new();
        for state in states.values() {
            *tally.entry(state.name()).or_default() += 1;
        }
        println!(
            "after a run: {status} {tally:?}, {} numbers received",
            sends.len()
        );
        let reports_left = SandboxStore::open(&Store::open(dir).unwrap())
            .unwrap()
            .unplayed_count();
        // Finished, and every accepted message has had its delivery reports.
        if status == "completed" && states.values().all(|s| !s.is_open()) && reports_left == 0 {
            return (sends, states);
        }
    }
    panic!("the campaign did not complete");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_50_mps_strands_nobody_and_never_sends_twice() {
    survives_kills(50, 200..1_500).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_1000_mps_strands_nobody_and_never_sends_twice() {
    // 2,000 sends take two seconds at this pace: kills come quickly to land mid-campaign.
    survives_kills(1_000, 50..400).await;
}

/// Recipients left `sending` (or already turned unknown) that the sandbox never received: what
/// kills so far left for a person to resend. Claimed ones are not counted: a restart sends them.
fn stranded(dir: &Path, campaign: &str) -> usize {
    let (sends, states, _) = read_back(dir, campaign);
    states
        .iter()
        .filter(|(phone, state)| {
            matches!(
                state,
                RecipientState::Sending | RecipientState::Unknown { .. }
            ) && !sends.contains_key(*phone)
        })
        .count()
}

/// Prints, for each number Herald and the sandbox disagree on, both sides' records: what a
/// failure needs to be understood from CI's log alone.
fn explain_disagreement(
    dir: &Path,
    campaign: &str,
    reached: &BTreeSet<&String>,
    received: &BTreeSet<&String>,
) {
    let store = Store::open(dir).unwrap();
    let campaigns = CampaignStore::open(&store).unwrap();
    let id = campaign.parse().unwrap();
    for phone in reached.symmetric_difference(received) {
        let recipient = campaigns.recipient(&id, phone).unwrap();
        let logged: Vec<_> = SandboxStore::open(&store)
            .unwrap()
            .sends()
            .filter_map(Result::ok)
            .filter(|(_, s)| format!("+{}", s.wa_id) == **phone)
            .collect();
        println!("disagreement on {phone}: Herald {recipient:?}; sandbox {logged:?}");
    }
}

async fn survives_kills(rate: u32, kill_after_ms: std::ops::Range<u64>) {
    // A busy child process: nothing timing-sensitive runs beside it.
    let _heavy = crate::helpers::TIMING_SENSITIVE.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let campaign = prepare(dir.path(), rate).await;
    let mut rng = rand::rng();
    let mut per_kill = Vec::with_capacity(KILLS);
    for _ in 0..KILLS {
        let before = stranded(dir.path(), &campaign);
        let port = free_port();
        let mut herald = start(dir.path(), port);
        wait_healthy(port).await;
        tokio::time::sleep(Duration::from_millis(
            rng.random_range(kill_after_ms.clone()),
        ))
        .await;
        kill(&mut herald, "-KILL");
        per_kill.push(stranded(dir.path(), &campaign).saturating_sub(before));
    }
    println!("at {rate} mps, sends left unknown by each kill: {per_kill:?}");
    let history = {
        let store = Store::open(dir.path()).unwrap();
        let record = CampaignStore::open(&store)
            .unwrap()
            .get(&campaign.parse().unwrap())
            .unwrap()
            .unwrap();
        record.history
    };
    assert!(
        history
            .iter()
            .any(|e| e.what.starts_with("Herald restarted while sending")),
        "the history says a restart interrupted the sending"
    );
    assert!(
        per_kill.iter().all(|n| *n <= in_flight_bound(rate)),
        "a kill left more than the requests in flight unknown: {per_kill:?}"
    );
    let (sends, states) = run_to_completion(dir.path(), &campaign, rate).await;

    assert_eq!(states.len(), RECIPIENTS);
    assert!(
        states.values().all(|s| !matches!(
            s,
            RecipientState::Skipped { .. } | RecipientState::Failed { .. }
        )),
        "every contact is eligible and deliverable"
    );
    assert!(
        sends.values().all(|n| *n == 1),
        "someone was messaged twice"
    );
    assert!(
        !states.values().any(|s| *s == RecipientState::Sent),
        "every delivery report the sandbox played reached its recipient"
    );
    let reached: BTreeSet<&String> = states
        .iter()
        .filter(|(_, s)| {
            matches!(
                s,
                RecipientState::Sent
                    | RecipientState::Delivered
                    | RecipientState::Read
                    | RecipientState::Replied
            )
        })
        .map(|(p, _)| p)
        .collect();
    let unknown: BTreeSet<&String> = states
        .iter()
        .filter(|(_, s)| matches!(s, RecipientState::Unknown { .. }))
        .map(|(p, _)| p)
        .collect();
    let received: BTreeSet<&String> = sends.keys().collect();
    // Herald's report agrees with the sandbox: what it calls sent was received, and what it
    // cannot account for was not.
    if reached != received {
        explain_disagreement(dir.path(), &campaign, &reached, &received);
    }
    assert_eq!(
        reached, received,
        "Herald's report disagrees with the sandbox's log"
    );
    assert_eq!(
        reached.len() + unknown.len(),
        RECIPIENTS,
        "someone was forgotten"
    );

    // One explicit action resends the unknown ones; then everyone has exactly one message.
    if !unknown.is_empty() {
        let mut config = Config::for_data_dir(dir.path());
        config.unknown_after_secs = 3;
        let app = TestApp::spawn_with(config).await;
        let message = app
            .state
            .services
            .campaigns
            .act(&owner(), typed(&campaign), CampaignCommand::ResendUnknown)
            .await
            .unwrap();
        assert!(message.starts_with(&unknown.len().to_string()), "{message}");
        app.stop().await;
        let (sends, states) = run_to_completion(dir.path(), &campaign, rate).await;
        assert_eq!(sends.len(), RECIPIENTS);
        assert!(
            sends.values().all(|n| *n == 1),
            "a resend reached someone twice"
        );
        assert!(states
            .values()
            .all(|s| !matches!(s, RecipientState::Unknown { .. })));
    }
    println!(
        "at {rate} mps, unknown after {KILLS} kills: {}",
        unknown.len()
    );
    assert!(
        unknown.len() <= per_kill.iter().sum::<usize>(),
        "only sends cut off by a kill may be unknown"
    );
}
