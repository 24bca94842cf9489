//! Herald's side of the WhatsApp wire: webhook authentication today; provider clients, the webhook
//! inbox and the sandbox as they land. The platform's rules themselves live in
//! `domain::whatsapp`.

pub mod signature;
