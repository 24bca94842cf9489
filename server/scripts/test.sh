#!/usr/bin/env bash
# Installs what is missing and runs every check and test: format, lints (native and wasm),
# architecture invariants, unit and integration tests, then browser tests against the release
# binary copied alone into an empty directory.
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

build_release

step "browser tests"
HERALD_BIN="$ROOT/target/release/herald" npm --prefix end2end test

step "all tests passed in $((SECONDS - started)) s"
