//! Sign-up of the owner, sign-in, sessions and sign-out: the account rules of `domain::account`
//! applied over [`AccountStore`], with Argon2id password hashing.

use std::sync::{Arc, OnceLock};

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use domain::account::{confirmation_problem, password_problems, Username};
use domain::Problem;
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::clock::Clock;
use crate::storage::accounts::{Account, AccountStore, CreateOwnerError, Session};
use crate::storage::{StorageError, Store};

/// How long a sign-in lasts.
pub const SESSION_TTL_MS: i64 = 30 * 24 * 3600 * 1000;

/// A session token as held by the browser. `Debug` is redacted so it cannot reach a log by
/// accident.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Wraps a token read from a cookie.
    pub fn from_cookie(value: &str) -> Self {
        Self(value.to_string())
    }

    /// The cookie value.
    pub fn expose(&self) -> &str {
        &self.0
    }

    fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_bytes()).into()
    }
}

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(<redacted>)")
    }
}

/// Why setup did not create the owner.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The form broke account rules.
    #[error("invalid account: {}", .0.iter().map(|p| p.rule).collect::<Vec<_>>().join(", "))]
    Invalid(Vec<Problem>),
    /// An owner exists already.
    #[error("an owner account already exists")]
    AlreadySetUp,
    /// Storage or hashing failed.
    #[error("{0}")]
    Internal(String),
}

/// Why sign-in failed.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown user or wrong password; deliberately indistinguishable.
    #[error("wrong username or password")]
    Invalid,
    /// Storage or hashing failed.
    #[error("{0}")]
    Internal(String),
}

impl From<StorageError> for SetupError {
    fn from(e: StorageError) -> Self {
        Self::Internal(e.to_string())
    }
}

impl From<StorageError> for LoginError {
    fn from(e: StorageError) -> Self {
        Self::Internal(e.to_string())
    }
}

/// The account service.
#[derive(Clone)]
pub struct Accounts {
    accounts: AccountStore,
    store: Store,
    clock: Arc<dyn Clock>,
}

impl Accounts {
    /// Opens the account collections of `store`.
    pub fn new(store: &Store, clock: Arc<dyn Clock>) -> Result<Self, StorageError> {
        Ok(Self {
            accounts: AccountStore::open(store)?,
            store: store.clone(),
            clock,
        })
    }

    /// Whether the first-run setup still has to create the owner.
    pub fn setup_needed(&self) -> Result<bool, StorageError> {
        Ok(!self.accounts.owner_exists()?)
    }

    /// Creates the owner account from the setup form; durable when it returns.
    pub async fn create_owner(
        &self,
        username: &str,
        password: &str,
        confirmation: &str,
    ) -> Result<Account, SetupError> {
        let mut problems = password_problems(password, username);
        problems.extend(confirmation_problem(password, confirmation));
        let name = Username::parse(username).map_err(|p| {
            problems.insert(0, p);
            SetupError::Invalid(problems.clone())
        })?;
        if !problems.is_empty() {
            return Err(SetupError::Invalid(problems));
        }
        if !self.setup_needed()? {
            return Err(SetupError::AlreadySetUp);
        }
        let password_hash = hash_password(password.to_string())
            .await
            .map_err(SetupError::Internal)?;
        let account = Account {
            id: Uuid::now_v7(),
            username: name.as_str().to_string(),
            password_hash,
            created_at_ms: self.clock.now_ms(),
        };
        self.accounts.create_owner(&account).map_err(|e| match e {
            CreateOwnerError::AlreadySetUp => SetupError::AlreadySetUp,
            CreateOwnerError::Storage(e) => e.into(),
        })?;
        self.store.flush().await?;
        Ok(account)
    }

    /// Checks a password and opens a session; the session is durable when it returns.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
    ) -> Result<(Account, SessionToken), LoginError> {
        let account = match Username::parse(username) {
            Ok(name) => self.accounts.find_by_name(name.as_str())?,
            Err(_) => None,
        };
        // Verify against a dummy hash for unknown users so response time does not reveal which
        // usernames exist.
        let hash = account
            .as_ref()
            .map(|a| a.password_hash.clone())
            .unwrap_or_else(|| dummy_hash().to_string());
        let matches = verify_password(password.to_string(), hash).await;
        let account = match (account, matches) {
            (Some(account), true) => account,
            _ => return Err(LoginError::Invalid),
        };
        let token = SessionToken::generate();
        let now = self.clock.now_ms();
        let session = Session {
            account_id: account.id,
            created_at_ms: now,
            expires_at_ms: now + SESSION_TTL_MS,
        };
        self.accounts.insert_session(&token.hash(), &session)?;
        self.store.flush().await?;
        Ok((account, token))
    }

    /// The account a session token belongs to, if the session is live.
    pub fn authenticate(&self, token: &SessionToken) -> Result<Option<Account>, StorageError> {
        let Some(session) = self.accounts.session(&token.hash())? else {
            return Ok(None);
        };
        if session.expires_at_ms <= self.clock.now_ms() {
            return Ok(None);
        }
        self.accounts.get(&session.account_id)
    }

    /// Ends a session; durable when it returns.
    pub async fn logout(&self, token: &SessionToken) -> Result<(), StorageError> {
        self.accounts.remove_session(&token.hash())?;
        self.store.flush().await
    }

    /// Deletes expired sessions; returns how many.
    pub fn purge_expired_sessions(&self) -> Result<usize, StorageError> {
        self.accounts.purge_expired_sessions(self.clock.now_ms())
    }
}

async fn hash_password(password: String) -> Result<String, String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| format!("password hashing failed: {e}"))
    })
    .await
    .map_err(|e| format!("password hashing task failed: {e}"))?
}

async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A valid Argon2id hash of a random password, computed once.
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        let mut unguessable = [0u8; 32];
        rand::rng().fill_bytes(&mut unguessable);
        Argon2::default()
            .hash_password(&unguessable, &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    async fn service() -> (tempfile::TempDir, Accounts, Arc<ManualClock>) {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(1_000));
        let store = Store::open(dir.path()).unwrap();
        (dir, Accounts::new(&store, clock.clone()).unwrap(), clock)
    }

    const PASSWORD: &str = "correct horse battery";

    #[tokio::test]
    async fn setup_rejects_weak_passwords_with_the_rules_broken() {
        let (_dir, accounts, _) = service().await;
        let Err(SetupError::Invalid(problems)) =
            accounts.create_owner("ada", "short", "short").await
        else {
            panic!("weak password accepted");
        };
        assert_eq!(problems[0].rule, "password.too_short");
        assert!(accounts.setup_needed().unwrap());
    }

    #[tokio::test]
    async fn the_owner_signs_in_and_the_session_expires_after_its_ttl() {
        let (_dir, accounts, clock) = service().await;
        accounts
            .create_owner("Ada", PASSWORD, PASSWORD)
            .await
            .unwrap();
        assert!(matches!(
            accounts.login("ada", "wrong password!").await,
            Err(LoginError::Invalid)
        ));
        assert!(matches!(
            accounts.login("nobody", PASSWORD).await,
            Err(LoginError::Invalid)
        ));
        let (account, token) = accounts.login("ADA", PASSWORD).await.unwrap();
        assert_eq!(account.username, "ada");
        assert_eq!(accounts.authenticate(&token).unwrap(), Some(account));
        clock.advance_ms(SESSION_TTL_MS);
        assert_eq!(accounts.authenticate(&token).unwrap(), None);
        assert_eq!(accounts.purge_expired_sessions().unwrap(), 1);
    }

    #[tokio::test]
    async fn logout_ends_the_session() {
        let (_dir, accounts, _) = service().await;
        accounts
            .create_owner("ada", PASSWORD, PASSWORD)
            .await
            .unwrap();
        let (_, token) = accounts.login("ada", PASSWORD).await.unwrap();
        accounts.logout(&token).await.unwrap();
        assert_eq!(accounts.authenticate(&token).unwrap(), None);
    }

    #[test]
    fn tokens_never_print() {
        let token = SessionToken::generate();
        assert!(!format!("{token:?}").contains(token.expose()));
    }
}
