//! Automations: what Herald does by itself when a customer answers, or does not.
//!
//! - [`reply`] decides which branch of a follow-up a reply takes ("1", "1️⃣", "one", a button's
//!   payload, anything else), one rule for the wizard's preview, the engine and the report.
//! - [`follow_up`] is a campaign's follow-ups: the branches, what each does, the wait for a
//!   reply and what its end does — with no way to send free-form text when the window may be
//!   closed.
pub mod follow_up;
pub mod reply;
