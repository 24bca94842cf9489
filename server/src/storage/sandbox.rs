//! The sandbox's own state, kept apart from Herald's: the templates its fake WABA holds (tree
//! `sandbox_templates`, id → [`SandboxTemplate`]) and when each simulated user last wrote
//! (tree `sandbox_windows`, `{phone-number id}:{wa_id}` → Unix ms). Templates persist so that a
//! review scheduled before a restart still happens after it.

use domain::whatsapp::graph::TemplateDetails;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Collection, StorageError, Store};

/// A template in the sandbox's fake WABA.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SandboxTemplate {
    /// The sandbox connection that owns it.
    pub connection_id: Uuid,
    /// Its WABA id.
    pub waba_id: String,
    /// What `GET /{template-id}` answers.
    pub details: TemplateDetails,
    /// When the pending review completes, Unix ms; `None` once reviewed.
    pub review_due_ms: Option<i64>,
}

/// One request the sandbox's fake `/messages` endpoint received: its own log, the ground truth
/// tests compare Herald's reports against ("was this person messaged, and how often?").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxSend {
    /// The sandbox connection.
    pub connection_id: Uuid,
    /// The recipient's digits.
    pub wa_id: String,
    /// Received, Unix ms.
    pub at_ms: i64,
    /// The template's name, for template messages.
    pub template: Option<String>,
    /// What Herald attached.
    pub callback_data: Option<String>,
    /// The wamid given, when accepted.
    pub wamid: Option<String>,
    /// Meta's error code, when refused.
    pub refused: Option<i64>,
    /// Pricing category and type reported in status webhooks.
    pub pricing: Option<(String, String)>,
    /// Whether its status webhooks have all been posted (replayed after a restart otherwise, as
    /// Meta keeps reporting however often Herald restarts).
    pub played: bool,
}

/// Typed access to the sandbox trees.
#[derive(Clone)]
pub struct SandboxStore {
    templates: Collection<String, SandboxTemplate>,
    windows: Collection<String, i64>,
    sends: Collection<Uuid, SandboxSend>,
}

impl SandboxStore {
    /// Opens the trees.
    pub fn open(store: &Store) -> Result<Self, StorageError> {
        Ok(Self {
            templates: store.collection("sandbox_templates")?,
            windows: store.collection("sandbox_windows")?,
            sends: store.collection("sandbox_sends")?,
        })
    }

    /// Logs a received send; returns its log id.
    pub fn log_send(&self, send: &SandboxSend) -> Result<Uuid, StorageError> {
        let id = Uuid::now_v7();
        self.sends.insert(&id, send)?;
        Ok(id)
    }

    /// Marks a logged send's webhooks as posted.
    pub fn played(&self, id: &Uuid) -> Result<(), StorageError> {
        self.sends
            .update(id, |send| send.map(|s| SandboxSend { played: true, ..s }))?;
        Ok(())
    }

    /// The whole send log, oldest first.
    pub fn sends(&self) -> impl Iterator<Item = Result<(Uuid, SandboxSend), StorageError>> + '_ {
        self.sends.iter()
    }

    /// Creates or replaces a template.
    pub fn save_template(&self, template: &SandboxTemplate) -> Result<(), StorageError> {
        self.templates.insert(&template.details.id, template)
    }

    /// A template by id.
    pub fn template(&self, id: &str) -> Result<Option<SandboxTemplate>, StorageError> {
        self.templates.get(&id.to_string())
    }

    /// Removes a template.
    pub fn delete_template(&self, id: &str) -> Result<bool, StorageError> {
        self.templates.remove(&id.to_string())
    }

    /// Every template of a WABA, in id order.
    pub fn templates_of(&self, waba_id: &str) -> Result<Vec<SandboxTemplate>, StorageError> {
        self.templates
            .iter()
            .filter(|entry| !matches!(entry, Ok((_, t)) if t.waba_id != waba_id))
            .map(|entry| entry.map(|(_, t)| t))
            .collect()
    }

    /// Templates whose review is due at `now_ms`.
    pub fn due_for_review(&self, now_ms: i64) -> Result<Vec<SandboxTemplate>, StorageError> {
        self.templates
            .iter()
            .filter(|entry| {
                !matches!(entry, Ok((_, t)) if t.review_due_ms.is_none_or(|due| due > now_ms))
            })
            .map(|entry| entry.map(|(_, t)| t))
            .collect()
    }

    /// Records that `wa_id` wrote to `phone_number_id` at `at_ms`.
    pub fn user_wrote(
        &self,
        phone_number_id: &str,
        wa_id: &str,
        at_ms: i64,
    ) -> Result<(), StorageError> {
        self.windows
            .insert(&format!("{phone_number_id}:{wa_id}"), &at_ms)
    }

    /// When `wa_id` last wrote to `phone_number_id`.
    pub fn last_inbound(
        &self,
        phone_number_id: &str,
        wa_id: &str,
    ) -> Result<Option<i64>, StorageError> {
        self.windows.get(&format!("{phone_number_id}:{wa_id}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(id: &str, waba: &str, due: Option<i64>) -> SandboxTemplate {
        SandboxTemplate {
            connection_id: Uuid::nil(),
            waba_id: waba.into(),
            details: serde_json::from_value(serde_json::json!({"id": id, "status": "PENDING"}))
                .unwrap(),
            review_due_ms: due,
        }
    }

    #[test]
    fn templates_are_listed_per_waba_and_reviews_come_due() {
        let dir = tempfile::tempdir().unwrap();
        let store = SandboxStore::open(&Store::open(dir.path()).unwrap()).unwrap();
        store
            .save_template(&template("1", "w1", Some(100)))
            .unwrap();
        store.save_template(&template("2", "w2", None)).unwrap();
        store
            .save_template(&template("3", "w1", Some(300)))
            .unwrap();
        let ids =
            |ts: Vec<SandboxTemplate>| ts.into_iter().map(|t| t.details.id).collect::<Vec<_>>();
        assert_eq!(ids(store.templates_of("w1").unwrap()), ["1", "3"]);
        assert_eq!(ids(store.due_for_review(200).unwrap()), ["1"]);
        store.user_wrote("p", "u", 5).unwrap();
        assert_eq!(store.last_inbound("p", "u").unwrap(), Some(5));
        assert_eq!(store.last_inbound("p", "v").unwrap(), None);
    }
}
