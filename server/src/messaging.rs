//! The one outbound path. Every message Herald sends — a campaign recipient's, a test send, a
//! conversation reply, and next an automation step or an API call — leaves through the
//! [`dispatcher`]: paced by its number's one [`gate`], written to the message ledger
//! (`storage::messages`) durably just before the request, and settled there from the answer.
//! Its status webhooks name the ledger entry (`domain::whatsapp::callback`), so the webhook
//! fan-out finds the message and tells its origin. [`threads`] keeps the inbox's conversations
//! from both directions: customer messages from the fan-out, replies from the dispatcher.
//!
//! Campaigns and the wire layer both depend on this module, never on each other.

pub mod dispatcher;
pub mod gate;
pub mod limits;
pub mod threads;

pub use dispatcher::{Dispatched, Dispatcher, Outbound};
pub use gate::SenderGate;
