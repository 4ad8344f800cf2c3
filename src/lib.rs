//! The `entropo` command line: wiring from configs and flags to the
//! registry and the library crates. Domain logic lives in `entropo-core` and
//! the plugin crates; this crate only connects them.

use std::path::PathBuf;

use entropo_core::Registry;
use entropo_core::registry::{PluginInfo, RegistryError};

/// A registry holding every built-in plugin.
///
/// ```
/// let reg = entropo::builtin_registry().unwrap();
/// assert!(reg.infos().any(|i| i.name == "entropo-kto"));
/// ```
pub fn builtin_registry() -> Result<Registry, RegistryError> {
    let mut registry = Registry::new();
    entropo_losses::register(&mut registry)?;
    entropo_selectors::register(&mut registry)?;
    entropo_verifiers::register(&mut registry)?;
    entropo_envs::register(&mut registry)?;
    Ok(registry)
}

/// Loads dynamic plugins into `registry`: each path is a plugin library or a
/// folder of them. Returns what was loaded.
pub fn load_plugins(
    registry: &mut Registry,
    paths: &[PathBuf],
) -> Result<Vec<PluginInfo>, entropo_sdk::loader::LoadError> {
    let mut loaded = Vec::new();
    for path in paths {
        if path.is_dir() {
            loaded.extend(entropo_sdk::loader::load_dir(path, registry)?);
        } else {
            loaded.extend(entropo_sdk::loader::load_library(path, registry)?);
        }
    }
    Ok(loaded)
}
