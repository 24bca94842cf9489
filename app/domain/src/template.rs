//! Message-template rules (fact sheet §2.1–§2.2): placeholders and the lint Meta's review applies.
//! The template editor shows these problems live, the server refuses to submit a template that
//! has any, and the sandbox's reviewer rejects with them — one definition for all three.

pub mod form;
pub mod lifecycle;
pub mod lint;
pub mod placeholders;
pub mod preview;
