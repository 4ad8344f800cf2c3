//! The `entropo` command line: wiring from configs and flags to the
//! registry and the library crates. Domain logic lives in `entropo-core` and
//! the plugin crates; this crate only connects them.

pub mod pipeline;
pub mod serve;

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

/// Parses a plugin given as `name[,key=value…]` (values as in TOML).
///
/// ```
/// let (name, params) = entropo::plugin_spec("hybrid,final=fewest-steps,threshold=0.05").unwrap();
/// assert_eq!(name, "hybrid");
/// assert_eq!(params["final"], "fewest-steps");
/// assert_eq!(params["threshold"], 0.05);
/// assert!(entropo::plugin_spec(",x=1").is_err());
/// ```
pub fn plugin_spec(spec: &str) -> anyhow::Result<(String, entropo_core::registry::Params)> {
    let mut parts = spec.split(',');
    let name = parts.next().unwrap_or_default().trim().to_string();
    anyhow::ensure!(!name.is_empty(), "{spec:?}: expected NAME[,key=value…]");
    let mut params = entropo_core::registry::Params::new();
    for part in parts {
        let (key, value) = entropo_core::config::parse_assignment(part)?;
        params.insert(key, serde_json::to_value(value)?);
    }
    Ok((name, params))
}
