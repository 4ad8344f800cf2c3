//! Building a plugin library from a host's tests.
//!
//! A host (or a plugin's own integration tests) that wants to load a plugin
//! crate as the shared library users get can ask cargo to build it and learn
//! where the library landed, wherever the target directory is.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Why a plugin library could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// cargo could not be started.
    #[error("cannot run cargo: {0}")]
    Spawn(#[from] std::io::Error),
    /// cargo failed; its diagnostics are included.
    #[error("cargo build -p {package} failed:\n{stderr}")]
    Failed {
        /// The package.
        package: String,
        /// What cargo printed.
        stderr: String,
    },
    /// cargo succeeded but reported no shared library for the package.
    #[error("cargo reported no shared library for {0} (is its crate-type cdylib?)")]
    NoLibrary(String),
}

/// Runs `cargo build -p PACKAGE` plus `args` (e.g. `["--release"]`) in
/// `workspace` and returns the path of the package's shared library (`.so`,
/// `.dylib` or `.dll`). Uses the cargo running the current tests (`$CARGO`)
/// when there is one.
///
/// The build goes to its own target folder (`plugin-build` inside the
/// workspace's target folder): a `cargo build -p` resolves dependency
/// features differently from the `cargo test` that runs the caller, and
/// sharing one folder would overwrite the caller's own artefacts (doc tests
/// built afterwards would then see two versions of the same crate).
///
/// ```no_run
/// let lib = entropo_sdk::build::cdylib("entropo-example-simpo", std::path::Path::new("."), &[]).unwrap();
/// let mut registry = entropo_sdk::Registry::new();
/// entropo_sdk::load_library(&lib, &mut registry).unwrap();
/// ```
pub fn cdylib(package: &str, workspace: &Path, args: &[&str]) -> Result<PathBuf, BuildError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"))
        .join("plugin-build");
    let output = Command::new(cargo)
        .env("CARGO_TARGET_DIR", &target)
        .args(["build", "-p", package, "--message-format=json-render-diagnostics"])
        .args(args)
        .current_dir(workspace)
        .output()?;
    if !output.status.success() {
        return Err(BuildError::Failed {
            package: package.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    let crate_name = package.replace('-', "_");
    let suffix = std::env::consts::DLL_SUFFIX;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|msg| msg["reason"] == "compiler-artifact" && msg["target"]["name"] == crate_name.as_str())
        .flat_map(|msg| msg["filenames"].as_array().cloned().unwrap_or_default())
        .filter_map(|f| f.as_str().map(PathBuf::from))
        .find(|f| f.to_string_lossy().ends_with(suffix))
        .ok_or_else(|| BuildError::NoLibrary(package.to_string()))
}
