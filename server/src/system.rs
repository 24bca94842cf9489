//! [`app::ports::SystemPort`]: facts about this installation for the dashboard.

use std::sync::Arc;

use app::api::{InstallationOverview, StorageOverview};
use chrono::{Offset, TimeZone};
use domain::clock::ServerClock;

use app::ports::PortError;
use domain::access::{Caller, Permission};

use crate::clock::Clock;
use crate::ports::allow;
use crate::storage::{internal, Store};

/// Reads version, clock and storage figures.
pub struct SystemService {
    store: Store,
    clock: Arc<dyn Clock>,
}

impl SystemService {
    /// A service over `store`.
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    fn server_clock(&self) -> ServerClock {
        let now_ms = self.clock.now_ms();
        let utc_offset_s = chrono::Local
            .timestamp_millis_opt(now_ms)
            .single()
            .map(|t| t.offset().fix().local_minus_utc())
            .unwrap_or(0);
        let zone = iana_time_zone::get_timezone().unwrap_or_else(|_| "local time".into());
        ServerClock {
            now_ms,
            utc_offset_s,
            zone,
        }
    }
}

#[async_trait::async_trait]
impl app::ports::SystemPort for SystemService {
    async fn overview(&self, caller: &Caller) -> Result<InstallationOverview, PortError> {
        allow(caller, Permission::View)?;
        let storage = StorageOverview {
            schema_version: self.store.schema_version().map_err(internal)?,
            size_on_disk: self.store.size_on_disk().map_err(internal)?,
            data_dir: self.store.path().display().to_string(),
        };
        Ok(InstallationOverview {
            version: env!("CARGO_PKG_VERSION").to_string(),
            clock: self.server_clock(),
            storage,
        })
    }
}
