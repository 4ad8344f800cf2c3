//! Rows, selectors and a report for the tests of this module.

use crate::Selector;
use crate::selector::{Selection, SelectorError};
use crate::types::{ExitReason, RolloutRecord};

use super::{Method, Pool, Report, ReportOptions};

/// Rollout `id` of `task`, resolved or not, with nothing else set.
pub(crate) fn row(task: &str, id: u32, resolved: bool) -> RolloutRecord {
    RolloutRecord {
        task_id: task.into(),
        rollout_id: id,
        exit_reason: ExitReason::Agent,
        steps: 1,
        tokens: 0,
        reward: Some(if resolved { 1.0 } else { 0.0 }),
        regression_passed: None,
        patch_hash: None,
        verifier_prob: None,
        trajectory: format!("{task}/{id}.json").into(),
    }
}

/// Picks the lowest rollout id.
pub(crate) struct Lowest;

impl Selector for Lowest {
    fn name(&self) -> &str {
        "lowest"
    }
    fn select(&self, pool: &[RolloutRecord]) -> Result<Selection, SelectorError> {
        Ok(Selection {
            rollout_id: pool.iter().map(|r| r.rollout_id).min(),
            reason: String::new(),
            stages: vec![],
        })
    }
}

/// Fails as a verifier-based selector does on a pool without scores.
pub(crate) struct NeedsScores;

impl Selector for NeedsScores {
    fn name(&self) -> &str {
        "needs-scores"
    }
    fn select(&self, pool: &[RolloutRecord]) -> Result<Selection, SelectorError> {
        Err(SelectorError::MissingField {
            task_id: pool[0].task_id.clone(),
            rollout_id: pool[0].rollout_id,
            reason: "verifier_prob is missing".into(),
        })
    }
}

/// Two methods whose numbers are worked out by hand in the tests:
///
/// - `sft`: tasks t0..t3 of 4 rollouts, rollout 0 resolved in t0 and t1;
/// - `entropo-kto`: tasks t0..t3 of 2 rollouts, both resolved in t0.
pub(crate) fn sample_report() -> Report {
    let sft = (0..4)
        .flat_map(|t| (0..4).map(move |r| row(&format!("t{t}"), r, r == 0 && t < 2)))
        .collect();
    let kto = (0..4)
        .flat_map(|t| (0..2).map(move |r| row(&format!("t{t}"), r, t == 0)))
        .collect();
    let methods = [
        Method {
            name: "sft".into(),
            pool: Pool::from_rows(sft).unwrap(),
            entropy: Some(0.8),
        },
        Method {
            name: "entropo-kto".into(),
            pool: Pool::from_rows(kto).unwrap(),
            entropy: None,
        },
    ];
    let options = ReportOptions {
        tts_selector: "lowest".into(),
        ..Default::default()
    };
    Report::build(
        &methods,
        &[("lowest", &Lowest), ("needs-scores", &NeedsScores)],
        &options,
    )
}
