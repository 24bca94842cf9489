//! Customers' files waiting to be fetched from WhatsApp or kept (tree `media`, (connection id,
//! Meta's media id) → [`MediaRecord`]), and the order in which they are due (tree `media_due`,
//! (due time, key) → `true`). A record is written in the webhook worker's pass that first sees
//! the message, so a crash can never lose a file before its download was even planned; the
//! downloader claims due records oldest first, as the campaign engine claims recipients. The
//! bytes themselves live in the data directory (`media/<connection>/<media id>`), written before
//! the record says `stored`.

use domain::conversation::media::MediaState;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{transact, Collection, StorageError, Store, TxError};

/// Where a media record is kept: the connection it arrived on and Meta's media id.
pub type MediaKey = (Uuid, String);

/// One customer file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaRecord {
    /// The message that carried it (to find its conversation).
    pub wamid: String,
    /// `image`, `video`, `audio`, `document` or `sticker`.
    pub kind: String,
    /// The type the webhook announced (the download's own type wins once fetched).
    pub mime_type: Option<String>,
    /// The SHA-256 the webhook announced, hex; the download is checked against it.
    pub sha256: Option<String>,
    /// A document's file name.
    pub filename: Option<String>,
    /// Where it stands.
    pub state: MediaState,
    /// Failed tries so far.
    pub attempts: u32,
    /// When it is due next (Unix ms) while pending.
    pub due_at_ms: i64,
    /// Why the last try failed, in plain words.
    pub last_error: Option<String>,
    /// Its size once stored.
    pub size: Option<u64>,
    /// When it was first announced (Unix ms).
    pub created_at_ms: i64,
}

/// Typed access to `media` and `media_due`.
#[derive(Clone)]
pub struct MediaStore {
    records: Collection<MediaKey, MediaRecord>,
    due: Collection<(u64, MediaKey), bool>,
}

fn due_key(at_ms: i64, key: &MediaKey) -> (u64, MediaKey) {
    (u64::try_from(at_ms).unwrap_or(0), key.clone())
}

impl MediaStore {
    /// Opens the trees.
    pub fn open(store: &Store) -> Result<Self, StorageError> {
        Ok(Self {
            records: store.collection("media")?,
            due: store.collection("media_due")?,
        })
    }

    /// Plans the download of a file announced by a webhook, due at once; a file already known
    /// (a redelivered webhook) is left as it is. Returns whether it was new.
    pub fn announce(&self, key: &MediaKey, record: &MediaRecord) -> Result<bool, StorageError> {
        transact(&self.records, &self.due, |records, due| {
            if records.get(key)?.is_some() {
                return Ok(false);
            }
            records.insert(key, record)?;
            due.insert(&due_key(record.due_at_ms, key), &true)?;
            Ok(true)
        })
    }

    /// Records a file Herald already holds (one an agent uploaded to send): stored, never due.
    pub fn keep(&self, key: &MediaKey, record: &MediaRecord) -> Result<(), StorageError> {
        self.records.insert(key, record)
    }

    /// The record of a file.
    pub fn get(&self, key: &MediaKey) -> Result<Option<MediaRecord>, StorageError> {
        self.records.get(key)
    }

    /// Up to `limit` pending files due at `now_ms`, oldest due first.
    pub fn due(
        &self,
        now_ms: i64,
        limit: usize,
    ) -> Result<Vec<(MediaKey, MediaRecord)>, StorageError> {
        let mut found = Vec::new();
        for entry in self.due.iter() {
            let ((at, key), _) = entry?;
            if i64::try_from(at).unwrap_or(i64::MAX) > now_ms || found.len() >= limit {
                break;
            }
            if let Some(record) = self.records.get(&key)? {
                if record.state == MediaState::Pending {
                    found.push((key, record));
                }
            }
        }
        Ok(found)
    }

    /// When the next pending file is due, if any.
    pub fn next_due_ms(&self) -> Result<Option<i64>, StorageError> {
        match self.due.iter().next() {
            Some(entry) => Ok(Some(i64::try_from(entry?.0 .0).unwrap_or(i64::MAX))),
            None => Ok(None),
        }
    }

    /// The file is in the data directory, `size` bytes of `mime_type`.
    pub fn stored(&self, key: &MediaKey, mime_type: &str, size: u64) -> Result<(), StorageError> {
        self.settle(key, |record| {
            record.state = MediaState::Stored;
            record.mime_type = Some(mime_type.to_string());
            record.size = Some(size);
            record.last_error = None;
        })
    }

    /// A try failed with `error`: due again at `retry_at_ms`, or failed for good (`None`).
    pub fn attempt_failed(
        &self,
        key: &MediaKey,
        error: &str,
        retry_at_ms: Option<i64>,
    ) -> Result<(), StorageError> {
        self.settle(key, |record| {
            record.attempts = record.attempts.saturating_add(1);
            record.last_error = Some(error.to_string());
            match retry_at_ms {
                Some(at) => record.due_at_ms = at,
                None => record.state = MediaState::Failed,
            }
        })
    }

    /// A person asks to try a failed file again: due at `now_ms`, counting tries afresh.
    /// Returns false when the file is not failed (nothing to do).
    pub fn retry(&self, key: &MediaKey, now_ms: i64) -> Result<bool, StorageError> {
        transact(&self.records, &self.due, |records, due| {
            let Some(mut record) = records.get(key)? else {
                return Ok(false);
            };
            if record.state != MediaState::Failed {
                return Ok(false);
            }
            record.state = MediaState::Pending;
            record.attempts = 0;
            record.due_at_ms = now_ms;
            records.insert(key, &record)?;
            due.insert(&due_key(now_ms, key), &true)?;
            Ok(true)
        })
    }

    /// Changes a pending record and moves (or drops) its due entry in one step.
    fn settle(
        &self,
        key: &MediaKey,
        change: impl Fn(&mut MediaRecord),
    ) -> Result<(), StorageError> {
        transact(&self.records, &self.due, |records, due| {
            let Some(mut record) = records.get(key)? else {
                return Ok(());
            };
            due.remove::<StorageError>(&due_key(record.due_at_ms, key))?;
            change(&mut record);
            if record.state == MediaState::Pending {
                due.insert(&due_key(record.due_at_ms, key), &true)?;
            }
            records.insert(key, &record)?;
            Ok::<(), TxError<StorageError>>(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(due_at_ms: i64) -> MediaRecord {
        MediaRecord {
            wamid: "wamid.1".into(),
            kind: "image".into(),
            mime_type: Some("image/png".into()),
            sha256: None,
            filename: None,
            state: MediaState::Pending,
            attempts: 0,
            due_at_ms,
            last_error: None,
            size: None,
            created_at_ms: due_at_ms,
        }
    }

    #[test]
    fn files_are_due_in_order_retried_later_and_settled_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let media = MediaStore::open(&store).unwrap();
        let (a, b) = (
            (Uuid::from_u128(1), "111".to_string()),
            (Uuid::from_u128(1), "222".to_string()),
        );
        assert!(media.announce(&a, &record(2_000)).unwrap());
        assert!(media.announce(&b, &record(1_000)).unwrap());
        assert!(
            !media.announce(&a, &record(0)).unwrap(),
            "a redelivered webhook plans nothing new"
        );
        let due: Vec<_> = media
            .due(5_000, 10)
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(due, vec![b.clone(), a.clone()], "oldest due first");
        assert!(media.due(500, 10).unwrap().is_empty(), "nothing due yet");

        media.attempt_failed(&b, "timed out", Some(9_000)).unwrap();
        assert_eq!(
            media.due(5_000, 10).unwrap().len(),
            1,
            "b waits for its retry"
        );
        assert_eq!(media.next_due_ms().unwrap(), Some(2_000));
        media.stored(&a, "image/png", 42).unwrap();
        media.attempt_failed(&b, "timed out again", None).unwrap();
        assert!(media.due(i64::MAX, 10).unwrap().is_empty());
        assert_eq!(
            media.next_due_ms().unwrap(),
            None,
            "the index holds no leftovers"
        );
        let failed = media.get(&b).unwrap().unwrap();
        assert_eq!((failed.state, failed.attempts), (MediaState::Failed, 2));
        assert_eq!(failed.last_error.as_deref(), Some("timed out again"));

        assert!(media.retry(&b, 10_000).unwrap());
        assert!(
            !media.retry(&a, 10_000).unwrap(),
            "a stored file is not fetched again"
        );
        let again = media.due(10_000, 10).unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].1.attempts, 0);
    }
}
