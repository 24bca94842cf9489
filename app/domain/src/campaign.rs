//! Campaigns: one approved template sent to an audience, each recipient with their own values.
//! The rules here are pure so the wizard (in the browser) and the engine (on the server) agree:
//! what a campaign draft must contain ([`draft`]), which template slots need a value and how a
//! contact fills them ([`render`]), who is excluded and why ([`eligibility`]), when a recipient
//! may be sent to ([`window`]), how fast and how many ([`pacing`]), and what it will cost and
//! take ([`estimate`]). Recipient and campaign states and their transitions live in [`state`].

pub mod backoff;
pub mod draft;
pub mod eligibility;
pub mod estimate;
pub mod lifecycle;
pub mod pacing;
pub mod render;
pub mod state;
pub mod window;

pub use draft::{BindingSource, CampaignDraft, Schedule, SendingWindow, VariableBinding};
pub use render::Slot;
pub use state::{CampaignStatus, PauseReason, RecipientState, SkipReason};
