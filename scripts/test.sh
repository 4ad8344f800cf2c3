#!/usr/bin/env bash
# Runs every test of entropo: unit, integration and doc tests of all crates,
# and the native tests of the WASM tool modules. Sets up what the tests need
# first (idempotent), so a fresh clone passes.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
(cd tools-wasm && cargo test --locked)
cargo test --workspace --locked "$@"
