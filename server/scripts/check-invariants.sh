#!/usr/bin/env bash
# Dependency rules from ARCHITECTURE.md that the compiler alone does not enforce.
set -euo pipefail
cd "$(dirname "$0")/../.."
fail=0
deps() { cargo tree -e normal --prefix none "$@" | awk '{ print $1 }' | sort -u; }

# The UI crate, even with ssr, never reaches storage, outbound HTTP or rate limiting.
bad=$(deps -p app --features ssr | grep -xE 'sled|reqwest|governor' || true)
if [ -n "$bad" ]; then echo "app (ssr) depends on: $bad"; fail=1; fi
# The wasm bundle never contains them either.
bad=$(deps -p frontend --target wasm32-unknown-unknown | grep -xE 'sled|reqwest|governor|tokio|axum' || true)
if [ -n "$bad" ]; then echo "frontend depends on: $bad"; fail=1; fi
# The domain stays pure: no UI framework, no async runtime, no I/O crates.
bad=$(deps -p domain | grep -xE 'leptos|tokio|sled|reqwest|axum|governor' || true)
if [ -n "$bad" ]; then echo "domain depends on: $bad"; fail=1; fi
# Only the storage module names sled.
bad=$(grep -rlE '\bsled::' server/src | grep -v '^server/src/storage' || true)
if [ -n "$bad" ]; then echo "sled used outside server/src/storage: $bad"; fail=1; fi
# The wire layer never reaches into campaigns (campaigns use it, not the other way round), so the
# two cannot import each other; shared rules such as the callback codec live in the domain.
bad=$(grep -rlE 'crate::campaigns' server/src/whatsapp || true)
if [ -n "$bad" ]; then echo "server/src/whatsapp imports campaigns: $bad"; fail=1; fi
# Every port method checks its caller first (server/src/ports.rs::allow), so no use case can be
# reached without a permission check.
for f in $(grep -rlE 'impl app::ports::[A-Za-z]+Port for' server/src); do
  missing=$(awk '
    /impl app::ports::[A-Za-z]+Port for/ { inside = 1 }
    inside && /^    async fn / { name = $3; sub(/\(.*/, "", name); waiting = 1; next }
    inside && waiting && /allow\(caller, Permission::/ { waiting = 0 }
    inside && waiting && /^    }$/ { print name; waiting = 0 }
  ' "$f")
  if [ -n "$missing" ]; then echo "$f: port methods without a caller check: $missing"; fail=1; fi
done
# Every Rust source file opens with a module doc saying what it is for.
for f in $(git ls-files '*.rs'); do
  first=$(awk '/^#!\[doc/ || !/^[[:space:]]*(#!\[|$)/ { print; exit }' "$f")
  case "$first" in "//!"* | "#![doc"*) ;; *) echo "$f: missing //! module doc"; fail=1 ;; esac
done
[ "$fail" -eq 0 ] && echo "invariants hold"
exit "$fail"
