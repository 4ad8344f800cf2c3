//! `oracle`: the trajectory's own test result, for upper bounds.

use entropo_core::registry::PluginError;
use entropo_core::types::{Task, Trajectory};
use entropo_core::verifier::{Verifier, VerifierError};
use schemars::JsonSchema;
use serde::Deserialize;

/// Parameters of [`Oracle`]: none; an empty table (any key is an error).
///
/// ```
/// use entropo_core::registry::{Params, parse_params};
/// use entropo_verifiers::OracleParams;
/// assert!(parse_params::<OracleParams>(&Params::new()).is_ok());
/// let bad: Params = serde_json::from_str(r#"{"p": 1.0}"#).unwrap();
/// assert!(parse_params::<OracleParams>(&bad).unwrap_err().to_string().starts_with("params.p"));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct OracleParams {}

/// `oracle`: p = the trajectory's `reward` clamped to `[0, 1]` (1.0 when
/// its tests pass, 0.0 otherwise). It reads the answer, so it only gives an
/// upper bound on what a real verifier can do. A trajectory not judged
/// (`reward: None`, or NaN) is [`VerifierError::Unscorable`].
///
/// ```
/// use entropo_core::types::{Task, Trajectory};
/// use entropo_core::verifier::Verifier;
/// use entropo_verifiers::Oracle;
/// let task: Task = serde_json::from_str(r#"{"instance_id":"t","repo":"r",
///     "problem_statement":"p","fail_to_pass":[],"pass_to_pass":[]}"#).unwrap();
/// let judged = Trajectory { reward: Some(1.0), ..Default::default() };
/// assert_eq!(Oracle.score(&task, &judged).unwrap(), 1.0);
/// assert!(Oracle.score(&task, &Trajectory::default()).is_err());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Oracle;

impl Oracle {
    /// The registered name.
    pub const NAME: &'static str = "oracle";
    /// One line for `entropo plugins list`.
    pub const DESCRIPTION: &'static str =
        "p = the trajectory's test reward (1 or 0): an upper bound, not a real verifier";

    /// The verifier (it takes no parameters).
    pub fn new(_params: OracleParams) -> Result<Self, PluginError> {
        Ok(Oracle)
    }
}

impl Verifier for Oracle {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn score(&self, _task: &Task, trajectory: &Trajectory) -> Result<f64, VerifierError> {
        match trajectory.reward {
            None => Err(VerifierError::Unscorable(
                "the trajectory has no reward (tests not run)".into(),
            )),
            Some(r) if r.is_nan() => Err(VerifierError::Unscorable(
                "the trajectory's reward is NaN".into(),
            )),
            Some(r) => Ok(r.clamp(0.0, 1.0)),
        }
    }
}
