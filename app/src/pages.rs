//! One module per route.

pub mod dashboard;
pub mod login;
pub mod not_found;
pub mod sections;
pub mod settings;
pub mod setup;
pub mod template_editor;
pub mod templates;
pub mod webhook_log;
