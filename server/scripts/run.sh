#!/usr/bin/env bash
# Installs what is missing, builds the release binary with the UI embedded, and starts Herald on
# its defaults (http://127.0.0.1:8080, data in ./herald-data). Extra arguments go to `herald`.
source "$(dirname "$0")/common.sh"
build_release
step "starting Herald (Ctrl-C stops it)"
exec target/release/herald "$@"
