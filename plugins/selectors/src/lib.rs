//! Built-in selector plugins: `hybrid`, `random`, `first`, `most-steps`,
//! `fewest-steps`, `verifier-max`, `patch-consensus`.
//!
//! A selector picks one rollout out of a task's N (the paper uses N = 16).
//! Every selector here:
//!
//! - answers an empty pool with `rollout_id: None` and a non-empty pool with
//!   a member of it;
//! - rejects a pool mixing task ids or repeating a rollout id with
//!   [`SelectorError::InvalidPool`](entropo_core::selector::SelectorError::InvalidPool);
//! - ignores the order of the rows: candidates are sorted by `rollout_id`, and
//!   **every tie is broken in favour of the lowest `rollout_id`**.
//!
//! [`select_all`] applies a selector to a whole rollout index and
//! [`resolved_rate`] scores the choices.
//!
//! ```
//! use entropo_core::{Registry, Selector};
//! use entropo_core::types::{ExitReason, RolloutRecord};
//! let mut registry = Registry::new();
//! entropo_selectors::register(&mut registry).unwrap();
//! let params = serde_json::from_str(r#"{"final": "fewest-steps", "use_verifier": false}"#).unwrap();
//! let hybrid = registry.create::<dyn Selector>("hybrid", &params).unwrap();
//! let row = |id, steps| RolloutRecord { task_id: "t".into(), rollout_id: id,
//!     exit_reason: ExitReason::Agent, steps, tokens: 0, reward: None,
//!     regression_passed: None, patch_hash: None, verifier_prob: None,
//!     trajectory: "t.json".into() };
//! assert_eq!(hybrid.select(&[row(0, 40), row(1, 12)]).unwrap().rollout_id, Some(1));
//! ```

mod batch;
mod consensus;
mod first;
mod hybrid;
mod params;
mod random;
mod stages;
mod steps;
mod verifier_max;

use entropo_core::registry::{RegistryError, builtin};
use entropo_core::{Registry, Selector};

pub use batch::{resolved_rate, select_all};
pub use consensus::PatchConsensus;
pub use first::First;
pub use hybrid::{Hybrid, HybridParams};
pub use params::NoParams;
pub use random::{Random, RandomParams};
pub use steps::{FewestSteps, MostSteps, StepRule};
pub use verifier_max::VerifierMax;

/// The names of the built-in selectors, in registration order.
///
/// ```
/// assert_eq!(entropo_selectors::NAMES.len(), 7);
/// ```
pub const NAMES: [&str; 7] = [
    Hybrid::NAME,
    Random::NAME,
    First::NAME,
    MostSteps::NAME,
    FewestSteps::NAME,
    VerifierMax::NAME,
    PatchConsensus::NAME,
];

/// Registers the seven built-in selectors in `registry`, all or none: an
/// error if one of their names is already taken.
///
/// ```
/// use entropo_core::registry::{PluginKind, Registry};
/// let mut registry = Registry::new();
/// entropo_selectors::register(&mut registry).unwrap();
/// assert!(registry.info(PluginKind::Selector, "patch-consensus").is_some());
/// assert!(entropo_selectors::register(&mut registry).is_err(), "names already taken");
/// ```
pub fn register(registry: &mut Registry) -> Result<(), RegistryError> {
    registry.register_all::<dyn Selector>([
        builtin::<dyn Selector, HybridParams>(Hybrid::NAME, Hybrid::DESCRIPTION, |p| Ok(Box::new(Hybrid::new(p)?))),
        builtin::<dyn Selector, RandomParams>(Random::NAME, Random::DESCRIPTION, |p| Ok(Box::new(Random::new(p)?))),
        builtin::<dyn Selector, NoParams>(First::NAME, First::DESCRIPTION, |p| Ok(Box::new(First::new(p)?))),
        builtin::<dyn Selector, NoParams>(MostSteps::NAME, MostSteps::DESCRIPTION, |p| Ok(Box::new(MostSteps::new(p)?))),
        builtin::<dyn Selector, NoParams>(FewestSteps::NAME, FewestSteps::DESCRIPTION, |p| Ok(Box::new(FewestSteps::new(p)?))),
        builtin::<dyn Selector, NoParams>(VerifierMax::NAME, VerifierMax::DESCRIPTION, |p| Ok(Box::new(VerifierMax::new(p)?))),
        builtin::<dyn Selector, NoParams>(PatchConsensus::NAME, PatchConsensus::DESCRIPTION, |p| Ok(Box::new(PatchConsensus::new(p)?))),
    ])
}
