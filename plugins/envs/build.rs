//! Builds the tool modules in `tools-wasm/` for `wasm32-wasip1` and puts
//! `file_editor.wasm` and `search.wasm` in `OUT_DIR`, where `src/wasm.rs`
//! embeds them. So a plain `cargo build` gives a working binary.
//!
//! - `ENTROPO_TOOLS_WASM_DIR=DIR`: take prebuilt modules from DIR instead.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const MODULES: [&str; 2] = ["file_editor", "search"];
const TARGET: &str = "wasm32-wasip1";

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    let tools = manifest.join("../../tools-wasm");
    for p in ["src", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", tools.join(p).display());
    }
    println!("cargo:rerun-if-env-changed=ENTROPO_TOOLS_WASM_DIR");

    let built = match env::var_os("ENTROPO_TOOLS_WASM_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => build_modules(&tools, &out),
    };
    for m in MODULES {
        let src = built.join(format!("{m}.wasm"));
        let dst = out.join(format!("{m}.wasm"));
        if let Err(e) = std::fs::copy(&src, &dst) {
            fail(&format!("cannot copy {} to {}: {e}", src.display(), dst.display()));
        }
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("error: entropo-envs build script: {msg}");
    panic!("entropo-envs: {msg}");
}

/// Runs `cargo build --release --target wasm32-wasip1` on tools-wasm into
/// `OUT_DIR/tools-target`; returns the folder holding the `.wasm` files.
fn build_modules(tools: &Path, out: &Path) -> PathBuf {
    let target_dir = out.join("tools-target");
    check_target_installed();
    let mut cmd = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.arg("build")
        .args(["--release", "--target", TARGET, "--manifest-path"])
        .arg(tools.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target_dir);
    // Settings meant for the host crate must not leak into the WASM build.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_PROFILE_RELEASE_DEBUG",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd.status().unwrap_or_else(|e| fail(&format!("cannot run cargo for tools-wasm: {e}")));
    if !status.success() {
        fail(&format!(
            "building tools-wasm for {TARGET} failed ({status}); see the output above. \
             Run scripts/setup.sh first if the target is missing."
        ));
    }
    target_dir.join(TARGET).join("release")
}

/// Fails with a clear message when rustup's wasm32-wasip1 standard library
/// is absent.
fn check_target_installed() {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let libdir = Command::new(&rustc)
        .args(["--print", "target-libdir", "--target", TARGET])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let has_std = libdir.as_deref().and_then(|d| std::fs::read_dir(d).ok()).is_some_and(|rd| {
        rd.filter_map(Result::ok).any(|e| e.file_name().to_string_lossy().starts_with("libstd-"))
    });
    if !has_std {
        fail(&format!(
            "the Rust target {TARGET} is not installed (needed to build the file_editor and search \
             tool modules). Run `scripts/setup.sh` (or `rustup target add {TARGET}`), or set \
             ENTROPO_TOOLS_WASM_DIR to a folder holding prebuilt file_editor.wasm and search.wasm."
        ));
    }
}
