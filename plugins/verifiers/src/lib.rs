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
//! entropo_verifiers::register(&mut registry);
//! let params = serde_json::from_str(r#"{"p": 0.9}"#).unwrap();
//! let v = registry.create::<dyn Verifier>("constant", &params).unwrap();
//! let task: Task = serde_json::from_str(r#"{"instance_id":"t","repo":"r",
//!     "problem_statement":"p","fail_to_pass":[],"pass_to_pass":[]}"#).unwrap();
//! assert_eq!(v.score(&task, &Trajectory::default()).unwrap(), 0.9);
//! ```

mod constant;
mod oracle;

use entropo_core::registry::{PluginKind, RegistryError, builtin};
use entropo_core::{Registry, Verifier};

pub use constant::{Constant, ConstantParams};
pub use oracle::{Oracle, OracleParams};

/// The names of the built-in verifiers, in registration order.
///
/// ```
/// assert_eq!(entropo_verifiers::NAMES, ["oracle", "constant"]);
/// ```
pub const NAMES: [&str; 2] = [Oracle::NAME, Constant::NAME];

/// Registers the built-in verifiers in `registry`.
///
/// # Panics
///
/// If a verifier of one of these names is already registered (a programming
/// error: built-ins are registered once, into a fresh registry). Use
/// [`try_register`] to get the error instead.
///
/// ```
/// use entropo_core::registry::{PluginKind, Registry};
/// let mut registry = Registry::new();
/// entropo_verifiers::register(&mut registry);
/// assert!(registry.info(PluginKind::Verifier, "oracle").is_some());
/// ```
pub fn register(registry: &mut Registry) {
    if let Err(e) = try_register(registry) {
        panic!("registering the built-in verifiers: {e}");
    }
}

/// Registers the built-in verifiers in `registry`, or none of them if one of
/// their names is already taken.
///
/// ```
/// use entropo_core::registry::Registry;
/// let mut registry = Registry::new();
/// entropo_verifiers::try_register(&mut registry).unwrap();
/// assert!(entropo_verifiers::try_register(&mut registry).is_err());
/// ```
pub fn try_register(registry: &mut Registry) -> Result<(), RegistryError> {
    if let Some(taken) = NAMES
        .iter()
        .find_map(|n| registry.info(PluginKind::Verifier, n))
    {
        return Err(RegistryError::Duplicate {
            kind: PluginKind::Verifier,
            name: taken.name.clone(),
            existing: taken.origin.clone(),
        });
    }
    let (info, factory) =
        builtin::<dyn Verifier, OracleParams>(Oracle::NAME, Oracle::DESCRIPTION, |p| {
            Ok(Box::new(Oracle::new(p)?))
        });
    registry.register(info, factory)?;
    let (info, factory) =
        builtin::<dyn Verifier, ConstantParams>(Constant::NAME, Constant::DESCRIPTION, |p| {
            Ok(Box::new(Constant::new(p)?))
        });
    registry.register(info, factory)?;
    Ok(())
}
