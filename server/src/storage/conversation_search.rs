//! The inbox's search index, so a search at 100,000 conversations reads the conversations it
//! finds instead of every thread. Two trees, each key `<term>\0<conversation id>` → `()`:
//!
//! - `conversation_terms`: every word ([`domain::text::words`]) of every message, note and name
//!   the conversation has held; a prefix scan finds the conversations with a word starting so;
//! - `conversation_numbers`: every suffix (3 digits or more) of the customer's WhatsApp id, so a
//!   prefix scan finds the numbers containing the digits typed, national format included.
//!
//! Entries are only ever added, in the transaction that records the message (names included: a
//! conversation is still found by a name its customer went by before). Terms hold no `\0`: words
//! are letters and digits only.

use std::collections::HashSet;

use domain::conversation::filter::number_query;
use domain::text::words;
use sled::transaction::{TransactionalTree, UnabortableTransactionError};
use uuid::Uuid;

use super::conversations::{ConversationRecord, ThreadEntry};
use super::{codec, StorageError, Store};

/// The word tree's name.
pub(super) const TERMS_TREE: &str = "conversation_terms";
/// The number tree's name.
pub(super) const NUMBERS_TREE: &str = "conversation_numbers";
/// The shortest number suffix kept (a search needs three digits).
const SHORTEST_SUFFIX: usize = 3;
/// Words of one message that are indexed; a longer message is found by its first words.
const WORDS_PER_TEXT: usize = 200;

/// Typed access to the two trees.
#[derive(Clone)]
pub struct SearchIndex {
    terms: sled::Tree,
    numbers: sled::Tree,
}

fn key(term: &str, id: Uuid) -> Vec<u8> {
    let mut key = Vec::with_capacity(term.len() + 17);
    key.extend_from_slice(term.as_bytes());
    key.push(0);
    key.extend_from_slice(id.as_bytes());
    key
}

fn id_of(key: &[u8]) -> Option<Uuid> {
    let start = key.len().checked_sub(16)?;
    Uuid::from_slice(&key[start..]).ok()
}

/// The keys `text` adds for conversation `id`.
fn word_keys(text: &str, id: Uuid) -> impl Iterator<Item = Vec<u8>> {
    words(text)
        .into_iter()
        .take(WORDS_PER_TEXT)
        .map(move |w| key(&w, id))
}

/// The keys of every suffix of `wa_id`'s digits long enough to be searched for.
fn number_keys(wa_id: &str, id: Uuid) -> impl Iterator<Item = Vec<u8>> {
    let digits: String = wa_id.chars().filter(char::is_ascii_digit).collect();
    let count = digits.len().saturating_sub(SHORTEST_SUFFIX - 1);
    (0..count)
        .map(move |start| key(&digits[start..], id))
        .collect::<Vec<_>>()
        .into_iter()
}

/// Inserts `key` unless it is there (repeated words cost a read, not a write).
fn add(tree: &TransactionalTree, key: &[u8]) -> Result<(), UnabortableTransactionError> {
    if tree.get(key)?.is_none() {
        tree.insert(key, &[][..])?;
    }
    Ok(())
}

impl SearchIndex {
    /// Opens the trees.
    pub fn open(store: &Store) -> Result<Self, StorageError> {
        Ok(Self {
            terms: store.raw_tree(TERMS_TREE)?,
            numbers: store.raw_tree(NUMBERS_TREE)?,
        })
    }

    /// The trees, in the order [`SearchIndex::add_words`] and [`SearchIndex::add_number`] take
    /// them inside a transaction.
    pub(super) fn trees(&self) -> [sled::Tree; 2] {
        [self.terms.clone(), self.numbers.clone()]
    }

    /// Indexes the words of `texts` for conversation `id` (inside the recording transaction).
    pub(super) fn add_words(
        terms: &TransactionalTree,
        id: Uuid,
        texts: &[&str],
    ) -> Result<(), UnabortableTransactionError> {
        for text in texts {
            for key in word_keys(text, id) {
                add(terms, &key)?;
            }
        }
        Ok(())
    }

    /// Indexes the customer's number of conversation `id` (when it is created).
    pub(super) fn add_number(
        numbers: &TransactionalTree,
        id: Uuid,
        wa_id: &str,
    ) -> Result<(), UnabortableTransactionError> {
        for key in number_keys(wa_id, id) {
            add(numbers, &key)?;
        }
        Ok(())
    }

    /// The conversations `query` finds by the rule of
    /// [`domain::conversation::filter::InboxFilter::finds`]: its digits within the number, or
    /// each of its words beginning a word of the conversation. `None` for a blank query (no
    /// narrowing).
    pub fn find(&self, query: &str) -> Result<Option<HashSet<Uuid>>, StorageError> {
        let query = query.trim();
        if query.is_empty() {
            return Ok(None);
        }
        let mut found = HashSet::new();
        if let Some(digits) = number_query(query) {
            found.extend(scan(&self.numbers, &digits)?);
        }
        found.extend(self.find_words(&words(query))?);
        Ok(Some(found))
    }

    /// The conversations in which every word of `wanted` begins a word. Each word's postings
    /// are read up to a limit; the words that have more (a common word such as "order") are
    /// checked only against the conversations the narrow words found, by a point lookup of
    /// the whole word first, so "order 33333" reads a handful of keys, not every order.
    fn find_words(&self, wanted: &[String]) -> Result<HashSet<Uuid>, StorageError> {
        /// Postings read of one word before it counts as common.
        const NARROW: usize = 2_000;
        let mut narrowed: Option<HashSet<Uuid>> = None;
        let mut common = Vec::new();
        for word in wanted {
            match scan_at_most(&self.terms, word, NARROW)? {
                Some(hits) => {
                    let next = match narrowed {
                        None => hits,
                        Some(so_far) => so_far.intersection(&hits).copied().collect(),
                    };
                    if next.is_empty() {
                        return Ok(next);
                    }
                    narrowed = Some(next);
                }
                None => common.push(word),
            }
        }
        let Some(mut found) = narrowed else {
            // Only common words: read them all.
            let mut found: Option<HashSet<Uuid>> = None;
            for word in common {
                let hits = scan(&self.terms, word)?;
                found = Some(match found {
                    None => hits,
                    Some(so_far) => so_far.intersection(&hits).copied().collect(),
                });
            }
            return Ok(found.unwrap_or_default());
        };
        for word in common {
            let mut unsure = HashSet::new();
            for id in &found {
                if !self.terms.contains_key(key(word, *id))? {
                    unsure.insert(*id);
                }
            }
            if !unsure.is_empty() {
                // Some may hold a longer word starting so: read the word's postings once.
                let hits = scan(&self.terms, word)?;
                found.retain(|id| !unsure.contains(id) || hits.contains(id));
            }
        }
        Ok(found)
    }
}

/// The conversations with a term starting with `prefix`, or `None` when there are more than
/// `most` postings.
fn scan_at_most(
    tree: &sled::Tree,
    prefix: &str,
    most: usize,
) -> Result<Option<HashSet<Uuid>>, StorageError> {
    let mut ids = HashSet::new();
    for (n, item) in tree.scan_prefix(prefix.as_bytes()).enumerate() {
        if n == most {
            return Ok(None);
        }
        let (key, _) = item?;
        if let Some(id) = id_of(&key) {
            ids.insert(id);
        }
    }
    Ok(Some(ids))
}

/// The conversations with a term starting with `prefix`.
fn scan(tree: &sled::Tree, prefix: &str) -> Result<HashSet<Uuid>, StorageError> {
    let mut ids = HashSet::new();
    for item in tree.scan_prefix(prefix.as_bytes()) {
        let (key, _) = item?;
        if let Some(id) = id_of(&key) {
            ids.insert(id);
        }
    }
    Ok(ids)
}

/// Schema 3: indexes the conversations, names and messages stored before the index existed.
pub(super) fn index_existing(db: &sled::Db) -> Result<(), String> {
    const BATCH: usize = 10_000;
    let err = |e: sled::Error| e.to_string();
    let conversations = db.open_tree("conversations").map_err(err)?;
    let entries = db.open_tree("conversation_entries").map_err(err)?;
    let terms = db.open_tree(TERMS_TREE).map_err(err)?;
    let numbers = db.open_tree(NUMBERS_TREE).map_err(err)?;
    let mut batch = (sled::Batch::default(), 0usize);
    let put = |tree: &sled::Tree, key: Vec<u8>, batch: &mut (sled::Batch, usize)| {
        batch.0.insert(key, &[][..]);
        batch.1 += 1;
        if batch.1 >= BATCH {
            tree.apply_batch(std::mem::take(&mut batch.0))
                .map_err(err)?;
            batch.1 = 0;
        }
        Ok::<_, String>(())
    };
    for item in conversations.iter() {
        let (key, value) = item.map_err(err)?;
        let id = Uuid::from_slice(&key).map_err(|e| e.to_string())?;
        let record: ConversationRecord =
            codec::decode("conversations", &value).map_err(|e| e.to_string())?;
        for k in number_keys(&record.wa_id, id) {
            put(&numbers, k, &mut batch)?;
        }
    }
    numbers
        .apply_batch(std::mem::take(&mut batch.0))
        .map_err(err)?;
    batch.1 = 0;
    for item in conversations.iter() {
        let (key, value) = item.map_err(err)?;
        let id = Uuid::from_slice(&key).map_err(|e| e.to_string())?;
        let record: ConversationRecord =
            codec::decode("conversations", &value).map_err(|e| e.to_string())?;
        for k in word_keys(record.profile_name.as_deref().unwrap_or(""), id) {
            put(&terms, k, &mut batch)?;
        }
    }
    for item in entries.iter() {
        let (key, value) = item.map_err(err)?;
        let id = key
            .get(..16)
            .and_then(|b| Uuid::from_slice(b).ok())
            .ok_or("a thread entry's key does not start with its conversation")?;
        let entry: ThreadEntry =
            codec::decode("conversation_entries", &value).map_err(|e| e.to_string())?;
        for k in word_keys(&entry.body.searchable(), id) {
            put(&terms, k, &mut batch)?;
        }
    }
    terms.apply_batch(batch.0).map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_keys_are_the_suffixes_a_search_can_start_with() {
        let id = Uuid::from_u128(1);
        let keys: Vec<Vec<u8>> = number_keys("90532", id).collect();
        assert_eq!(keys, [key("90532", id), key("0532", id), key("532", id)]);
        assert_eq!(id_of(&keys[2]), Some(id));
        assert_eq!(number_keys("12", id).count(), 0);
    }

    #[test]
    fn a_common_word_is_checked_against_what_the_rare_words_found() {
        use super::super::conversations::{ConversationStore, EntryRef, NewEntry};
        use domain::conversation::body::Body;
        use domain::conversation::Direction;

        let dir = tempfile::tempdir().unwrap();
        let conversations = ConversationStore::open(&Store::open(dir.path()).unwrap()).unwrap();
        let mut texts: Vec<String> = (0..2_100).map(|n| format!("order {n}")).collect();
        texts.extend(["orders 77777", "about 77777", "ORDER 77777!"].map(String::from));
        for (n, text) in texts.iter().enumerate() {
            conversations
                .record(&NewEntry {
                    connection_id: Uuid::from_u128(1),
                    wa_id: &format!("90{n:010}"),
                    profile_name: None,
                    known_as: None,
                    entry: ThreadEntry {
                        at_ms: 1_000,
                        direction: Direction::Inbound,
                        body: Body::Text { text: text.clone() },
                        reference: EntryRef::Inbound {
                            wamid: format!("wamid.{n}"),
                        },
                        context_id: None,
                    },
                    answers: false,
                    answers_campaign: None,
                    now_ms: 1_000,
                })
                .unwrap();
        }
        let found = |q: &str| conversations.search(q).unwrap().unwrap().len();
        assert_eq!(found("order 77777"), 2, "the exact word and a longer one");
        assert_eq!(found("77777 ord"), 2);
        assert_eq!(found("order"), 2_102, "common words alone are read in full");
        assert_eq!(found("order 99999"), 0);
    }

    #[test]
    fn messages_names_and_numbers_are_found_and_a_directory_from_before_the_index_gets_one() {
        use super::super::conversations::{ConversationStore, EntryRef, NewEntry};
        use domain::conversation::body::Body;
        use domain::conversation::Direction;

        let dir = tempfile::tempdir().unwrap();
        let found = |store: &ConversationStore, q: &str| store.search(q).unwrap().unwrap().len();
        {
            let store = Store::open(dir.path()).unwrap();
            let conversations = ConversationStore::open(&store).unwrap();
            for (n, (wa_id, name, text)) in [
                ("905326430017", "Ayşe", "Where is my parcel?"),
                ("905551110027", "Mehmet", "I want a refund"),
            ]
            .into_iter()
            .enumerate()
            {
                conversations
                    .record(&NewEntry {
                        connection_id: Uuid::from_u128(1),
                        wa_id,
                        profile_name: Some(name),
                        known_as: None,
                        entry: ThreadEntry {
                            at_ms: 1_000,
                            direction: Direction::Inbound,
                            body: Body::Text { text: text.into() },
                            reference: EntryRef::Inbound {
                                wamid: format!("wamid.{n}"),
                            },
                            context_id: None,
                        },
                        answers: false,
                        answers_campaign: None,
                        now_ms: 1_000,
                    })
                    .unwrap();
            }
            assert_eq!(found(&conversations, "PARC"), 1);
            assert_eq!(found(&conversations, "ayse parcel"), 1);
            assert_eq!(found(&conversations, "0532 643"), 1);
            assert_eq!(found(&conversations, "+90 5"), 2);
            assert_eq!(found(&conversations, "parcel refund"), 0);
            assert_eq!(conversations.search("  ").unwrap(), None);
            // As a data directory written before the index existed.
            store.db.drop_tree(TERMS_TREE).unwrap();
            store.db.drop_tree(NUMBERS_TREE).unwrap();
            super::super::schema::write_version(&store.db, 2).unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let conversations = ConversationStore::open(&store).unwrap();
        assert_eq!(
            found(&conversations, "refund"),
            1,
            "rebuilt by the migration"
        );
        assert_eq!(found(&conversations, "mehmet"), 1);
        assert_eq!(found(&conversations, "5551110"), 1);
    }
}
