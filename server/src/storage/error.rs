//! What can go wrong below the typed storage API.

use std::path::PathBuf;

use app::ports::PortError;

/// A storage failure; the message names the collection or path involved.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// sled reported an I/O or corruption error.
    #[error("storage error: {0}")]
    Sled(#[from] sled::Error),
    /// The data directory could not be created.
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A storage task on the blocking pool did not finish (runtime shutting down).
    #[error("storage task failed: {0}")]
    Background(String),
    /// Another process holds the database open.
    #[error("data directory {0} is in use by another Herald process")]
    Locked(PathBuf),
    /// A stored value does not decode as the collection's type.
    #[error("corrupt value in collection `{collection}`: {reason}")]
    Decode {
        /// The collection.
        collection: &'static str,
        /// Why decoding failed.
        reason: String,
    },
    /// A value could not be encoded.
    #[error("cannot encode value for collection `{collection}`: {reason}")]
    Encode {
        /// The collection.
        collection: &'static str,
        /// Why encoding failed.
        reason: String,
    },
    /// The data directory was written by a newer Herald.
    #[error(
        "data directory has schema version {found} but this Herald supports up to {supported}; \
         upgrade Herald"
    )]
    SchemaTooNew {
        /// Version on disk.
        found: u32,
        /// Highest version this build knows.
        supported: u32,
    },
    /// The `meta` tree has no schema version although migrations ran.
    #[error("data directory has no schema version")]
    MissingSchemaVersion,
    /// A migration failed; the data directory stays at the previous version.
    #[error("migration to schema {to} ({name}) failed: {reason}")]
    Migration {
        /// Target version.
        to: u32,
        /// Migration name.
        name: &'static str,
        /// Why.
        reason: String,
    },
}

/// A storage failure as a port's refusal: logged here with its detail under a short reference,
/// answered as [`PortError::Internal`] (HTTP 500) with only that reference. Every port uses this,
/// so no other refusal can be mistaken for the server's fault.
pub fn internal(error: StorageError) -> PortError {
    crate::ports::fault("storage failed", error)
}
