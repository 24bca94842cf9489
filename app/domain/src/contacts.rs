//! Contacts and audiences: the rules that decide who a contact is (a phone number in E.164),
//! whether Herald may message them (consent per category), how an imported row becomes a
//! contact, and which contacts a segment selects. Everything here is pure; the server stores the
//! results and the browser uses the same mapping and segment rules to show them live.

pub mod attributes;
pub mod consent;
pub mod export;
pub mod fields;
pub mod import;
pub mod model;
pub mod phone;
pub mod segment;

pub use attributes::{AttributeKind, AttributeValue};
pub use consent::{Category, ConsentAction, ConsentEvent, ConsentSource};
pub use model::{Change, Contact};
