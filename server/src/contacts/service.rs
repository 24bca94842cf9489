//! Implements `app::ports::ContactsPort` over the contact, import and segment stores.

use std::sync::Arc;

use app::api::contacts::{
    ConsentLine, ContactDetail, ContactEdit, ContactPage, ContactRow, ImportView, SegmentSummary,
};
use app::ports::{refuse_problems, PortError};
use domain::access::{Caller, Permission};
use domain::contacts::consent::{
    standing, Category, ConsentAction, ConsentEvent, ConsentSource, Standing,
};
use domain::contacts::fields;
use domain::contacts::import::{validate_settings, ImportSettings};
use domain::contacts::model::ContactPatch;
use domain::contacts::segment::{compile, Matcher, SegmentDefinition};
use domain::contacts::{phone, Contact};
use domain::ids::{ImportId, SegmentId};
use uuid::Uuid;

use super::importer::Importer;
use crate::clock::Clock;
use crate::ports::allow;
use crate::storage::contacts::ContactStore;
use crate::storage::imports::{ImportJob, ImportState, ImportStore};
use crate::storage::segments::{SegmentRecord, SegmentStore};
use crate::storage::{internal, StorageError, Store};

/// Rows per page of the contact table.
pub const PAGE_ROWS: usize = 50;
/// Rejected rows shown on an import's page (the CSV report has them all).
const REJECTS_SHOWN: usize = 100;

/// The contacts use cases.
#[derive(Clone)]
pub struct ContactsService {
    store: Store,
    contacts: ContactStore,
    imports: ImportStore,
    segments: SegmentStore,
    importer: Importer,
    clock: Arc<dyn Clock>,
}

fn standing_label(c: &Contact, category: Category) -> String {
    match standing(&c.consent, category) {
        Standing::OptedIn => "opted_in",
        Standing::OptedOut => "opted_out",
        Standing::Unknown => "",
    }
    .into()
}

fn row(c: &Contact) -> ContactRow {
    ContactRow {
        phone: c.phone.clone(),
        name: format!("{} {}", c.first_name, c.last_name)
            .trim()
            .to_string(),
        country: c.country.clone().unwrap_or_default(),
        tags: c.tags.iter().cloned().collect(),
        marketing: standing_label(c, Category::Marketing),
        utility: standing_label(c, Category::Utility),
    }
}

fn categories(names: &[String]) -> Result<Vec<Category>, PortError> {
    names
        .iter()
        .map(|n| {
            Category::parse(n).ok_or_else(|| {
                PortError::invalid(
                    "categories",
                    "consent.category",
                    format!("{n:?} is not a category; use marketing or utility"),
                )
            })
        })
        .collect()
}

impl ContactsService {
    /// The service over `store`; `importer` runs queued imports.
    pub fn new(
        store: &Store,
        importer: Importer,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StorageError> {
        Ok(Self {
            store: store.clone(),
            contacts: ContactStore::open(store)?,
            imports: ImportStore::open(store)?,
            segments: SegmentStore::open(store)?,
            importer,
            clock,
        })
    }

    /// The contact store (the webhook worker records consent and replies through it).
    pub fn store(&self) -> &ContactStore {
        &self.contacts
    }

    /// The segment store.
    pub fn segment_store(&self) -> &SegmentStore {
        &self.segments
    }

    /// The import store.
    pub fn imports(&self) -> &ImportStore {
        &self.imports
    }

    /// The importer.
    pub fn importer(&self) -> &Importer {
        &self.importer
    }

    /// Contacts a segment selects, in number order (for exports and campaigns).
    pub fn evaluate<'a>(
        &'a self,
        matcher: &'a Matcher,
    ) -> impl Iterator<Item = Result<Contact, StorageError>> + 'a {
        self.contacts
            .all()
            .filter(move |c| c.as_ref().map_or(true, |c| matcher.matches(c)))
    }

    /// The numbers of a finished import's file, in file order, and how many rows had no usable
    /// number: the "uploaded list" audience of a campaign.
    pub fn import_numbers(&self, id: &str) -> Result<(Vec<String>, u64), PortError> {
        let id = id.parse::<ImportId>()?.uuid();
        let job = self
            .imports
            .get(&id)
            .map_err(internal)?
            .ok_or_else(|| PortError::not_found(ImportId::WHAT))?;
        let settings = job
            .settings
            .clone()
            .ok_or_else(|| PortError::conflict("this import was never mapped; finish it first"))?;
        let country = phone::country_id(&settings.default_country)
            .map_err(|e| PortError::conflict(e.to_string()))?;
        let mut rows =
            super::sheet::rows(&self.importer.file_of(&id), job.format).map_err(|e| {
                PortError::unavailable(format!("the list's file cannot be read any more: {e}"))
            })?;
        if settings.has_header {
            rows.next();
        }
        let mut numbers = Vec::new();
        let mut invalid = 0;
        for row in rows {
            let row = row.map_err(|e| PortError::unavailable(e.to_string()))?;
            match domain::contacts::import::map_row(&row.cells, &settings.columns, Some(country)) {
                Ok(patch) => numbers.push(patch.phone),
                Err(rejection) if rejection.rule == "import.empty_row" => {}
                Err(_) => invalid += 1,
            }
        }
        Ok((numbers, invalid))
    }

    /// The saved segment `id`, compiled.
    pub fn segment_matcher(&self, id: &str) -> Result<(SegmentDefinition, Matcher), PortError> {
        let record = self
            .segments
            .get(&id.parse::<SegmentId>()?.uuid())
            .map_err(internal)?
            .ok_or_else(|| PortError::not_found(SegmentId::WHAT))?;
        let matcher = compile(&record.definition).map_err(PortError::Invalid)?;
        Ok((record.definition, matcher))
    }

    fn view(&self, id: Uuid, job: ImportJob) -> Result<ImportView, PortError> {
        let (state, error) = match &job.state {
            ImportState::Uploaded => ("uploaded", None),
            ImportState::Queued if job.progress.read > 0 => ("running", None),
            ImportState::Queued => ("queued", None),
            ImportState::Done { .. } => ("done", None),
            ImportState::Failed { error, .. } => ("failed", Some(error.clone())),
        };
        let rejects = self
            .imports
            .rejects(&id)
            .take(REJECTS_SHOWN)
            .map(|r| r.map(|(line, r)| (line, r.phone, r.rejection.reason)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(internal)?;
        Ok(ImportView {
            id: id.to_string(),
            file_name: job.file_name,
            state: state.into(),
            error,
            total_rows: job.total_rows.saturating_sub(u64::from(
                job.settings.as_ref().is_none_or(|s| s.has_header),
            )),
            read: job.progress.read,
            created: job.progress.created,
            updated: job.progress.updated,
            unchanged: job.progress.unchanged,
            rejected: job.progress.rejected,
            headers: job.headers,
            samples: job.samples,
            columns: job.settings.map_or(job.suggested, |s| s.columns),
            rejects,
            created_at_ms: job.created_at_ms,
        })
    }
}

#[async_trait::async_trait]
impl app::ports::ContactsPort for ContactsService {
    async fn page(
        &self,
        caller: &Caller,
        query: String,
        after: Option<String>,
        segment: Option<SegmentId>,
    ) -> Result<ContactPage, PortError> {
        allow(caller, Permission::View)?;
        let matcher = match segment {
            Some(id) => Some(self.segment_matcher(&id.to_string())?.1),
            None => None,
        };
        let keep = |c: &Contact| matcher.as_ref().is_none_or(|m| m.matches(c));
        let q = query.trim();
        let looks_like_number =
            !q.is_empty() && q.chars().all(|c| c.is_ascii_digit() || "+ -()".contains(c));
        let page = if q.is_empty() {
            self.contacts.page(after.as_deref(), "", PAGE_ROWS, &keep)
        } else if looks_like_number {
            let digits: String = q.chars().filter(char::is_ascii_digit).collect();
            self.contacts
                .page(after.as_deref(), &format!("+{digits}"), PAGE_ROWS, &keep)
        } else {
            self.contacts
                .search_name(q, after.as_deref(), PAGE_ROWS, &keep)
        }
        .map_err(internal)?;
        Ok(ContactPage {
            rows: page.items.iter().map(row).collect(),
            next_after: page.next_after,
        })
    }

    async fn contact(&self, caller: &Caller, phone: String) -> Result<ContactDetail, PortError> {
        allow(caller, Permission::View)?;
        let contact = self
            .contacts
            .get(&phone)
            .map_err(internal)?
            .ok_or_else(|| PortError::not_found("contact"))?;
        let consent = contact
            .consent
            .iter()
            .rev()
            .map(|e| ConsentLine {
                at_ms: e.at_ms,
                action: match e.action {
                    ConsentAction::OptIn => "opted in",
                    ConsentAction::OptOut => "opted out",
                }
                .into(),
                categories: e
                    .categories
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                source: e.source.describe(),
            })
            .collect();
        Ok(ContactDetail { contact, consent })
    }

    async fn save(
        &self,
        caller: &Caller,
        existing: bool,
        edit: ContactEdit,
    ) -> Result<String, PortError> {
        allow(caller, Permission::EditContacts)?;
        let by = caller.name();
        let now = self.clock.now_ms();
        let tags = fields::split_tags(&edit.tags);
        let problems = fields::problems(
            &edit.first_name,
            &edit.last_name,
            &edit.language,
            &edit.time_zone,
            &tags,
        );
        refuse_problems(problems)?;
        let opt = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        if existing {
            let updated = self
                .contacts
                .update(&edit.phone, |current| {
                    let mut c = current?;
                    c.first_name = edit.first_name.trim().to_string();
                    c.last_name = edit.last_name.trim().to_string();
                    c.language = opt(&edit.language);
                    c.time_zone = opt(&edit.time_zone);
                    c.tags = tags.iter().cloned().collect();
                    c.updated_at_ms = now;
                    Some(c)
                })
                .map_err(internal)?;
            return updated
                .map(|c| c.phone)
                .ok_or_else(|| PortError::not_found("contact"));
        }
        let country = phone::country_id(&edit.default_country).ok();
        let normalized = phone::normalize(&edit.phone, country)
            .map_err(|e| PortError::invalid("phone", "contact.phone", e.to_string()))?;
        if self
            .contacts
            .get(&normalized.e164)
            .map_err(internal)?
            .is_some()
        {
            return Err(PortError::invalid(
                "phone",
                "contact.duplicate",
                format!("{} is already a contact", normalized.e164),
            ));
        }
        let patch = ContactPatch {
            phone: normalized.e164.clone(),
            country: normalized.country,
            first_name: opt(&edit.first_name),
            last_name: opt(&edit.last_name),
            language: opt(&edit.language),
            time_zone: opt(&edit.time_zone),
            tags,
            ..ContactPatch::default()
        };
        let wanted = categories(&edit.consent)?;
        let base = self
            .contacts
            .tombstone(&patch.phone)
            .map_err(internal)?
            .map(|t| Contact {
                consent: t.consent,
                ..Contact::default()
            });
        let event = (!wanted.is_empty()).then_some(ConsentEvent {
            at_ms: now,
            action: ConsentAction::OptIn,
            categories: wanted,
            source: ConsentSource::User { by },
        });
        let (mut contact, _) = Contact::merge(base, &patch, event, now);
        contact.phone = patch.phone.clone();
        contact.country = patch.country.clone();
        contact.created_at_ms = now;
        self.contacts.put(&contact, None).map_err(internal)?;
        self.store.flush().await.map_err(internal)?;
        Ok(contact.phone)
    }

    async fn set_consent(
        &self,
        caller: &Caller,
        phone: String,
        action: ConsentAction,
        names: Vec<String>,
    ) -> Result<(), PortError> {
        allow(caller, Permission::EditContacts)?;
        let by = caller.name();
        let wanted = categories(&names)?;
        if wanted.is_empty() {
            return Err(PortError::invalid(
                "categories",
                "consent.no_category",
                "choose marketing, utility or both",
            ));
        }
        if self.contacts.get(&phone).map_err(internal)?.is_none() {
            return Err(PortError::not_found("contact"));
        }
        self.contacts
            .record_consent(
                &phone,
                ConsentEvent {
                    at_ms: self.clock.now_ms(),
                    action,
                    categories: wanted,
                    source: ConsentSource::User { by },
                },
            )
            .map_err(internal)?;
        self.store.flush().await.map_err(internal)
    }

    async fn delete(&self, caller: &Caller, phone: String) -> Result<(), PortError> {
        allow(caller, Permission::EditContacts)?;
        if !self
            .contacts
            .delete(&phone, self.clock.now_ms())
            .map_err(internal)?
        {
            return Err(PortError::not_found("contact"));
        }
        self.store.flush().await.map_err(internal)
    }

    async fn imports(&self, caller: &Caller) -> Result<Vec<ImportView>, PortError> {
        allow(caller, Permission::View)?;
        self.imports
            .list()
            .map_err(internal)?
            .into_iter()
            .map(|(id, job)| self.view(id, job))
            .collect()
    }

    async fn import(&self, caller: &Caller, id: ImportId) -> Result<ImportView, PortError> {
        allow(caller, Permission::View)?;
        let id = id.uuid();
        let job = self
            .imports
            .get(&id)
            .map_err(internal)?
            .ok_or_else(|| PortError::not_found(ImportId::WHAT))?;
        self.view(id, job)
    }

    async fn start_import(
        &self,
        caller: &Caller,
        id: ImportId,
        settings: ImportSettings,
    ) -> Result<(), PortError> {
        allow(caller, Permission::EditContacts)?;
        let problems = validate_settings(&settings);
        refuse_problems(problems)?;
        let id = id.uuid();
        let mut job = self
            .imports
            .get(&id)
            .map_err(internal)?
            .ok_or_else(|| PortError::not_found(ImportId::WHAT))?;
        if job.state != ImportState::Uploaded {
            return Err(PortError::conflict("this import has already been started"));
        }
        job.settings = Some(settings);
        job.state = ImportState::Queued;
        self.imports.put(&id, &job).map_err(internal)?;
        self.store.flush().await.map_err(internal)?;
        self.importer.wake.notify_one();
        Ok(())
    }

    async fn segments(&self, caller: &Caller) -> Result<Vec<SegmentSummary>, PortError> {
        allow(caller, Permission::View)?;
        Ok(self
            .segments
            .list()
            .map_err(internal)?
            .into_iter()
            .map(|(id, r)| SegmentSummary {
                id: id.to_string(),
                definition: r.definition,
            })
            .collect())
    }

    async fn save_segment(
        &self,
        caller: &Caller,
        id: Option<SegmentId>,
        definition: SegmentDefinition,
    ) -> Result<SegmentId, PortError> {
        allow(caller, Permission::EditContacts)?;
        compile(&definition).map_err(PortError::Invalid)?;
        let now = self.clock.now_ms();
        let (id, created_at_ms) = match id {
            Some(id) => {
                let id = id.uuid();
                let old = self
                    .segments
                    .get(&id)
                    .map_err(internal)?
                    .ok_or_else(|| PortError::not_found(SegmentId::WHAT))?;
                (id, old.created_at_ms)
            }
            None => (Uuid::now_v7(), now),
        };
        self.segments
            .put(
                &id,
                &SegmentRecord {
                    definition,
                    created_at_ms,
                    updated_at_ms: now,
                },
            )
            .map_err(internal)?;
        self.store.flush().await.map_err(internal)?;
        Ok(SegmentId(id))
    }

    async fn delete_segment(&self, caller: &Caller, id: SegmentId) -> Result<(), PortError> {
        allow(caller, Permission::EditContacts)?;
        self.segments.delete(&id.uuid()).map_err(internal)?;
        self.store.flush().await.map_err(internal)
    }

    async fn count_segment(
        &self,
        caller: &Caller,
        definition: SegmentDefinition,
    ) -> Result<u64, PortError> {
        allow(caller, Permission::View)?;
        // The name is not needed to count, and the editor counts before one is typed.
        let named = SegmentDefinition {
            name: "count".into(),
            ..definition
        };
        let matcher = compile(&named).map_err(PortError::Invalid)?;
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut n = 0u64;
            for c in this.evaluate(&matcher) {
                c.map_err(internal)?;
                n += 1;
            }
            Ok(n)
        })
        .await
        .map_err(|e| crate::ports::fault("counting a segment panicked", e))?
    }
}
