//! `most-steps` and `fewest-steps`, and the [`StepRule`] the `hybrid`
//! selector ends with.

use std::cmp::Ordering;

use entropo_core::registry::PluginError;
use entropo_core::selector::{Selection, Selector, SelectorError};
use entropo_core::types::RolloutRecord;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::params::NoParams;
use crate::stages::{self, best, tie_note, tied};

/// Pick by step count: the paper uses the most steps on SWE-bench Verified
/// and the fewest on Lite. Ties go to the lowest `rollout_id`.
///
/// ```
/// use entropo_selectors::StepRule;
/// let rule: StepRule = serde_json::from_str(r#""fewest-steps""#).unwrap();
/// assert_eq!(rule, StepRule::FewestSteps);
/// assert_eq!(StepRule::default(), StepRule::MostSteps);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StepRule {
    /// The rollout that took the most steps (SWE-bench Verified).
    #[default]
    MostSteps,
    /// The rollout that took the fewest steps (SWE-bench Lite).
    FewestSteps,
}

impl StepRule {
    /// `Greater` when `a` is preferred to `b` under the rule.
    fn cmp(self, a: &RolloutRecord, b: &RolloutRecord) -> Ordering {
        match self {
            StepRule::MostSteps => a.steps.cmp(&b.steps),
            StepRule::FewestSteps => b.steps.cmp(&a.steps),
        }
    }

    /// The rule's pick from a non-empty pool and the reason clause
    /// (`"most steps (41) among 11"`).
    pub(crate) fn pick<'a>(
        self,
        pool: &[&'a RolloutRecord],
    ) -> (Option<&'a RolloutRecord>, String) {
        let cmp = |a: &RolloutRecord, b: &RolloutRecord| self.cmp(a, b);
        let Some(winner) = best(pool, cmp) else {
            return (None, "empty pool".into());
        };
        let word = match self {
            StepRule::MostSteps => "most",
            StepRule::FewestSteps => "fewest",
        };
        let note = tie_note(tied(pool, winner, cmp));
        (
            Some(winner),
            format!("{word} steps ({}) among {}{note}", winner.steps, pool.len()),
        )
    }

    fn select(self, pool: &[RolloutRecord]) -> Result<Selection, SelectorError> {
        stages::select_with(pool, |pool| {
            let (chosen, reason) = self.pick(&pool);
            Ok(Selection {
                rollout_id: chosen.map(|r| r.rollout_id),
                reason,
                stages: vec![],
            })
        })
    }
}

/// `most-steps`: the rollout with the most steps; ties → lowest `rollout_id`.
///
/// ```
/// use entropo_core::Selector;
/// use entropo_core::types::{ExitReason, RolloutRecord};
/// use entropo_selectors::MostSteps;
/// let row = |id, steps| RolloutRecord { task_id: "t".into(), rollout_id: id,
///     exit_reason: ExitReason::Agent, steps, tokens: 0, reward: None,
///     regression_passed: None, patch_hash: None, verifier_prob: None,
///     trajectory: "t.json".into() };
/// let pick = MostSteps::default().select(&[row(0, 9), row(1, 30), row(2, 30)]).unwrap();
/// assert_eq!(pick.rollout_id, Some(1));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MostSteps;

impl MostSteps {
    /// The registered name.
    pub const NAME: &'static str = "most-steps";
    /// One line for `entropo plugins list`.
    pub const DESCRIPTION: &'static str =
        "The rollout with the most steps (ties: lowest rollout id)";

    /// The selector (it takes no parameters).
    pub fn new(_params: NoParams) -> Result<Self, PluginError> {
        Ok(MostSteps)
    }
}

impl Selector for MostSteps {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn select(&self, pool: &[RolloutRecord]) -> Result<Selection, SelectorError> {
        StepRule::MostSteps.select(pool)
    }
}

/// `fewest-steps`: the rollout with the fewest steps; ties → lowest `rollout_id`.
///
/// ```
/// use entropo_core::Selector;
/// use entropo_core::types::{ExitReason, RolloutRecord};
/// use entropo_selectors::FewestSteps;
/// let row = |id, steps| RolloutRecord { task_id: "t".into(), rollout_id: id,
///     exit_reason: ExitReason::Agent, steps, tokens: 0, reward: None,
///     regression_passed: None, patch_hash: None, verifier_prob: None,
///     trajectory: "t.json".into() };
/// let pick = FewestSteps::default().select(&[row(0, 9), row(1, 30), row(2, 4)]).unwrap();
/// assert_eq!(pick.rollout_id, Some(2));
/// assert_eq!(pick.reason, "fewest steps (4) among 3");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FewestSteps;

impl FewestSteps {
    /// The registered name.
    pub const NAME: &'static str = "fewest-steps";
    /// One line for `entropo plugins list`.
    pub const DESCRIPTION: &'static str =
        "The rollout with the fewest steps (ties: lowest rollout id)";

    /// The selector (it takes no parameters).
    pub fn new(_params: NoParams) -> Result<Self, PluginError> {
        Ok(FewestSteps)
    }
}

impl Selector for FewestSteps {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn select(&self, pool: &[RolloutRecord]) -> Result<Selection, SelectorError> {
        StepRule::FewestSteps.select(pool)
    }
}
