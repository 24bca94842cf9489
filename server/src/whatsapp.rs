//! Herald's side of the WhatsApp wire: the provider clients, webhook authentication, the public
//! webhook endpoint with its durable inbox, the worker that applies webhook events, the built-in
//! sandbox and the settings service. The platform's rules themselves live in `domain::whatsapp`.

pub mod consent_effects;
pub mod fanout;
pub mod intake;
pub mod provider;
pub mod sandbox;
pub mod settings;
pub mod signature;
pub mod simulated_user;
pub mod worker;
