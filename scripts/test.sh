#!/usr/bin/env bash
# Runs every test of entropo: unit, integration and doc tests of all crates,
# and the native tests of the WASM tool modules. Sets up what the tests need
# first (idempotent), so a fresh clone passes. The `docker` environment's
# tests use the engine DOCKER_HOST names, else the private one of
# scripts/docker.sh, which setup starts if needed (`scripts/docker.sh stop`
# stops it). The CUDA backend is built too (it needs no GPU to compile), so
# that path never rots.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
DOCKER_HOST=${DOCKER_HOST:-$(scripts/docker.sh start)}
export DOCKER_HOST
(cd tools-wasm && cargo test --locked)
cargo test --workspace --locked "$@"
cargo build -p entropo-burn --features cuda --locked
