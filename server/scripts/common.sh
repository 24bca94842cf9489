# Shared steps of run.sh, build-site.sh and test.sh. Each step installs what it needs from the
# registries this machine reaches (rustup, crates.io, npm, Debian) and skips itself when done.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }

# The wasm target and a wasm-bindgen CLI of exactly the version in Cargo.lock (a mismatch breaks
# the page at run time).
ensure_wasm_toolchain() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    step "installing the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  local want have
  want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
  have=$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)
  if [ "$have" != "$want" ]; then
    step "installing wasm-bindgen-cli $want from crates.io (about 7 minutes, once)"
    # Not --locked: the CLI's own lock file pins a crate version crates.io no longer serves.
    cargo install wasm-bindgen-cli --version "$want" --force
  fi
}

# npm packages of one directory, reinstalled only when its lock file changed.
ensure_npm() {
  local dir=$1
  if [ ! -f "$dir/node_modules/.installed" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.installed" ]; then
    step "installing npm packages in $dir"
    npm ci --prefix "$dir" --no-audit --no-fund
    touch "$dir/node_modules/.installed"
  fi
}

# Debian's Chromium for the browser tests (Playwright's own browser download cannot work here).
ensure_chromium() {
  if ! command -v chromium >/dev/null 2>&1; then
    step "installing Debian's chromium"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
  fi
}

# The browser bundle: wasm built in its own cargo invocation (so the `hydrate` and `ssr` features
# of `app` never unify), bound by wasm-bindgen, shrunk by wasm-opt, written where build.rs embeds
# it from.
build_site() {
  ensure_wasm_toolchain
  ensure_npm frontend
  step "building the browser bundle (wasm)"
  cargo build -p frontend --lib --target wasm32-unknown-unknown --profile wasm-release
  local out=target/site/pkg
  mkdir -p "$out"
  wasm-bindgen target/wasm32-unknown-unknown/wasm-release/frontend.wasm \
    --target web --no-typescript --out-dir "$out" --out-name herald
  frontend/node_modules/.bin/wasm-opt -Oz \
    --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "$out/herald_bg.wasm" -o "$out/herald_bg.wasm"
  printf 'wasm bundle: %s bytes\n' "$(stat -c %s "$out/herald_bg.wasm")" >&2
}

build_release() {
  build_site
  step "building the release binary"
  cargo build --release -p server
}
