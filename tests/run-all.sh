#!/usr/bin/env bash
# Every test of Sightline, in order of speed; exits non-zero on the first failure.
# `make test` runs this after installing tools and building the WASM bundle.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/pg.sh

pg_start
trap pg_stop EXIT

started=$(date +%s)
echo "== Rust: unit tests, API integration (each test its own database), CLI, embedded PostgreSQL"
# One invocation for both crates, so `app` is built once, with the server's features.
cargo test -p server -p app --no-fail-fast

echo "== Browser: headless Chromium against a running server"
# The integration tests had cargo build target/debug/sightline; a separate
# `cargo build -p server` would build the server a second time, with other features.
test -x target/debug/sightline
(cd tests/browser && SIGHTLINE_BIN="$PWD/../../target/debug/sightline" \
  SIGHTLINE_SITE_ROOT="$PWD/../../target/site" node --test --test-concurrency=1)

echo "== API: schemathesis against the OpenAPI document"
# The same target/debug/sightline as the browser step; reports in tests/schemathesis/artifacts.
SIGHTLINE_BIN="$PWD/target/debug/sightline" tests/schemathesis/run.sh

echo "all tests passed in $(( $(date +%s) - started )) s"
