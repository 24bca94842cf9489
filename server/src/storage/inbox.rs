//! The webhook inbox: every verified webhook body, stored durably before it is acknowledged and
//! processed afterwards (fact sheet §3.2: Meta keeps no history, and wants a fast 200).
//!
//! Trees: `inbox` (UUIDv7, so time-ordered → [`InboxEntry`]), `inbox_bodies` (same key → the raw
//! bytes, exactly as signed) and `inbox_pending` (same key → connection id) listing what the worker
//! still has to process. Receiving writes all three in one transaction.

use serde::{Deserialize, Serialize};
use sled::transaction::ConflictableTransactionError;
use sled::Transactional;
use uuid::Uuid;

use super::{key::Key, Collection, StorageError, Store};

/// What happened to a stored webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum InboxState {
    /// Waiting for the worker.
    Pending,
    /// Applied; `events` counts what it carried.
    Processed {
        /// When, Unix milliseconds.
        at_ms: i64,
        /// How many events it held.
        events: u32,
    },
    /// Could not be (fully) read; kept for inspection and re-processing.
    Failed {
        /// When, Unix milliseconds.
        at_ms: i64,
        /// Why, one problem per line.
        error: String,
    },
}

/// Metadata of one received webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxEntry {
    /// The connection whose URL received it.
    pub connection_id: Uuid,
    /// Receipt time, Unix milliseconds.
    pub received_at_ms: i64,
    /// Body size in bytes.
    pub size: u32,
    /// Processing outcome.
    pub state: InboxState,
}

/// Typed access to the inbox trees.
#[derive(Clone)]
pub struct Inbox {
    entries: Collection<Uuid, InboxEntry>,
    bodies: sled::Tree,
    pending: sled::Tree,
}

impl Inbox {
    /// Opens the trees.
    pub fn open(store: &Store) -> Result<Self, StorageError> {
        Ok(Self {
            entries: store.collection("inbox")?,
            bodies: store.raw_tree("inbox_bodies")?,
            pending: store.raw_tree("inbox_pending")?,
        })
    }

    /// Stores a verified body as pending; call [`Store::flush`] before acknowledging it.
    pub fn receive(
        &self,
        connection_id: Uuid,
        received_at_ms: i64,
        body: &[u8],
    ) -> Result<Uuid, StorageError> {
        let id = Uuid::now_v7();
        let entry = InboxEntry {
            connection_id,
            received_at_ms,
            size: u32::try_from(body.len()).unwrap_or(u32::MAX),
            state: InboxState::Pending,
        };
        let entry_bytes = super::codec::encode("inbox", &entry)?;
        let key = id.encode();
        (self.entries.tree(), &self.bodies, &self.pending)
            .transaction(|(entries, bodies, pending)| {
                entries.insert(key.as_slice(), entry_bytes.as_slice())?;
                bodies.insert(key.as_slice(), body)?;
                pending.insert(key.as_slice(), connection_id.as_bytes().as_slice())?;
                Ok::<_, ConflictableTransactionError<StorageError>>(())
            })
            .map_err(|e| match e {
                sled::transaction::TransactionError::Abort(e) => e,
                sled::transaction::TransactionError::Storage(e) => StorageError::Sled(e),
            })?;
        Ok(id)
    }

    /// Ids still waiting for the worker, oldest first.
    pub fn pending(&self, limit: usize) -> Result<Vec<Uuid>, StorageError> {
        self.pending
            .iter()
            .keys()
            .take(limit)
            .map(|k| Uuid::decode(&k?))
            .collect()
    }

    /// The raw body of `id`.
    pub fn body(&self, id: &Uuid) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.bodies.get(id.encode())?.map(|b| b.to_vec()))
    }

    /// The metadata of `id`.
    pub fn entry(&self, id: &Uuid) -> Result<Option<InboxEntry>, StorageError> {
        self.entries.get(id)
    }

    /// Records the outcome and takes `id` off the pending list.
    pub fn finish(&self, id: &Uuid, state: InboxState) -> Result<(), StorageError> {
        self.entries.update(id, |entry| {
            entry.map(|e| InboxEntry {
                state: state.clone(),
                ..e
            })
        })?;
        self.pending.remove(id.encode())?;
        Ok(())
    }

    /// Puts `id` back on the pending list (the "re-process" action of the webhook log).
    pub fn requeue(&self, id: &Uuid) -> Result<bool, StorageError> {
        let Some(entry) = self.entries.get(id)? else {
            return Ok(false);
        };
        self.entries.insert(
            id,
            &InboxEntry {
                state: InboxState::Pending,
                ..entry.clone()
            },
        )?;
        self.pending
            .insert(id.encode(), entry.connection_id.as_bytes().as_slice())?;
        Ok(true)
    }

    /// The newest entries first, for the webhook log.
    pub fn recent(&self, limit: usize) -> Result<Vec<(Uuid, InboxEntry)>, StorageError> {
        self.entries.iter().rev().take(limit).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_received_body_is_pending_until_finished_and_can_be_requeued() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = Inbox::open(&Store::open(dir.path()).unwrap()).unwrap();
        let connection = Uuid::now_v7();
        let first = inbox.receive(connection, 1, b"{\"a\":1}").unwrap();
        let second = inbox.receive(connection, 2, b"{\"b\":2}").unwrap();
        assert_eq!(inbox.pending(10).unwrap(), vec![first, second]);
        assert_eq!(
            inbox.body(&first).unwrap().as_deref(),
            Some(&b"{\"a\":1}"[..])
        );

        inbox
            .finish(
                &first,
                InboxState::Failed {
                    at_ms: 3,
                    error: "bad".into(),
                },
            )
            .unwrap();
        assert_eq!(inbox.pending(10).unwrap(), vec![second]);
        assert!(matches!(
            inbox.entry(&first).unwrap().unwrap().state,
            InboxState::Failed { .. }
        ));

        assert!(inbox.requeue(&first).unwrap());
        assert_eq!(inbox.pending(10).unwrap(), vec![first, second]);
        assert_eq!(inbox.recent(1).unwrap()[0].0, second);
    }

    #[test]
    fn received_bodies_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let id = {
            let store = Store::open(dir.path()).unwrap();
            let inbox = Inbox::open(&store).unwrap();
            inbox.receive(Uuid::now_v7(), 1, b"payload").unwrap()
        };
        let inbox = Inbox::open(&Store::open(dir.path()).unwrap()).unwrap();
        assert_eq!(inbox.pending(10).unwrap(), vec![id]);
        assert_eq!(inbox.body(&id).unwrap().as_deref(), Some(&b"payload"[..]));
    }
}
