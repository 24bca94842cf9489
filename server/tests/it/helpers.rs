//! `TestApp`: a running Herald plus a cookie-keeping HTTP client with methods named after what a
//! user does.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use reqwest::{header, redirect, Response, StatusCode};
use server::config::Config;
use server::Application;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Each section of the navigation (path, label); its page's heading is its label.
pub use app::components::layout::SECTIONS;

/// Held by the tests that measure pacing by the clock and by the tests that load the machine
/// hardest (thousands of requests at once), so the two never overlap: the load would shift the
/// arrival times the former measure.
pub static TIMING_SENSITIVE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub const OWNER: &str = "owner";
pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub base: String,
    /// The running server's state, for setting up what the UI cannot create yet.
    pub state: server::http::AppState,
    /// The webhook worker, to drain the inbox deterministically.
    pub webhook_worker: server::whatsapp::worker::WebhookWorker,
    pub data_dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
    client: reqwest::Client,
    cookies: Mutex<HashMap<String, String>>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    /// A fresh Herald with an empty data directory.
    pub async fn spawn() -> Self {
        let temp = tempfile::tempdir().expect("temp dir");
        let mut app = Self::spawn_with(Config::for_data_dir(temp.path())).await;
        app._temp = Some(temp);
        app
    }

    /// A Herald with the given settings (data directory owned by the caller).
    pub async fn spawn_with(config: Config) -> Self {
        let data_dir = config.data_dir.clone();
        let app = Application::build(config)
            .await
            .expect("application builds");
        let addr: SocketAddr = app.local_addr().expect("bound");
        let state = app.state().clone();
        let webhook_worker = app.webhook_worker();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        Self {
            base: format!("http://{addr}"),
            state,
            webhook_worker,
            data_dir,
            _temp: None,
            client: reqwest::Client::builder()
                .redirect(redirect::Policy::none())
                // A server that never answers fails the test instead of hanging the suite.
                .timeout(std::time::Duration::from_secs(60))
                .build()
                .expect("client"),
            cookies: Mutex::new(HashMap::new()),
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Stops gracefully (as on SIGTERM) and returns the temp dir so a restart can reuse it.
    pub async fn stop(mut self) -> (Option<tempfile::TempDir>, HashMap<String, String>) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await
                .expect("server task")
                .expect("server stopped cleanly");
        }
        let cookies = self.cookies.lock().unwrap().clone();
        (self._temp.take(), cookies)
    }

    /// Restarts on the same data directory, keeping this client's cookies.
    pub async fn restart(self) -> Self {
        let data_dir = self.data_dir.clone();
        let (temp, cookies) = self.stop().await;
        let mut app = Self::spawn_with(Config::for_data_dir(&data_dir)).await;
        app._temp = temp;
        *app.cookies.lock().unwrap() = cookies;
        app
    }

    /// The sandbox connection every new Herald creates on first start.
    pub fn sandbox_connection(&self) -> server::storage::connections::Connection {
        self.state
            .webhooks
            .connections
            .list()
            .unwrap()
            .into_iter()
            .find(|c| c.kind == server::storage::connections::ConnectionKind::Sandbox)
            .expect("a new Herald has a sandbox connection")
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().unwrap().get(name).cloned()
    }

    pub fn forget_cookie(&self, name: &str) {
        self.cookies.lock().unwrap().remove(name);
    }

    fn cookie_header(&self) -> String {
        let cookies = self.cookies.lock().unwrap();
        cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn remember(&self, response: &Response) {
        let mut cookies = self.cookies.lock().unwrap();
        for value in response.headers().get_all(header::SET_COOKIE) {
            let text = value.to_str().unwrap_or_default();
            let pair = text.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                if text.contains("Max-Age=0") {
                    cookies.remove(name);
                } else {
                    cookies.insert(name.to_string(), value.to_string());
                }
            }
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.get_with(path, &[]).await
    }

    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Response {
        let mut request = self
            .client
            .get(format!("{}{path}", self.base))
            .header(header::COOKIE, self.cookie_header());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("GET");
        self.remember(&response);
        response
    }

    /// Posts a form exactly as a browser would, including the page's CSRF token.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        if self.cookie("herald_csrf").is_none() {
            self.get("/login").await;
        }
        let token = self.cookie("herald_csrf").unwrap_or_default();
        let mut all = fields.to_vec();
        all.push(("csrf_token", &token));
        self.post_raw(path, &all, &[]).await
    }

    /// Calls a JSON server function as the pages do: `body` gets this browser's CSRF token, and
    /// the session and CSRF cookies go along.
    pub async fn post_json(&self, path: &str, mut body: serde_json::Value) -> Response {
        if self.cookie("herald_csrf").is_none() {
            self.get("/login").await;
        }
        body["csrf_token"] =
            serde_json::Value::String(self.cookie("herald_csrf").unwrap_or_default());
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header(header::COOKIE, self.cookie_header())
            .header(header::CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("POST");
        self.remember(&response);
        response
    }

    /// Posts raw bytes with the given headers, as Meta's webhook delivery does.
    pub async fn post_bytes(
        &self,
        path: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Response {
        let mut request = self.client.post(format!("{}{path}", self.base)).body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("POST")
    }

    /// Uploads a file as the Contacts import page does: raw body, name and CSRF token in headers.
    pub async fn upload(&self, path: &str, file_name: &str, body: Vec<u8>) -> Response {
        self.upload_typed(path, file_name, None, body).await
    }

    /// [`Self::upload`] with the file's type as `Content-Type`, as browsers send it.
    /// A `DELETE` as the signed-in browser sends it (cookies and the CSRF token).
    pub async fn delete(&self, path: &str) -> Response {
        if self.cookie("herald_csrf").is_none() {
            self.get("/login").await;
        }
        let token = self.cookie("herald_csrf").unwrap_or_default();
        self.client
            .delete(format!("{}{path}", self.base))
            .header(header::COOKIE, self.cookie_header())
            .header("x-csrf-token", token)
            .send()
            .await
            .expect("DELETE")
    }

    pub async fn upload_typed(
        &self,
        path: &str,
        file_name: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Response {
        if self.cookie("herald_csrf").is_none() {
            self.get("/login").await;
        }
        let token = self.cookie("herald_csrf").unwrap_or_default();
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .header(header::COOKIE, self.cookie_header())
            .header("x-csrf-token", token)
            .header("x-file-name", file_name);
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        let response = request.body(body).send().await.expect("POST");
        self.remember(&response);
        response
    }

    /// Posts a form with exactly these fields and headers (no token added).
    pub async fn post_raw(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Response {
        let body = serde_urlencoded(fields);
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .header(header::COOKIE, self.cookie_header())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("POST");
        self.remember(&response);
        response
    }

    pub async fn set_up_owner(&self) -> Response {
        self.post_form(
            "/auth/setup",
            &[
                ("username", OWNER),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await
    }

    pub async fn log_in(&self, username: &str, password: &str) -> Response {
        self.post_form(
            "/auth/login",
            &[("username", username), ("password", password)],
        )
        .await
    }

    /// Setup plus sign-in: the state of a user who just started using Herald.
    pub async fn signed_in() -> Self {
        let app = Self::spawn().await;
        assert_eq!(location(&app.set_up_owner().await), "/login?notice=created");
        let response = app.log_in(OWNER, PASSWORD).await;
        assert_eq!(location(&response), "/");
        app
    }
}

fn serde_urlencoded(fields: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(&urlencode(k));
        out.push('=');
        out.push_str(&urlencode(v));
    }
    out
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The `Location` of a redirect, asserting it is one.
pub fn location(response: &Response) -> String {
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "expected a redirect from {}",
        response.url()
    );
    response
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// A template record as stored, for tests that set up what the UI would have created earlier.
pub fn stored_template(
    connection_id: Option<uuid::Uuid>,
    meta_id: Option<&str>,
    definition: domain::whatsapp::graph::TemplateDefinition,
) -> server::storage::templates::TemplateRecord {
    server::storage::templates::TemplateRecord {
        kind: server::storage::templates::TemplateKind::Approved,
        connection_id,
        definition,
        meta_id: meta_id.map(str::to_string),
        status: None,
        quality: None,
        rejected_reason: None,
        status_detail: None,
        approved_edits_ms: vec![],
        history: vec![],
        created_at_ms: 0,
        updated_at_ms: 0,
        session_media: None,
    }
}

/// The signed-in owner, as the server's session gate names them to every port.
pub fn owner() -> domain::access::Caller {
    domain::access::Caller::Member {
        username: OWNER.into(),
        role: domain::access::Role::Owner,
    }
}

/// A typed id from the text a view or a test holds.
pub fn typed<T: std::str::FromStr>(text: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    text.parse().expect("a valid id")
}
