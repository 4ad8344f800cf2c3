//! `verifier-max`: the rollout the verifier trusts most.

use entropo_core::registry::PluginError;
use entropo_core::selector::{Selection, Selector, SelectorError};
use entropo_core::types::RolloutRecord;

use crate::params::NoParams;
use crate::stages::{self, best, tie_note, tied, verifier_prob};

/// `verifier-max`: the highest `verifier_prob`; ties → lowest `rollout_id`.
/// Every rollout must have been scored: a missing (or NaN) probability is
/// [`SelectorError::MissingField`], reported for the lowest such rollout id.
///
/// ```
/// use entropo_core::Selector;
/// use entropo_core::types::{ExitReason, RolloutRecord};
/// use entropo_selectors::VerifierMax;
/// let row = |id, p| RolloutRecord { task_id: "t".into(), rollout_id: id,
///     exit_reason: ExitReason::Agent, steps: 1, tokens: 0, reward: None,
///     regression_passed: None, patch_hash: None, verifier_prob: p,
///     trajectory: "t.json".into() };
/// let pick = VerifierMax.select(&[row(0, Some(0.2)), row(1, Some(0.9))]).unwrap();
/// assert_eq!(pick.rollout_id, Some(1));
/// assert!(VerifierMax.select(&[row(0, Some(0.2)), row(1, None)]).is_err());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VerifierMax;

impl VerifierMax {
    /// The registered name.
    pub const NAME: &'static str = "verifier-max";
    /// One line for `entropo plugins list`.
    pub const DESCRIPTION: &'static str =
        "The rollout with the highest verifier probability (ties: lowest rollout id)";

    /// The selector (it takes no parameters).
    pub fn new(_params: NoParams) -> Result<Self, PluginError> {
        Ok(VerifierMax)
    }
}

impl Selector for VerifierMax {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn select(&self, pool: &[RolloutRecord]) -> Result<Selection, SelectorError> {
        stages::select_with(pool, |pool| {
            for r in &pool {
                verifier_prob(r)?;
            }
            // Both probabilities were checked above: neither is missing nor NaN.
            let cmp = |a: &RolloutRecord, b: &RolloutRecord| {
                a.verifier_prob
                    .unwrap_or(0.0)
                    .total_cmp(&b.verifier_prob.unwrap_or(0.0))
            };
            let winner = best(&pool, cmp).expect("select_with passes a non-empty pool");
            let p = winner.verifier_prob.unwrap_or(0.0);
            let note = tie_note(tied(&pool, winner, cmp));
            Ok(Selection {
                rollout_id: Some(winner.rollout_id),
                reason: format!("highest verifier p ({p}) among {}{note}", pool.len()),
                stages: vec![],
            })
        })
    }
}
