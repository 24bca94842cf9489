//! One module per route.

pub mod campaign;
pub mod campaign_settings;
pub mod campaign_wizard;
pub mod campaigns;
pub mod contact;
pub mod contact_import;
pub mod contacts;
pub mod conversation;
pub mod conversations;
pub mod dashboard;
pub mod login;
pub mod not_found;
pub mod segments;
pub mod settings;
pub mod setup;
pub mod template_editor;
pub mod templates;
pub mod webhook_log;
