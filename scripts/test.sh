#!/usr/bin/env bash
# Runs every test of entropo: unit, integration and doc tests of all crates.
# Sets up what the tests need first (idempotent), so a fresh clone passes.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo test --workspace --locked "$@"
