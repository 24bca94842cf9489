//! Accounts and sign-in sessions.
//!
//! Trees: `accounts` (id → [`Account`]), `account_names` (username → id, plus the empty name as
//! the "owner exists" marker) and `sessions` (SHA-256 of the session token → [`Session`]). Only
//! token hashes are stored: a copy of the data directory does not let anyone sign in.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{transact, Collection, StorageError, Store, TxError};

/// A person who can sign in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Stable identifier.
    pub id: Uuid,
    /// Normalised login name (see `domain::account::Username`).
    pub username: String,
    /// Argon2id PHC string; never the password.
    pub password_hash: String,
    /// Creation time, Unix milliseconds.
    pub created_at_ms: i64,
}

/// A signed-in browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Whose session it is.
    pub account_id: Uuid,
    /// Sign-in time, Unix milliseconds.
    pub created_at_ms: i64,
    /// After this instant the session no longer authenticates.
    pub expires_at_ms: i64,
}

/// Why the owner account could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum CreateOwnerError {
    /// Setup already happened (possibly concurrently).
    #[error("an owner account already exists")]
    AlreadySetUp,
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Marker key in `account_names` that exists once the owner was created.
const OWNER_MARKER: &str = "";

/// Typed access to the account trees.
#[derive(Clone)]
pub struct AccountStore {
    accounts: Collection<Uuid, Account>,
    names: Collection<String, Uuid>,
    sessions: Collection<[u8; 32], Session>,
}

impl AccountStore {
    /// Opens the trees.
    pub fn open(store: &Store) -> Result<Self, StorageError> {
        Ok(Self {
            accounts: store.collection("accounts")?,
            names: store.collection("account_names")?,
            sessions: store.collection("sessions")?,
        })
    }

    /// Whether the first-run setup has created the owner.
    pub fn owner_exists(&self) -> Result<bool, StorageError> {
        self.names.contains(&OWNER_MARKER.to_string())
    }

    /// Stores the owner account, atomically with its name index and only if no owner exists yet,
    /// so two racing setup forms cannot both succeed.
    pub fn create_owner(&self, account: &Account) -> Result<(), CreateOwnerError> {
        transact(&self.accounts, &self.names, |accounts, names| {
            if names
                .get::<CreateOwnerError>(&OWNER_MARKER.to_string())?
                .is_some()
            {
                return Err(TxError::Abort(CreateOwnerError::AlreadySetUp));
            }
            names.insert(&OWNER_MARKER.to_string(), &account.id)?;
            names.insert(&account.username, &account.id)?;
            accounts.insert(&account.id, account)
        })
    }

    /// The account called `username` (already normalised).
    pub fn find_by_name(&self, username: &str) -> Result<Option<Account>, StorageError> {
        match self.names.get(&username.to_string())? {
            Some(id) => self.accounts.get(&id),
            None => Ok(None),
        }
    }

    /// The account with `id`.
    pub fn get(&self, id: &Uuid) -> Result<Option<Account>, StorageError> {
        self.accounts.get(id)
    }

    /// Records a session under the hash of its token.
    pub fn insert_session(
        &self,
        token_hash: &[u8; 32],
        session: &Session,
    ) -> Result<(), StorageError> {
        self.sessions.insert(token_hash, session)
    }

    /// The session with this token hash.
    pub fn session(&self, token_hash: &[u8; 32]) -> Result<Option<Session>, StorageError> {
        self.sessions.get(token_hash)
    }

    /// Ends a session.
    pub fn remove_session(&self, token_hash: &[u8; 32]) -> Result<bool, StorageError> {
        self.sessions.remove(token_hash)
    }

    /// Deletes sessions that expired before `now_ms`; returns how many.
    pub fn purge_expired_sessions(&self, now_ms: i64) -> Result<usize, StorageError> {
        self.sessions.retain(|_, s| s.expires_at_ms > now_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(name: &str) -> Account {
        Account {
            id: Uuid::now_v7(),
            username: name.into(),
            password_hash: "$argon2id$fake".into(),
            created_at_ms: 1,
        }
    }

    #[test]
    fn only_the_first_owner_is_created() {
        let dir = tempfile::tempdir().unwrap();
        let store = AccountStore::open(&Store::open(dir.path()).unwrap()).unwrap();
        assert!(!store.owner_exists().unwrap());
        let ada = account("ada");
        store.create_owner(&ada).unwrap();
        assert!(store.owner_exists().unwrap());
        assert!(matches!(
            store.create_owner(&account("bob")),
            Err(CreateOwnerError::AlreadySetUp)
        ));
        assert_eq!(store.find_by_name("ada").unwrap(), Some(ada));
        assert_eq!(store.find_by_name("bob").unwrap(), None);
    }

    #[test]
    fn expired_sessions_are_purged_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = AccountStore::open(&Store::open(dir.path()).unwrap()).unwrap();
        let session = |expires_at_ms| Session {
            account_id: Uuid::now_v7(),
            created_at_ms: 0,
            expires_at_ms,
        };
        store.insert_session(&[1; 32], &session(100)).unwrap();
        store.insert_session(&[2; 32], &session(300)).unwrap();
        assert_eq!(store.purge_expired_sessions(200).unwrap(), 1);
        assert!(store.session(&[1; 32]).unwrap().is_none());
        assert!(store.session(&[2; 32]).unwrap().is_some());
    }
}
