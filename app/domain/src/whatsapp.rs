//! Facts of the WhatsApp Business Platform that Herald's rules depend on, as pure code: what Meta's
//! error codes mean for a sender, how delivery statuses combine, messaging-limit tiers, and the
//! typed shape of Meta's webhooks. Sources: `shared/whatsapp/cloud-api-facts.md` (§3–§5).

pub mod admission;
pub mod callback;
pub mod connection;
pub mod errors;
pub mod graph;
pub mod limits;
pub mod status;
pub mod webhook;
pub mod window;
