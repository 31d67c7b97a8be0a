#!/usr/bin/env bash
# The whole test suite: lints, every test, docs, and each feature alone.
# Starts the servers the tests need when they are not running (scripts/services.sh), and stops
# what it started. The SQLite tests need no server: SQLite is compiled in.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s  (at %ss)\n' "$*" "$SECONDS"; }

source scripts/services.sh
services=""  # the background start of the servers, below
stop_all() {
  # A start still under way is stopped first, so that it starts nothing after the cleanup.
  if [ -n "$services" ]; then kill "$services" 2>/dev/null || true; wait "$services" 2>/dev/null || true; fi
  stop_services
}
trap stop_all EXIT

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is required: install Rust from your distribution or rustup" >&2
  exit 1
fi

# flate2 links the system zlib (found with pkg-config): Python's zlib, so compressed Flask
# cookies come out byte for byte.

if ! dpkg -s zlib1g-dev >/dev/null 2>&1; then
  echo "installing zlib1g-dev from Debian"
  [ -n "${APT_UPDATED:-}" ] || { apt-get update -qq >/dev/null; APT_UPDATED=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zlib1g-dev pkg-config >/dev/null
fi

# One build of each configuration, from scratch on a new checkout: incremental compilation's
# caches only cost time here (about a fifth of each workspace crate's build).
export CARGO_INCREMENTAL=0

log "format"
cargo fmt --all -- --check

# The servers start (and install, on a new machine) while the code compiles; the tests wait for them.
services_log=$(mktemp)
(
  ensure_browser
  ensure_redis
  ensure_redis_cluster
  ensure_memcached
  ensure_postgres
  ensure_mariadb
  ensure_mongodb
  ensure_firestore
  ensure_tls_servers
) > "$services_log" 2>&1 &
services=$!

log "clippy (all targets, all features)"
cargo clippy --workspace --all-targets --all-features -- -D warnings

log "each feature alone"
# `cargo check` that fails on a warning too: a feature alone can leave code unused that the
# full build uses, and clippy above sees only the full build. Cargo replays
# the warnings of crates it does not rebuild, so a cached check still shows them.
check_without_warnings() {
  local output
  if ! output=$(cargo check -q "$@" 2>&1); then
    printf '%s\n' "$output"
    return 1
  fi
  if grep -q '^warning' <<<"$output"; then
    printf '%s\n' "$output"
    echo "cargo check $* warned" >&2
    return 1
  fi
}
for features in "" "axum" "actix" "codec-private" "flask" "metrics" "store-sqlite" "store-redis" "store-memcached" "store-postgres" "store-mysql" "store-mongodb" "store-firestore" "flask,store-redis" "flask,store-memcached" "flask,store-mongodb" "flask,store-firestore"; do
  echo "-- session-plus with no default features${features:+ + $features}"
  check_without_warnings -p session-plus --no-default-features ${features:+--features "$features"}
done
echo "-- flask-wire alone (a crate of its own, published apart)"
check_without_warnings -p flask-wire
echo "-- session-plus-login alone (over session-plus without its default features)"
check_without_warnings -p session-plus-login

log "docs"
RUSTDOCFLAGS="-D warnings" cargo doc -q --no-deps --workspace --all-features

log "servers (and the browser), started in the background since the format check"
if ! wait "$services"; then
  services=""
  cat "$services_log"
  echo "the servers did not all start" >&2
  exit 1
fi
services=""
cat "$services_log"
rm -f "$services_log"

log "tests"
cargo test --workspace --all-features

log "the Flask extension (pytest: real Flask 3, Flask-Login, Flask-WTF, the servers, flask-session-plus 0.6.2)"
bash session-plus-flask/tests/run.sh
