//! The customer-service and free-entry-point windows of each (number, user) (tree
//! `service_windows`, (connection id, wa_id) → [`UserWindows`]). The webhook worker moves them on
//! every inbound message; the campaign engine (and the coming inbox) read them to know what may be
//! sent now. The rules are `domain::whatsapp::window`'s; this file only keeps the result.

use domain::whatsapp::window::UserWindows;
use uuid::Uuid;

use super::{Collection, StorageError, Store};

/// Typed access to `service_windows`.
#[derive(Clone)]
pub struct WindowStore {
    windows: Collection<(Uuid, String), UserWindows>,
}

impl WindowStore {
    /// Opens the tree.
    pub fn open(store: &Store) -> Result<Self, StorageError> {
        Ok(Self {
            windows: store.collection("service_windows")?,
        })
    }

    /// The windows of `wa_id` with `connection` (all closed when the user never wrote).
    pub fn get(&self, connection: &Uuid, wa_id: &str) -> Result<UserWindows, StorageError> {
        Ok(self
            .windows
            .get(&(*connection, wa_id.to_string()))?
            .unwrap_or_default())
    }

    /// Records that `wa_id` wrote to `connection` at `at_ms` (`from_ad`: through an ad).
    pub fn inbound(
        &self,
        connection: &Uuid,
        wa_id: &str,
        at_ms: i64,
        from_ad: bool,
        service_ms: i64,
    ) -> Result<UserWindows, StorageError> {
        self.change(connection, wa_id, |w| {
            w.after_inbound_lasting(at_ms, from_ad, service_ms)
        })
    }

    /// Records that the business sent `wa_id` a message at `at_ms`.
    pub fn replied(
        &self,
        connection: &Uuid,
        wa_id: &str,
        at_ms: i64,
    ) -> Result<UserWindows, StorageError> {
        self.change(connection, wa_id, |w| w.after_reply(at_ms))
    }

    fn change(
        &self,
        connection: &Uuid,
        wa_id: &str,
        f: impl Fn(UserWindows) -> UserWindows,
    ) -> Result<UserWindows, StorageError> {
        let updated = self
            .windows
            .update(&(*connection, wa_id.to_string()), |current| {
                Some(f(current.unwrap_or_default()))
            })?;
        Ok(updated.unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::whatsapp::window::CUSTOMER_SERVICE_MS;

    #[test]
    fn windows_are_kept_per_number_and_user() {
        let dir = tempfile::tempdir().unwrap();
        let windows = WindowStore::open(&Store::open(dir.path()).unwrap()).unwrap();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        windows
            .inbound(&a, "905321234567", 1_000, false, CUSTOMER_SERVICE_MS)
            .unwrap();
        assert!(windows
            .get(&a, "905321234567")
            .unwrap()
            .allows_free_form(2_000));
        // The same user has written to number A only.
        assert!(!windows
            .get(&b, "905321234567")
            .unwrap()
            .allows_free_form(2_000));
        assert!(!windows
            .get(&a, "905321234567")
            .unwrap()
            .allows_free_form(1_000 + CUSTOMER_SERVICE_MS));
    }
}
