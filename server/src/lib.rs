//! The `herald` server: everything that does I/O.
//!
//! Layout:
//! - [`config`]: settings from flags, environment and file.
//! - [`startup`]: builds an [`Application`] and runs it until shutdown.
//! - [`http`]: the axum router, middleware (CSRF, session gate, metrics) and form handlers.
//! - [`accounts`]: owner setup, sign-in and sessions.
//! - [`storage`]: the only module that touches sled.
//! - [`system`]: implements the `app::ports` the UI's server functions call.
//! - [`clock`]: the only place that reads wall-clock time.
//! - [`telemetry`]: log output.
//! - [`whatsapp`]: webhook signature verification (provider clients and intake to follow).
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, reason = "a failing test should panic")
)]

pub mod accounts;
pub mod automations;
pub mod campaigns;
pub mod clock;
pub mod config;
pub mod contacts;
pub mod conversations;
pub mod http;
pub mod messaging;
pub mod ports;
pub mod startup;
pub mod storage;
pub mod system;
pub mod telemetry;
pub mod templates;
pub mod whatsapp;

pub use startup::Application;

/// mimalloc instead of glibc's malloc: sled copies a tree node on every insert, and under glibc
/// the allocator alone took ~40 % of a contact import's CPU (arena lock contention between the
/// importer and sled's flusher, `malloc_consolidate`). Much of the gain is mimalloc's use of
/// transparent huge pages (fewer page faults), which also costs resident memory: a million-row
/// import runs at ≈110,000 rows/s in ≈275 MB with it, ≈70,000 rows/s in ≈160 MB with glibc or
/// with mimalloc's `no_thp` feature. Declared in the library so the binary, tests and
/// benchmarks all measure the same allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
