#!/usr/bin/env bash
# Installs what is missing and runs every check and test: format, lints (native and wasm),
# architecture invariants, unit and integration tests, then browser tests against the herald
# binary (with the browser bundle embedded) copied alone into an empty directory.
source "$(dirname "$0")/common.sh"
started=$SECONDS

ensure_wasm_toolchain
ensure_chromium
ensure_npm end2end

step "format"
cargo fmt --all --check

step "lints (server, app with ssr, domain)"
cargo clippy --all-targets -- -D warnings
step "lints (frontend and app with hydrate, for wasm)"
cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

step "architecture invariants"
server/scripts/check-invariants.sh

step "unit and integration tests"
cargo test

build_site
# The debug binary: same code as the release one, and 40 s to link after `cargo test` instead of
# a 10-minute optimised build (which `run.sh` does). It embeds the bundle just built.
step "building the herald binary with the browser bundle"
cargo build -p server

step "browser tests"
HERALD_BIN="$ROOT/target/debug/herald" npm --prefix end2end test

step "all tests passed in $((SECONDS - started)) s"
