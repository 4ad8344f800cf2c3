//! `constant`: the same probability for every trajectory, for ablations.

use entropo_core::registry::PluginError;
use entropo_core::types::{Task, Trajectory};
use entropo_core::verifier::{Verifier, VerifierError};
use schemars::JsonSchema;
use serde::Deserialize;

/// Parameters of [`Constant`].
///
/// ```
/// use entropo_core::registry::{Params, parse_params};
/// use entropo_verifiers::ConstantParams;
/// assert_eq!(parse_params::<ConstantParams>(&Params::new()).unwrap().p, 0.5);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ConstantParams {
    /// The probability given to every trajectory, within `[0, 1]`.
    pub p: f64,
}

impl Default for ConstantParams {
    fn default() -> Self {
        ConstantParams { p: 0.5 }
    }
}

/// `constant`: scores every trajectory `p`. With `p` at or above a
/// selector's threshold the verifier stage keeps everything; below it, the
/// stage drops everything and falls back: either way the stage has no
/// effect, which is what an ablation needs.
///
/// ```
/// use entropo_core::types::{Task, Trajectory};
/// use entropo_core::verifier::Verifier;
/// use entropo_verifiers::{Constant, ConstantParams};
/// let task: Task = serde_json::from_str(r#"{"instance_id":"t","repo":"r",
///     "problem_statement":"p","fail_to_pass":[],"pass_to_pass":[]}"#).unwrap();
/// let v = Constant::new(ConstantParams { p: 0.25 }).unwrap();
/// assert_eq!(v.score(&task, &Trajectory::default()).unwrap(), 0.25);
/// let err = Constant::new(ConstantParams { p: 1.5 }).unwrap_err();
/// assert!(err.to_string().starts_with("params.p:"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Constant {
    params: ConstantParams,
}

impl Constant {
    /// The registered name.
    pub const NAME: &'static str = "constant";
    /// One line for `entropo plugins list`.
    pub const DESCRIPTION: &'static str =
        "p = a fixed value for every trajectory (default 0.5): for ablations";

    /// The verifier with `params`; `p` must be within `[0, 1]`
    /// ([`PluginError::InvalidParam`] naming `p` otherwise).
    pub fn new(params: ConstantParams) -> Result<Self, PluginError> {
        if !(0.0..=1.0).contains(&params.p) {
            return Err(PluginError::InvalidParam {
                param: "p".into(),
                message: format!("must be within [0, 1], got {}", params.p),
            });
        }
        Ok(Constant { params })
    }

    /// The parameters it was created with.
    ///
    /// ```
    /// let v = entropo_verifiers::Constant::new(Default::default()).unwrap();
    /// assert_eq!(v.params().p, 0.5);
    /// ```
    pub fn params(&self) -> &ConstantParams {
        &self.params
    }
}

impl Verifier for Constant {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn score(&self, _task: &Task, _trajectory: &Trajectory) -> Result<f64, VerifierError> {
        Ok(self.params.p)
    }
}
