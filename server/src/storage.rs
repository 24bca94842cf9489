//! Durable state on an embedded sled database. This module is the only code in Herald that names
//! `sled`; everything else sees typed [`Collection`]s and the operations built on them.
//!
//! Layout: one sled tree per collection, named after it (`accounts`, `sessions`, ...), plus the
//! `meta` tree holding the schema version. Keys are encoded so that byte order equals logical
//! order ([`key`]), which makes prefix and range scans meaningful. Values are JSON behind a one-byte
//! codec tag ([`codec`]).
//!
//! Durability: a write is in sled's page cache when its call returns and reaches disk within
//! sled's background flush interval (500 ms). Code that acts on a write — answering a user,
//! sending a message — first awaits [`Store::flush`], after which the write survives `kill -9`
//! and power loss. Multi-key updates that must be all-or-nothing go through [`transact`].

pub mod accounts;
pub mod campaigns;
mod codec;
mod collection;
pub mod connections;
pub mod contacts;
pub mod conversation_search;
pub mod conversations;
mod error;
pub mod files;
pub mod follow_ups;
pub mod imports;
pub mod inbox;
pub mod key;
pub mod media;
pub mod messages;
pub mod name_runs;
pub mod sandbox;
mod schema;
pub mod segments;
pub mod senders;
pub mod templates;
pub mod windows;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use collection::transact_with_raw;
pub use collection::{transact, transact3, Collection, TxCollection, TxError};
pub use error::{internal, StorageError};
pub use schema::{Migration, CURRENT_SCHEMA};

/// Upper bound of sled's in-memory page cache. sled's own default (1 GiB) is sized for a
/// dedicated database host, not a VPS that also runs the rest of Herald. Every MB here is about
/// a MB of resident memory; importing a million contacts (`cargo bench -p server --bench import`)
/// ran as fast with 32 MB as with 128 MB — pages not cached come from the OS's file cache — and
/// 32 MB keeps that import well under its 300 MB budget.
const CACHE_CAPACITY_BYTES: u64 = 32 * 1024 * 1024;

/// How long [`Store::open`] waits for a lock held by a closing handle. sled releases its file lock
/// from a background thread shortly after the last handle drops, so a restart in the same process
/// (or a supervisor restarting Herald at once) can briefly find it held.
const LOCK_WAIT: Duration = Duration::from_secs(3);

/// Opens sled, retrying while the directory lock is held, then reporting [`StorageError::Locked`].
fn open_waiting_for_lock(dir: &Path) -> Result<sled::Db, StorageError> {
    let deadline = Instant::now() + LOCK_WAIT;
    loop {
        let result = sled::Config::new()
            .path(dir)
            .cache_capacity(CACHE_CAPACITY_BYTES)
            .open();
        match result {
            Ok(db) => return Ok(db),
            Err(sled::Error::Io(io)) if is_lock_error(&io) => {
                if Instant::now() >= deadline {
                    return Err(StorageError::Locked(dir.to_path_buf()));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(other) => return Err(StorageError::Sled(other)),
        }
    }
}

fn is_lock_error(io: &std::io::Error) -> bool {
    io.kind() == std::io::ErrorKind::WouldBlock || io.to_string().contains("lock")
}

/// Handle to the open database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    path: PathBuf,
    flushes: Arc<FlushGroup>,
}

/// Group commit: callers that ask for a flush while one is running share the next one, so a
/// thousand concurrent "make my write durable" requests cost a handful of disk syncs.
#[derive(Default)]
struct FlushGroup {
    /// Tickets handed out; a caller's writes precede its ticket.
    requested: AtomicU64,
    /// Every ticket up to this one is on disk.
    completed: AtomicU64,
    /// Held by the caller doing the disk sync.
    running: tokio::sync::Mutex<()>,
}

impl Store {
    /// Opens (creating if needed) the database in `dir` and brings its schema up to date.
    pub fn open(dir: &Path) -> Result<Self, StorageError> {
        Self::open_with_migrations(dir, schema::MIGRATIONS)
    }

    /// [`Store::open`] with an explicit migration list; tests use it to exercise the hook.
    pub fn open_with_migrations(
        dir: &Path,
        migrations: &[Migration],
    ) -> Result<Self, StorageError> {
        std::fs::create_dir_all(dir).map_err(|source| StorageError::DataDir {
            path: dir.to_path_buf(),
            source,
        })?;
        let db = open_waiting_for_lock(dir)?;
        schema::migrate(&db, migrations)?;
        Ok(Self {
            db,
            path: dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf()),
            flushes: Arc::default(),
        })
    }

    /// Opens the typed collection stored in tree `name`.
    pub fn collection<K, V>(&self, name: &'static str) -> Result<Collection<K, V>, StorageError>
    where
        K: key::Key,
        V: serde::Serialize + serde::de::DeserializeOwned,
    {
        Ok(Collection::new(name, self.db.open_tree(name)?))
    }

    /// An untyped tree, for byte payloads stored exactly as received (e.g. webhook bodies).
    pub(crate) fn raw_tree(&self, name: &'static str) -> Result<sled::Tree, StorageError> {
        Ok(self.db.open_tree(name)?)
    }

    /// A new id, unique in this database even across crashes (sled reserves them durably).
    pub(crate) fn generate_id(&self) -> Result<u64, StorageError> {
        Ok(self.db.generate_id()?)
    }

    /// Waits until every write made before this call is on disk.
    ///
    /// Runs sled's blocking `flush` on the blocking pool: sled 0.34's `flush_async` never wakes
    /// some of its callers when several flush at once (spacejam/sled#1241, #1308), which the
    /// webhook intake benchmark hit within seconds.
    ///
    /// Concurrent callers are grouped: whoever finds no sync running starts one that covers every
    /// ticket issued so far; the others wait for it instead of queueing syncs of their own.
    pub async fn flush(&self) -> Result<(), StorageError> {
        let group = &self.flushes;
        let ticket = group.requested.fetch_add(1, Ordering::SeqCst) + 1;
        let _running = group.running.lock().await;
        if group.completed.load(Ordering::SeqCst) >= ticket {
            return Ok(());
        }
        let covers = group.requested.load(Ordering::SeqCst);
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || db.flush())
            .await
            .map_err(|e| StorageError::Background(e.to_string()))??;
        group.completed.fetch_max(covers, Ordering::SeqCst);
        Ok(())
    }

    /// Runs synchronous storage work on the blocking pool, so a write that waits for the disk
    /// never holds up the async threads serving HTTP (or a campaign's pacing).
    pub async fn offload<T: Send + 'static>(
        work: impl FnOnce() -> Result<T, StorageError> + Send + 'static,
    ) -> Result<T, StorageError> {
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| StorageError::Background(e.to_string()))?
    }

    /// The schema version recorded in the data directory.
    pub fn schema_version(&self) -> Result<u32, StorageError> {
        schema::read_version(&self.db)?.ok_or(StorageError::MissingSchemaVersion)
    }

    /// Bytes the database occupies on disk.
    pub fn size_on_disk(&self) -> Result<u64, StorageError> {
        Ok(self.db.size_on_disk()?)
    }

    /// The data directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: sled's own `flush_async` left some of many concurrent callers waiting forever.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn many_concurrent_flushes_all_complete() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let things = store.collection::<u64, u64>("things").unwrap();
        let tasks: Vec<_> = (0..64u64)
            .map(|i| {
                let (store, things) = (store.clone(), things.clone());
                tokio::spawn(async move {
                    things.insert(&i, &i).unwrap();
                    store.flush().await.unwrap();
                })
            })
            .collect();
        let all = async {
            for task in tasks {
                task.await.unwrap();
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(60), all)
            .await
            .expect("every flush completes");
        assert_eq!(things.len(), 64);
    }
}
