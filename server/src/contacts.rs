//! Contacts: the service behind the Contacts pages ([`service`]), reading uploaded spreadsheets
//! ([`sheet`]), the background import runner ([`importer`]), and the upload and download routes
//! ([`files`]). The rules themselves (phone numbers, consent, mapping, segments) live in
//! `domain::contacts`; this module stores and moves data.

pub mod files;
pub mod importer;
pub mod service;
pub mod sheet;
pub mod xlsx;

pub use service::ContactsService;
