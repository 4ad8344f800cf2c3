//! Built-in environments: R2E-Gym's tools as sandboxed WASM modules under
//! wasmtime ([`wasm`]), `execute_bash` in bubblewrap ([`bash`]), and the
//! `local` environment that puts them together on a task's workspace
//! folder ([`local`]).
//!
//! ```
//! use entropo_core::environment::Environment;
//! use entropo_core::registry::Registry;
//! let mut registry = Registry::new();
//! entropo_envs::register(&mut registry).unwrap();
//! // Creating the plugin is cheap: nothing starts until reset().
//! let env = registry.create::<dyn Environment>("local", &Default::default()).unwrap();
//! let names: Vec<String> = env.tools().into_iter().map(|t| t.name).collect();
//! assert_eq!(names, ["file_editor", "execute_bash", "search", "finish"]);
//! ```

#![warn(missing_docs)]

pub mod bash;
pub mod local;
pub mod wasm;

use entropo_core::environment::Environment;
use entropo_core::registry::{Registry, RegistryError, builtin};

pub use local::{LocalEnv, LocalParams};

/// Hidden folder in the workspace where `file_editor` keeps its undo
/// history (excluded from views, search and the patch).
pub const EDITOR_STATE_DIR: &str = ".entropo";

/// Registers `local` in `registry`; an error if the name is already taken.
///
/// ```
/// use entropo_core::registry::Registry;
/// let mut registry = Registry::new();
/// entropo_envs::register(&mut registry).unwrap();
/// assert!(entropo_envs::register(&mut registry).is_err());
/// ```
pub fn register(registry: &mut Registry) -> Result<(), RegistryError> {
    registry.register_all::<dyn Environment>([builtin::<dyn Environment, LocalParams>(
        "local",
        "A task's workspace folder in a temporary copy: R2E tools as WASM modules, bash in bubblewrap, unittest judging",
        |params| Ok(Box::new(LocalEnv::new(params)?)),
    )])
}
