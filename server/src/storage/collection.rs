//! Typed views over sled trees, and all-or-nothing updates across several of them.

use std::marker::PhantomData;

use serde::{de::DeserializeOwned, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};

use super::{codec, key::Key, StorageError};

/// Ties a handle to its key and value types without owning either (and stays `Send + Sync`).
type TypeMarker<K, V> = PhantomData<fn(K, V) -> (K, V)>;

/// A sled tree whose keys are `K` and values `V`.
pub struct Collection<K, V> {
    name: &'static str,
    tree: sled::Tree,
    _types: TypeMarker<K, V>,
}

impl<K, V> Clone for Collection<K, V> {
    fn clone(&self) -> Self {
        Self {
            name: self.name,
            tree: self.tree.clone(),
            _types: PhantomData,
        }
    }
}

type Entry<K, V> = Result<(K, V), StorageError>;

impl<K: Key, V: Serialize + DeserializeOwned> Collection<K, V> {
    pub(super) fn new(name: &'static str, tree: sled::Tree) -> Self {
        Self {
            name,
            tree,
            _types: PhantomData,
        }
    }

    /// The underlying tree, for transactions that mix typed and raw trees inside `storage`.
    pub(super) fn tree(&self) -> &sled::Tree {
        &self.tree
    }

    /// The value at `key`.
    pub fn get(&self, key: &K) -> Result<Option<V>, StorageError> {
        self.tree
            .get(key.encode())?
            .map(|bytes| codec::decode(self.name, &bytes))
            .transpose()
    }

    /// Stores `value` at `key`, replacing what was there.
    pub fn insert(&self, key: &K, value: &V) -> Result<(), StorageError> {
        self.tree
            .insert(key.encode(), codec::encode(self.name, value)?)?;
        Ok(())
    }

    /// Removes `key`, returning whether it existed.
    pub fn remove(&self, key: &K) -> Result<bool, StorageError> {
        Ok(self.tree.remove(key.encode())?.is_some())
    }

    /// Whether `key` is present, without decoding its value.
    pub fn contains(&self, key: &K) -> Result<bool, StorageError> {
        Ok(self.tree.contains_key(key.encode())?)
    }

    /// Whether the collection holds no entries.
    pub fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }

    /// Number of entries; walks the tree, so not for hot paths.
    pub fn len(&self) -> usize {
        self.tree.len()
    }

    /// Entries in key order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = Entry<K, V>> + '_ {
        self.tree.iter().map(move |item| self.decode_entry(item))
    }

    /// Entries whose encoded key starts with `prefix` (see [`Key::encode`] of the leading part).
    pub fn scan_prefix(&self, prefix: &[u8]) -> impl DoubleEndedIterator<Item = Entry<K, V>> + '_ {
        self.tree
            .scan_prefix(prefix)
            .map(move |item| self.decode_entry(item))
    }

    /// Entries with keys at or after `from`, in key order.
    pub fn range_from(&self, from: &K) -> impl DoubleEndedIterator<Item = Entry<K, V>> + '_ {
        self.tree
            .range(from.encode()..)
            .map(move |item| self.decode_entry(item))
    }

    /// Entries with keys before `to` (exclusive), in key order; `.rev()` for keyset pages that
    /// read backwards from a cursor.
    pub fn range_before(&self, to: &K) -> impl DoubleEndedIterator<Item = Entry<K, V>> + '_ {
        self.tree
            .range(..to.encode())
            .map(move |item| self.decode_entry(item))
    }

    /// Atomically replaces the value at `key` with `f(current)`; `None` removes it. `f` may run
    /// more than once under contention and must not have side effects.
    pub fn update(
        &self,
        key: &K,
        mut f: impl FnMut(Option<V>) -> Option<V>,
    ) -> Result<Option<V>, StorageError> {
        let encoded_key = key.encode();
        loop {
            let current = self.tree.get(&encoded_key)?;
            let decoded = current
                .as_ref()
                .map(|bytes| codec::decode(self.name, bytes))
                .transpose()?;
            let next = f(decoded);
            let next_bytes = next
                .as_ref()
                .map(|v| codec::encode(self.name, v))
                .transpose()?;
            if self
                .tree
                .compare_and_swap(&encoded_key, current, next_bytes)?
                .is_ok()
            {
                return Ok(next);
            }
        }
    }

    /// Removes every entry whose encoded key starts with `prefix` (one group of a composite
    /// key); returns how many.
    pub fn remove_prefix(&self, prefix: &[u8]) -> Result<usize, StorageError> {
        let keys: Vec<sled::IVec> = self
            .tree
            .scan_prefix(prefix)
            .keys()
            .collect::<Result<_, _>>()?;
        for key in &keys {
            self.tree.remove(key)?;
        }
        Ok(keys.len())
    }

    /// Removes every entry for which `keep` returns false; returns how many were removed.
    pub fn retain(&self, mut keep: impl FnMut(&K, &V) -> bool) -> Result<usize, StorageError> {
        let mut removed = 0;
        for entry in self.iter() {
            let (key, value) = entry?;
            if !keep(&key, &value) && self.remove(&key)? {
                removed += 1;
            }
        }
        Ok(removed)
    }

    fn decode_entry(&self, item: sled::Result<(sled::IVec, sled::IVec)>) -> Entry<K, V> {
        let (k, v) = item?;
        Ok((K::decode(&k)?, codec::decode(self.name, &v)?))
    }

    /// The collection as seen inside a transaction.
    pub(super) fn in_tx<'t>(&self, tree: &'t TransactionalTree) -> TxCollection<'t, K, V> {
        TxCollection {
            name: self.name,
            tree,
            _types: PhantomData,
        }
    }
}

/// A [`Collection`] inside [`transact`]: reads see the transaction's own writes, and all writes
/// land together or not at all.
pub struct TxCollection<'t, K, V> {
    name: &'static str,
    tree: &'t TransactionalTree,
    _types: TypeMarker<K, V>,
}

/// Error type of the closure passed to [`transact`]: `Abort(e)` rolls back and returns `e`.
pub type TxError<E> = ConflictableTransactionError<E>;

impl<K: Key, V: Serialize + DeserializeOwned> TxCollection<'_, K, V> {
    /// The value at `key`.
    pub fn get<E: From<StorageError>>(&self, key: &K) -> Result<Option<V>, TxError<E>> {
        match self.tree.get(key.encode())? {
            Some(bytes) => codec::decode(self.name, &bytes)
                .map(Some)
                .map_err(|e| TxError::Abort(e.into())),
            None => Ok(None),
        }
    }

    /// Stores `value` at `key`.
    pub fn insert<E: From<StorageError>>(&self, key: &K, value: &V) -> Result<(), TxError<E>> {
        let bytes = codec::encode(self.name, value).map_err(|e| TxError::Abort(e.into()))?;
        self.tree.insert(key.encode(), bytes)?;
        Ok(())
    }

    /// Removes `key`.
    pub fn remove<E: From<StorageError>>(&self, key: &K) -> Result<(), TxError<E>> {
        self.tree.remove(key.encode())?;
        Ok(())
    }
}

/// A failed transaction as the caller's error: its own abort, or sled's failure.
fn abort_or_storage<E: From<StorageError>>(e: TransactionError<E>) -> E {
    match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => E::from(StorageError::Sled(e)),
    }
}

/// Runs `f` over two collections as one atomic, isolated transaction, retrying on conflict.
/// Return `Err(TxError::Abort(e))` from `f` to roll back with `e`.
pub fn transact<K1, V1, K2, V2, R, E>(
    a: &Collection<K1, V1>,
    b: &Collection<K2, V2>,
    f: impl Fn(&TxCollection<'_, K1, V1>, &TxCollection<'_, K2, V2>) -> Result<R, TxError<E>>,
) -> Result<R, E>
where
    K1: Key,
    K2: Key,
    V1: Serialize + DeserializeOwned,
    V2: Serialize + DeserializeOwned,
    E: From<StorageError>,
{
    use sled::Transactional;
    (&a.tree, &b.tree)
        .transaction(|(ta, tb)| f(&a.in_tx(ta), &b.in_tx(tb)))
        .map_err(abort_or_storage)
}

/// [`transact`] plus one untyped tree, for byte payloads (such as index pages) that must land
/// with the typed writes.
pub(super) fn transact_with_raw<K1, V1, K2, V2, R, E>(
    a: &Collection<K1, V1>,
    b: &Collection<K2, V2>,
    raw: &sled::Tree,
    f: impl Fn(
        &TxCollection<'_, K1, V1>,
        &TxCollection<'_, K2, V2>,
        &TransactionalTree,
    ) -> Result<R, TxError<E>>,
) -> Result<R, E>
where
    K1: Key,
    K2: Key,
    V1: Serialize + DeserializeOwned,
    V2: Serialize + DeserializeOwned,
    E: From<StorageError>,
{
    use sled::Transactional;
    (&a.tree, &b.tree, raw)
        .transaction(|(ta, tb, tr)| f(&a.in_tx(ta), &b.in_tx(tb), tr))
        .map_err(abort_or_storage)
}

/// [`transact`] over three collections.
pub fn transact3<K1, V1, K2, V2, K3, V3, R, E>(
    a: &Collection<K1, V1>,
    b: &Collection<K2, V2>,
    c: &Collection<K3, V3>,
    f: impl Fn(
        &TxCollection<'_, K1, V1>,
        &TxCollection<'_, K2, V2>,
        &TxCollection<'_, K3, V3>,
    ) -> Result<R, TxError<E>>,
) -> Result<R, E>
where
    K1: Key,
    K2: Key,
    K3: Key,
    V1: Serialize + DeserializeOwned,
    V2: Serialize + DeserializeOwned,
    V3: Serialize + DeserializeOwned,
    E: From<StorageError>,
{
    use sled::Transactional;
    (&a.tree, &b.tree, &c.tree)
        .transaction(|(ta, tb, tc)| f(&a.in_tx(ta), &b.in_tx(tb), &c.in_tx(tc)))
        .map_err(abort_or_storage)
}

#[cfg(test)]
mod tests {
    use super::super::Store;
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        (dir, store)
    }

    #[test]
    fn values_survive_reopening_after_drop() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            let c = store.collection::<String, Vec<u32>>("things").unwrap();
            c.insert(&"a".into(), &vec![1, 2]).unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let c = store.collection::<String, Vec<u32>>("things").unwrap();
        assert_eq!(c.get(&"a".into()).unwrap(), Some(vec![1, 2]));
    }

    #[test]
    fn prefix_scans_return_one_group_in_key_order() {
        let (_dir, store) = store();
        let c = store.collection::<(u64, String), u8>("pairs").unwrap();
        for (group, name) in [(2, "b"), (1, "z"), (2, "a"), (3, "a")] {
            c.insert(&(group, name.to_string()), &0).unwrap();
        }
        let names: Vec<String> = c
            .scan_prefix(&2u64.encode())
            .map(|e| e.unwrap().0 .1)
            .collect();
        assert_eq!(names, ["a", "b"]);
        let from: Vec<u64> = c
            .range_from(&(2, String::new()))
            .map(|e| e.unwrap().0 .0)
            .collect();
        assert_eq!(from, [2, 2, 3]);
    }

    #[test]
    fn update_is_read_modify_write() {
        let (_dir, store) = store();
        let c = store.collection::<u64, u32>("counters").unwrap();
        for _ in 0..3 {
            c.update(&1, |v| Some(v.unwrap_or(0) + 1)).unwrap();
        }
        assert_eq!(c.get(&1).unwrap(), Some(3));
        c.update(&1, |_| None).unwrap();
        assert!(!c.contains(&1).unwrap());
    }

    #[test]
    fn an_aborted_transaction_writes_nothing_to_either_collection() {
        let (_dir, store) = store();
        let a = store.collection::<u64, String>("a").unwrap();
        let b = store.collection::<u64, String>("b").unwrap();
        let result: Result<(), StorageError> = transact(&a, &b, |ta, tb| {
            ta.insert(&1, &"one".to_string())?;
            tb.insert(&1, &"uno".to_string())?;
            Err(TxError::Abort(StorageError::MissingSchemaVersion))
        });
        assert!(result.is_err());
        assert!(a.is_empty() && b.is_empty());

        transact::<_, _, _, _, _, StorageError>(&a, &b, |ta, tb| {
            ta.insert(&1, &"one".to_string())?;
            tb.insert(&1, &"uno".to_string())
        })
        .unwrap();
        assert_eq!(a.len() + b.len(), 2);
    }

    #[test]
    fn a_value_of_the_wrong_type_is_a_decode_error_naming_the_collection() {
        let (_dir, store) = store();
        store
            .collection::<u64, String>("mixed")
            .unwrap()
            .insert(&1, &"x".into())
            .unwrap();
        let err = store
            .collection::<u64, u64>("mixed")
            .unwrap()
            .get(&1)
            .unwrap_err();
        assert!(err.to_string().contains("mixed"), "{err}");
    }

    #[test]
    fn a_second_open_of_the_same_directory_is_refused_clearly() {
        let (dir, _store) = store();
        let err = Store::open(dir.path())
            .err()
            .expect("second open must fail");
        assert!(matches!(err, StorageError::Locked(_)), "{err}");
    }
}
