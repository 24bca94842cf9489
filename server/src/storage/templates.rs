//! Message templates (tree `templates`, id → [`TemplateRecord`]) and the index from Meta's
//! template id to Herald's (tree `templates_by_meta_id`), written together in one transaction.
//! Status, quality and category changes are appended to the record's history, never overwritten.

use domain::whatsapp::graph::TemplateDefinition;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{transact, Collection, StorageError, Store, TxError};

pub use domain::template::TemplateKind;

/// One entry of a template's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    /// When Herald learnt it, Unix ms.
    pub at_ms: i64,
    /// What changed: a Meta status, `quality GREEN`, `category MARKETING`, `submitted`, …
    pub status: String,
    /// Meta's reason code, if any.
    pub reason: Option<String>,
    /// Meta's words (recommendation, notice), if any.
    pub detail: Option<String>,
}

/// A template and everything Herald knows about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateRecord {
    /// Approved template or session reply.
    pub kind: TemplateKind,
    /// The connection (WABA) it was submitted to or imported from.
    pub connection_id: Option<Uuid>,
    /// Name, language, category, components.
    pub definition: TemplateDefinition,
    /// Meta's template id once submitted.
    pub meta_id: Option<String>,
    /// Meta's status; `None` for a draft.
    pub status: Option<String>,
    /// GREEN/YELLOW/RED/UNKNOWN.
    pub quality: Option<String>,
    /// Meta's rejection reason code.
    pub rejected_reason: Option<String>,
    /// Meta's recommendation after a rejection, or a pause notice.
    pub status_detail: Option<String>,
    /// Times of edits made while approved (Meta limits them).
    pub approved_edits_ms: Vec<i64>,
    /// Every change, oldest first.
    pub history: Vec<StatusChange>,
    /// Unix ms.
    pub created_at_ms: i64,
    /// Unix ms.
    pub updated_at_ms: i64,
    /// A session reply's file (its media header), kept in the data directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_media: Option<SavedMedia>,
}

/// The file a saved session reply sends, kept at `<data>/saved-replies/<template id>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedMedia {
    /// `image`, `video` or `document`.
    pub kind: String,
    /// Its MIME type.
    pub mime_type: String,
    /// The name a customer sees on a document.
    pub filename: String,
    /// Its size in bytes.
    pub size: u64,
}

impl SavedMedia {
    /// The file in words, as the editor and the composer name it ("Photo menu.png").
    pub fn described(&self) -> String {
        format!(
            "{} {}",
            domain::conversation::body::media_word(&self.kind),
            self.filename
        )
        .trim()
        .to_string()
    }
}

/// Where the file of saved reply `id` is kept: `<data>/saved-replies/<id>`.
pub fn saved_reply_file(store: &Store, id: &Uuid) -> std::path::PathBuf {
    store.path().join("saved-replies").join(id.to_string())
}

/// Typed access to the template trees.
#[derive(Clone)]
pub struct TemplateStore {
    templates: Collection<Uuid, TemplateRecord>,
    by_meta_id: Collection<String, Uuid>,
}

impl TemplateStore {
    /// Opens the trees.
    pub fn open(store: &Store) -> Result<Self, StorageError> {
        Ok(Self {
            templates: store.collection("templates")?,
            by_meta_id: store.collection("templates_by_meta_id")?,
        })
    }

    /// Creates or replaces a template, keeping the Meta-id index in step.
    pub fn save(&self, id: Uuid, record: &TemplateRecord) -> Result<(), StorageError> {
        transact(&self.templates, &self.by_meta_id, |templates, index| {
            if let Some(old) = templates.get::<StorageError>(&id)?.and_then(|r| r.meta_id) {
                index.remove(&old)?;
            }
            if let Some(meta_id) = &record.meta_id {
                index.insert(meta_id, &id)?;
            }
            templates.insert(&id, record)?;
            Ok::<_, TxError<StorageError>>(())
        })
    }

    /// A template.
    pub fn get(&self, id: &Uuid) -> Result<Option<TemplateRecord>, StorageError> {
        self.templates.get(id)
    }

    /// Herald's id of Meta's template `meta_id`.
    pub fn find_by_meta_id(&self, meta_id: &str) -> Result<Option<Uuid>, StorageError> {
        self.by_meta_id.get(&meta_id.to_string())
    }

    /// Every template, oldest first.
    pub fn list(&self) -> Result<Vec<(Uuid, TemplateRecord)>, StorageError> {
        self.templates.iter().collect()
    }

    /// Removes a template and its index entry.
    pub fn delete(&self, id: &Uuid) -> Result<bool, StorageError> {
        transact(&self.templates, &self.by_meta_id, |templates, index| {
            let Some(record) = templates.get::<StorageError>(id)? else {
                return Ok(false);
            };
            if let Some(meta_id) = &record.meta_id {
                index.remove(meta_id)?;
            }
            templates.remove(id)?;
            Ok(true)
        })
    }

    /// Applies `change` to the template Meta knows as `meta_id`; `None` when Herald has no such
    /// template (it is imported by the next sync). Idempotent: a change equal to the last history
    /// entry is not recorded twice.
    pub fn apply(
        &self,
        meta_id: &str,
        change: impl Fn(&mut TemplateRecord) -> StatusChange,
    ) -> Result<Option<TemplateRecord>, StorageError> {
        let Some(id) = self.find_by_meta_id(meta_id)? else {
            return Ok(None);
        };
        self.templates.update(&id, |record| {
            record.map(|mut r| {
                let entry = change(&mut r);
                let repeated = r.history.last().is_some_and(|last| {
                    last.status == entry.status
                        && last.reason == entry.reason
                        && last.detail == entry.detail
                });
                if !repeated {
                    r.updated_at_ms = entry.at_ms;
                    r.history.push(entry);
                }
                r
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(meta_id: Option<&str>) -> TemplateRecord {
        TemplateRecord {
            kind: TemplateKind::Approved,
            connection_id: None,
            definition: serde_json::from_value(serde_json::json!({"name":"t","language":"en",
                "category":"UTILITY","components":[{"type":"BODY","text":"Hi"}]}))
            .unwrap(),
            meta_id: meta_id.map(str::to_string),
            status: None,
            quality: None,
            rejected_reason: None,
            status_detail: None,
            approved_edits_ms: Vec::new(),
            history: Vec::new(),
            created_at_ms: 0,
            updated_at_ms: 0,
            session_media: None,
        }
    }

    #[test]
    fn meta_ids_find_templates_and_repeated_events_are_recorded_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = TemplateStore::open(&Store::open(dir.path()).unwrap()).unwrap();
        let id = Uuid::now_v7();
        store.save(id, &record(Some("111"))).unwrap();
        assert_eq!(store.find_by_meta_id("111").unwrap(), Some(id));
        let approve = |r: &mut TemplateRecord| {
            r.status = Some("APPROVED".into());
            StatusChange {
                at_ms: 5,
                status: "APPROVED".into(),
                reason: None,
                detail: None,
            }
        };
        store.apply("111", approve).unwrap();
        let after = store.apply("111", approve).unwrap().unwrap();
        assert_eq!(after.history.len(), 1);
        assert_eq!(after.status.as_deref(), Some("APPROVED"));
        assert_eq!(store.apply("999", approve).unwrap(), None);
        // Re-saving with a new Meta id moves the index.
        store.save(id, &record(Some("222"))).unwrap();
        assert_eq!(store.find_by_meta_id("111").unwrap(), None);
        assert!(store.delete(&id).unwrap());
        assert_eq!(store.find_by_meta_id("222").unwrap(), None);
    }
}
