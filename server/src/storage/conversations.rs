//! Conversations and their threads (the inbox). Trees:
//!
//! - `conversations`: conversation id → [`ConversationRecord`] (the inbox row);
//! - `conversation_by_user`: (connection, wa_id) → conversation id, one per number and customer;
//! - `conversation_activity`: (newest activity ms, conversation id) → (), read backwards for the
//!   inbox's newest-first keyset pages;
//! - `conversation_entries`: (conversation id, entry id) → [`ThreadEntry`]; entry ids are UUIDv7s
//!   made from the message's own time, so a thread reads in the order things happened even when
//!   webhooks arrive late;
//! - `conversation_refs`: what an entry stands for (`w:{wamid}` inbound, `m:{ledger id}`
//!   outbound) → (conversation, entry), so a webhook delivered twice or a crash repeated never
//!   adds a message twice.
//!
//! - the search index of [`super::conversation_search`].
//!
//! Every change of a conversation writes all of them in one transaction. The rules that move the
//! row (unread, waiting, reopen) are `domain::conversation`'s.

use std::collections::HashSet;

use domain::conversation::body::Body;
use domain::conversation::{Conversation, Direction};
use serde::{Deserialize, Serialize};
use sled::transaction::TransactionalTree;
use sled::Transactional;
use uuid::Uuid;

use super::collection::TxError;
use super::conversation_search::SearchIndex;
use super::key::Key;
use super::{Collection, StorageError, Store};

/// One conversation: a customer and a business number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationRecord {
    /// The business number's connection.
    pub connection_id: Uuid,
    /// The customer's WhatsApp id.
    pub wa_id: String,
    /// The customer's WhatsApp profile name, when a message carried it.
    #[serde(default)]
    pub profile_name: Option<String>,
    /// The row's state.
    pub state: Conversation,
    /// When the first message of it was stored (Unix ms).
    pub created_at_ms: i64,
}

/// What a thread entry stands for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "ref", rename_all = "snake_case")]
pub enum EntryRef {
    /// A customer's message, by its wamid.
    Inbound {
        /// The wamid.
        wamid: String,
    },
    /// A message Herald sent, by its ledger id (its state and ticks are the ledger's).
    Outbound {
        /// The ledger entry.
        message: Uuid,
    },
    /// A teammate's internal note.
    Note {
        /// Who wrote it.
        author: String,
    },
}

impl EntryRef {
    /// The deduplication key of the entry; notes have none (each is new).
    fn key(&self) -> Option<String> {
        match self {
            Self::Inbound { wamid } => Some(format!("w:{wamid}")),
            Self::Outbound { message } => Some(format!("m:{message}")),
            Self::Note { .. } => None,
        }
    }
}

/// One message of a thread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadEntry {
    /// When it was written or sent (Unix ms).
    pub at_ms: i64,
    /// Who wrote it.
    pub direction: Direction,
    /// What it shows.
    pub body: Body,
    /// What it stands for.
    pub reference: EntryRef,
    /// The wamid it replies to, for a quote.
    #[serde(default)]
    pub context_id: Option<String>,
}

/// A change to record: the entry and how it moves the row.
pub struct NewEntry<'a> {
    /// The business number.
    pub connection_id: Uuid,
    /// The customer.
    pub wa_id: &'a str,
    /// A profile name the message carried.
    pub profile_name: Option<&'a str>,
    /// The customer's name in the contact list, for the search index.
    pub known_as: Option<&'a str>,
    /// The entry.
    pub entry: ThreadEntry,
    /// For outbound entries: whether it answers the customer (an agent's reply does, a
    /// campaign's broadcast does not).
    pub answers: bool,
    /// For inbound entries: the campaign the message answers, if any.
    pub answers_campaign: Option<Uuid>,
    /// When the change is recorded (Unix ms).
    pub now_ms: i64,
}

/// Typed access to the conversation trees.
#[derive(Clone)]
pub struct ConversationStore {
    conversations: Collection<Uuid, ConversationRecord>,
    by_user: Collection<(Uuid, String), Uuid>,
    activity: Collection<(u64, Uuid), ()>,
    entries: Collection<(Uuid, Uuid), ThreadEntry>,
    refs: Collection<String, (Uuid, Uuid)>,
    /// The conversations with unread messages (the navigation's badge counts these, not all).
    unread: Collection<Uuid, ()>,
    search: SearchIndex,
}

/// The tree of [`ConversationStore::unread`], named for the schema migration that builds it.
pub(super) const UNREAD_TREE: &str = "conversation_unread";

/// Schema 2: builds the unread index from the conversations stored before it existed.
pub(super) fn index_unread(db: &sled::Db) -> Result<(), String> {
    let conversations = db.open_tree("conversations").map_err(|e| e.to_string())?;
    let unread = db.open_tree(UNREAD_TREE).map_err(|e| e.to_string())?;
    for item in conversations.iter() {
        let (key, value) = item.map_err(|e| e.to_string())?;
        let record: ConversationRecord =
            super::codec::decode("conversations", &value).map_err(|e| e.to_string())?;
        if record.state.unread > 0 {
            let marker = super::codec::encode(UNREAD_TREE, &()).map_err(|e| e.to_string())?;
            unread.insert(key, marker).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// One entry of the activity index as read.
type ActivityRow = Result<((u64, Uuid), ()), StorageError>;

fn activity_key(at_ms: i64, id: Uuid) -> (u64, Uuid) {
    (u64::try_from(at_ms).unwrap_or(0), id)
}

/// A UUIDv7 carrying `at_ms`, so entries sort by when their message happened.
fn entry_id(at_ms: i64) -> Uuid {
    let ms = u64::try_from(at_ms).unwrap_or(0);
    let ts = uuid::Timestamp::from_unix(
        uuid::NoContext,
        ms / 1000,
        u32::try_from((ms % 1000) * 1_000_000).unwrap_or(0),
    );
    Uuid::new_v7(ts)
}

impl ConversationStore {
    /// Opens the trees.
    pub fn open(store: &Store) -> Result<Self, StorageError> {
        Ok(Self {
            conversations: store.collection("conversations")?,
            by_user: store.collection("conversation_by_user")?,
            activity: store.collection("conversation_activity")?,
            entries: store.collection("conversation_entries")?,
            refs: store.collection("conversation_refs")?,
            unread: store.collection(UNREAD_TREE)?,
            search: SearchIndex::open(store)?,
        })
    }

    /// Records `change`, creating the conversation on its first message. Returns the
    /// conversation id and whether the entry was new (`false`: it was recorded before).
    pub fn record(&self, change: &NewEntry<'_>) -> Result<(Uuid, bool), StorageError> {
        let ref_key = change.entry.reference.key();
        let user_key = (change.connection_id, change.wa_id.to_string());
        let fresh_id = Uuid::now_v7();
        let new_entry = entry_id(change.entry.at_ms);
        let [terms, numbers] = self.search.trees();
        let trees = [
            self.conversations.tree().clone(),
            self.by_user.tree().clone(),
            self.activity.tree().clone(),
            self.entries.tree().clone(),
            self.refs.tree().clone(),
            self.unread.tree().clone(),
            terms,
            numbers,
        ];
        let searchable = change.entry.body.searchable();
        let texts = [
            searchable.as_str(),
            change.profile_name.unwrap_or(""),
            change.known_as.unwrap_or(""),
        ];
        let result = trees.as_slice().transaction(|t: &Vec<TransactionalTree>| {
            let conversations = self.conversations.in_tx(&t[0]);
            let by_user = self.by_user.in_tx(&t[1]);
            let activity = self.activity.in_tx(&t[2]);
            let entries = self.entries.in_tx(&t[3]);
            let refs = self.refs.in_tx(&t[4]);
            let unread = self.unread.in_tx(&t[5]);
            if let Some(key) = &ref_key {
                if let Some((conversation, _)) = refs.get::<StorageError>(key)? {
                    return Ok((conversation, false));
                }
            }
            let existing = by_user.get::<StorageError>(&user_key)?;
            let id = existing.unwrap_or(fresh_id);
            let mut record =
                conversations
                    .get::<StorageError>(&id)?
                    .unwrap_or_else(|| ConversationRecord {
                        connection_id: change.connection_id,
                        wa_id: change.wa_id.to_string(),
                        profile_name: None,
                        state: Conversation::default(),
                        created_at_ms: change.now_ms,
                    });
            let before = record.state.last_activity_ms;
            let preview = change.entry.body.preview();
            match change.entry.direction {
                Direction::Inbound => {
                    record.state.on_inbound(change.entry.at_ms, &preview);
                    if let Some(campaign) = change.answers_campaign {
                        record.state.on_campaign_reply(campaign);
                    }
                }
                Direction::Outbound => {
                    record
                        .state
                        .on_outbound(change.entry.at_ms, &preview, change.answers);
                }
                Direction::Note => record.state.on_note(change.entry.at_ms, &preview),
            }
            if let Some(name) = change.profile_name.filter(|n| !n.trim().is_empty()) {
                record.profile_name = Some(name.to_string());
            }
            if existing.is_some() {
                activity.remove::<StorageError>(&activity_key(before, id))?;
            } else {
                by_user.insert::<StorageError>(&user_key, &id)?;
                SearchIndex::add_number(&t[7], id, change.wa_id)?;
            }
            SearchIndex::add_words(&t[6], id, &texts)?;
            activity
                .insert::<StorageError>(&activity_key(record.state.last_activity_ms, id), &())?;
            conversations.insert::<StorageError>(&id, &record)?;
            if record.state.unread > 0 {
                unread.insert::<StorageError>(&id, &())?;
            } else {
                unread.remove::<StorageError>(&id)?;
            }
            entries.insert::<StorageError>(&(id, new_entry), &change.entry)?;
            if let Some(key) = &ref_key {
                refs.insert::<StorageError>(key, &(id, new_entry))?;
            }
            Ok::<_, TxError<StorageError>>((id, true))
        });
        result.map_err(|e| match e {
            sled::transaction::TransactionError::Abort(e) => e,
            sled::transaction::TransactionError::Storage(e) => StorageError::Sled(e),
        })
    }

    /// Changes a conversation's row with `f` (mark read, close, …); `None` if there is none.
    pub fn change(
        &self,
        id: &Uuid,
        f: impl Fn(&mut Conversation),
    ) -> Result<Option<ConversationRecord>, StorageError> {
        super::transact(
            &self.conversations,
            &self.unread,
            |conversations, unread| {
                let Some(mut record) = conversations.get::<StorageError>(id)? else {
                    return Ok(None);
                };
                f(&mut record.state);
                conversations.insert::<StorageError>(id, &record)?;
                if record.state.unread > 0 {
                    unread.insert::<StorageError>(id, &())?;
                } else {
                    unread.remove::<StorageError>(id)?;
                }
                Ok(Some(record))
            },
        )
    }

    /// A conversation.
    pub fn get(&self, id: &Uuid) -> Result<Option<ConversationRecord>, StorageError> {
        self.conversations.get(id)
    }

    /// The conversation of `wa_id` with `connection`, if they have one.
    pub fn of_user(&self, connection: &Uuid, wa_id: &str) -> Result<Option<Uuid>, StorageError> {
        self.by_user.get(&(*connection, wa_id.to_string()))
    }

    /// Conversations newest activity first, starting after the cursor `before` (the last
    /// row of the previous page: its activity and id), for as long as `keep` asks for more.
    /// `keep` sees each row and returns whether to go on.
    pub fn newest_first(
        &self,
        before: Option<(i64, Uuid)>,
        mut keep: impl FnMut(Uuid, ConversationRecord) -> bool,
    ) -> Result<(), StorageError> {
        let upper = before.map(|(at, id)| activity_key(at, id));
        let rows: Box<dyn Iterator<Item = ActivityRow>> = match upper {
            Some(upper) => Box::new(self.activity.range_before(&upper).rev()),
            None => Box::new(self.activity.iter().rev()),
        };
        for row in rows {
            let ((_, id), ()) = row?;
            let Some(record) = self.conversations.get(&id)? else {
                continue;
            };
            if !keep(id, record) {
                break;
            }
        }
        Ok(())
    }

    /// A thread's entries in the order they happened, at most `limit` of the newest.
    pub fn thread(&self, id: &Uuid, limit: usize) -> Result<Vec<ThreadEntry>, StorageError> {
        let mut newest: Vec<ThreadEntry> = Vec::with_capacity(limit.min(256));
        for entry in self.entries.scan_prefix(id.as_bytes()).rev() {
            if newest.len() >= limit {
                break;
            }
            newest.push(entry?.1);
        }
        newest.reverse();
        Ok(newest)
    }

    /// How many entries a thread holds.
    pub fn thread_len(&self, id: &Uuid) -> Result<usize, StorageError> {
        Ok(self.entries.tree().scan_prefix(id.as_bytes()).count())
    }

    /// The entry that stands for inbound wamid or ledger message `reference`, for quotes.
    pub fn entry_of(&self, reference: &EntryRef) -> Result<Option<ThreadEntry>, StorageError> {
        let Some(key) = reference.key() else {
            return Ok(None);
        };
        match self.refs.get(&key)? {
            Some(at) => self.entries.get(&at),
            None => Ok(None),
        }
    }

    /// The conversation holding the entry `reference` stands for: whether a quote or reaction
    /// names a message of the conversation it is sent in.
    pub fn conversation_of(&self, reference: &EntryRef) -> Result<Option<Uuid>, StorageError> {
        let Some(key) = reference.key() else {
            return Ok(None);
        };
        Ok(self.refs.get(&key)?.map(|(conversation, _)| conversation))
    }

    /// The conversations a search finds (`None` for a blank search), by the index.
    pub fn search(&self, query: &str) -> Result<Option<HashSet<Uuid>>, StorageError> {
        self.search.find(query)
    }

    /// The conversations with unread messages.
    pub fn unread_ids(&self) -> Result<HashSet<Uuid>, StorageError> {
        self.unread
            .iter()
            .map(|row| row.map(|(id, ())| id))
            .collect()
    }

    /// Like [`ConversationStore::newest_first`], but only over `among` (a search's or the
    /// unread index's conversations): a small set is read and sorted directly, a large one
    /// filters the walk of the activity index before any row is read.
    pub fn newest_first_among(
        &self,
        among: &HashSet<Uuid>,
        before: Option<(i64, Uuid)>,
        mut keep: impl FnMut(Uuid, ConversationRecord) -> bool,
    ) -> Result<(), StorageError> {
        /// Above this many, walking the index beats reading each row.
        const READ_DIRECTLY: usize = 20_000;
        let upper = before.map(|(at, id)| activity_key(at, id));
        if among.len() > READ_DIRECTLY {
            let rows: Box<dyn Iterator<Item = Result<sled::IVec, sled::Error>>> = match &upper {
                Some(upper) => Box::new(
                    self.activity
                        .tree()
                        .range(..upper.encode())
                        .rev()
                        .map(|r| r.map(|(k, _)| k)),
                ),
                None => Box::new(self.activity.tree().iter().rev().map(|r| r.map(|(k, _)| k))),
            };
            for key in rows {
                let (_, id) = <(u64, Uuid)>::decode(&key?)?;
                if !among.contains(&id) {
                    continue;
                }
                let Some(record) = self.conversations.get(&id)? else {
                    continue;
                };
                if !keep(id, record) {
                    break;
                }
            }
            return Ok(());
        }
        let mut rows = Vec::with_capacity(among.len());
        for id in among {
            if let Some(record) = self.conversations.get(id)? {
                let at = activity_key(record.state.last_activity_ms, *id);
                if upper.is_none_or(|upper| at < upper) {
                    rows.push((at, *id, record));
                }
            }
        }
        rows.sort_by_key(|row| std::cmp::Reverse(row.0));
        for (_, id, record) in rows {
            if !keep(id, record) {
                break;
            }
        }
        Ok(())
    }

    /// How many conversations have unread messages (the navigation's badge): the size of the
    /// unread index, not a walk over every conversation.
    pub fn unread_count(&self) -> Result<usize, StorageError> {
        Ok(self.unread.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unread_count_follows_reads_and_a_directory_from_before_the_index_gets_one() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            let conversations = ConversationStore::open(&store).unwrap();
            let connection = Uuid::from_u128(1);
            let mut ids = Vec::new();
            for (n, user) in ["905320000001", "905320000002"].iter().enumerate() {
                let (id, _) = conversations
                    .record(&NewEntry {
                        answers_campaign: None,
                        connection_id: connection,
                        wa_id: user,
                        profile_name: None,
                        known_as: None,
                        entry: inbound(&format!("wamid.{n}"), 1_000, "hello"),
                        answers: false,
                        now_ms: 1_000,
                    })
                    .unwrap();
                ids.push(id);
            }
            assert_eq!(conversations.unread_count().unwrap(), 2);
            conversations
                .change(&ids[0], Conversation::mark_read)
                .unwrap();
            assert_eq!(conversations.unread_count().unwrap(), 1);
            // As a data directory written before the index existed: no index, schema 1.
            store.db.drop_tree(UNREAD_TREE).unwrap();
            super::super::schema::write_version(&store.db, 1).unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(
            store.schema_version().unwrap(),
            super::super::CURRENT_SCHEMA
        );
        let conversations = ConversationStore::open(&store).unwrap();
        assert_eq!(
            conversations.unread_count().unwrap(),
            1,
            "rebuilt by the migration"
        );
    }

    fn inbound(wamid: &str, at_ms: i64, text: &str) -> ThreadEntry {
        ThreadEntry {
            at_ms,
            direction: Direction::Inbound,
            body: Body::Text { text: text.into() },
            reference: EntryRef::Inbound {
                wamid: wamid.into(),
            },
            context_id: None,
        }
    }

    fn change(connection: Uuid, wa_id: &str, entry: ThreadEntry) -> NewEntry<'_> {
        NewEntry {
            answers_campaign: None,
            connection_id: connection,
            wa_id,
            profile_name: Some("Ayşe"),
            known_as: None,
            entry,
            answers: true,
            now_ms: 0,
        }
    }

    #[test]
    fn a_message_delivered_twice_is_one_entry_and_one_unread() {
        let dir = tempfile::tempdir().unwrap();
        let store = ConversationStore::open(&Store::open(dir.path()).unwrap()).unwrap();
        let number = Uuid::now_v7();
        let (id, new) = store
            .record(&change(number, "9053", inbound("w1", 1_000, "Hi")))
            .unwrap();
        assert!(new);
        let (again, new) = store
            .record(&change(number, "9053", inbound("w1", 1_000, "Hi")))
            .unwrap();
        assert_eq!((again, new), (id, false));
        let record = store.get(&id).unwrap().unwrap();
        assert_eq!(record.state.unread, 1);
        assert_eq!(record.profile_name.as_deref(), Some("Ayşe"));
        assert_eq!(store.thread(&id, 10).unwrap().len(), 1);
    }

    #[test]
    fn the_inbox_lists_newest_activity_first_in_keyset_pages_and_threads_read_in_time_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = ConversationStore::open(&Store::open(dir.path()).unwrap()).unwrap();
        let number = Uuid::now_v7();
        let a = store
            .record(&change(number, "1", inbound("a1", 1_000, "first")))
            .unwrap()
            .0;
        let b = store
            .record(&change(number, "2", inbound("b1", 2_000, "second")))
            .unwrap()
            .0;
        // a writes again, and a late webhook of an older message arrives.
        store
            .record(&change(number, "1", inbound("a2", 3_000, "third")))
            .unwrap();
        store
            .record(&change(number, "1", inbound("a0", 500, "zeroth, late")))
            .unwrap();
        let mut order = Vec::new();
        store
            .newest_first(None, |id, _| {
                order.push(id);
                true
            })
            .unwrap();
        assert_eq!(order, [a, b], "one row per conversation, newest first");
        let record = store.get(&a).unwrap().unwrap();
        let mut next_page = Vec::new();
        store
            .newest_first(Some((record.state.last_activity_ms, a)), |id, _| {
                next_page.push(id);
                true
            })
            .unwrap();
        assert_eq!(next_page, [b]);
        let texts: Vec<String> = store
            .thread(&a, 10)
            .unwrap()
            .into_iter()
            .map(|e| e.body.preview())
            .collect();
        assert_eq!(texts, ["zeroth, late", "first", "third"]);
        assert_eq!(store.thread(&a, 2).unwrap().len(), 2, "the newest two");
        assert_eq!(store.unread_count().unwrap(), 2);
    }
}
