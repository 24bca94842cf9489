#![doc = include_str!("../README.md")]

pub mod account;
pub mod clock;
pub mod problem;

pub use problem::Problem;
