//! [`app::ports::TemplatesPort`]: template drafts, submission to Meta (or the sandbox), sync with
//! the WABA and deletion, over the template store and the provider clients. Status changes that
//! arrive by webhook are applied by the webhook worker.

pub mod saved_media;

use std::collections::HashMap;
use std::sync::Arc;

use app::api::templates::{HistoryEntry, TemplateSummary, TemplateView};
use app::ports::PortError;
use domain::access::{Caller, Permission};
use domain::ids::{ConnectionId, TemplateId};
use domain::template::lifecycle::{editable, edits_left, label};
use domain::template::lint::{lint, lint_among, lint_session_reply, size_limit_broken, Severity};
use domain::whatsapp::graph::{TemplateDefinition, TemplateDetails, TemplateEdit};
use uuid::Uuid;

use crate::clock::Clock;
use crate::ports::allow;
use crate::storage::campaigns::CampaignStore;
use crate::storage::connections::ConnectionStore;
use crate::storage::templates::{
    SavedMedia, StatusChange, TemplateKind, TemplateRecord, TemplateStore,
};
use crate::storage::{internal, StorageError, Store};
use crate::whatsapp::provider::{ApiError, Providers};

/// Most pages read from Meta in one sync (100 templates each).
const MAX_SYNC_PAGES: usize = 100;

/// The service behind the Templates section.
#[derive(Clone)]
pub struct TemplateService {
    store: Store,
    templates: TemplateStore,
    connections: ConnectionStore,
    campaigns: CampaignStore,
    providers: Providers,
    clock: Arc<dyn Clock>,
}

impl TemplateService {
    /// Wires the service.
    pub fn new(
        store: &Store,
        providers: Providers,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StorageError> {
        Ok(Self {
            store: store.clone(),
            templates: TemplateStore::open(store)?,
            connections: ConnectionStore::open(store)?,
            campaigns: CampaignStore::open(store)?,
            providers,
            clock,
        })
    }

    fn record(&self, id: TemplateId) -> Result<(Uuid, TemplateRecord), PortError> {
        let id = id.uuid();
        let record = self
            .templates
            .get(&id)
            .map_err(internal)?
            .ok_or_else(|| PortError::not_found(TemplateId::WHAT))?;
        Ok((id, record))
    }

    fn view(&self, id: Uuid, r: TemplateRecord) -> TemplateView {
        let status = r.status.as_deref();
        let edits = (status == Some("APPROVED"))
            .then(|| edits_left(&r.approved_edits_ms, self.clock.now_ms()).0);
        TemplateView {
            id: id.to_string(),
            kind: r.kind.name().into(),
            connection_id: r.connection_id.map(|c| c.to_string()),
            status: label(status, r.quality.as_deref()),
            meta_status: r.status.clone(),
            meta_id: r.meta_id.clone(),
            rejected_reason: r.rejected_reason.clone(),
            status_detail: r.status_detail.clone(),
            editable: r.kind == TemplateKind::SessionReply || editable(status),
            edits_left: edits,
            file: r.session_media.as_ref().map(SavedMedia::described),
            history: r
                .history
                .iter()
                .rev()
                .map(|h| HistoryEntry {
                    at_ms: h.at_ms,
                    status: h.status.clone(),
                    reason: h.reason.clone(),
                    detail: h.detail.clone(),
                })
                .collect(),
            definition: r.definition,
        }
    }

    fn change(&self, status: &str, reason: Option<String>, detail: Option<String>) -> StatusChange {
        StatusChange {
            at_ms: self.clock.now_ms(),
            status: status.to_string(),
            reason,
            detail,
        }
    }

    async fn save_durably(&self, id: Uuid, record: &TemplateRecord) -> Result<(), PortError> {
        self.templates.save(id, record).map_err(internal)?;
        self.store.flush().await.map_err(internal)
    }

    /// The other templates of the same connection, for the duplicate rule.
    fn siblings(
        &self,
        id: Uuid,
        connection: Option<Uuid>,
    ) -> Result<Vec<TemplateDefinition>, PortError> {
        Ok(self
            .templates
            .list()
            .map_err(internal)?
            .into_iter()
            .filter(|(other, r)| {
                *other != id && r.connection_id == connection && r.kind == TemplateKind::Approved
            })
            .map(|(_, r)| r.definition)
            .collect())
    }

    fn client(
        &self,
        connection: Option<Uuid>,
    ) -> Result<Arc<dyn crate::whatsapp::provider::WhatsAppApi>, PortError> {
        let id = connection.ok_or_else(|| {
            PortError::invalid(
                "connection_id",
                "template.connection",
                "choose the connection (WhatsApp Business Account) to submit to",
            )
        })?;
        let connection = self
            .connections
            .get(&id)
            .map_err(internal)?
            .ok_or_else(|| {
                PortError::invalid(
                    "connection_id",
                    "template.connection_gone",
                    "the template's connection no longer exists",
                )
            })?;
        self.providers
            .for_connection(&connection)
            .map_err(|e| e.refusal())
    }

    /// Updates (or imports) one template read from Meta.
    fn merge_remote(
        &self,
        connection_id: Uuid,
        remote: TemplateDetails,
    ) -> Result<(), StorageError> {
        let now = self.clock.now_ms();
        let existing = match self.templates.find_by_meta_id(&remote.id)? {
            Some(id) => self.templates.get(&id)?.map(|r| (id, r)),
            None => self.templates.list()?.into_iter().find(|(_, r)| {
                r.meta_id.is_none()
                    && r.connection_id == Some(connection_id)
                    && r.definition.name == remote.name
                    && r.definition.language == remote.language
            }),
        };
        let (id, mut record) = existing.unwrap_or_else(|| {
            (
                Uuid::now_v7(),
                TemplateRecord {
                    kind: TemplateKind::Approved,
                    connection_id: Some(connection_id),
                    definition: TemplateDefinition {
                        name: remote.name.clone(),
                        language: remote.language.clone(),
                        category: remote.category.clone(),
                        parameter_format: remote.parameter_format.clone(),
                        message_send_ttl_seconds: remote.message_send_ttl_seconds,
                        components: remote.components.clone(),
                    },
                    meta_id: None,
                    status: None,
                    quality: None,
                    rejected_reason: None,
                    status_detail: None,
                    approved_edits_ms: Vec::new(),
                    history: vec![StatusChange {
                        at_ms: now,
                        status: "imported".into(),
                        reason: None,
                        detail: Some("read from the WhatsApp Business Account".into()),
                    }],
                    created_at_ms: now,
                    updated_at_ms: now,
                    session_media: None,
                },
            )
        });
        record.meta_id = Some(remote.id.clone());
        record.definition.category = remote.category.clone();
        if record.status.as_deref() != Some(remote.status.as_str()) {
            record.history.push(StatusChange {
                at_ms: now,
                status: remote.status.clone(),
                reason: remote.rejected_reason.clone().filter(|r| r != "NONE"),
                detail: Some("read by sync".into()),
            });
            record.status = Some(remote.status.clone());
            record.updated_at_ms = now;
        }
        if remote.status == "REJECTED" {
            record.rejected_reason = remote.rejected_reason.clone();
        }
        if let Some(quality) = remote.quality_score {
            record.quality = Some(quality.score);
        }
        self.templates.save(id, &record)
    }
}

#[async_trait::async_trait]
impl app::ports::TemplatesPort for TemplateService {
    async fn templates(&self, caller: &Caller) -> Result<Vec<TemplateSummary>, PortError> {
        allow(caller, Permission::View)?;
        let names: HashMap<Uuid, String> = self
            .connections
            .list()
            .map_err(internal)?
            .into_iter()
            .map(|c| (c.id, c.name))
            .collect();
        // Template id → (campaigns using it, last start).
        let mut usage: HashMap<String, (u32, Option<i64>)> = HashMap::new();
        for (_, campaign) in self.campaigns.list().map_err(internal)? {
            let entry = usage.entry(campaign.draft.template_id.clone()).or_default();
            entry.0 += 1;
            entry.1 = entry.1.max(campaign.started_at_ms);
        }
        let mut all: Vec<TemplateSummary> = self
            .templates
            .list()
            .map_err(internal)?
            .into_iter()
            .map(|(id, r)| TemplateSummary {
                campaigns: usage.get(&id.to_string()).map_or(0, |u| u.0),
                last_used_ms: usage.get(&id.to_string()).and_then(|u| u.1),
                id: id.to_string(),
                name: r.definition.name.clone(),
                language: r.definition.language.clone(),
                category: r.definition.category.clone(),
                kind: r.kind.name().into(),
                connection: r.connection_id.and_then(|c| names.get(&c).cloned()),
                status: label(r.status.as_deref(), r.quality.as_deref()),
                quality: r.quality.clone(),
                updated_at_ms: r.updated_at_ms,
            })
            .collect();
        all.sort_by_key(|t| std::cmp::Reverse(t.updated_at_ms));
        Ok(all)
    }

    async fn template(&self, caller: &Caller, id: TemplateId) -> Result<TemplateView, PortError> {
        allow(caller, Permission::View)?;
        let (id, record) = self.record(id)?;
        Ok(self.view(id, record))
    }

    async fn save(
        &self,
        caller: &Caller,
        id: Option<TemplateId>,
        kind: TemplateKind,
        connection_id: Option<ConnectionId>,
        definition: TemplateDefinition,
    ) -> Result<TemplateId, PortError> {
        allow(caller, Permission::EditTemplates)?;
        let connection_id = connection_id.map(|c| c.uuid());
        if let Some(finding) = size_limit_broken(&lint(&definition)) {
            return Err(PortError::invalid(
                "definition",
                "template.size_limit",
                format!(
                    "{}: {} (Meta's limit; shorten it to save)",
                    finding.component, finding.message
                ),
            ));
        }
        // A session reply is sent as it is saved, with no review in between: the editor's live
        // rules are enforced here, not merely advised.
        if kind == TemplateKind::SessionReply {
            let errors: Vec<domain::Problem> = lint_session_reply(&definition)
                .into_iter()
                .filter(|f| f.severity == Severity::Error)
                .map(|f| {
                    domain::Problem::new(
                        "definition",
                        f.rule,
                        format!("{}: {}", f.component, f.message),
                    )
                })
                .collect();
            if !errors.is_empty() {
                return Err(PortError::Invalid(errors));
            }
        }
        let now = self.clock.now_ms();
        if let Some(id) = id {
            let (_, current) = self.record(id)?;
            let edited = TemplateRecord {
                definition: definition.clone(),
                ..current.clone()
            };
            if current.session_media.is_some() && saved_media::has_buttons(&edited) {
                return Err(PortError::invalid(
                    "definition",
                    "session_reply.file_buttons",
                    saved_media::NO_BUTTONS_WITH_A_FILE,
                ));
            }
        }
        let (id, record) = match id {
            Some(id) => {
                let (id, mut record) = self.record(id)?;
                if record.kind == TemplateKind::Approved && !editable(record.status.as_deref()) {
                    return Err(PortError::conflict(format!(
                        "a template that is {} cannot be changed",
                        label(record.status.as_deref(), None).label.to_lowercase()
                    )));
                }
                if record.meta_id.is_some()
                    && (record.definition.name != definition.name
                        || record.definition.language != definition.language)
                {
                    return Err(PortError::conflict(
                        "a submitted template keeps its name and language; clone it instead",
                    ));
                }
                record.kind = kind;
                record.connection_id = connection_id;
                record.definition = definition;
                record.updated_at_ms = now;
                (id, record)
            }
            None => (
                Uuid::now_v7(),
                TemplateRecord {
                    kind,
                    connection_id,
                    definition,
                    meta_id: None,
                    status: None,
                    quality: None,
                    rejected_reason: None,
                    status_detail: None,
                    approved_edits_ms: Vec::new(),
                    history: vec![self.change("draft saved", None, None)],
                    created_at_ms: now,
                    updated_at_ms: now,
                    session_media: None,
                },
            ),
        };
        self.save_durably(id, &record).await?;
        Ok(TemplateId(id))
    }

    async fn submit(&self, caller: &Caller, id: TemplateId) -> Result<TemplateView, PortError> {
        allow(caller, Permission::EditTemplates)?;
        let (id, mut record) = self.record(id)?;
        if record.kind == TemplateKind::SessionReply {
            return Err(PortError::conflict("session replies are never submitted to Meta; they can be sent inside the 24-hour window as they are"));
        }
        let siblings = self.siblings(id, record.connection_id)?;
        let errors: Vec<domain::Problem> = lint_among(&record.definition, &siblings)
            .into_iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| {
                domain::Problem::new(
                    "definition",
                    "template.lint",
                    format!("Fix this first: {}", f.message),
                )
            })
            .collect();
        if !errors.is_empty() {
            return Err(PortError::Invalid(errors));
        }
        let client = self.client(record.connection_id)?;
        let refused = |e: ApiError| {
            tracing::warn!(error = %e, "template submission refused");
            e.refusal()
        };
        match (record.meta_id.clone(), record.status.clone()) {
            (None, _) => {
                let created = client
                    .create_template(&record.definition)
                    .await
                    .map_err(refused)?;
                record.meta_id = Some(created.id);
                record.definition.category = created.category;
                record.status = Some(created.status.clone());
                record.history.push(self.change("submitted", None, None));
                record
                    .history
                    .push(self.change(&created.status, None, None));
            }
            (Some(meta_id), status) if editable(status.as_deref()) => {
                let approved = status.as_deref() == Some("APPROVED");
                if approved && edits_left(&record.approved_edits_ms, self.clock.now_ms()).0 == 0 {
                    return Err(PortError::conflict("Meta allows 10 edits of an approved template per 30 days and one per day; none is left now"));
                }
                let edit = TemplateEdit {
                    category: (!approved).then(|| record.definition.category.clone()),
                    components: Some(record.definition.components.clone()),
                    message_send_ttl_seconds: record.definition.message_send_ttl_seconds,
                };
                client
                    .edit_template(&meta_id, &edit)
                    .await
                    .map_err(refused)?;
                if approved {
                    record.approved_edits_ms.push(self.clock.now_ms());
                }
                record.status = Some("PENDING".into());
                record.rejected_reason = None;
                record
                    .history
                    .push(self.change("edit submitted", None, None));
            }
            (Some(_), status) => {
                return Err(PortError::conflict(format!(
                    "a template that is {} cannot be submitted now",
                    label(status.as_deref(), None).label.to_lowercase()
                )))
            }
        }
        record.updated_at_ms = self.clock.now_ms();
        self.save_durably(id, &record).await?;
        Ok(self.view(id, record))
    }

    async fn clone_template(
        &self,
        caller: &Caller,
        id: TemplateId,
    ) -> Result<TemplateId, PortError> {
        allow(caller, Permission::EditTemplates)?;
        let (_, original) = self.record(id)?;
        let mut definition = original.definition;
        let mut name = format!("{}_copy", definition.name);
        let taken: Vec<String> = self
            .templates
            .list()
            .map_err(internal)?
            .into_iter()
            .map(|(_, r)| r.definition.name)
            .collect();
        let mut n = 2;
        while taken.contains(&name) {
            name = format!("{}_copy{n}", definition.name);
            n += 1;
        }
        definition.name = name;
        let connection = original.connection_id.map(ConnectionId);
        self.save(caller, None, original.kind, connection, definition)
            .await
    }

    async fn sync(&self, caller: &Caller, connection_id: ConnectionId) -> Result<usize, PortError> {
        allow(caller, Permission::EditTemplates)?;
        let connection = connection_id.uuid();
        let client = self.client(Some(connection))?;
        let mut after: Option<String> = None;
        let mut read = 0;
        for _ in 0..MAX_SYNC_PAGES {
            let page = client
                .list_templates(after.as_deref(), 100)
                .await
                .map_err(|e| e.refusal())?;
            read += page.data.len();
            for remote in page.data {
                self.merge_remote(connection, remote).map_err(internal)?;
            }
            let paging = page.paging.unwrap_or_default();
            after = paging.cursors.and_then(|c| c.after);
            if paging.next.is_none() || after.is_none() {
                break;
            }
        }
        self.store.flush().await.map_err(internal)?;
        Ok(read)
    }

    async fn delete(&self, caller: &Caller, id: TemplateId) -> Result<(), PortError> {
        allow(caller, Permission::EditTemplates)?;
        let (id, record) = self.record(id)?;
        if let Some(meta_id) = &record.meta_id {
            if record.status.as_deref() == Some("DISABLED") {
                return Err(PortError::conflict(
                    "Meta does not allow deleting a disabled template",
                ));
            }
            let client = self.client(record.connection_id)?;
            match client
                .delete_template(&record.definition.name, Some(meta_id))
                .await
            {
                Ok(()) => {}
                // Already gone at Meta: forget it here too.
                Err(ApiError::Refused { error, .. }) if error.code == 100 => {}
                Err(e) => return Err(e.refusal()),
            }
        }
        self.templates.delete(&id).map_err(internal)?;
        self.store.flush().await.map_err(internal)?;
        Ok(())
    }
}
