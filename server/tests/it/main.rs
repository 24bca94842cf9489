//! Herald's integration tests: one binary (so it links once), each test starting the real server
//! on a random port with a temporary data directory and driving it over HTTP.
#![allow(clippy::unwrap_used, reason = "a failing test should panic")]

mod admission;
mod auth;
mod automations;
mod campaigns;
mod contacts;
mod conversations;
mod crash;
mod hardening;
mod helpers;
mod hostile_inputs;
mod hostile_webhooks;
mod operations;
mod pages;
mod process;
mod route_policy;
mod sandbox;
mod templates;
mod throughput;
mod webhooks;
