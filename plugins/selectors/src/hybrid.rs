//! `hybrid`: the paper's test-time-scaling selector (appendix D.4).

use entropo_core::registry::PluginError;
use entropo_core::selector::{Selection, Selector, SelectorError};
use entropo_core::types::RolloutRecord;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::params::probability;
use crate::stages::{self, filter, verifier_prob};
use crate::steps::StepRule;

/// Parameters of [`Hybrid`]; every stage can be switched off for ablations.
/// The defaults are the paper's SWE-bench Verified set-up.
///
/// ```
/// use entropo_core::registry::{Params, parse_params};
/// use entropo_selectors::{HybridParams, StepRule};
/// let p: Params = serde_json::from_str(r#"{"final": "fewest-steps", "use_verifier": false}"#).unwrap();
/// let p = parse_params::<HybridParams>(&p).unwrap();
/// assert_eq!(p.final_rule, StepRule::FewestSteps);
/// assert!(p.drop_truncated && p.drop_regression && !p.use_verifier);
/// assert_eq!(p.threshold, 0.01);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct HybridParams {
    /// Drop every rollout whose `exit_reason` is not `agent` (step, token or
    /// time limit, LLM error).
    pub drop_truncated: bool,
    /// Drop rollouts whose regression (PASS_TO_PASS) tests failed
    /// (`regression_passed == Some(false)`); rollouts not run (`None`) are kept.
    pub drop_regression: bool,
    /// Drop rollouts whose `verifier_prob` is below `threshold`; every
    /// rollout reaching this stage must have been scored.
    pub use_verifier: bool,
    /// The verifier cut-off, within `[0, 1]` (paper: 0.01); a rollout with
    /// exactly this probability is kept.
    pub threshold: f64,
    /// How to pick among the survivors: `most-steps` (Verified) or
    /// `fewest-steps` (Lite).
    #[serde(rename = "final")]
    pub final_rule: StepRule,
}

impl Default for HybridParams {
    fn default() -> Self {
        HybridParams {
            drop_truncated: true,
            drop_regression: true,
            use_verifier: true,
            threshold: 0.01,
            final_rule: StepRule::MostSteps,
        }
    }
}

/// `hybrid`: the paper's selector. Stages, in order, each one skipped when
/// its switch is off (a skipped stage has no [`StageReport`](entropo_core::selector::StageReport)):
///
/// 1. `drop-truncated`: drop rollouts whose `exit_reason` is not `agent`;
/// 2. `drop-regression`: drop rollouts with `regression_passed == Some(false)`
///    (`None`, tests not run, is kept: no evidence against the rollout);
/// 3. `verifier-threshold`: drop rollouts with `verifier_prob < threshold`; a
///    rollout reaching this stage without a probability is
///    [`SelectorError::MissingField`] (rollouts dropped earlier need none);
/// 4. final: most (or fewest) steps; **ties go to the lowest `rollout_id`**.
///
/// A stage that would drop every rollout keeps its input instead
/// (`fell_back: true`), so a non-empty pool always yields a choice.
///
/// ```
/// use entropo_core::Selector;
/// use entropo_core::types::{ExitReason, RolloutRecord};
/// use entropo_selectors::Hybrid;
/// let row = |id, exit, steps, p| RolloutRecord { task_id: "t".into(), rollout_id: id,
///     exit_reason: exit, steps, tokens: 0, reward: None, regression_passed: None,
///     patch_hash: None, verifier_prob: Some(p), trajectory: "t.json".into() };
/// let pool = [
///     row(0, ExitReason::MaxStepLimit, 200, 0.9), // truncated
///     row(1, ExitReason::Agent, 50, 0.001),       // below the threshold
///     row(2, ExitReason::Agent, 30, 0.4),
///     row(3, ExitReason::Agent, 20, 0.7),
/// ];
/// let pick = Hybrid::default().select(&pool).unwrap();
/// assert_eq!(pick.rollout_id, Some(2));
/// assert_eq!(pick.reason,
///     "1 truncated dropped; 0 regression failures dropped; 1 below verifier threshold 0.01 dropped; most steps (30) among 2");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Hybrid {
    params: HybridParams,
}

impl Hybrid {
    /// The registered name.
    pub const NAME: &'static str = "hybrid";
    /// One line for `entropo plugins list`.
    pub const DESCRIPTION: &'static str = "The paper's selector: drop truncated, regression failures, verifier p < threshold; then most/fewest steps";

    /// The selector with `params`; `threshold` must be within `[0, 1]`.
    ///
    /// ```
    /// use entropo_selectors::{Hybrid, HybridParams};
    /// let err = Hybrid::new(HybridParams { threshold: 2.0, ..Default::default() }).unwrap_err();
    /// assert!(err.to_string().starts_with("params.threshold"));
    /// ```
    pub fn new(params: HybridParams) -> Result<Self, PluginError> {
        probability("threshold", params.threshold)?;
        Ok(Hybrid { params })
    }

    /// The parameters it was created with.
    ///
    /// ```
    /// assert!(entropo_selectors::Hybrid::default().params().use_verifier);
    /// ```
    pub fn params(&self) -> &HybridParams {
        &self.params
    }
}

impl Selector for Hybrid {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn select(&self, pool: &[RolloutRecord]) -> Result<Selection, SelectorError> {
        let p = &self.params;
        stages::select_with(pool, |mut current| {
            let mut clauses = Vec::new();
            let mut reports = Vec::new();
            if p.drop_truncated {
                let f = filter("drop-truncated", current, |r| {
                    Ok(!r.exit_reason.is_truncated())
                })?;
                clauses.push(f.summary("truncated", "truncated", "truncation"));
                reports.push(f.report);
                current = f.kept;
            }
            if p.drop_regression {
                let f = filter("drop-regression", current, |r| {
                    Ok(r.regression_passed != Some(false))
                })?;
                clauses.push(f.summary("regression failure", "regression failures", "regression"));
                reports.push(f.report);
                current = f.kept;
            }
            if p.use_verifier {
                let below = format!("below verifier threshold {}", p.threshold);
                let f = filter("verifier-threshold", current, |r| {
                    Ok(verifier_prob(r)? >= p.threshold)
                })?;
                clauses.push(f.summary(&below, &below, "verifier"));
                reports.push(f.report);
                current = f.kept;
            }
            let (chosen, clause) = p.final_rule.pick(&current);
            clauses.push(clause);
            Ok(Selection {
                rollout_id: chosen.map(|r| r.rollout_id),
                reason: clauses.join("; "),
                stages: reports,
            })
        })
    }
}
