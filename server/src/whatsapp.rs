//! Herald's side of the WhatsApp wire: webhook authentication, the public webhook endpoint with
//! its durable inbox, and the worker that applies webhook events. The platform's rules themselves
//! live in `domain::whatsapp`. Provider clients and the sandbox are still to come (issue #3).

pub mod intake;
pub mod provider;
pub mod sandbox;
pub mod settings;
pub mod signature;
pub mod worker;
