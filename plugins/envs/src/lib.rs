//! Built-in environments: R2E-Gym's tools as sandboxed WASM modules under
//! wasmtime ([`wasm`]), `execute_bash` in bubblewrap ([`bash`]), the
//! `local` environment that puts them together on a task's workspace
//! folder ([`local`]), and the `docker` environment that runs bash and the
//! tests in a container of the task's image instead ([`docker`]).
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
pub mod docker;
pub mod latency;
pub mod local;
pub mod wasm;

use entropo_core::environment::Environment;
use entropo_core::registry::{Registry, RegistryError, builtin};

pub use docker::{DockerEnv, DockerParams};
pub use local::{LocalEnv, LocalParams};

/// Hidden folder in the workspace where `file_editor` keeps its undo
/// history (excluded from views, search and the patch).
pub const EDITOR_STATE_DIR: &str = ".entropo";

/// Registers `local` and `docker` in `registry`; an error if a name is
/// already taken.
///
/// ```
/// use entropo_core::registry::Registry;
/// let mut registry = Registry::new();
/// entropo_envs::register(&mut registry).unwrap();
/// assert!(entropo_envs::register(&mut registry).is_err());
/// ```
pub fn register(registry: &mut Registry) -> Result<(), RegistryError> {
    registry.register_all::<dyn Environment>([
        builtin::<dyn Environment, LocalParams>(
            "local",
            "A task's workspace folder in a temporary copy: R2E tools as WASM modules, bash in bubblewrap, unittest judging",
            |params| Ok(Box::new(LocalEnv::new(params)?)),
        ),
        builtin::<dyn Environment, DockerParams>(
            "docker",
            "The local environment's workspace and WASM tools, with bash and the tests in a locked-down container of the task's image (Docker Engine API)",
            |params| Ok(Box::new(DockerEnv::new(params)?)),
        ),
    ])
}
