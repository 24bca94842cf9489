//! The inbox: conversations kept by `messaging::threads`, worked through `service` (the
//! `ConversationsPort`), and pushed to open pages by `events`; customers' files are fetched and
//! kept by `media` and served to signed-in users by `files`.

pub mod events;
pub mod files;
pub mod media;
pub mod service;

pub use service::ConversationService;
