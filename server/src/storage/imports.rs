//! Contact imports: the job (tree `imports`, id → [`ImportJob`]) and its rejected rows (tree
//! `import_rejects`, (id, line) → [`Rejected`]).
//!
//! A batch of rows lands with [`ImportStore::commit_batch`]: the contacts it creates or updates
//! and the job's progress (next line, counters) are written in **one transaction**, so after a
//! crash the job resumes exactly after the last committed batch and its counters stay true.
//! Rejections are keyed by line and written before the batch, so replaying one overwrites them.

use std::cell::RefCell;

use domain::contacts::import::{ColumnTarget, ImportSettings, RowRejection};
use domain::contacts::model::ContactPatch;
use domain::contacts::{Change, ConsentEvent, Contact};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::contacts::ContactStore;
use super::name_runs::NameRuns;
use super::{transact_with_raw, Collection, StorageError, Store, TxError};

/// File formats Herald reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportFormat {
    /// Comma-, semicolon- or tab-separated text.
    Csv,
    /// Excel workbook (first sheet).
    Xlsx,
}

/// Where an import stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ImportState {
    /// Uploaded; waiting for the user to confirm the mapping.
    Uploaded,
    /// Mapping confirmed; the worker will run it (also after a restart).
    Queued,
    /// Finished; the report is final.
    Done {
        /// Unix ms.
        at_ms: i64,
    },
    /// The file could not be read past some point; rows before it were imported.
    Failed {
        /// Unix ms.
        at_ms: i64,
        /// Why, in a sentence.
        error: String,
    },
}

/// Counters of the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Index of the next data row to read (0-based, header excluded).
    pub next_row: u64,
    /// Data rows read.
    pub read: u64,
    /// New contacts.
    pub created: u64,
    /// Contacts that changed.
    pub updated: u64,
    /// Rows that changed nothing.
    pub unchanged: u64,
    /// Rows rejected.
    pub rejected: u64,
}

/// One import.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportJob {
    /// The file's name as uploaded.
    pub file_name: String,
    /// How to read it.
    pub format: ImportFormat,
    /// Size in bytes.
    pub size: u64,
    /// Data rows in the file (header excluded), counted at upload.
    pub total_rows: u64,
    /// The first row's cells.
    pub headers: Vec<String>,
    /// A few rows after the header, for the mapping step.
    pub samples: Vec<Vec<String>>,
    /// The guessed mapping.
    pub suggested: Vec<ColumnTarget>,
    /// The confirmed mapping.
    pub settings: Option<ImportSettings>,
    /// The account that uploaded it.
    pub by: String,
    /// Unix ms.
    pub created_at_ms: i64,
    /// State.
    pub state: ImportState,
    /// Counters.
    pub progress: Progress,
}

impl ImportJob {
    /// A job whose mapping is already chosen, for imports started by programs (and tests and
    /// benchmarks) rather than through the mapping page.
    pub fn queued(
        file_name: &str,
        format: ImportFormat,
        total_rows: u64,
        settings: ImportSettings,
        by: &str,
        created_at_ms: i64,
    ) -> Self {
        Self {
            file_name: file_name.to_string(),
            format,
            size: 0,
            total_rows,
            headers: Vec::new(),
            samples: Vec::new(),
            suggested: settings.columns.clone(),
            settings: Some(settings),
            by: by.to_string(),
            created_at_ms,
            state: ImportState::Queued,
            progress: Progress::default(),
        }
    }
}

/// A rejected row in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejected {
    /// The number as written, if the row had one.
    pub phone: String,
    /// Why.
    pub rejection: RowRejection,
}

/// A row's fate within a batch.
pub enum RowOutcome {
    /// Merge this patch (and consent event) into the stored contact, if any.
    Merge(Box<Merge>),
    /// Rejected at `line`.
    Rejected(u64, Rejected),
}

/// What an accepted row contributes.
pub struct Merge {
    /// The row's data.
    pub patch: ContactPatch,
    /// The consent the import records, if any.
    pub consent: Option<ConsentEvent>,
    /// A deleted contact's consent history for this number, restored if the contact is new.
    pub tombstone: Option<Vec<ConsentEvent>>,
}

/// Rows the importer read and mapped, ready to be committed together.
#[derive(Default)]
pub struct ImportBatch {
    /// Each row's fate, in file order.
    pub outcomes: Vec<RowOutcome>,
    /// Name-index entries of the rows that would create a contact
    /// ([`super::contacts::entries_for_new_contact`]), sorted, with the row's position in
    /// `outcomes`: the reader prepares them so the writer only filters.
    pub created_entries: Vec<(Vec<u8>, usize)>,
    /// The row index to resume at once this batch is written.
    pub next_row: u64,
    /// Data rows the batch covers.
    pub rows: u64,
}

/// Typed access to the import trees.
#[derive(Clone)]
pub struct ImportStore {
    jobs: Collection<Uuid, ImportJob>,
    rejects: Collection<(Uuid, u64), Rejected>,
}

impl ImportStore {
    /// Opens the trees.
    pub fn open(store: &Store) -> Result<Self, StorageError> {
        Ok(Self {
            jobs: store.collection("imports")?,
            rejects: store.collection("import_rejects")?,
        })
    }

    /// The job `id`.
    pub fn get(&self, id: &Uuid) -> Result<Option<ImportJob>, StorageError> {
        self.jobs.get(id)
    }

    /// Stores a job.
    pub fn put(&self, id: &Uuid, job: &ImportJob) -> Result<(), StorageError> {
        self.jobs.insert(id, job)
    }

    /// Every job, newest first.
    pub fn list(&self) -> Result<Vec<(Uuid, ImportJob)>, StorageError> {
        self.jobs.iter().rev().collect()
    }

    /// Jobs the worker has to run (queued, including ones interrupted by a crash), oldest first.
    pub fn runnable(&self) -> Result<Vec<Uuid>, StorageError> {
        let mut out = Vec::new();
        for entry in self.jobs.iter() {
            let (id, job) = entry?;
            if job.state == ImportState::Queued {
                out.push(id);
            }
        }
        Ok(out)
    }

    /// Rejected rows of `id` in line order.
    pub fn rejects(
        &self,
        id: &Uuid,
    ) -> impl Iterator<Item = Result<(u64, Rejected), StorageError>> + '_ {
        self.rejects
            .scan_prefix(id.as_bytes())
            .map(|e| e.map(|((_, line), r)| (line, r)))
    }

    /// Writes one batch: rejections first (keyed by line, so a replay overwrites them), then in
    /// one transaction every merge, the batch's name-index entries as one run
    /// ([`super::name_runs`]) and the job's new progress. Merging happens inside the transaction,
    /// so an edit made meanwhile in the UI is never overwritten with stale data. Afterwards the
    /// per-key index forgets names that imported rows replaced, and full levels of runs merge.
    pub fn commit_batch(
        &self,
        contacts: &ContactStore,
        id: &Uuid,
        batch: &ImportBatch,
        now_ms: i64,
    ) -> Result<Progress, StorageError> {
        let ImportBatch {
            outcomes,
            created_entries,
            next_row,
            rows: rows_in_batch,
        } = batch;
        for outcome in outcomes {
            if let RowOutcome::Rejected(line, rejected) = outcome {
                self.rejects.insert(&(*id, *line), rejected)?;
            }
        }
        let renamed: RefCell<Vec<(Contact, Contact)>> = RefCell::default();
        let runs = contacts.name_runs();
        let run_id = runs.new_run_id()?;
        let progress = transact_with_raw(
            contacts.collection(),
            &self.jobs,
            runs.tree(),
            |tx_contacts, tx_jobs, tx_runs| {
                renamed.borrow_mut().clear();
                let mut created = vec![false; outcomes.len()];
                let mut updated_entries = Vec::new();
                let Some(mut job) = tx_jobs.get::<StorageError>(id)? else {
                    return Err(TxError::Abort(StorageError::Decode {
                        collection: "imports",
                        reason: format!("import {id} disappeared"),
                    }));
                };
                let p = &mut job.progress;
                for (position, outcome) in outcomes.iter().enumerate() {
                    let RowOutcome::Merge(m) = outcome else {
                        p.rejected += 1;
                        continue;
                    };
                    let previous = tx_contacts.get::<StorageError>(&m.patch.phone)?;
                    let base = previous.clone().or_else(|| {
                        m.tombstone.as_ref().map(|history| Contact {
                            consent: history.clone(),
                            ..Contact::default()
                        })
                    });
                    let existed = previous.is_some();
                    let (mut contact, mut change) =
                        Contact::merge(base, &m.patch, m.consent.clone(), now_ms);
                    if !existed {
                        // A tombstone's history does not make the contact old.
                        contact.phone = m.patch.phone.clone();
                        contact.country = m.patch.country.clone();
                        contact.created_at_ms = now_ms;
                        contact.updated_at_ms = now_ms;
                        change = Change::Created;
                    }
                    match change {
                        Change::Created => p.created += 1,
                        Change::Updated => p.updated += 1,
                        Change::Unchanged => {
                            p.unchanged += 1;
                            continue;
                        }
                    }
                    tx_contacts.insert(&contact.phone, &contact)?;
                    match previous {
                        None => created[position] = true,
                        Some(previous) => {
                            updated_entries
                                .extend(ContactStore::new_index_entries(&contact, Some(&previous)));
                            renamed.borrow_mut().push((contact, previous));
                        }
                    }
                }
                let mut entries: Vec<Vec<u8>> = created_entries
                    .iter()
                    .filter(|(_, position)| created.get(*position) == Some(&true))
                    .map(|(entry, _)| entry.clone())
                    .collect();
                entries.extend(updated_entries);
                if let Some(run) = NameRuns::prepare(run_id, entries) {
                    run.write(tx_runs)?;
                }
                p.read += rows_in_batch;
                p.next_row = *next_row;
                let progress = *p;
                tx_jobs.insert(id, &job)?;
                Ok(progress)
            },
        )?;
        for (contact, previous) in renamed.into_inner() {
            contacts.drop_old_terms(&contact, &previous)?;
        }
        runs.compact()?;
        Ok(progress)
    }
}
