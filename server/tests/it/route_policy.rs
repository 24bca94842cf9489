//! The route policy walked with every path-spelling trick: for every route Herald serves and every
//! path anyone may open, no spelling reaches a protected page, file or server function without a
//! session. Requests go over raw TCP, because HTTP clients (reqwest included) normalise dot
//! segments before sending — exactly what an attacker's client does not do.

use std::time::Duration;

use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use server::http::access;

use crate::helpers::TestApp;

/// What every protected answer in this file must not contain.
const SECRET_NAME: &str = "Zümrüt Gizli";

/// One request as bytes on the wire; returns the status code and the whole answer.
pub async fn raw_request(base: &str, method: &str, path: &str, extra: &str) -> (u16, String) {
    let address = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.expect("connect");
    let request =
        format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n{extra}\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer))
        .await
        .expect("an answer within 30 s")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

/// Every path Herald routes, with sample values for its parameters: the pages (from the Leptos
/// route table itself), the server functions (from their registry) and the plain handlers.
fn every_route(contact: &str, campaign: &str) -> Vec<(String, &'static str)> {
    let fill = |path: &str| {
        path.replace(":phone", contact)
            .replace("{phone}", contact)
            .replace(":id", campaign)
            .replace("{id}", campaign)
    };
    let mut routes: Vec<(String, &'static str)> = leptos_axum::generate_route_list(app::App)
        .iter()
        .map(|r| (fill(r.path()), "GET"))
        .collect();
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        let method = if method == axum::http::Method::GET {
            "GET"
        } else {
            "POST"
        };
        routes.push((path.to_string(), method));
    }
    for path in [
        "/contacts/imports/upload",
        "/contacts/imports/{id}/report.csv",
        "/contacts/export.csv",
        "/contacts/template.csv",
        "/contacts/template.xlsx",
        "/campaigns/{id}/events",
        "/campaigns/{id}/chart.svg",
        "/campaigns/{id}/recipients.csv",
        "/conversations/media/{id}/1234567890",
    ] {
        routes.push((fill(path), "GET"));
    }
    routes.sort();
    routes.dedup();
    routes
}

/// The paths that are open to everyone (and so the places a traversal would start from).
const OPEN_PREFIXES: &[&str] = &[
    "/webhooks",
    "/webhooks/whatsapp",
    "/webhooks/whatsapp/x",
    "/assets",
    "/assets/herald.css",
    "/sandbox",
    "/sandbox/v23.0",
    "/healthz",
    "/metrics",
    "/login",
    "/setup",
    "/auth",
];

/// Spellings of `{prefix}` + a way up + `{route}` (the route without its leading `/`).
fn tricks(prefix: &str, route: &str) -> Vec<String> {
    let upper = prefix.to_uppercase();
    [
        format!("{prefix}/../{route}"),
        format!("{prefix}/./../{route}"),
        format!("{prefix}/%2e%2e/{route}"),
        format!("{prefix}/%2E%2E/{route}"),
        format!("{prefix}/.%2e/{route}"),
        format!("{prefix}/%2e./{route}"),
        format!("{prefix}/%252e%252e/{route}"),
        format!("{prefix}/%25252e%25252e/{route}"),
        format!("{prefix}/..%2f{route}"),
        format!("{prefix}/..%2F{route}"),
        format!("{prefix}/%2e%2e%2f{route}"),
        format!("{prefix}/..%5c{route}"),
        format!("{prefix}/..\\{route}"),
        format!("{prefix}/..%255c{route}"),
        format!("{prefix}//../{route}"),
        format!("{prefix}/x/../../{route}"),
        format!("{prefix}/..;/{route}"),
        format!("{upper}/../{route}"),
        format!("{prefix}%2f..%2f{route}"),
        format!("/{route}"),
        format!("//{route}"),
        format!("/./{route}"),
        format!("/%2e/{route}"),
        format!("/{}", route.to_uppercase()),
        format!("/{}", encode_first_letter(route)),
        format!("/{}", encode_first_letter(route).replace('%', "%25")),
    ]
    .to_vec()
}

/// `contacts` → `%63ontacts`: the same path to a decoder, a different one to a prefix match.
fn encode_first_letter(route: &str) -> String {
    let mut chars = route.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() => format!("%{:02x}{}", c as u32, chars.as_str()),
        _ => route.to_string(),
    }
}

/// Whether an anonymous answer gave nothing away: refused, not found, or sent to sign in.
fn refused(status: u16, answer: &str) -> bool {
    let to_sign_in = (300..400).contains(&status)
        && answer.lines().any(|l| {
            let l = l.to_ascii_lowercase();
            l.starts_with("location: /login") || l.starts_with("location: /setup")
        });
    let refusal = matches!(status, 400 | 401 | 403 | 404 | 405 | 413 | 415 | 422);
    (to_sign_in || refusal) && !answer.contains(SECRET_NAME) && !answer.contains("+905321234567")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_spelling_of_any_route_reaches_protected_data_without_a_session() {
    let _heavy = crate::helpers::TIMING_SENSITIVE.lock().await;
    let app = TestApp::signed_in().await;
    let contacts = &app.state.services.contacts;
    contacts
        .save(
            &crate::helpers::owner(),
            false,
            app::api::contacts::ContactEdit {
                phone: "+905321234567".into(),
                first_name: SECRET_NAME.into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // The signed-in owner sees the name: the pages under test do show it.
    let page = app.get("/contacts").await.text().await.unwrap();
    assert!(page.contains(SECRET_NAME));

    let routes = every_route("%2B905321234567", &uuid::Uuid::now_v7().to_string());
    assert!(
        routes.len() > 60,
        "the route list is complete: {}",
        routes.len()
    );
    let mut requests = Vec::new();
    for (route, method) in &routes {
        let bare = route.trim_start_matches('/');
        requests.push((route.clone(), *method));
        for prefix in OPEN_PREFIXES {
            for spelled in tricks(prefix, bare) {
                requests.push((spelled, *method));
            }
        }
    }
    // Paths the policy opens on purpose (the sign-in page itself, say) answer anyone.
    requests.retain(|(path, _)| {
        access::check_canonical(path).is_err() || access::access(path) == access::Access::Protected
    });
    requests.sort();
    requests.dedup();
    let base = app.base.clone();
    let leaks: Vec<String> = futures_util::stream::iter(requests.clone())
        .map(|(path, method)| {
            let base = base.clone();
            async move {
                let extra = if method == "POST" {
                    "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 0\r\n"
                } else {
                    ""
                };
                let (status, answer) = raw_request(&base, method, &path, extra).await;
                (!refused(status, &answer)).then(|| format!("{method} {path} → {status}"))
            }
        })
        .buffer_unordered(16)
        .filter_map(|leak| async move { leak })
        .collect()
        .await;
    assert!(
        leaks.is_empty(),
        "{} of {} anonymous requests were not refused:\n{}",
        leaks.len(),
        requests.len(),
        leaks.join("\n")
    );
}

#[tokio::test]
async fn the_audited_traversal_is_refused_and_plain_open_paths_still_work() {
    let app = TestApp::signed_in().await;
    let (status, answer) = raw_request(&app.base, "GET", "/webhooks/%2e%2e/contacts", "").await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("cannot be served"), "{answer}");
    let (status, _) = raw_request(&app.base, "GET", "/healthz", "").await;
    assert_eq!(status, 200);
    // The sandbox's Graph API stays open to its bearer token (it answers 401 without one).
    let (status, _) = raw_request(&app.base, "GET", "/sandbox/v23.0/me", "").await;
    assert_ne!(status, 400);
    // Anonymous page views still go to sign-in with where they were going.
    let (status, answer) = raw_request(&app.base, "GET", "/contacts", "").await;
    assert_eq!(status, 303, "{answer}");
    assert!(
        answer.contains("location: /login?next=%2Fcontacts"),
        "{answer}"
    );
}
