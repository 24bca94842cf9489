//! Herald's user interface: one Leptos app rendered on the server (`ssr`) and hydrated in the
//! browser (`hydrate`).
//!
//! Layout:
//! - [`shell`]: the HTML document around every page, with hashed asset links.
//! - [`routes`]: the route table; pages live in `pages/`, shared widgets in `components/`.
//! - [`session`]: who is signed in and the CSRF token, as the server put them on the request.
//! - [`api`]: server functions, thin calls into [`ports`].
//! - [`ports`] (`ssr` only): the use-case traits the `server` crate implements. This crate never
//!   names sled, reqwest or governor.
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, reason = "a failing test should panic")
)]

pub mod api;
pub mod components;
pub mod navigation;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod ports;
pub mod refusal;
pub mod routes;
pub mod session;
pub mod shell;

pub use routes::App;
pub use shell::{shell, AssetManifest};
