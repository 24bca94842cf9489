//! WhatsApp connections (sender numbers) and their secrets.
//!
//! Tree `connections`: id → [`Connection`]. Secrets are stored as given because Herald must
//! present them (access token, API key) or compute with them (app secret); they are never logged
//! (`Debug` is redacted) and never rendered back in full (see [`mask`]).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{transact, Collection, StorageError, Store};

/// Which API a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionKind {
    /// Meta's WhatsApp Cloud API (Graph API), or any server speaking its wire format.
    CloudApi,
    /// 360dialog's Cloud API proxy (`D360-API-KEY`).
    Dialog360,
    /// Herald's built-in simulation of the Graph API.
    Sandbox,
}

/// The secrets of a connection.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionSecrets {
    /// Cloud API system-user access token.
    pub access_token: Option<String>,
    /// Meta app secret: the key of webhook signatures.
    pub app_secret: Option<String>,
    /// The string Meta echoes in the webhook verification handshake.
    pub verify_token: Option<String>,
    /// 360dialog `D360-API-KEY`.
    pub api_key: Option<String>,
}

impl std::fmt::Debug for ConnectionSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = |s: &Option<String>| s.as_ref().map(|_| "<redacted>");
        f.debug_struct("ConnectionSecrets")
            .field("access_token", &shown(&self.access_token))
            .field("app_secret", &shown(&self.app_secret))
            .field("verify_token", &shown(&self.verify_token))
            .field("api_key", &shown(&self.api_key))
            .finish()
    }
}

/// A sender number Herald can use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    /// Stable id; also the last segment of its webhook URL.
    pub id: Uuid,
    /// Name shown in the UI.
    pub name: String,
    /// API kind.
    pub kind: ConnectionKind,
    /// API base URL (Graph, 360dialog or the sandbox).
    pub base_url: String,
    /// Graph API version, e.g. `v23.0` (Cloud API and sandbox).
    pub api_version: Option<String>,
    /// WhatsApp Business Account id.
    pub waba_id: Option<String>,
    /// Phone-number id.
    pub phone_number_id: Option<String>,
    /// Credentials.
    pub secrets: ConnectionSecrets,
    /// Creation time, Unix milliseconds.
    pub created_at_ms: i64,
    /// How the simulated users behave (sandbox connections only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<SandboxProfile>,
}

/// The knobs of a sandbox connection. Every outcome derives from `seed` and the recipient, so a
/// test run replays exactly. Rates are per mille so records stay comparable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SandboxProfile {
    /// Seed of every simulated decision.
    pub seed: u64,
    /// The sender number shown in webhooks.
    pub display_phone_number: String,
    /// Throughput; sends beyond it get 130429 (Meta's default is 80).
    pub messages_per_second: u32,
    /// Delay before a submitted template is reviewed.
    pub review_delay_ms: u64,
    /// Delay between a send and each of its status webhooks.
    pub status_delay_ms: u64,
    /// Share of users "not on WhatsApp" (131026), per mille.
    pub undeliverable_per_mille: u16,
    /// Share of users who stopped marketing (131050), per mille.
    pub marketing_stop_per_mille: u16,
    /// Share of users who read what they receive, per mille.
    pub read_per_mille: u16,
    /// Refuse free-form messages outside the 24-hour window (131047), as Meta does.
    pub enforce_service_window: bool,
    /// The messaging limit the number reports.
    #[serde(default = "domain::whatsapp::connection::default_sandbox_limit")]
    pub messaging_limit: String,
    /// The customer-service window after a simulated user writes, seconds (24 hours unless
    /// shortened so a test can watch it close).
    #[serde(default = "domain::whatsapp::connection::default_service_window_secs")]
    pub service_window_secs: u32,
}

impl SandboxProfile {
    /// The customer-service window, milliseconds.
    pub fn service_window_ms(&self) -> i64 {
        i64::from(self.service_window_secs) * 1_000
    }
}

impl Default for SandboxProfile {
    fn default() -> Self {
        Self {
            seed: 0,
            display_phone_number: "15550100000".into(),
            messages_per_second: 80,
            review_delay_ms: 5_000,
            status_delay_ms: 700,
            undeliverable_per_mille: 0,
            marketing_stop_per_mille: 0,
            read_per_mille: 800,
            enforce_service_window: false,
            messaging_limit: domain::whatsapp::connection::default_sandbox_limit(),
            service_window_secs: domain::whatsapp::connection::default_service_window_secs(),
        }
    }
}

/// Shows the last four characters of a secret, enough to recognise it and useless to an attacker.
pub fn mask(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() <= 8 {
        return "••••".to_string();
    }
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("••••{tail}")
}

/// Typed access to the connections tree.
#[derive(Clone)]
pub struct ConnectionStore {
    connections: Collection<Uuid, Connection>,
    flags: Collection<String, bool>,
}

impl ConnectionStore {
    /// Opens the tree.
    pub fn open(store: &Store) -> Result<Self, StorageError> {
        Ok(Self {
            connections: store.collection("connections")?,
            flags: store.collection("connection_flags")?,
        })
    }

    /// Creates or replaces a connection.
    pub fn save(&self, connection: &Connection) -> Result<(), StorageError> {
        self.connections.insert(&connection.id, connection)
    }

    /// The connection with `id`.
    pub fn get(&self, id: &Uuid) -> Result<Option<Connection>, StorageError> {
        self.connections.get(id)
    }

    /// All connections, oldest first.
    pub fn list(&self) -> Result<Vec<Connection>, StorageError> {
        self.connections.iter().map(|e| e.map(|(_, c)| c)).collect()
    }

    /// Removes a connection; returns whether it existed.
    pub fn delete(&self, id: &Uuid) -> Result<bool, StorageError> {
        self.connections.remove(id)
    }

    /// Saves `connection` unless `flag` was set before, then sets `flag`, atomically: first-run
    /// provisioning that never repeats, even after the user deletes what it made.
    pub fn save_once(&self, flag: &str, connection: &Connection) -> Result<bool, StorageError> {
        let flag = flag.to_string();
        transact(&self.flags, &self.connections, |flags, connections| {
            if flags.get::<StorageError>(&flag)?.is_some() {
                return Ok(false);
            }
            flags.insert(&flag, &true)?;
            connections.insert(&connection.id, connection)?;
            Ok(true)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print_and_masks_keep_only_the_tail() {
        let secrets = ConnectionSecrets {
            access_token: Some("EAAG-very-secret-token-1234".into()),
            ..Default::default()
        };
        assert!(!format!("{secrets:?}").contains("very-secret"));
        assert_eq!(mask("EAAG-very-secret-token-1234"), "••••1234");
        assert_eq!(mask("short"), "••••");
    }

    #[test]
    fn first_run_provisioning_happens_once_even_after_deletion() {
        let dir = tempfile::tempdir().unwrap();
        let store = ConnectionStore::open(&Store::open(dir.path()).unwrap()).unwrap();
        let sandbox = Connection {
            id: Uuid::now_v7(),
            name: "Sandbox".into(),
            kind: ConnectionKind::Sandbox,
            base_url: String::new(),
            api_version: None,
            waba_id: None,
            phone_number_id: None,
            secrets: ConnectionSecrets::default(),
            created_at_ms: 0,
            sandbox: Some(SandboxProfile::default()),
        };
        assert!(store.save_once("sandbox", &sandbox).unwrap());
        assert!(store.delete(&sandbox.id).unwrap());
        assert!(!store.save_once("sandbox", &sandbox).unwrap());
        assert!(store.list().unwrap().is_empty());
    }

    #[test]
    fn connections_round_trip_in_creation_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = ConnectionStore::open(&Store::open(dir.path()).unwrap()).unwrap();
        let make = |name: &str| Connection {
            id: Uuid::now_v7(),
            name: name.into(),
            kind: ConnectionKind::CloudApi,
            base_url: "https://graph.facebook.com".into(),
            api_version: Some("v23.0".into()),
            waba_id: Some("1".into()),
            phone_number_id: Some("2".into()),
            secrets: ConnectionSecrets::default(),
            created_at_ms: 0,
            sandbox: None,
        };
        let (a, b) = (make("a"), make("b"));
        store.save(&a).unwrap();
        store.save(&b).unwrap();
        assert_eq!(store.list().unwrap(), vec![a.clone(), b]);
        assert_eq!(store.get(&a.id).unwrap(), Some(a));
    }
}
