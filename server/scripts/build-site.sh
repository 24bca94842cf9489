#!/usr/bin/env bash
# Builds the browser bundle into target/site/pkg, where server/build.rs embeds it from.
source "$(dirname "$0")/common.sh"
build_site
