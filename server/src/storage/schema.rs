//! The schema version of a data directory and the migrations that bring an old one up to date.
//!
//! Each migration moves the data from version `to - 1` to `to`. The version is bumped and flushed
//! only after a migration succeeds, so a crash mid-migration reruns it on the next start:
//! migrations must therefore be idempotent.

use super::StorageError;

/// The schema this build writes.
pub const CURRENT_SCHEMA: u32 = 3;

const META_TREE: &str = "meta";
const VERSION_KEY: &str = "schema_version";

/// One step of the schema history.
pub struct Migration {
    /// Version after the step.
    pub to: u32,
    /// What it does, for the log.
    pub name: &'static str,
    /// The step itself.
    pub run: fn(&sled::Db) -> Result<(), String>,
}

/// The real history.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        to: 2,
        name: "index the conversations with unread messages",
        run: super::conversations::index_unread,
    },
    Migration {
        to: 3,
        name: "index the inbox for search (numbers, names and message words)",
        run: super::conversation_search::index_existing,
    },
];

pub(super) fn read_version(db: &sled::Db) -> Result<Option<u32>, StorageError> {
    let meta = db.open_tree(META_TREE)?;
    Ok(meta.get(VERSION_KEY)?.and_then(|bytes| {
        let array: [u8; 4] = bytes.as_ref().try_into().ok()?;
        Some(u32::from_be_bytes(array))
    }))
}

pub(super) fn write_version(db: &sled::Db, version: u32) -> Result<(), StorageError> {
    db.open_tree(META_TREE)?
        .insert(VERSION_KEY, &version.to_be_bytes())?;
    db.flush()?;
    Ok(())
}

/// Brings `db` to the newest version `migrations` reach (or [`CURRENT_SCHEMA`]).
pub(super) fn migrate(db: &sled::Db, migrations: &[Migration]) -> Result<(), StorageError> {
    let target = migrations
        .iter()
        .map(|m| m.to)
        .max()
        .unwrap_or(0)
        .max(CURRENT_SCHEMA);
    let Some(version) = read_version(db)? else {
        // A new data directory starts at the newest schema; nothing to migrate.
        return write_version(db, target);
    };
    if version > target {
        return Err(StorageError::SchemaTooNew {
            found: version,
            supported: target,
        });
    }
    for migration in migrations.iter().filter(|m| m.to > version) {
        tracing::info!(
            to = migration.to,
            name = migration.name,
            "migrating storage schema"
        );
        (migration.run)(db).map_err(|reason| StorageError::Migration {
            to: migration.to,
            name: migration.name,
            reason,
        })?;
        write_version(db, migration.to)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::Store;
    use super::*;

    fn rename_things(db: &sled::Db) -> Result<(), String> {
        let old = db.open_tree("things").map_err(|e| e.to_string())?;
        let new = db.open_tree("renamed_things").map_err(|e| e.to_string())?;
        for item in old.iter() {
            let (k, v) = item.map_err(|e| e.to_string())?;
            new.insert(k, v).map_err(|e| e.to_string())?;
        }
        old.clear().map_err(|e| e.to_string())
    }

    fn failing(_: &sled::Db) -> Result<(), String> {
        Err("disk says no".into())
    }

    #[test]
    fn a_new_directory_starts_at_the_current_schema() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.schema_version().unwrap(), CURRENT_SCHEMA);
    }

    #[test]
    fn an_old_directory_is_migrated_once_on_open() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            let things = store.collection::<String, u32>("things").unwrap();
            things.insert(&"a".into(), &1).unwrap();
            write_version(&store.db, 1).unwrap();
        }
        let history = [Migration {
            to: 2,
            name: "rename things",
            run: rename_things,
        }];
        let store = Store::open_with_migrations(dir.path(), &history).unwrap();
        assert_eq!(store.schema_version().unwrap(), 2);
        let renamed = store.collection::<String, u32>("renamed_things").unwrap();
        assert_eq!(renamed.get(&"a".into()).unwrap(), Some(1));
    }

    #[test]
    fn a_failed_migration_leaves_the_version_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            write_version(&store.db, 1).unwrap();
        }
        let history = [Migration {
            to: 2,
            name: "fails",
            run: failing,
        }];
        let err = Store::open_with_migrations(dir.path(), &history)
            .err()
            .unwrap();
        assert!(err.to_string().contains("disk says no"), "{err}");
        let db = sled::open(dir.path()).unwrap();
        assert_eq!(read_version(&db).unwrap(), Some(1));
    }

    #[test]
    fn a_directory_from_a_newer_herald_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let history = [Migration {
            to: 5,
            name: "future",
            run: |_| Ok(()),
        }];
        drop(Store::open_with_migrations(dir.path(), &history).unwrap());
        let err = Store::open(dir.path()).err().unwrap();
        assert!(
            matches!(
                err,
                StorageError::SchemaTooNew {
                    found: 5,
                    supported: CURRENT_SCHEMA
                }
            ),
            "{err}"
        );
    }
}
