//! Contacts (tree `contacts`, E.164 number → [`Contact`]), a name index for search (tree
//! `contacts_by_name`, `"<lowercased full or last name>\0<number>"` → `()`) and anonymised tombstones of
//! deleted contacts (tree `contact_tombstones`, SHA-256 of the number → consent history).
//!
//! Imports add their name-index entries in bulk to [`NameRuns`] instead of the per-key tree;
//! searches read both.
//!
//! The number is the key, so there can be only one contact per number and the table pages in
//! number order with keyset pagination (`range_from` the last key of the previous page). The
//! name index is maintained next to each write and is allowed to hold stale entries: readers
//! check the contact still carries the name, so a crash between the two writes costs nothing.

use domain::contacts::consent::{self, ConsentEvent};
use domain::contacts::Contact;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::name_runs::{self, NameRuns};
use super::{Collection, StorageError, Store};

/// What survives a deleted contact: the consent history without who it was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tombstone {
    /// Unix ms of the deletion.
    pub deleted_at_ms: i64,
    /// The consent history as it stood.
    pub consent: Vec<ConsentEvent>,
}

/// One page of contacts in number order.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The contacts.
    pub items: Vec<Contact>,
    /// Pass as `after` for the next page; `None` on the last one.
    pub next_after: Option<String>,
}

/// Typed access to the contact trees.
#[derive(Clone)]
pub struct ContactStore {
    contacts: Collection<String, Contact>,
    by_name: Collection<String, ()>,
    runs: NameRuns,
    tombstones: Collection<[u8; 32], Tombstone>,
}

/// The tombstone key: a hash, so the store no longer holds the number itself.
pub fn tombstone_key(phone: &str) -> [u8; 32] {
    Sha256::digest(phone.as_bytes()).into()
}

/// The name-index terms of a contact, lowercased: the full name (which also serves prefix
/// searches by first name) and the last name.
fn name_terms(c: &Contact) -> Vec<String> {
    terms_of(&c.first_name, &c.last_name)
}

fn terms_of(first_name: &str, last_name: &str) -> Vec<String> {
    let full = format!("{first_name} {last_name}");
    let mut terms: Vec<String> = [full.trim(), last_name]
        .into_iter()
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    terms.dedup();
    terms
}

/// The name-index entries of a contact created with these names (as [`Contact::merge`] stores
/// them: trimmed, absent when empty). Imports compute them while reading, off the writer's path.
pub fn entries_for_new_contact(
    phone: &str,
    first_name: Option<&str>,
    last_name: Option<&str>,
) -> Vec<Vec<u8>> {
    let first = first_name.map_or("", str::trim);
    let last = last_name.map_or("", str::trim);
    terms_of(first, last)
        .into_iter()
        .map(|t| index_key(&t, phone).into_bytes())
        .collect()
}

fn index_key(term: &str, phone: &str) -> String {
    format!("{term}\0{phone}")
}

impl ContactStore {
    /// Opens the trees.
    pub fn open(store: &Store) -> Result<Self, StorageError> {
        Ok(Self {
            contacts: store.collection("contacts")?,
            by_name: store.collection("contacts_by_name")?,
            runs: NameRuns::open(store)?,
            tombstones: store.collection("contact_tombstones")?,
        })
    }

    /// The contacts collection, for imports that write it in one transaction with their job.
    pub(crate) fn collection(&self) -> &Collection<String, Contact> {
        &self.contacts
    }

    /// The bulk half of the name index, which imports write.
    pub(crate) fn name_runs(&self) -> &NameRuns {
        &self.runs
    }

    /// The name-index entries `contact` needs that `previous` did not have.
    pub(crate) fn new_index_entries(contact: &Contact, previous: Option<&Contact>) -> Vec<Vec<u8>> {
        let old = previous.map(name_terms).unwrap_or_default();
        name_terms(contact)
            .into_iter()
            .filter(|t| !old.contains(t))
            .map(|t| index_key(&t, &contact.phone).into_bytes())
            .collect()
    }

    /// Removes the per-key index entries of names `previous` had and `contact` no longer has
    /// (entries in runs stay; readers skip them).
    pub(crate) fn drop_old_terms(
        &self,
        contact: &Contact,
        previous: &Contact,
    ) -> Result<(), StorageError> {
        let new_terms = name_terms(contact);
        for old in name_terms(previous) {
            if !new_terms.contains(&old) {
                self.by_name.remove(&index_key(&old, &previous.phone))?;
            }
        }
        Ok(())
    }

    /// The contact with number `phone` (E.164).
    pub fn get(&self, phone: &str) -> Result<Option<Contact>, StorageError> {
        self.contacts.get(&phone.to_string())
    }

    /// The first contact found among `phones` (the forms a `wa_id` may stand for).
    pub fn find_any(&self, phones: &[String]) -> Result<Option<Contact>, StorageError> {
        for phone in phones {
            if let Some(c) = self.contacts.get(phone)? {
                return Ok(Some(c));
            }
        }
        Ok(None)
    }

    /// The consent history a deleted contact left for `phone`.
    pub fn tombstone(&self, phone: &str) -> Result<Option<Tombstone>, StorageError> {
        self.tombstones.get(&tombstone_key(phone))
    }

    /// Whether no contact was ever deleted with consent on record, so imports can skip the
    /// tombstone lookup per row.
    pub fn has_no_tombstones(&self) -> bool {
        self.tombstones.is_empty()
    }

    /// Stores `contact`, updating the name index (`previous` is what was stored before, if known).
    pub fn put(&self, contact: &Contact, previous: Option<&Contact>) -> Result<(), StorageError> {
        self.contacts.insert(&contact.phone, contact)?;
        self.reindex(contact, previous)
    }

    /// Brings the name index in line after `contact` replaced `previous`.
    pub fn reindex(
        &self,
        contact: &Contact,
        previous: Option<&Contact>,
    ) -> Result<(), StorageError> {
        let new_terms = name_terms(contact);
        if let Some(previous) = previous {
            for old in name_terms(previous) {
                if !new_terms.contains(&old) {
                    self.by_name.remove(&index_key(&old, &previous.phone))?;
                }
            }
        }
        for term in new_terms {
            self.by_name
                .insert(&index_key(&term, &contact.phone), &())?;
        }
        Ok(())
    }

    /// Read-modify-write of one contact (creating it from `create` when missing); returns the
    /// result. `f` may run more than once under contention.
    pub fn update(
        &self,
        phone: &str,
        mut f: impl FnMut(Option<Contact>) -> Option<Contact>,
    ) -> Result<Option<Contact>, StorageError> {
        let mut before = None;
        let after = self.contacts.update(&phone.to_string(), |current| {
            before = current.clone();
            f(current)
        })?;
        if let Some(after) = &after {
            self.reindex(after, before.as_ref())?;
        }
        Ok(after)
    }

    /// Appends a consent event to an existing contact; returns whether anything changed.
    pub fn record_consent(&self, phone: &str, event: ConsentEvent) -> Result<bool, StorageError> {
        let mut changed = false;
        self.contacts.update(&phone.to_string(), |current| {
            let mut c = current?;
            changed = consent::record(&mut c.consent, event.clone());
            if changed {
                c.updated_at_ms = event.at_ms;
            }
            Some(c)
        })?;
        Ok(changed)
    }

    /// Erases a contact's personal data, keeping its consent history under a hash of the
    /// number so that a later import cannot silently opt them back in.
    pub fn delete(&self, phone: &str, now_ms: i64) -> Result<bool, StorageError> {
        let Some(contact) = self.get(phone)? else {
            return Ok(false);
        };
        if !contact.consent.is_empty() {
            self.tombstones.insert(
                &tombstone_key(phone),
                &Tombstone {
                    deleted_at_ms: now_ms,
                    consent: contact.consent.clone(),
                },
            )?;
        }
        for term in name_terms(&contact) {
            self.by_name.remove(&index_key(&term, phone))?;
        }
        self.contacts.remove(&phone.to_string())
    }

    /// Up to `limit` contacts after `after` in number order, whose number starts with
    /// `number_prefix` (empty: all) and which `keep` accepts (a segment's filter; pages of a
    /// narrow filter scan further to fill up).
    pub fn page(
        &self,
        after: Option<&str>,
        number_prefix: &str,
        limit: usize,
        keep: &dyn Fn(&Contact) -> bool,
    ) -> Result<Page, StorageError> {
        let start = match after {
            // The smallest key strictly after `after`.
            Some(a) => format!("{a}\0"),
            None => number_prefix.to_string(),
        };
        let mut items = Vec::with_capacity(limit + 1);
        for entry in self.contacts.range_from(&start) {
            let (key, contact) = entry?;
            if !key.starts_with(number_prefix) || items.len() > limit {
                break;
            }
            if keep(&contact) {
                items.push(contact);
            }
        }
        Ok(finish_page(items, limit))
    }

    /// Up to `limit` contacts whose first, last or full name starts with `query`
    /// (case-insensitive), after the index key `after`.
    pub fn search_name(
        &self,
        query: &str,
        after: Option<&str>,
        limit: usize,
        keep: &dyn Fn(&Contact) -> bool,
    ) -> Result<Page, StorageError> {
        let prefix = query.trim().to_lowercase();
        let start = after.map_or_else(|| prefix.clone(), |a| format!("{a}\0"));
        let mut items: Vec<Contact> = Vec::with_capacity(limit + 1);
        let mut last_key = None;
        let per_key = self
            .by_name
            .range_from(&start)
            .map(|e| e.map(|(key, ())| key.into_bytes()));
        let entries = name_runs::merge(vec![
            Box::new(per_key),
            Box::new(self.runs.entries_from(start.as_bytes())?),
        ]);
        for entry in entries {
            let Ok(key) = String::from_utf8(entry?) else {
                continue;
            };
            if !key.starts_with(&prefix) {
                break;
            }
            let Some((term, phone)) = key.split_once('\0') else {
                continue;
            };
            let Some(contact) = self.get(phone)? else {
                continue;
            };
            if !name_terms(&contact).iter().any(|t| t == term)
                || !keep(&contact)
                || items.iter().any(|c| c.phone == contact.phone)
            {
                continue;
            }
            if items.len() == limit {
                return Ok(Page {
                    items,
                    next_after: last_key,
                });
            }
            last_key = Some(key.clone());
            items.push(contact);
        }
        Ok(Page {
            items,
            next_after: None,
        })
    }

    /// Every contact in number order, for segment evaluation and exports.
    pub fn all(&self) -> impl Iterator<Item = Result<Contact, StorageError>> + '_ {
        self.contacts.iter().map(|e| e.map(|(_, c)| c))
    }

    /// How many contacts there are (walks the tree).
    pub fn count(&self) -> usize {
        self.contacts.len()
    }
}

fn finish_page(mut items: Vec<Contact>, limit: usize) -> Page {
    let next_after = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|c| c.phone.clone())
    } else {
        None
    };
    Page { items, next_after }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::contacts::consent::{Category, ConsentAction, ConsentSource};

    fn contact(phone: &str, first: &str, last: &str) -> Contact {
        Contact {
            phone: phone.into(),
            first_name: first.into(),
            last_name: last.into(),
            ..Contact::default()
        }
    }

    fn store() -> (tempfile::TempDir, ContactStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = ContactStore::open(&Store::open(dir.path()).unwrap()).unwrap();
        (dir, store)
    }

    #[test]
    fn pages_follow_number_order_without_gaps_or_repeats() {
        let (_dir, store) = store();
        for i in 0..25u32 {
            store
                .put(&contact(&format!("+9053212345{i:02}"), "A", "B"), None)
                .unwrap();
        }
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = store.page(after.as_deref(), "", 10, &|_| true).unwrap();
            seen.extend(page.items.iter().map(|c| c.phone.clone()));
            match page.next_after {
                Some(a) => after = Some(a),
                None => break,
            }
        }
        assert_eq!(seen.len(), 25);
        assert!(seen.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(
            store
                .page(None, "+90532123451", 100, &|_| true)
                .unwrap()
                .items
                .len(),
            10
        );
    }

    #[test]
    fn name_search_follows_renames() {
        let (_dir, store) = store();
        let before = contact("+905321234567", "Ayşe", "Yılmaz");
        store.put(&before, None).unwrap();
        store
            .put(&contact("+905321234568", "Ayla", "Kaya"), None)
            .unwrap();
        assert_eq!(
            store
                .search_name("ay", None, 10, &|_| true)
                .unwrap()
                .items
                .len(),
            2
        );
        assert_eq!(
            store
                .search_name("AYŞE Y", None, 10, &|_| true)
                .unwrap()
                .items
                .len(),
            1
        );
        let renamed = contact("+905321234567", "Zeynep", "Yılmaz");
        store.put(&renamed, Some(&before)).unwrap();
        let names: Vec<_> = store
            .search_name("ay", None, 10, &|_| true)
            .unwrap()
            .items
            .into_iter()
            .map(|c| c.first_name)
            .collect();
        assert_eq!(names, ["Ayla"]);
    }

    /// Imports index new contacts from the row before the merge; that must give the entries of
    /// the contact the merge creates.
    #[test]
    fn entries_read_from_a_row_match_those_of_the_contact_it_creates() {
        use domain::contacts::model::ContactPatch;
        let names: [(Option<&str>, Option<&str>); 6] = [
            (Some("Ayşe"), Some("Yılmaz")),
            (Some("  İlkay "), None),
            (None, Some(" KAYA")),
            (Some(""), Some("   ")),
            (None, None),
            (Some("Can"), Some("Can")),
        ];
        for (first, last) in names {
            let patch = ContactPatch {
                phone: "+905321234567".into(),
                first_name: first.map(str::to_string),
                last_name: last.map(str::to_string),
                ..ContactPatch::default()
            };
            let (created, _) = Contact::merge(None, &patch, None, 1);
            assert_eq!(
                entries_for_new_contact(&patch.phone, first, last),
                ContactStore::new_index_entries(&created, None),
                "{first:?} {last:?}"
            );
        }
    }

    #[test]
    fn deleting_keeps_only_an_anonymous_consent_tombstone() {
        let (_dir, store) = store();
        let mut c = contact("+905321234567", "Ayşe", "Yılmaz");
        c.consent.push(ConsentEvent {
            at_ms: 1,
            action: ConsentAction::OptOut,
            categories: vec![Category::Marketing],
            source: ConsentSource::Api,
        });
        store.put(&c, None).unwrap();
        assert!(store.delete(&c.phone, 5).unwrap());
        assert!(store.get(&c.phone).unwrap().is_none());
        assert!(store
            .search_name("ayşe", None, 10, &|_| true)
            .unwrap()
            .items
            .is_empty());
        let tomb = store.tombstone(&c.phone).unwrap().unwrap();
        assert_eq!(tomb.consent, c.consent);
    }
}
