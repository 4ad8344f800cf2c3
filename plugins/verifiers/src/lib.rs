//! Built-in verifier plugins that need no model: `oracle` and `constant`.
//!
//! A verifier scores a finished trajectory with p(resolved) in `[0, 1]`; the
//! `hybrid` and `verifier-max` selectors read it from a rollout's
//! `verifier_prob`. The paper's learned verifier (a fine-tuned YES/NO model)
//! lives elsewhere; these two give its upper bound (`oracle`) and a no-op
//! for ablations (`constant`).
//!
//! ```
//! use entropo_core::{Registry, Verifier};
//! use entropo_core::types::{Task, Trajectory};
//! let mut registry = Registry::new();
//! entropo_verifiers::register(&mut registry).unwrap();
//! let params = serde_json::from_str(r#"{"p": 0.9}"#).unwrap();
//! let v = registry.create::<dyn Verifier>("constant", &params).unwrap();
//! let task: Task = serde_json::from_str(r#"{"instance_id":"t","repo":"r",
//!     "problem_statement":"p","fail_to_pass":[],"pass_to_pass":[]}"#).unwrap();
//! assert_eq!(v.score(&task, &Trajectory::default()).unwrap(), 0.9);
//! ```

mod constant;
mod oracle;

use entropo_core::registry::{RegistryError, builtin};
use entropo_core::{Registry, Verifier};

pub use constant::{Constant, ConstantParams};
pub use oracle::{Oracle, OracleParams};

/// The names of the built-in verifiers, in registration order.
///
/// ```
/// assert_eq!(entropo_verifiers::NAMES, ["oracle", "constant"]);
/// ```
pub const NAMES: [&str; 2] = [Oracle::NAME, Constant::NAME];

/// Registers the two built-in verifiers in `registry`, all or none: an
/// error if one of their names is already taken.
///
/// ```
/// use entropo_core::registry::{PluginKind, Registry};
/// let mut registry = Registry::new();
/// entropo_verifiers::register(&mut registry).unwrap();
/// assert!(registry.info(PluginKind::Verifier, "oracle").is_some());
/// assert!(entropo_verifiers::register(&mut registry).is_err(), "names already taken");
/// ```
pub fn register(registry: &mut Registry) -> Result<(), RegistryError> {
    registry.register_all::<dyn Verifier>([
        builtin::<dyn Verifier, OracleParams>(Oracle::NAME, Oracle::DESCRIPTION, |p| Ok(Box::new(Oracle::new(p)?))),
        builtin::<dyn Verifier, ConstantParams>(Constant::NAME, Constant::DESCRIPTION, |p| Ok(Box::new(Constant::new(p)?))),
    ])
}
