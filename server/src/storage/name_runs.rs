//! The bulk half of the contact name index (tree `contacts_name_runs`): imports add their
//! contacts' name-index entries as immutable, sorted **runs** of pages instead of one sled key
//! per entry. A sled insert costs ~4 µs whatever its size, so two index keys per contact took
//! more than half of a million-row import; a run costs a handful of page writes per batch.
//!
//! Layout (one tree):
//! - `d` ++ run id (u64 BE) → [`RunState`] byte ++ entry count (u64 BE): the directory.
//! - `p` ++ run id ++ first entry of the page → the page: entries as (u32 LE length, bytes).
//!
//! Entries are the same byte strings as the per-key index (`term \0 number`), so a search merges
//! this tree's runs with the per-key tree in one order. Runs are size-tiered: once
//! [`FANOUT`] runs share a level they are merged into one run of the next level, so a search
//! visits a few dozen runs at most and an entry is rewritten about once per level. Entries are
//! never removed from a run; like the per-key index, readers check the contact still carries the
//! name. Only the importer writes runs, one job at a time; merges are serialised by a mutex.
//!
//! Crash safety: an import writes its run in the same transaction as its contacts. A merge writes
//! the new run as `Building`, then flips it to `Ready` and the merged runs to `Retired` in one
//! atomic batch; leftover `Building` and `Retired` runs are deleted by the next merge pass, so a
//! search that listed the directory just before a flip still finds its pages.

use std::ops::Bound;
use std::sync::{Arc, Mutex};

use sled::transaction::{TransactionalTree, UnabortableTransactionError};

use super::{StorageError, Store};

/// Entries per page: a search decodes one page per run to find its start. (Tiny in unit tests,
/// so that a handful of entries spans pages and levels.)
const PAGE_ENTRIES: usize = if cfg!(test) { 3 } else { 512 };
/// Runs of one level merged together.
pub const FANOUT: usize = 8;
/// Entries up to which a run is level 0; each level holds [`FANOUT`] times more.
const LEVEL0_ENTRIES: u64 = if cfg!(test) { 4 } else { 8_192 };

const DIR: u8 = b'd';
const PAGE: u8 = b'p';

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RunState {
    /// Pages being written by a merge; not visible to readers.
    Building = 0,
    /// Visible to readers.
    Ready = 1,
    /// Merged into another run; deleted by the next merge pass.
    Retired = 2,
}

impl RunState {
    fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            0 => Some(Self::Building),
            1 => Some(Self::Ready),
            2 => Some(Self::Retired),
            _ => None,
        }
    }
}

/// One directory entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    id: u64,
    state: RunState,
    entries: u64,
}

fn dir_key(id: u64) -> [u8; 9] {
    let mut key = [DIR; 9];
    key[1..].copy_from_slice(&id.to_be_bytes());
    key
}

fn dir_value(state: RunState, entries: u64) -> [u8; 9] {
    let mut value = [state as u8; 9];
    value[1..].copy_from_slice(&entries.to_be_bytes());
    value
}

fn page_prefix(id: u64) -> [u8; 9] {
    let mut key = [PAGE; 9];
    key[1..].copy_from_slice(&id.to_be_bytes());
    key
}

fn page_key(id: u64, first: &[u8]) -> Vec<u8> {
    let mut key = page_prefix(id).to_vec();
    key.extend_from_slice(first);
    key
}

fn corrupt(reason: impl Into<String>) -> StorageError {
    StorageError::Decode {
        collection: "contacts_name_runs",
        reason: reason.into(),
    }
}

/// Encodes a page: each entry as its length (u32 LE) and bytes.
fn encode_page(entries: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(entries.iter().map(|e| e.len() + 4).sum());
    for entry in entries {
        let len = u32::try_from(entry.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&entry[..len as usize]);
    }
    out
}

fn decode_page(mut bytes: &[u8]) -> Result<Vec<Vec<u8>>, StorageError> {
    let mut entries = Vec::with_capacity(PAGE_ENTRIES);
    while !bytes.is_empty() {
        let (len, rest) = bytes
            .split_first_chunk::<4>()
            .ok_or_else(|| corrupt("truncated entry length"))?;
        let len = u32::from_le_bytes(*len) as usize;
        if rest.len() < len {
            return Err(corrupt("truncated entry"));
        }
        entries.push(rest[..len].to_vec());
        bytes = &rest[len..];
    }
    Ok(entries)
}

fn level(entries: u64) -> u32 {
    let (mut level, mut cap) = (0, LEVEL0_ENTRIES);
    while entries > cap {
        cap = cap.saturating_mul(FANOUT as u64);
        level += 1;
    }
    level
}

/// A run's pages, ready to be written inside the transaction that commits what they index.
pub struct PreparedRun {
    id: u64,
    entries: u64,
    pages: Vec<(Vec<u8>, Vec<u8>)>,
}

impl PreparedRun {
    /// Writes the run as `Ready` in `tx` (the caller's transaction over this tree).
    pub(super) fn write(&self, tx: &TransactionalTree) -> Result<(), UnabortableTransactionError> {
        for (key, page) in &self.pages {
            tx.insert(key.as_slice(), page.as_slice())?;
        }
        tx.insert(
            dir_key(self.id).as_slice(),
            dir_value(RunState::Ready, self.entries).as_slice(),
        )?;
        Ok(())
    }
}

/// Typed access to the runs tree; cheap to clone.
#[derive(Clone)]
pub struct NameRuns {
    tree: sled::Tree,
    store: Store,
    merging: Arc<Mutex<()>>,
}

impl NameRuns {
    /// Opens the tree.
    pub fn open(store: &Store) -> Result<Self, StorageError> {
        Ok(Self {
            tree: store.raw_tree("contacts_name_runs")?,
            store: store.clone(),
            merging: Arc::default(),
        })
    }

    /// The tree, for the import transaction.
    pub(super) fn tree(&self) -> &sled::Tree {
        &self.tree
    }

    /// An id for a new run. Take it before the transaction that writes the run: sled's id
    /// generator cannot be called inside a transaction (it deadlocks on the transaction's lock).
    pub fn new_run_id(&self) -> Result<u64, StorageError> {
        self.store.generate_id()
    }

    /// Lays out `entries` as run `id`; `None` when there are none. Sorts (unless they already
    /// are) and deduplicates.
    pub fn prepare(id: u64, mut entries: Vec<Vec<u8>>) -> Option<PreparedRun> {
        if entries.is_empty() {
            return None;
        }
        if !entries.is_sorted() {
            entries.sort_unstable();
        }
        entries.dedup();
        let pages = entries
            .chunks(PAGE_ENTRIES)
            .map(|chunk| (page_key(id, &chunk[0]), encode_page(chunk)))
            .collect();
        Some(PreparedRun {
            id,
            entries: entries.len() as u64,
            pages,
        })
    }

    fn runs(&self) -> Result<Vec<Run>, StorageError> {
        let mut runs = Vec::new();
        for item in self.tree.scan_prefix([DIR]) {
            let (key, value) = item?;
            let id = key
                .get(1..)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map(u64::from_be_bytes)
                .ok_or_else(|| corrupt("bad run id"))?;
            let state = value
                .first()
                .and_then(|b| RunState::from_byte(*b))
                .ok_or_else(|| corrupt("bad run state"))?;
            let entries = value
                .get(1..)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map(u64::from_be_bytes)
                .ok_or_else(|| corrupt("bad run size"))?;
            runs.push(Run { id, state, entries });
        }
        Ok(runs)
    }

    /// Every entry at or after `start`, in byte order, each once, across all visible runs.
    pub fn entries_from(
        &self,
        start: &[u8],
    ) -> Result<impl Iterator<Item = Result<Vec<u8>, StorageError>>, StorageError> {
        let cursors = self
            .runs()?
            .into_iter()
            .filter(|r| r.state == RunState::Ready)
            .map(|r| RunCursor::new(self.tree.clone(), r.id, start))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(merge(
            cursors
                .into_iter()
                .map(|c| Box::new(c) as Box<dyn Iterator<Item = _>>)
                .collect(),
        ))
    }

    /// Deletes leftovers of earlier merges, then merges every level that has [`FANOUT`] runs.
    pub fn compact(&self) -> Result<(), StorageError> {
        let _one_merge = self.merging.lock().unwrap_or_else(|e| e.into_inner());
        for run in self.runs()? {
            if run.state != RunState::Ready {
                self.delete(run.id)?;
            }
        }
        loop {
            let runs: Vec<Run> = self
                .runs()?
                .into_iter()
                .filter(|r| r.state == RunState::Ready)
                .collect();
            let Some(full_level) =
                (0..32).find(|l| runs.iter().filter(|r| level(r.entries) == *l).count() >= FANOUT)
            else {
                return Ok(());
            };
            let members: Vec<u64> = runs
                .iter()
                .filter(|r| level(r.entries) == full_level)
                .map(|r| r.id)
                .collect();
            self.merge_runs(&members)?;
        }
    }

    /// Number of visible runs (for tests and the benchmark).
    pub fn visible_runs(&self) -> Result<usize, StorageError> {
        Ok(self
            .runs()?
            .iter()
            .filter(|r| r.state == RunState::Ready)
            .count())
    }

    fn merge_runs(&self, members: &[u64]) -> Result<(), StorageError> {
        let id = self.store.generate_id()?;
        self.tree
            .insert(dir_key(id), dir_value(RunState::Building, 0).as_slice())?;
        let sources = members
            .iter()
            .map(|m| {
                RunCursor::new(self.tree.clone(), *m, &[])
                    .map(|c| Box::new(c) as Box<dyn Iterator<Item = _>>)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut page: Vec<Vec<u8>> = Vec::with_capacity(PAGE_ENTRIES);
        let mut total = 0u64;
        let write = |page: &mut Vec<Vec<u8>>| -> Result<(), StorageError> {
            if let Some(first) = page.first() {
                self.tree.insert(page_key(id, first), encode_page(page))?;
                page.clear();
            }
            Ok(())
        };
        for entry in merge(sources) {
            page.push(entry?);
            total += 1;
            if page.len() == PAGE_ENTRIES {
                write(&mut page)?;
            }
        }
        write(&mut page)?;
        let mut flip = sled::Batch::default();
        flip.insert(&dir_key(id), &dir_value(RunState::Ready, total));
        for member in members {
            flip.insert(&dir_key(*member), &dir_value(RunState::Retired, 0));
        }
        self.tree.apply_batch(flip)?;
        Ok(())
    }

    fn delete(&self, id: u64) -> Result<(), StorageError> {
        for key in self.tree.scan_prefix(page_prefix(id)).keys() {
            self.tree.remove(key?)?;
        }
        self.tree.remove(dir_key(id))?;
        Ok(())
    }
}

/// Reads one run from a start entry, a page at a time.
struct RunCursor {
    tree: sled::Tree,
    prefix: [u8; 9],
    start: Vec<u8>,
    page: std::vec::IntoIter<Vec<u8>>,
    /// Key of the page loaded last; `None` once the run is exhausted.
    page_key: Option<sled::IVec>,
}

impl RunCursor {
    fn new(tree: sled::Tree, id: u64, start: &[u8]) -> Result<Self, StorageError> {
        let prefix = page_prefix(id);
        let mut upto = prefix.to_vec();
        upto.extend_from_slice(start);
        // The last page whose first entry is at or before `start` holds it, if any page does;
        // otherwise the run's first page.
        let first = match tree.range(prefix.to_vec()..=upto).next_back() {
            Some(item) => Some(item?),
            None => tree.scan_prefix(prefix).next().transpose()?,
        };
        let mut cursor = Self {
            tree,
            prefix,
            start: start.to_vec(),
            page: Vec::new().into_iter(),
            page_key: None,
        };
        if let Some((key, value)) = first {
            cursor.load(key, &value)?;
        }
        Ok(cursor)
    }

    fn load(&mut self, key: sled::IVec, value: &[u8]) -> Result<(), StorageError> {
        let mut entries = decode_page(value)?;
        let skip = entries.partition_point(|e| e.as_slice() < self.start.as_slice());
        entries.drain(..skip);
        self.page = entries.into_iter();
        self.page_key = Some(key);
        Ok(())
    }

    /// Loads the page after the current one, or marks the run exhausted.
    fn advance(&mut self) -> Result<(), StorageError> {
        let Some(current) = self.page_key.take() else {
            return Ok(());
        };
        let next = self
            .tree
            .range::<&[u8], _>((Bound::Excluded(current.as_ref()), Bound::Unbounded))
            .next()
            .transpose()?;
        if let Some((key, value)) = next.filter(|(key, _)| key.starts_with(&self.prefix)) {
            self.load(key, &value)?;
        }
        Ok(())
    }
}

impl Iterator for RunCursor {
    type Item = Result<Vec<u8>, StorageError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(entry) = self.page.next() {
                return Some(Ok(entry));
            }
            self.page_key.as_ref()?;
            if let Err(e) = self.advance() {
                return Some(Err(e));
            }
        }
    }
}

/// Merges sorted sources into one sorted stream, each distinct entry once.
pub fn merge<'a>(
    sources: Vec<Box<dyn Iterator<Item = Result<Vec<u8>, StorageError>> + 'a>>,
) -> impl Iterator<Item = Result<Vec<u8>, StorageError>> + 'a {
    let mut sources = sources;
    let mut heads: Vec<Option<Vec<u8>>> = Vec::with_capacity(sources.len());
    let mut failed: Option<StorageError> = None;
    for source in &mut sources {
        match source.next() {
            Some(Ok(e)) => heads.push(Some(e)),
            Some(Err(e)) => {
                failed.get_or_insert(e);
                heads.push(None);
            }
            None => heads.push(None),
        }
    }
    std::iter::from_fn(move || {
        if let Some(e) = failed.take() {
            return Some(Err(e));
        }
        let smallest = heads.iter().flatten().min()?.clone();
        for (head, source) in heads.iter_mut().zip(sources.iter_mut()) {
            if head.as_ref() == Some(&smallest) {
                *head = match source.next() {
                    Some(Ok(e)) => Some(e),
                    Some(Err(e)) => {
                        failed.get_or_insert(e);
                        None
                    }
                    None => None,
                };
            }
        }
        Some(Ok(smallest))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn runs() -> (tempfile::TempDir, NameRuns) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        (dir, NameRuns::open(&store).unwrap())
    }

    fn add(runs: &NameRuns, entries: &[&str]) {
        let entries = entries.iter().map(|e| e.as_bytes().to_vec()).collect();
        if let Some(run) = NameRuns::prepare(runs.new_run_id().unwrap(), entries) {
            runs.tree()
                .transaction(|tx| {
                    run.write(tx)?;
                    Ok::<_, sled::transaction::ConflictableTransactionError<()>>(())
                })
                .unwrap();
        }
        runs.compact().unwrap();
    }

    fn read(runs: &NameRuns, start: &str) -> Vec<String> {
        runs.entries_from(start.as_bytes())
            .unwrap()
            .map(|e| String::from_utf8(e.unwrap()).unwrap())
            .collect()
    }

    #[test]
    fn a_search_starts_inside_a_page_and_continues_across_pages_and_runs() {
        let (_dir, runs) = runs();
        add(&runs, &["ayla\0+1", "ayşe\0+2", "can\0+3", "deniz\0+4"]);
        add(&runs, &["ayşe\0+9", "burak\0+5", "can\0+3"]);
        assert_eq!(
            read(&runs, "ayş"),
            ["ayşe\0+2", "ayşe\0+9", "burak\0+5", "can\0+3", "deniz\0+4"]
        );
        assert_eq!(read(&runs, "zz"), Vec::<String>::new());
        assert_eq!(read(&runs, "").len(), 6, "each entry once");
    }

    #[test]
    fn full_levels_merge_into_one_run_and_leftovers_disappear() {
        let (_dir, runs) = runs();
        for i in 0..FANOUT {
            add(&runs, &[&format!("n{i}\0+{i}")]);
        }
        assert_eq!(runs.visible_runs().unwrap(), 1);
        assert_eq!(read(&runs, "").len(), FANOUT);
        // The merged runs were retired; the next pass deletes them, pages and all.
        runs.compact().unwrap();
        assert_eq!(runs.runs().unwrap().len(), 1);
        let pages = runs.tree.scan_prefix([PAGE]).count();
        assert_eq!(pages, FANOUT.div_ceil(PAGE_ENTRIES));
    }

    #[test]
    fn a_merge_interrupted_before_its_flip_leaves_nothing_visible_and_is_cleaned_up() {
        let (_dir, runs) = runs();
        add(&runs, &["a\0+1"]);
        // What a crash mid-merge leaves: a Building run with some pages.
        let id = runs.store.generate_id().unwrap();
        runs.tree
            .insert(dir_key(id), dir_value(RunState::Building, 0).as_slice())
            .unwrap();
        runs.tree
            .insert(page_key(id, b"zz"), encode_page(&[b"zz".to_vec()]))
            .unwrap();
        assert_eq!(read(&runs, ""), ["a\0+1"]);
        runs.compact().unwrap();
        assert!(runs.tree.get(dir_key(id)).unwrap().is_none());
        assert_eq!(runs.tree.scan_prefix(page_prefix(id)).count(), 0);
    }

    #[test]
    fn corrupt_pages_are_errors_not_panics() {
        assert!(decode_page(&[9, 0, 0, 0, b'a']).is_err());
        assert!(decode_page(&[1, 0]).is_err());
        assert_eq!(decode_page(&[]).unwrap(), Vec::<Vec<u8>>::new());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        /// Whatever runs were written and merged, reading from any start gives exactly the
        /// sorted, distinct entries at or after it.
        #[test]
        fn reads_equal_the_sorted_union_of_every_run(
            batches in proptest::collection::vec(proptest::collection::vec("[a-d]{0,3}", 0..7), 1..24),
            start in "[a-d]{0,2}",
        ) {
            let (_dir, runs) = runs();
            let mut all = BTreeSet::new();
            for batch in &batches {
                let refs: Vec<&str> = batch.iter().map(String::as_str).collect();
                add(&runs, &refs);
                all.extend(batch.iter().cloned());
            }
            let expected: Vec<String> = all.into_iter().filter(|e| e.as_str() >= start.as_str()).collect();
            prop_assert_eq!(read(&runs, &start), expected);
        }
    }
}
