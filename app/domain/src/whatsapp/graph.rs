//! The Graph API's request and response bodies (fact sheet §1, §2, §4, §5, §8) as typed structs
//! whose serde form is Meta's JSON, byte for byte in field names and nesting.
//!
//! Herald's client serialises these to call Meta (or 360dialog, or the sandbox), and the sandbox
//! deserialises the same types to answer, so both sides of every test speak one definition.
//! [`validate`] holds Meta's documented request limits as pure rules, used by the sandbox to
//! refuse what Meta would refuse and by the UI to warn before sending.

mod error;
mod lenient;
mod media;
mod messages;
mod phone;
mod templates;
pub mod validate;

pub use error::*;
pub use media::*;
pub use messages::*;
pub use phone::*;
pub use templates::*;

#[cfg(test)]
mod tests;
