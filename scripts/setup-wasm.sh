#!/usr/bin/env bash
# Installs what entropo-envs needs to build and run its sandboxes. Idempotent.
#
#   - the wasm32-wasip1 Rust target (the file_editor / search tool modules in
#     tools-wasm/ are built for it by plugins/envs/build.rs);
#   - bubblewrap (`bwrap`), the process sandbox behind execute_bash.
#
# With rustup the target is one `rustup target add`. Without rustup, the Debian
# fallback (rustc-web + wasi-libc + lld, build-std) from WASM-NOTES is installed
# and a hint printed; build.rs then uses it when ENTROPO_WASM_DEBIAN=1.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m[setup-wasm]\033[0m %s\n' "$*"; }
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
apt_updated=0
apt_install() {
    if [ "$apt_updated" -eq 0 ]; then
        $SUDO apt-get update -qq
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

# --- wasm32-wasip1 ---------------------------------------------------------
if command -v rustup >/dev/null; then
    if rustup target list --installed | grep -qx wasm32-wasip1; then
        log "wasm32-wasip1 already installed"
    else
        log "rustup target add wasm32-wasip1"
        rustup target add wasm32-wasip1
    fi
else
    log "rustup missing: installing the Debian fallback (rustc-web, wasi-libc, lld-22)"
    apt_install rustc-web cargo-web rust-web-src wasi-libc lld-22
    log "build with ENTROPO_WASM_DEBIAN=1 so plugins/envs/build.rs uses /usr/bin/rustc with build-std"
fi

# --- bubblewrap -------------------------------------------------------------
if command -v bwrap >/dev/null; then
    log "bubblewrap already installed ($(bwrap --version))"
else
    log "installing bubblewrap"
    apt_install bubblewrap
fi
for tool in setpriv prlimit git python3; do
    command -v "$tool" >/dev/null || log "warning: $tool not found (needed by the local environment)"
done
log "done"
