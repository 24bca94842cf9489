//! Runs queued imports in the background, batch by batch, each batch committed atomically with
//! the job's progress ([`ImportStore::commit_batch`]). After a crash the job is still `Queued`
//! with the line it reached, and the next run resumes there: rows before it are read again only
//! to rebuild the "duplicate in file" set, never written twice.
//!
//! An import runs on two threads: the calling one reads and maps rows (CSV/XLSX, phone parsing,
//! duplicates, the name-index entries of new contacts) into [`ImportBatch`]es, a scoped writer
//! thread commits them; a bounded channel keeps at most two batches in flight, and written
//! batches travel back to be freed by the thread that allocated them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use domain::contacts::consent::{ConsentAction, ConsentEvent, ConsentSource};
use domain::contacts::import::{map_row, ColumnTarget, RowRejection};
use domain::contacts::phone;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::sheet::{self, SheetRow};
use crate::clock::Clock;
use crate::storage::contacts::{entries_for_new_contact, ContactStore};
use crate::storage::imports::{ImportBatch, ImportState, ImportStore, Merge, Rejected, RowOutcome};
use crate::storage::{StorageError, Store};

/// Rows per transaction: large enough to amortise sled's commit, small enough that progress
/// moves several times a second.
pub const BATCH_ROWS: usize = 2_000;

/// The reading half of an import: rows → mapped outcomes, in batches.
struct ReadStage<'a> {
    columns: &'a [ColumnTarget],
    default_country: Option<phone::CountryId>,
    phone_column: Option<usize>,
    consent: Option<&'a ConsentEvent>,
    /// Rows before this index were committed by an earlier run; they are read again only to
    /// rebuild the "duplicate in file" set.
    resume_at: u64,
    /// Data rows counted at upload.
    expected_rows: u64,
}

impl ReadStage<'_> {
    /// Sends every batch; returns the read error that ended the file early, if any. Stops quietly
    /// when the writer hangs up.
    fn run(
        &self,
        rows: &mut dyn Iterator<Item = Result<SheetRow, sheet::SheetError>>,
        batches: &std::sync::mpsc::SyncSender<ImportBatch>,
        spent: &std::sync::mpsc::Receiver<ImportBatch>,
    ) -> Option<String> {
        let mut seen = SeenNumbers::with_capacity(self.expected_rows);
        let mut row_index = 0u64;
        let mut batch = ImportBatch::default();
        let send = |batch: &mut ImportBatch, next_row: u64| {
            if batch.rows == 0 {
                return true;
            }
            // Written batches come back to be freed here, by the thread that allocated them:
            // frees from another thread cost both allocators dearly (locks, delayed reuse).
            while let Ok(done) = spent.try_recv() {
                drop(done);
            }
            let mut full = std::mem::take(batch);
            full.created_entries.sort_unstable();
            batches.send(ImportBatch { next_row, ..full }).is_ok()
        };
        for row in rows {
            let row = match row {
                Ok(row) => row,
                Err(e) => {
                    send(&mut batch, row_index);
                    return Some(e.0);
                }
            };
            let outcome = self.classify(&row, &mut seen);
            row_index += 1;
            if row_index <= self.resume_at {
                continue;
            }
            if let Some(RowOutcome::Merge(merge)) = &outcome {
                let p = &merge.patch;
                let position = batch.outcomes.len();
                batch.created_entries.extend(
                    entries_for_new_contact(
                        &p.phone,
                        p.first_name.as_deref(),
                        p.last_name.as_deref(),
                    )
                    .into_iter()
                    .map(|entry| (entry, position)),
                );
            }
            batch.outcomes.extend(outcome);
            batch.rows += 1;
            if batch.outcomes.len() >= BATCH_ROWS && !send(&mut batch, row_index) {
                return None;
            }
        }
        send(&mut batch, row_index);
        None
    }

    /// Maps one row and checks it against the numbers seen earlier in the file.
    fn classify(&self, row: &SheetRow, seen: &mut SeenNumbers) -> Option<RowOutcome> {
        let written = || {
            self.phone_column
                .and_then(|i| row.cells.get(i))
                .cloned()
                .unwrap_or_default()
        };
        let rejected = |rejection: RowRejection| {
            Some(RowOutcome::Rejected(
                row.line,
                Rejected {
                    phone: written(),
                    rejection,
                },
            ))
        };
        let patch = match map_row(&row.cells, self.columns, self.default_country) {
            Ok(patch) => patch,
            Err(rejection) => return rejected(rejection),
        };
        if let Some(first) = seen.first_line_or_insert(&patch.phone, row.line) {
            return rejected(RowRejection::duplicate(&patch.phone, first));
        }
        Some(RowOutcome::Merge(Box::new(Merge {
            patch,
            consent: self.consent.cloned(),
            tombstone: None,
        })))
    }
}

/// Runs imports; cheap to clone.
#[derive(Clone)]
pub struct Importer {
    store: Store,
    imports: ImportStore,
    contacts: ContactStore,
    dir: PathBuf,
    clock: Arc<dyn Clock>,
    /// Held while imports run: one runner per process, so a job is never run twice at once.
    running: Arc<Mutex<()>>,
    /// Woken when an import is queued.
    pub wake: Arc<Notify>,
}

/// The numbers read so far in a file and the line each first appeared on, for "duplicate in
/// file". 12 bytes a number (E.164 has at most 15 digits, so it fits in two u32 halves; a line in
/// a u32) instead of ~80 of strings, and sized once from the row count taken at upload so that
/// the table never doubles mid-import (a doubling briefly holds both tables).
struct SeenNumbers(HashMap<[u32; 2], u32>);

impl SeenNumbers {
    /// Room for `rows` numbers (capped, in case the count is wrong).
    fn with_capacity(rows: u64) -> Self {
        let rows = usize::try_from(rows.min(20_000_000)).unwrap_or(0);
        Self(HashMap::with_capacity(rows))
    }

    /// The line `e164` was first seen on, or `None` after recording it at `line`.
    fn first_line_or_insert(&mut self, e164: &str, line: u64) -> Option<u64> {
        let digits: u64 = e164.trim_start_matches('+').parse().unwrap_or(u64::MAX);
        let key = [(digits >> 32) as u32, digits as u32];
        match self.0.entry(key) {
            std::collections::hash_map::Entry::Occupied(first) => Some(u64::from(*first.get())),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(u32::try_from(line).unwrap_or(u32::MAX));
                None
            }
        }
    }
}

/// Where uploaded files are kept: `<data dir>/imports/<id>`.
pub fn upload_dir(store: &Store) -> PathBuf {
    store.path().join("imports")
}

impl Importer {
    /// An importer over `store`.
    pub fn new(store: &Store, clock: Arc<dyn Clock>) -> Result<Self, StorageError> {
        Ok(Self {
            store: store.clone(),
            imports: ImportStore::open(store)?,
            contacts: ContactStore::open(store)?,
            dir: upload_dir(store),
            clock,
            running: Arc::default(),
            wake: Arc::default(),
        })
    }

    /// The stored upload of import `id`.
    pub fn file_of(&self, id: &Uuid) -> PathBuf {
        self.dir.join(id.to_string())
    }

    /// Runs until `stop`: every queued import, on wake-up and every few seconds.
    pub async fn run(self, stop: CancellationToken) {
        loop {
            let this = self.clone();
            let cancel = stop.clone();
            match tokio::task::spawn_blocking(move || this.run_queued(&cancel)).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::error!(%error, "contact import failed; will retry"),
                Err(error) => tracing::error!(%error, "contact import task died; will retry"),
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            }
        }
    }

    /// Runs every queued import to its end (or until `stop`); tests call it directly.
    pub fn run_queued(&self, stop: &CancellationToken) -> Result<(), StorageError> {
        let _one_runner = self.running.lock().unwrap_or_else(|e| e.into_inner());
        for id in self.imports.runnable()? {
            if stop.is_cancelled() {
                return Ok(());
            }
            self.run_one(&id, stop)?;
        }
        Ok(())
    }

    fn run_one(&self, id: &Uuid, stop: &CancellationToken) -> Result<(), StorageError> {
        let Some(job) = self.imports.get(id)? else {
            return Ok(());
        };
        let Some(settings) = job.settings.clone() else {
            return Ok(());
        };
        let fail = |error: String| -> Result<(), StorageError> {
            tracing::warn!(import = %id, %error, "contact import stopped");
            let mut job = self.imports.get(id)?.unwrap_or(job.clone());
            job.state = ImportState::Failed {
                at_ms: self.clock.now_ms(),
                error,
            };
            self.imports.put(id, &job)
        };
        let default_country = match phone::country_id(&settings.default_country) {
            Ok(c) => Some(c),
            Err(e) => return fail(e.to_string()),
        };
        let mut rows = match sheet::rows(&self.file_of(id), job.format) {
            Ok(rows) => rows,
            Err(e) => return fail(e.0),
        };
        if settings.has_header {
            rows.next();
        }
        let phone_column = settings
            .columns
            .iter()
            .position(|c| *c == ColumnTarget::Phone);
        let consent = (!settings.consent.is_empty()).then(|| ConsentEvent {
            at_ms: job.created_at_ms,
            action: ConsentAction::OptIn,
            categories: settings.consent.clone(),
            source: ConsentSource::Import {
                file: job.file_name.clone(),
            },
        });
        let resume_at = job.progress.next_row;
        if resume_at > 0 {
            tracing::info!(import = %id, row = resume_at, "resuming contact import");
        }
        // Two stages on two threads: this one reads and maps rows (phone parsing is a third of
        // the work), the other writes batches; a bounded channel keeps memory flat.
        let (batches, received) = std::sync::mpsc::sync_channel::<ImportBatch>(2);
        let (give_back, spent) = std::sync::mpsc::channel::<ImportBatch>();
        let read_error = std::thread::scope(|scope| {
            let writer = scope.spawn(move || -> Result<(), StorageError> {
                for mut batch in received {
                    self.attach_tombstones(&mut batch.outcomes)?;
                    self.imports
                        .commit_batch(&self.contacts, id, &batch, self.clock.now_ms())?;
                    // The reader may be gone already; then the batch is simply freed here.
                    let _ = give_back.send(batch);
                    if stop.is_cancelled() {
                        // Dropping the receiver ends the reader at its next send.
                        return Ok(());
                    }
                }
                Ok(())
            });
            let reader = ReadStage {
                columns: &settings.columns,
                default_country,
                phone_column,
                consent: consent.as_ref(),
                resume_at,
                expected_rows: job.total_rows,
            };
            let read_error = reader.run(&mut rows, &batches, &spent);
            drop(batches);
            let written = writer
                .join()
                .unwrap_or_else(|_| Err(StorageError::Background("import writer panicked".into())));
            written.map(|()| read_error)
        })?;
        if stop.is_cancelled() {
            return Ok(());
        }
        if let Some(error) = read_error {
            return fail(error);
        }
        let mut done = self.imports.get(id)?.unwrap_or(job);
        done.state = ImportState::Done {
            at_ms: self.clock.now_ms(),
        };
        self.imports.put(id, &done)?;
        tracing::info!(import = %id, read = done.progress.read, created = done.progress.created,
            updated = done.progress.updated, rejected = done.progress.rejected, "contact import finished");
        Ok(())
    }

    /// Looks up the consent history deleted contacts left for the batch's numbers (skipped while
    /// nobody was ever deleted, which is the common case and saves a read per row).
    fn attach_tombstones(&self, outcomes: &mut [RowOutcome]) -> Result<(), StorageError> {
        if self.contacts.has_no_tombstones() {
            return Ok(());
        }
        for outcome in outcomes {
            if let RowOutcome::Merge(merge) = outcome {
                merge.tombstone = self
                    .contacts
                    .tombstone(&merge.patch.phone)?
                    .map(|t| t.consent);
            }
        }
        Ok(())
    }

    /// Flushes the store (imports commit without flushing each batch: a lost tail is simply
    /// re-run from the last durable progress).
    pub async fn flush(&self) -> Result<(), StorageError> {
        self.store.flush().await
    }

    /// The import directory, created if needed.
    pub fn ensure_dir(&self) -> std::io::Result<&Path> {
        std::fs::create_dir_all(&self.dir)?;
        Ok(&self.dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::storage::imports::{ImportFormat, ImportJob};
    use domain::contacts::import::ImportSettings;
    use domain::contacts::Category;

    fn queue(importer: &Importer, rows: usize) -> Uuid {
        let id = Uuid::now_v7();
        importer.ensure_dir().unwrap();
        let mut csv = String::from("phone,name,score\n");
        for i in 0..rows {
            // Every 10th row repeats the previous number; every 25th is not a number.
            let n = if i % 10 == 9 { i - 1 } else { i };
            if i % 25 == 24 {
                csv.push_str("call me,Nobody,1\n");
            } else {
                csv.push_str(&format!("+90532{n:07},Person {i},{i}\n"));
            }
        }
        std::fs::write(importer.file_of(&id), csv).unwrap();
        let settings = ImportSettings {
            columns: vec![
                ColumnTarget::Phone,
                ColumnTarget::FirstName,
                ColumnTarget::Attribute {
                    name: "score".into(),
                    kind: domain::contacts::AttributeKind::Number,
                },
            ],
            default_country: "TR".into(),
            consent: vec![Category::Marketing],
            has_header: true,
        };
        let job = ImportJob::queued(
            "list.csv",
            ImportFormat::Csv,
            rows as u64 + 1,
            settings,
            "owner",
            1,
        );
        importer.imports.put(&id, &job).unwrap();
        id
    }

    fn importer(dir: &Path) -> Importer {
        let store = Store::open(dir).unwrap();
        Importer::new(&store, Arc::new(ManualClock::new(1_000))).unwrap()
    }

    #[test]
    fn an_interrupted_import_resumes_to_the_same_report_as_an_uninterrupted_one() {
        let rows = BATCH_ROWS * 2 + 500;
        let whole = tempfile::tempdir().unwrap();
        let straight = importer(whole.path());
        let id = queue(&straight, rows);
        straight.run_queued(&CancellationToken::new()).unwrap();
        let expected = straight.imports.get(&id).unwrap().unwrap();
        assert!(matches!(expected.state, ImportState::Done { .. }));
        assert_eq!(expected.progress.read, rows as u64);
        assert_eq!(
            expected.progress.rejected,
            expected.progress.read - expected.progress.created
        );
        assert!(expected.progress.rejected > 0 && expected.progress.created > 0);

        let split = tempfile::tempdir().unwrap();
        let interrupted = importer(split.path());
        let id2 = queue(&interrupted, rows);
        // A cancelled token stops the run after each committed batch, like a crash between two.
        let stop = CancellationToken::new();
        stop.cancel();
        interrupted.run_one(&id2, &stop).unwrap();
        let partial = interrupted.imports.get(&id2).unwrap().unwrap();
        assert_eq!(partial.state, ImportState::Queued);
        assert!(partial.progress.read > 0 && partial.progress.read < rows as u64);
        interrupted.run_one(&id2, &stop).unwrap();
        interrupted.run_queued(&CancellationToken::new()).unwrap();
        let resumed = interrupted.imports.get(&id2).unwrap().unwrap();
        assert_eq!(
            resumed.progress, expected.progress,
            "same counters, nothing counted twice"
        );
        assert_eq!(interrupted.contacts.count(), straight.contacts.count());
        let rejects: Vec<_> = interrupted
            .imports
            .rejects(&id2)
            .map(Result::unwrap)
            .collect();
        assert_eq!(rejects.len() as u64, expected.progress.rejected);
        assert!(rejects
            .iter()
            .any(|(_, r)| r.rejection.rule == "import.duplicate"));
    }

    #[test]
    fn importing_the_same_file_again_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let importer = importer(dir.path());
        let first = queue(&importer, 300);
        importer.run_queued(&CancellationToken::new()).unwrap();
        let second = queue(&importer, 300);
        importer.run_queued(&CancellationToken::new()).unwrap();
        let a = importer.imports.get(&first).unwrap().unwrap().progress;
        let b = importer.imports.get(&second).unwrap().unwrap().progress;
        assert_eq!(b.created + b.updated, 0);
        assert_eq!(b.unchanged, a.created);
        assert_eq!(b.rejected, a.rejected);
    }

    #[test]
    fn imported_names_are_searchable_and_a_rename_by_a_later_import_replaces_the_old_name() {
        let dir = tempfile::tempdir().unwrap();
        let importer = importer(dir.path());
        let rows = BATCH_ROWS + 300;
        queue(&importer, rows);
        importer.run_queued(&CancellationToken::new()).unwrap();
        let find = |q: &str| {
            importer
                .contacts
                .search_name(q, None, 50, &|_| true)
                .unwrap()
                .items
                .into_iter()
                .map(|c| c.phone)
                .collect::<Vec<_>>()
        };
        // Rows of both batches, by full name prefix.
        assert_eq!(find("person 2000"), ["+905320002000"]);
        assert!(find("Person 17").contains(&"+905320000017".to_string()));
        assert_eq!(find("person 1").len(), 50, "one page of many matches");

        // A later file renames one of them.
        let id = queue(&importer, 0);
        std::fs::write(
            importer.file_of(&id),
            "phone,name,score\n+905320000017,Zeynep,1\n",
        )
        .unwrap();
        importer.run_queued(&CancellationToken::new()).unwrap();
        assert_eq!(find("zeynep"), ["+905320000017"]);
        assert!(
            !find("person 17").contains(&"+905320000017".to_string()),
            "the old name no longer finds it"
        );
    }

    mod malformed {
        use super::*;
        use proptest::prelude::*;

        /// A row of a hostile file and what the importer must make of it.
        #[derive(Debug, Clone)]
        enum Row {
            /// A valid number (pool index), its name in Latin-1 or UTF-8, maybe ragged.
            Good { n: u8, latin1: bool, ragged: bool },
            /// A spreadsheet formula or words where the number should be.
            NotANumber(String),
            /// A valid number with a cell too large to keep.
            Huge(u8),
        }

        fn row() -> impl Strategy<Value = Row> {
            prop_oneof![
                4 => (0u8..40, any::<bool>(), any::<bool>()).prop_map(|(n, latin1, ragged)| Row::Good { n, latin1, ragged }),
                1 => prop_oneof![
                    Just("=HYPERLINK(\"http://x\")".to_string()),
                    Just("@SUM(A1:A9)".to_string()),
                    "[a-z ]{1,12}",
                ].prop_map(Row::NotANumber),
                1 => (0u8..40).prop_map(Row::Huge),
            ]
        }

        fn file(rows: &[Row], bom: bool, delimiter: u8) -> Vec<u8> {
            let d = delimiter as char;
            let mut out = if bom {
                b"\xef\xbb\xbf".to_vec()
            } else {
                Vec::new()
            };
            out.extend(format!("phone{d}name{d}note\r\n").as_bytes());
            for row in rows {
                match row {
                    Row::Good { n, latin1, ragged } => {
                        out.extend(format!("+90532{:07}{d}", 1_000 + u32::from(*n)).as_bytes());
                        // "Çiğdem" has letters outside Latin-1; "José" is written in it.
                        out.extend(if *latin1 {
                            b"Jos\xe9".to_vec()
                        } else {
                            "Çiğdem".as_bytes().to_vec()
                        });
                        if !ragged {
                            out.extend(
                                format!("{d}\"a \"\"quoted\"\" note{d} with newline\n\"")
                                    .as_bytes(),
                            );
                        }
                    }
                    Row::NotANumber(text) => out.extend(format!("{text}{d}x{d}y").as_bytes()),
                    Row::Huge(n) => {
                        out.extend(format!("+90532{:07}{d}", 1_000 + u32::from(*n)).as_bytes());
                        out.extend("x".repeat(5_000).as_bytes());
                    }
                }
                out.extend(b"\r\n");
            }
            out
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(24))]
            #[test]
            fn every_good_row_is_kept_and_every_bad_row_reported(
                rows in proptest::collection::vec(row(), 1..60),
                bom in any::<bool>(),
                semicolons in any::<bool>(),
            ) {
                let dir = tempfile::tempdir().unwrap();
                let importer = importer(dir.path());
                let id = queue(&importer, 0);
                std::fs::write(importer.file_of(&id), file(&rows, bom, if semicolons { b';' } else { b',' })).unwrap();
                let mut job = importer.imports.get(&id).unwrap().unwrap();
                job.settings.as_mut().unwrap().columns = vec![ColumnTarget::Phone, ColumnTarget::FirstName, ColumnTarget::Ignore];
                importer.imports.put(&id, &job).unwrap();
                importer.run_queued(&CancellationToken::new()).unwrap();

                let mut seen = std::collections::HashSet::new();
                let (mut good, mut bad) = (0u64, 0u64);
                for r in &rows {
                    match r {
                        Row::Good { n, .. } if seen.insert(*n) => good += 1,
                        _ => bad += 1,
                    }
                }
                let done = importer.imports.get(&id).unwrap().unwrap();
                prop_assert!(matches!(done.state, ImportState::Done { .. }), "{:?}", done.state);
                prop_assert_eq!(done.progress.read, rows.len() as u64);
                prop_assert_eq!(done.progress.created, good);
                prop_assert_eq!(done.progress.rejected, bad);
                prop_assert_eq!(importer.imports.rejects(&id).count() as u64, bad);
                for c in importer.contacts.all() {
                    let c = c.unwrap();
                    prop_assert!(c.first_name == "José" || c.first_name == "Çiğdem", "{}", c.first_name);
                }
            }
        }
    }

    mod malformed_xlsx {
        use super::*;
        use proptest::prelude::*;

        /// What the phone cell of a generated workbook row holds.
        #[derive(Debug, Clone)]
        enum PhoneCell {
            Text(u8),
            Number(u8),
            Formula,
            Garbage(String),
            Empty,
        }

        fn phone_cell() -> impl Strategy<Value = PhoneCell> {
            prop_oneof![
                3 => (0u8..30).prop_map(PhoneCell::Text),
                2 => (0u8..30).prop_map(PhoneCell::Number),
                1 => Just(PhoneCell::Formula),
                1 => "\\PC{0,40}".prop_map(PhoneCell::Garbage),
                1 => Just(PhoneCell::Empty),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(16))]
            #[test]
            fn workbooks_with_hostile_cells_report_every_bad_row(
                rows in proptest::collection::vec((phone_cell(), "\\PC{1,30}"), 1..40),
            ) {
                use rust_xlsxwriter::{Formula, Workbook};
                let dir = tempfile::tempdir().unwrap();
                let importer = importer(dir.path());
                let id = queue(&importer, 0);
                let mut workbook = Workbook::new();
                let sheet = workbook.add_worksheet();
                sheet.write_string(0, 0, "phone").unwrap();
                sheet.write_string(0, 1, "name").unwrap();
                let mut seen = std::collections::HashSet::new();
                let mut good = 0u64;
                for (i, (cell, name)) in rows.iter().enumerate() {
                    let r = i as u32 + 1;
                    // A name that is only whitespace would leave the row looking empty.
                    sheet.write_string(r, 1, format!("n{name}")).unwrap();
                    match cell {
                        PhoneCell::Text(n) => { sheet.write_string(r, 0, format!("+90532{:07}", 2_000 + u32::from(*n))).unwrap(); }
                        PhoneCell::Number(n) => { sheet.write_number(r, 0, 905_320_002_000.0 + f64::from(*n)).unwrap(); }
                        PhoneCell::Formula => { sheet.write_formula(r, 0, Formula::new("=1+1")).unwrap(); }
                        PhoneCell::Garbage(g) => { sheet.write_string(r, 0, g.as_str()).unwrap(); }
                        PhoneCell::Empty => {}
                    }
                    if let PhoneCell::Text(n) | PhoneCell::Number(n) = cell {
                        if seen.insert(*n) { good += 1; }
                    }
                }
                workbook.save(importer.file_of(&id)).unwrap();
                let mut job = importer.imports.get(&id).unwrap().unwrap();
                job.format = ImportFormat::Xlsx;
                job.settings.as_mut().unwrap().columns = vec![ColumnTarget::Phone, ColumnTarget::FirstName];
                importer.imports.put(&id, &job).unwrap();
                importer.run_queued(&CancellationToken::new()).unwrap();
                let done = importer.imports.get(&id).unwrap().unwrap();
                prop_assert!(matches!(done.state, ImportState::Done { .. }), "{:?}", done.state);
                prop_assert_eq!(done.progress.read, rows.len() as u64);
                prop_assert_eq!(done.progress.created, good);
                prop_assert_eq!(done.progress.rejected, rows.len() as u64 - good);
            }
        }
    }
}
