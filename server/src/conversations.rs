//! The inbox: conversations kept by `messaging::threads`, worked through `service` (the
//! `ConversationsPort`), and pushed to open pages by `events`.

pub mod events;
pub mod service;

pub use service::ConversationService;
