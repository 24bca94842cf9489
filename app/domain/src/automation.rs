//! Automations: what Herald does by itself when a customer answers, or does not.
//!
//! - [`reply`] decides which branch of a follow-up a reply takes ("1", "1️⃣", "one", a button's
//!   payload, anything else), one rule for the wizard's preview, the engine and the report.
pub mod reply;
