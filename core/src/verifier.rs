//! The [`Verifier`] trait: how likely is a trajectory to have resolved its task?

use crate::types::{Task, Trajectory};

/// Why a verifier could not score a trajectory.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VerifierError {
    /// The trajectory lacks what this verifier needs (e.g. a test result).
    #[error("cannot score trajectory: {0}")]
    Unscorable(String),
    /// The verifier failed for a reason of its own.
    #[error("{0}")]
    Plugin(String),
}

/// Scores a finished trajectory with a probability in `[0, 1]`.
///
/// ```
/// use entropo_core::types::{Task, Trajectory};
/// use entropo_core::verifier::{Verifier, VerifierError};
///
/// /// Trusts trajectories that produced a patch.
/// struct HasPatch;
/// impl Verifier for HasPatch {
///     fn name(&self) -> &str { "has-patch" }
///     fn score(&self, _task: &Task, t: &Trajectory) -> Result<f64, VerifierError> {
///         Ok(if t.output_patch.trim().is_empty() { 0.0 } else { 1.0 })
///     }
/// }
/// let task: Task = serde_json::from_str(r#"{"instance_id":"t","repo":"r","problem_statement":"p","fail_to_pass":[],"pass_to_pass":[]}"#).unwrap();
/// assert_eq!(HasPatch.score(&task, &Trajectory::default()).unwrap(), 0.0);
/// ```
pub trait Verifier: Send + Sync {
    /// The plugin name this verifier was registered under.
    fn name(&self) -> &str;
    /// p(resolved) for `trajectory` on `task`.
    fn score(&self, task: &Task, trajectory: &Trajectory) -> Result<f64, VerifierError>;
}
