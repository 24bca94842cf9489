//! Saved segments (tree `segments`, id → [`SegmentRecord`]).

use domain::contacts::segment::SegmentDefinition;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Collection, StorageError, Store};

/// A saved segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentRecord {
    /// Name and conditions.
    pub definition: SegmentDefinition,
    /// Unix ms.
    pub created_at_ms: i64,
    /// Unix ms.
    pub updated_at_ms: i64,
}

/// Typed access to the segments tree.
#[derive(Clone)]
pub struct SegmentStore {
    segments: Collection<Uuid, SegmentRecord>,
}

impl SegmentStore {
    /// Opens the tree.
    pub fn open(store: &Store) -> Result<Self, StorageError> {
        Ok(Self {
            segments: store.collection("segments")?,
        })
    }

    /// Every segment, oldest first.
    pub fn list(&self) -> Result<Vec<(Uuid, SegmentRecord)>, StorageError> {
        self.segments.iter().collect()
    }

    /// One segment.
    pub fn get(&self, id: &Uuid) -> Result<Option<SegmentRecord>, StorageError> {
        self.segments.get(id)
    }

    /// Creates or replaces a segment.
    pub fn put(&self, id: &Uuid, record: &SegmentRecord) -> Result<(), StorageError> {
        self.segments.insert(id, record)
    }

    /// Deletes a segment; returns whether it existed.
    pub fn delete(&self, id: &Uuid) -> Result<bool, StorageError> {
        self.segments.remove(id)
    }
}
