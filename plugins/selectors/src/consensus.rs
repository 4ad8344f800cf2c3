//! `patch-consensus`: majority vote over normalised patches.

use std::collections::BTreeMap;

use entropo_core::registry::PluginError;
use entropo_core::selector::{Selection, Selector, SelectorError};
use entropo_core::types::RolloutRecord;

use crate::params::NoParams;
use crate::stages::{self, filter};

/// `patch-consensus`: the most common patch wins.
///
/// Rollouts are clustered by `patch_hash` (a hash of the normalised patch,
/// see [`entropo_core::types::patch_hash`]); rollouts with no patch (`None`
/// or an empty hash) do not vote. The largest cluster wins; **ties between
/// clusters go to the cluster holding the lowest `rollout_id`**, and within
/// the winning cluster the lowest `rollout_id` is chosen. When no rollout has
/// a patch, the `has-patch` stage falls back to all rollouts, and the lowest
/// `rollout_id` is chosen.
///
/// ```
/// use entropo_core::Selector;
/// use entropo_core::types::{ExitReason, RolloutRecord};
/// use entropo_selectors::PatchConsensus;
/// let row = |id, h: Option<&str>| RolloutRecord { task_id: "t".into(), rollout_id: id,
///     exit_reason: ExitReason::Agent, steps: 1, tokens: 0, reward: None,
///     regression_passed: None, patch_hash: h.map(String::from), verifier_prob: None,
///     trajectory: "t.json".into() };
/// let pool = [row(0, Some("a")), row(1, Some("b")), row(2, Some("b")), row(3, None)];
/// let pick = PatchConsensus.select(&pool).unwrap();
/// assert_eq!(pick.rollout_id, Some(1));
/// assert_eq!(pick.stages[0].removed, vec![3]);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PatchConsensus;

impl PatchConsensus {
    /// The registered name.
    pub const NAME: &'static str = "patch-consensus";
    /// One line for `entropo plugins list`.
    pub const DESCRIPTION: &'static str =
        "Majority vote over normalised patches (ties: cluster with the lowest rollout id)";

    /// The selector (it takes no parameters).
    pub fn new(_params: NoParams) -> Result<Self, PluginError> {
        Ok(PatchConsensus)
    }
}

/// The patch hash a rollout votes with, if it has a patch.
fn vote(r: &RolloutRecord) -> Option<&str> {
    r.patch_hash.as_deref().filter(|h| !h.is_empty())
}

impl Selector for PatchConsensus {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn select(&self, pool: &[RolloutRecord]) -> Result<Selection, SelectorError> {
        stages::select_with(pool, |pool| {
            let n = pool.len();
            let patched = filter("has-patch", pool, |r| Ok(vote(r).is_some()))?;
            let stages = vec![patched.report.clone()];
            if patched.report.fell_back {
                let id = patched.kept[0].rollout_id;
                return Ok(Selection {
                    rollout_id: Some(id),
                    reason: format!("no rollout has a patch; lowest rollout id ({id}) among {n}"),
                    stages,
                });
            }
            // The pool is sorted by rollout id, so each cluster's first
            // member is its lowest id.
            let mut clusters: BTreeMap<&str, Vec<&RolloutRecord>> = BTreeMap::new();
            for r in &patched.kept {
                clusters
                    .entry(vote(r).unwrap_or_default())
                    .or_default()
                    .push(r);
            }
            let winner = clusters
                .values()
                .max_by(|a, b| {
                    a.len()
                        .cmp(&b.len())
                        .then_with(|| b[0].rollout_id.cmp(&a[0].rollout_id))
                })
                .expect("the has-patch stage kept at least one rollout");
            let tied = clusters
                .values()
                .filter(|c| c.len() == winner.len())
                .count();
            let tie = if tied > 1 {
                format!(", tie of {tied} clusters broken by lowest rollout id")
            } else {
                String::new()
            };
            let id = winner[0].rollout_id;
            Ok(Selection {
                rollout_id: Some(id),
                reason: format!(
                    "{} without a patch dropped; largest patch cluster ({} of {} patched, {} clusters{tie}); rollout {id} is its lowest id",
                    patched.report.removed.len(),
                    winner.len(),
                    patched.kept.len(),
                    clusters.len(),
                ),
                stages,
            })
        })
    }
}
