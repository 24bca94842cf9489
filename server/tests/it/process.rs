//! The `herald` binary as an operator runs it: configuration errors, signals, and logs.

use std::io::Read;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{OWNER, PASSWORD};

const BIN: &str = env!("CARGO_BIN_EXE_herald");

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(data_dir: &std::path::Path, port: u16, log: &str) -> Child {
    Command::new(BIN)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("HERALD_DATA_DIR", data_dir)
        .env("HERALD_LOG", log)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("herald starts")
}

pub async fn wait_healthy(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(r) = reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await {
            if r.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("herald did not become healthy");
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "herald ignored SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn output(child: &mut Child) -> String {
    let mut text = String::new();
    if let Some(mut out) = child.stdout.take() {
        out.read_to_string(&mut text).unwrap();
    }
    if let Some(mut err) = child.stderr.take() {
        err.read_to_string(&mut text).unwrap();
    }
    text
}

/// Cookie jar-free client for the subprocess: setup and sign-in, returning the session token.
async fn set_up_and_sign_in(port: u16) -> (String, String) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let page = client.get(format!("{base}/setup")).send().await.unwrap();
    let csrf = page.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let token = csrf.trim_start_matches("herald_csrf=").to_string();
    let post = |path: &'static str, body: String| {
        client
            .post(format!("{base}{path}"))
            .header("cookie", csrf.clone())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let password = PASSWORD.replace(' ', "+");
    post(
        "/auth/setup",
        format!(
            "username={OWNER}&password={password}&password_confirm={password}&csrf_token={token}"
        ),
    )
    .await
    .unwrap();
    let login = post(
        "/auth/login",
        format!("username={OWNER}&password={password}&csrf_token={token}"),
    )
    .await
    .unwrap();
    let session = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|c| c.starts_with("herald_session="))
        .expect("signed in");
    (
        session.trim_start_matches("herald_session=").to_string(),
        token,
    )
}

#[test]
fn a_bad_setting_stops_start_up_with_one_line_naming_it() {
    let out = Command::new(BIN)
        .env("HERALD_LISTEN", "not-an-address")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("`listen`") && stderr.contains("HERALD_LISTEN"),
        "{stderr}"
    );
}

#[test]
fn help_documents_every_setting_with_its_environment_variable() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for (flag, env) in [
        ("--listen", "HERALD_LISTEN"),
        ("--data-dir", "HERALD_DATA_DIR"),
        ("--config", "HERALD_CONFIG"),
        ("--log-format", "HERALD_LOG_FORMAT"),
        ("--log-level", "HERALD_LOG"),
        ("--public-url", "HERALD_PUBLIC_URL"),
        ("--metrics-token", "HERALD_METRICS_TOKEN"),
    ] {
        assert!(
            help.contains(flag) && help.contains(env),
            "--help lacks {flag} / {env}:\n{help}"
        );
    }
}

#[tokio::test]
async fn sigterm_stops_gracefully_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut herald = start(dir.path(), port, "info");
    wait_healthy(port).await;
    let (session, csrf) = set_up_and_sign_in(port).await;
    let status = terminate(&mut herald);
    assert!(status.success(), "exit status {status}");
    assert!(output(&mut herald).contains("storage flushed"));

    let mut again = start(dir.path(), port, "info");
    wait_healthy(port).await;
    let page = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("http://127.0.0.1:{port}/"))
        .header(
            "cookie",
            format!("herald_session={session}; herald_csrf={csrf}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        page.status(),
        200,
        "the session did not survive the restart"
    );
    terminate(&mut again);
}

#[tokio::test]
async fn passwords_and_tokens_never_reach_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut herald = start(dir.path(), port, "debug");
    wait_healthy(port).await;
    let (session, csrf) = set_up_and_sign_in(port).await;
    terminate(&mut herald);
    let log = output(&mut herald);
    assert!(
        log.contains("signed in"),
        "the log is not being captured:\n{log}"
    );
    for secret in [
        PASSWORD,
        PASSWORD.replace(' ', "+").as_str(),
        &session,
        &csrf,
    ] {
        assert!(!log.contains(secret), "log contains a secret: {secret}");
    }
}

#[tokio::test]
async fn json_logs_are_one_object_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut herald = Command::new(BIN)
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--log-format",
            "json",
        ])
        .env("HERALD_DATA_DIR", dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_healthy(port).await;
    terminate(&mut herald);
    let log = output(&mut herald);
    assert!(log.lines().count() >= 2, "{log}");
    for line in log.lines() {
        let value: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        assert!(value.get("level").is_some(), "{line}");
    }
}
