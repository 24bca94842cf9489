//! Widgets shared by several pages.

pub mod bubble;
pub mod campaigns_nav;
pub mod clock;
pub mod contacts_nav;
pub mod empty_state;
pub mod formatted;
pub mod layout;
pub mod live_changes;
pub mod refresh;
pub mod settings_nav;
pub mod theme_toggle;
#[cfg(feature = "hydrate")]
pub mod upload;
