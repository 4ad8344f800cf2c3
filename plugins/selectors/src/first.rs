//! `first`: the rollout with the lowest id (a no-selection baseline, pass@1).

use entropo_core::registry::PluginError;
use entropo_core::selector::{Selection, Selector, SelectorError};
use entropo_core::types::RolloutRecord;

use crate::params::NoParams;
use crate::stages;

/// `first`: the rollout with the lowest `rollout_id`, whatever the row order.
///
/// ```
/// use entropo_core::Selector;
/// use entropo_core::types::{ExitReason, RolloutRecord};
/// use entropo_selectors::First;
/// let row = |id| RolloutRecord { task_id: "t".into(), rollout_id: id,
///     exit_reason: ExitReason::Agent, steps: 1, tokens: 0, reward: None,
///     regression_passed: None, patch_hash: None, verifier_prob: None,
///     trajectory: "t.json".into() };
/// assert_eq!(First.select(&[row(7), row(3), row(5)]).unwrap().rollout_id, Some(3));
/// assert_eq!(First.select(&[]).unwrap().rollout_id, None);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct First;

impl First {
    /// The registered name.
    pub const NAME: &'static str = "first";
    /// One line for `entropo plugins list`.
    pub const DESCRIPTION: &'static str =
        "The rollout with the lowest rollout id (no selection; a pass@1 baseline)";

    /// The selector (it takes no parameters).
    pub fn new(_params: NoParams) -> Result<Self, PluginError> {
        Ok(First)
    }
}

impl Selector for First {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn select(&self, pool: &[RolloutRecord]) -> Result<Selection, SelectorError> {
        stages::select_with(pool, |pool| {
            // `select_with` sorts by rollout id, so the first is the lowest.
            let id = pool[0].rollout_id;
            Ok(Selection {
                rollout_id: Some(id),
                reason: format!("lowest rollout id ({id}) among {}", pool.len()),
                stages: vec![],
            })
        })
    }
}
