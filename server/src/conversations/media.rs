//! Keeps customers' files: fetches each one the webhook worker planned (`storage::media`) from
//! WhatsApp — media id → short-lived URL → bytes, with the connection's token — checks its type,
//! size and checksum, and writes it into the data directory before saying it is stored. A try
//! that fails is tried again on `domain::conversation::media`'s schedule; what can never work (a
//! type WhatsApp does not deliver, an expired media id) fails at once with the reason, and a
//! person may still try again from the thread. Open pages hear of every change.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use domain::conversation::media::{
    acceptable, file_name, retry_after_ms, MediaState, INBOUND_MAX_BYTES,
};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::messaging::threads::Threads;
use crate::storage::connections::ConnectionStore;
use crate::storage::conversations::EntryRef;
use crate::storage::files::write_durably;
use crate::storage::media::{MediaKey, MediaRecord, MediaStore};
use crate::storage::{StorageError, Store};
use crate::whatsapp::provider::{ApiError, Providers};

/// Files fetched side by side at most (Meta's media servers and the line are shared with sends).
const BATCH: usize = 4;
/// How long the downloader sleeps at most when nothing is due (a new file wakes it sooner).
const IDLE: Duration = Duration::from_secs(1);

/// Why a try failed.
enum Failure {
    /// Worth another try later (the network, Meta's servers, a token being fixed).
    Transient(String),
    /// Will never work; said once and kept as the reason.
    Permanent(String),
}

/// The downloader.
#[derive(Clone)]
pub struct MediaDownloader {
    media: MediaStore,
    connections: ConnectionStore,
    providers: Providers,
    threads: Threads,
    dir: PathBuf,
    clock: Arc<dyn Clock>,
}

impl MediaDownloader {
    /// A downloader keeping files under `store`'s directory, in `media/`.
    pub fn new(
        store: &Store,
        threads: Threads,
        connections: ConnectionStore,
        providers: Providers,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StorageError> {
        Ok(Self {
            media: MediaStore::open(store)?,
            connections,
            providers,
            threads,
            dir: store.path().join("media"),
            clock,
        })
    }

    /// The records, for the thread and the file route.
    pub fn store(&self) -> &MediaStore {
        &self.media
    }

    /// Where a stored file lives (`None` for an id that cannot be a file name).
    pub fn path_of(&self, key: &MediaKey) -> Option<PathBuf> {
        file_name(&key.1).map(|name| self.dir.join(key.0.to_string()).join(name))
    }

    /// Keeps a copy of a file an agent uploaded to WhatsApp (`key` names its media id), so the
    /// thread shows what was sent.
    pub async fn keep_sent(
        &self,
        key: &MediaKey,
        kind: &str,
        mime_type: &str,
        filename: Option<String>,
        bytes: Vec<u8>,
    ) -> Result<(), String> {
        let path = self
            .path_of(key)
            .ok_or("WhatsApp answered with a media id that cannot name a file")?;
        let size = bytes.len() as u64;
        write_durably(&path, bytes)
            .await
            .map_err(|e| format!("cannot write the file: {e}"))?;
        let now = self.clock.now_ms();
        self.media
            .keep(
                key,
                &MediaRecord {
                    wamid: String::new(),
                    kind: kind.into(),
                    mime_type: Some(mime_type.into()),
                    sha256: None,
                    filename,
                    state: MediaState::Stored,
                    attempts: 0,
                    due_at_ms: now,
                    last_error: None,
                    size: Some(size),
                    created_at_ms: now,
                },
            )
            .map_err(|e| e.to_string())
    }

    /// Fetches due files until stopped; files planned while Herald was down are fetched first.
    pub async fn run(self, stop: CancellationToken) {
        loop {
            let fetched = match self.fetch_due().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::error!(error = %e, "media downloads paused by a storage error");
                    0
                }
            };
            if fetched > 0 {
                continue;
            }
            let wait = match self.media.next_due_ms() {
                Ok(Some(at)) => {
                    let ms = (at - self.clock.now_ms()).clamp(0, 1_000);
                    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
                }
                _ => IDLE,
            };
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Fetches the files due now (a batch side by side); returns how many were tried.
    pub async fn fetch_due(&self) -> Result<usize, StorageError> {
        let due = self.media.due(self.clock.now_ms(), BATCH)?;
        let tries = due.iter().map(|(key, record)| self.fetch(key, record));
        for result in futures_util::future::join_all(tries).await {
            result?;
        }
        Ok(due.len())
    }

    /// One try at one file, recorded whatever its outcome.
    async fn fetch(&self, key: &MediaKey, record: &MediaRecord) -> Result<(), StorageError> {
        match self.download(key, record).await {
            Ok((mime_type, size)) => {
                self.media.stored(key, &mime_type, size)?;
                tracing::debug!(media = %key.1, size, "customer file stored");
            }
            Err(Failure::Permanent(reason)) => {
                tracing::warn!(media = %key.1, %reason, "customer file cannot be kept");
                self.media.attempt_failed(key, &reason, None)?;
            }
            Err(Failure::Transient(reason)) => {
                let retry = retry_after_ms(record.attempts.saturating_add(1))
                    .map(|delay| self.clock.now_ms() + delay);
                tracing::warn!(
                    media = %key.1,
                    attempt = record.attempts + 1,
                    %reason,
                    again = retry.is_some(),
                    "customer file download failed"
                );
                self.media.attempt_failed(key, &reason, retry)?;
            }
        }
        let entry = EntryRef::Inbound {
            wamid: record.wamid.clone(),
        };
        if let Some(conversation) = self.threads.store().conversation_of(&entry)? {
            self.threads.changed(conversation);
        }
        Ok(())
    }

    /// Media id → URL → bytes → file. Returns the file's type and size.
    async fn download(
        &self,
        key: &MediaKey,
        record: &MediaRecord,
    ) -> Result<(String, u64), Failure> {
        let path = self.path_of(key).ok_or_else(|| {
            Failure::Permanent("WhatsApp sent a media id that cannot name a file".into())
        })?;
        let connection = self
            .connections
            .get(&key.0)
            .map_err(|e| Failure::Transient(e.to_string()))?
            .ok_or_else(|| Failure::Permanent("the connection it arrived on was removed".into()))?;
        let api = self
            .providers
            .for_connection(&connection)
            .map_err(|e| Failure::Transient(e.explain()))?;
        let info = api.media(&key.1).await.map_err(|e| match &e {
            // Meta forgets a webhook's media ids after 7 days.
            ApiError::Refused { error, .. } if error.code == 100 => Failure::Permanent(format!(
                "WhatsApp no longer has this file (media ids expire after 7 days): {}",
                e.explain()
            )),
            _ => Failure::Transient(e.explain()),
        })?;
        acceptable(&info.mime_type, info.file_size).map_err(Failure::Permanent)?;
        let bytes = api
            .download_media(&info.url, INBOUND_MAX_BYTES)
            .await
            .map_err(|e| Failure::Transient(e.explain()))?;
        let size = bytes.len() as u64;
        acceptable(&info.mime_type, Some(size)).map_err(Failure::Permanent)?;
        let expected = Some(info.sha256.as_str())
            .filter(|s| !s.is_empty())
            .or(record.sha256.as_deref());
        if let Some(expected) = expected {
            let actual = hex::encode(Sha256::digest(&bytes));
            if !actual.eq_ignore_ascii_case(expected) {
                return Err(Failure::Transient(
                    "the file arrived damaged (its checksum differs from WhatsApp's)".into(),
                ));
            }
        }
        write_durably(&path, bytes)
            .await
            .map_err(|e| Failure::Transient(format!("cannot write the file: {e}")))?;
        Ok((info.mime_type, size))
    }
}
