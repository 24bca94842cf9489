#![doc = include_str!("../README.md")]
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, reason = "a failing test should panic")
)]

pub mod access;
pub mod account;
pub mod automation;
pub mod campaign;
pub mod clock;
pub mod contacts;
pub mod conversation;
pub mod ids;
pub mod problem;
pub mod template;
pub mod text;
pub mod whatsapp;

pub use problem::Problem;
