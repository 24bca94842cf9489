//! Who is asking, and what they may do. Every port method takes a [`Caller`] first; the server
//! checks it against the method's [`Permission`] in one place before any use case runs, so the
//! team roles and API keys still to come change this table, not every service.

use serde::{Deserialize, Serialize};

/// What a person or program may do in Herald. Today the owner — the account created at setup —
/// may do everything; teams add the narrower roles here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    /// Created at setup; every permission.
    Owner,
}

/// One kind of thing a port method does, coarse enough for a role table a person can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Permission {
    /// Read anything shown in the UI: contacts, campaigns, templates, logs.
    View,
    /// Change contacts, consent, imports and segments.
    EditContacts,
    /// Write templates and send them for review.
    EditTemplates,
    /// Prepare, launch and control campaigns — messages to many people.
    RunCampaigns,
    /// Send a single message (a test send, a simulated user message).
    SendMessages,
    /// Connections, credentials, limits, prices and the webhook log's reprocessing.
    Configure,
}

impl Role {
    /// Whether the role grants `permission`.
    pub fn grants(self, _permission: Permission) -> bool {
        match self {
            Role::Owner => true,
        }
    }
}

/// The one asking a port for something: a signed-in person, a program with an API key, or Herald
/// itself (the engine, a scheduled job, a test harness).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Caller {
    /// A signed-in account.
    Member {
        /// Login name, recorded where history names who did something.
        username: String,
        /// What the account may do.
        role: Role,
    },
    /// A program using the HTTP API.
    ApiKey {
        /// The key's public id (never the secret).
        key_id: String,
        /// What the key may do.
        role: Role,
    },
    /// Herald acting on its own.
    System,
}

impl Caller {
    /// Whether the caller may do `permission`.
    pub fn may(&self, permission: Permission) -> bool {
        match self {
            Caller::Member { role, .. } | Caller::ApiKey { role, .. } => role.grants(permission),
            Caller::System => true,
        }
    }

    /// How history and audit entries name the caller: the username, `api key …`, or `Herald`.
    pub fn name(&self) -> String {
        match self {
            Caller::Member { username, .. } => username.clone(),
            Caller::ApiKey { key_id, .. } => format!("api key {key_id}"),
            Caller::System => "Herald".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Permission; 6] = [
        Permission::View,
        Permission::EditContacts,
        Permission::EditTemplates,
        Permission::RunCampaigns,
        Permission::SendMessages,
        Permission::Configure,
    ];

    #[test]
    fn the_owner_and_herald_itself_may_do_everything() {
        let owner = Caller::Member {
            username: "ada".into(),
            role: Role::Owner,
        };
        for permission in ALL {
            assert!(owner.may(permission), "{permission:?}");
            assert!(Caller::System.may(permission), "{permission:?}");
        }
    }

    #[test]
    fn a_caller_is_named_without_its_secret() {
        let key = Caller::ApiKey {
            key_id: "k_12ab".into(),
            role: Role::Owner,
        };
        assert_eq!(key.name(), "api key k_12ab");
        assert_eq!(Caller::System.name(), "Herald");
    }
}
