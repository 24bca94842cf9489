//! The built-in sandbox: a fake of the Graph API served by Herald itself under
//! `/sandbox/graph/{version}/…`, so a new user can try everything without a Meta account and tests
//! run against a real HTTP server speaking Meta's wire format.
//!
//! Sandbox connections are ordinary Cloud API connections whose base URL is Herald's own; the
//! very same [`super::provider::GraphClient`], webhook signature check, inbox and worker serve
//! them. The sandbox validates requests as Meta documents, answers Meta's error bodies, reviews
//! templates after a delay ([`review`]), enforces throughput (130429) and the pair rate (131056),
//! and plays each accepted message's fate ([`fate`]) back as signed status webhooks
//! ([`outbox`]). Inbound user messages are simulated on request.
//!
//! What lives only in memory: uploaded media (Meta expires it too). Templates, review deadlines
//! and the queue of status webhooks still to play ([`player`]) are stored and survive restarts.

pub mod fate;
mod graph_api;
pub mod outbox;
pub mod player;
pub mod review;

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use domain::whatsapp::graph::media_limit;
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use rand::{Rng, RngCore};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use uuid::Uuid;

use self::outbox::{Sender, WebhookPoster};
use crate::clock::Clock;
use crate::storage::connections::{
    Connection, ConnectionKind, ConnectionSecrets, ConnectionStore, SandboxProfile,
};
use crate::storage::sandbox::SandboxStore;
use crate::storage::{StorageError, Store};
use crate::whatsapp::provider::{GRAPH_API_VERSION, SANDBOX_PATH};

/// Flag set once the first-run sandbox connection has been created.
const FIRST_RUN_FLAG: &str = "sandbox_created";
/// Uploaded media kept in memory at most.
const MEDIA_SHELF_BYTES: usize = 64 * 1024 * 1024;
/// How often the reviewer looks for due templates.
const REVIEW_POLL: Duration = Duration::from_millis(250);

/// A file uploaded to the sandbox.
#[derive(Clone)]
struct StoredMedia {
    phone_number_id: String,
    mime_type: String,
    sha256: String,
    bytes: Arc<Vec<u8>>,
}

#[derive(Default)]
struct MediaShelf {
    items: HashMap<String, StoredMedia>,
    bytes: usize,
}

/// The photo a simulated user sends from the thread's "As the customer" panel (a parcel).
pub const SAMPLE_PHOTO: &[u8] = include_bytes!("sandbox/sample-photo.png");

/// A simulated message from a user to a sandbox number.
#[derive(Debug, Clone, PartialEq)]
pub enum SimulatedInbound {
    /// Free text (including "STOP").
    Text(String),
    /// A tap on a template's quick-reply button.
    Button {
        /// The button's payload.
        payload: String,
        /// The button's label.
        text: String,
        /// The template message it answers.
        context: Option<String>,
    },
    /// A tap on a reply button of an interactive message (`interactive.button_reply`).
    ButtonReply {
        /// The button's id.
        id: String,
        /// The button's title.
        title: String,
        /// The interactive message it answers.
        context: Option<String>,
    },
    /// A row picked from a list message (`interactive.list_reply`).
    ListReply {
        /// The row's id.
        id: String,
        /// The row's title.
        title: String,
        /// The list message it answers.
        context: Option<String>,
    },
    /// A shared location pin.
    Location {
        /// Latitude.
        latitude: f64,
        /// Longitude.
        longitude: f64,
        /// Place name.
        name: Option<String>,
    },
    /// An emoji reaction to the message `to`.
    Reaction {
        /// The wamid reacted to.
        to: String,
        /// The emoji; empty takes the reaction back.
        emoji: String,
    },
    /// A photo, video, voice note, file or sticker (the kind follows the MIME type), put on the
    /// sandbox's media shelf so that Herald downloads it as it would from Meta.
    Media {
        /// Its MIME type (one WhatsApp delivers).
        mime_type: String,
        /// The file.
        bytes: Vec<u8>,
        /// Caption.
        caption: Option<String>,
        /// A document's file name.
        filename: Option<String>,
    },
    /// The user stops marketing messages from WhatsApp's own menu (`user_preferences`).
    StopMarketing,
    /// The user resumes marketing messages.
    ResumeMarketing,
}

/// The sandbox service; cheap to clone.
#[derive(Clone)]
pub struct Sandbox {
    inner: Arc<Inner>,
}

struct Inner {
    connections: ConnectionStore,
    store: SandboxStore,
    /// For flushing the send log before answering.
    store_handle: Store,
    clock: Arc<dyn Clock>,
    poster: WebhookPoster,
    self_url: String,
    throughput: Mutex<HashMap<String, (u32, Arc<DefaultDirectRateLimiter>)>>,
    pairs: DefaultKeyedRateLimiter<String>,
    media: Mutex<MediaShelf>,
    /// Media downloads still to be answered with a server error (to show retries).
    failing_downloads: std::sync::atomic::AtomicU32,
    /// Webhook deliveries under way, awaited at shutdown.
    tasks: TaskTracker,
    /// Rung when a send is queued for its status webhooks or a play ends ([`player`]).
    player_wake: tokio::sync::Notify,
    /// Cancelled at shutdown: deliveries stop (unplayed sends are replayed at the next start).
    stop: CancellationToken,
}

impl Sandbox {
    /// The sandbox of the Herald reachable at `self_url`.
    pub fn new(
        store: &Store,
        clock: Arc<dyn Clock>,
        http: reqwest::Client,
        self_url: &str,
    ) -> Result<Self, StorageError> {
        // Meta's pair rate: one message per 6 s to a user, bursts of up to 45 borrowed ahead.
        let pair_quota = Quota::with_period(Duration::from_secs(6))
            .unwrap_or_else(|| Quota::per_minute(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(45).unwrap_or(NonZeroU32::MIN));
        Ok(Self {
            inner: Arc::new(Inner {
                connections: ConnectionStore::open(store)?,
                store: SandboxStore::open(store)?,
                store_handle: store.clone(),
                clock,
                poster: WebhookPoster::new(http, self_url),
                self_url: self_url.trim_end_matches('/').to_string(),
                throughput: Mutex::default(),
                pairs: RateLimiter::keyed(pair_quota),
                media: Mutex::default(),
                failing_downloads: std::sync::atomic::AtomicU32::new(0),
                tasks: TaskTracker::new(),
                player_wake: tokio::sync::Notify::new(),
                stop: CancellationToken::new(),
            }),
        })
    }

    /// Creates the sandbox connection on the very first start (never again, even if the user
    /// deletes it). Returns it when it was created now.
    pub fn provision_first_run(
        connections: &ConnectionStore,
        clock: &dyn Clock,
    ) -> Result<Option<Connection>, StorageError> {
        let connection = new_connection("Sandbox (simulated)", SandboxProfile::default(), clock);
        Ok(connections
            .save_once(FIRST_RUN_FLAG, &connection)?
            .then_some(connection))
    }

    /// The next `count` media downloads fail with HTTP 500, as Meta's media servers sometimes
    /// do: what Herald's retries are for.
    pub fn fail_next_media_downloads(&self, count: u32) {
        self.inner
            .failing_downloads
            .store(count, std::sync::atomic::Ordering::SeqCst);
    }

    /// Forgets an uploaded or received file, as Meta does after its media id expires (7 days
    /// for a webhook's): its id then answers "does not exist".
    pub fn expire_media(&self, media_id: &str) {
        if let Ok(mut shelf) = self.inner.media.lock() {
            if let Some(gone) = shelf.items.remove(media_id) {
                shelf.bytes -= gone.bytes.len();
            }
        }
    }

    /// Whether this download is one of those told to fail.
    fn take_download_failure(&self) -> bool {
        use std::sync::atomic::Ordering;
        self.inner
            .failing_downloads
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }

    /// Puts a file on the media shelf; returns its media id, or why it does not fit.
    fn shelve(&self, stored: StoredMedia) -> Result<String, &'static str> {
        let Ok(mut shelf) = self.inner.media.lock() else {
            return Err("the media shelf is unavailable");
        };
        if shelf.bytes + stored.bytes.len() > MEDIA_SHELF_BYTES {
            return Err("the sandbox keeps at most 64 MB of media; delete some first");
        }
        let media_id = new_numeric_id();
        shelf.bytes += stored.bytes.len();
        shelf.items.insert(media_id.clone(), stored);
        Ok(media_id)
    }

    /// The webhook identity of a sandbox connection.
    fn sender(connection: &Connection) -> Option<Sender> {
        Some(Sender {
            connection_id: connection.id,
            waba_id: connection.waba_id.clone()?,
            phone_number_id: connection.phone_number_id.clone()?,
            display_phone_number: connection
                .sandbox
                .clone()
                .unwrap_or_default()
                .display_phone_number,
            app_secret: connection.secrets.app_secret.clone()?,
        })
    }

    fn profile(connection: &Connection) -> SandboxProfile {
        connection.sandbox.clone().unwrap_or_default()
    }

    fn now_s(&self) -> i64 {
        self.inner.clock.now_ms().div_euclid(1000)
    }

    /// Counts one message against the number's throughput; false when over it.
    fn within_throughput(&self, phone_number_id: &str, mps: u32) -> bool {
        let limiter = {
            let Ok(mut limiters) = self.inner.throughput.lock() else {
                return true;
            };
            let entry = limiters
                .entry(phone_number_id.to_string())
                .or_insert_with(|| (0, Arc::new(direct(mps))));
            if entry.0 != mps {
                *entry = (mps, Arc::new(direct(mps)));
            }
            entry.1.clone()
        };
        limiter.check().is_ok()
    }

    /// Counts one message to a user against the pair rate; false when over it.
    fn within_pair_rate(&self, phone_number_id: &str, wa_id: &str) -> bool {
        self.inner
            .pairs
            .check_key(&format!("{phone_number_id}:{wa_id}"))
            .is_ok()
    }

    /// Posts a message from `from` to the sandbox connection `connection_id` through the real
    /// webhook intake. Returns the simulated message's wamid (empty for preference changes).
    pub async fn simulate_inbound(
        &self,
        connection_id: Uuid,
        from: &str,
        what: SimulatedInbound,
    ) -> Result<String, String> {
        let connection = self
            .inner
            .connections
            .get(&connection_id)
            .map_err(|e| e.to_string())?
            .filter(|c| c.kind == ConnectionKind::Sandbox)
            .ok_or("no such sandbox connection")?;
        let sender = Self::sender(&connection).ok_or("this sandbox connection is incomplete")?;
        let wa_id = fate::wa_id(from);
        if !(6..=15).contains(&wa_id.len()) {
            return Err("the sender must be a phone number with its country code".into());
        }
        let now = self.now_s();
        let wamid = new_wamid();
        let name = format!("Sandbox user {}", &wa_id[wa_id.len().saturating_sub(4)..]);
        let payload = match what {
            SimulatedInbound::StopMarketing | SimulatedInbound::ResumeMarketing => {
                let stop = what == SimulatedInbound::StopMarketing;
                outbox::user_preference(&sender, &wa_id, stop, now)
            }
            SimulatedInbound::Text(body) => outbox::inbound(
                &sender,
                &wa_id,
                &name,
                &wamid,
                now,
                json!({"type": "text", "text": {"body": body}}),
            ),
            SimulatedInbound::Button {
                payload,
                text,
                context,
            } => {
                let message =
                    json!({"type": "button", "button": {"payload": payload, "text": text}});
                let message = answering(message, context, &sender);
                outbox::inbound(&sender, &wa_id, &name, &wamid, now, message)
            }
            SimulatedInbound::ButtonReply { id, title, context } => {
                let message = json!({"type": "interactive", "interactive": {"type": "button_reply",
                    "button_reply": {"id": id, "title": title}}});
                let message = answering(message, context, &sender);
                outbox::inbound(&sender, &wa_id, &name, &wamid, now, message)
            }
            SimulatedInbound::ListReply { id, title, context } => {
                let message = json!({"type": "interactive", "interactive": {"type": "list_reply",
                    "list_reply": {"id": id, "title": title}}});
                let message = answering(message, context, &sender);
                outbox::inbound(&sender, &wa_id, &name, &wamid, now, message)
            }
            SimulatedInbound::Location {
                latitude,
                longitude,
                name: place,
            } => {
                let mut location = json!({"latitude": latitude, "longitude": longitude});
                if let Some(place) = place {
                    location["name"] = json!(place);
                }
                let message = json!({"type": "location", "location": location});
                outbox::inbound(&sender, &wa_id, &name, &wamid, now, message)
            }
            SimulatedInbound::Media {
                mime_type,
                bytes,
                caption,
                filename,
            } => {
                let Some((kind, max)) = media_limit(&mime_type) else {
                    return Err(format!(
                        "WhatsApp does not deliver files of type {mime_type}"
                    ));
                };
                if bytes.len() as u64 > max {
                    return Err(format!("{kind} files may be at most {max} bytes"));
                }
                let sha256 = hex::encode(Sha256::digest(&bytes));
                let media_id = self.shelve(StoredMedia {
                    phone_number_id: sender.phone_number_id.clone(),
                    mime_type: mime_type.clone(),
                    sha256: sha256.clone(),
                    bytes: Arc::new(bytes),
                })?;
                let mut media = json!({"id": media_id, "mime_type": mime_type, "sha256": sha256});
                if let Some(caption) = caption.filter(|c| !c.is_empty()) {
                    media["caption"] = json!(caption);
                }
                if let Some(filename) = filename.filter(|_| kind == "document") {
                    media["filename"] = json!(filename);
                }
                let message = json!({"type": kind, kind: media});
                outbox::inbound(&sender, &wa_id, &name, &wamid, now, message)
            }
            SimulatedInbound::Reaction { to, emoji } => {
                let message =
                    json!({"type": "reaction", "reaction": {"message_id": to, "emoji": emoji}});
                outbox::inbound(&sender, &wa_id, &name, &wamid, now, message)
            }
        };
        if payload["entry"][0]["changes"][0]["field"] == "messages" {
            self.inner
                .store
                .user_wrote(&sender.phone_number_id, &wa_id, self.inner.clock.now_ms())
                .map_err(|e| e.to_string())?;
        }
        if self.inner.poster.deliver(&sender, &payload).await {
            Ok(wamid)
        } else {
            Err("Herald's webhook endpoint did not accept the simulated message".into())
        }
    }

    /// Background job: completes template reviews as they come due, until `stop`.
    pub async fn run_reviews(self, stop: CancellationToken) {
        loop {
            if let Err(error) = self.review_due().await {
                tracing::error!(%error, "sandbox template review failed");
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(REVIEW_POLL) => {}
            }
        }
    }

    /// Reviews every template whose delay has passed and posts the status webhooks.
    pub async fn review_due(&self) -> Result<usize, StorageError> {
        let due = self.inner.store.due_for_review(self.inner.clock.now_ms())?;
        for mut template in due.iter().cloned() {
            let verdict = review::review(&template.details);
            let (reason, recommendation) = match &verdict {
                review::Verdict::Approved => {
                    template.details.status = "APPROVED".into();
                    template.details.rejected_reason = Some("NONE".into());
                    template.details.quality_score = Some(domain::whatsapp::graph::QualityScore {
                        score: "UNKNOWN".into(),
                        date: Some(self.now_s()),
                    });
                    (None, None)
                }
                review::Verdict::Rejected {
                    reason,
                    recommendation,
                } => {
                    template.details.status = "REJECTED".into();
                    template.details.rejected_reason = Some((*reason).to_string());
                    (Some(*reason), Some(recommendation.as_str()))
                }
            };
            template.review_due_ms = None;
            self.inner.store.save_template(&template)?;
            let connection = self.inner.connections.get(&template.connection_id)?;
            if let Some(sender) = connection.as_ref().and_then(Self::sender) {
                let payload = outbox::template_status(
                    &sender,
                    &template.details,
                    reason,
                    recommendation,
                    self.now_s(),
                );
                let poster = self.inner.poster.clone();
                self.spawn(async move {
                    poster.deliver(&sender, &payload).await;
                });
            }
        }
        Ok(due.len())
    }

    /// Accepted sends whose status webhooks have not all been posted yet.
    pub fn statuses_to_play(&self) -> usize {
        self.inner.store.unplayed_count()
    }

    /// The send log, oldest first (tests and the settings page read it).
    pub fn send_log(&self) -> Result<Vec<crate::storage::sandbox::SandboxSend>, StorageError> {
        self.inner
            .store
            .sends()
            .map(|e| e.map(|(_, s)| s))
            .collect()
    }

    /// Runs `work` in the background unless the sandbox is shutting down, in which case it is
    /// dropped at its next await.
    fn spawn(&self, work: impl std::future::Future<Output = ()> + Send + 'static) {
        let stop = self.inner.stop.clone();
        self.inner.tasks.spawn(async move {
            tokio::select! {
                _ = stop.cancelled() => {}
                _ = work => {}
            }
        });
    }

    /// Stops webhook deliveries and waits for them to end.
    pub async fn shutdown(&self) {
        self.inner.stop.cancel();
        self.inner.tasks.close();
        self.inner.tasks.wait().await;
    }

    /// Router of the fake Graph API, to nest under `/sandbox`.
    pub fn router(&self) -> axum::Router {
        graph_api::router(self.clone())
    }
}

/// `message` as a reply to the business's message `context` (Meta's `context` object).
fn answering(mut message: Value, context: Option<String>, sender: &Sender) -> Value {
    if let Some(id) = context {
        message["context"] = json!({"from": sender.display_phone_number, "id": id});
    }
    message
}

fn direct(mps: u32) -> DefaultDirectRateLimiter {
    let rate = NonZeroU32::new(mps.max(1)).unwrap_or(NonZeroU32::MIN);
    RateLimiter::direct(Quota::per_second(rate))
}

/// A Meta-looking message id.
fn new_wamid() -> String {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    format!("wamid.{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// A Meta-looking numeric id (templates, media, WABA, phone number).
fn new_numeric_id() -> String {
    let mut rng = rand::rng();
    format!(
        "{}",
        rng.random_range(100_000_000_000_000u64..999_999_999_999_999)
    )
}

fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A new sandbox connection with fresh ids and credentials.
pub fn new_connection(name: &str, profile: SandboxProfile, clock: &dyn Clock) -> Connection {
    Connection {
        id: Uuid::now_v7(),
        name: name.to_string(),
        kind: ConnectionKind::Sandbox,
        base_url: SANDBOX_PATH.to_string(),
        api_version: Some(GRAPH_API_VERSION.to_string()),
        waba_id: Some(new_numeric_id()),
        phone_number_id: Some(new_numeric_id()),
        secrets: ConnectionSecrets {
            access_token: Some(new_secret()),
            app_secret: Some(new_secret()),
            verify_token: Some(new_secret()),
            api_key: None,
        },
        created_at_ms: clock.now_ms(),
        sandbox: Some(profile),
    }
}
