//! Evaluation metrics over rollout pools, and the report that gathers them.
//!
//! A method's rollouts on the test tasks (its [`Pool`], read from a rollout
//! index with [`Pool::load`]) are scored without test-time scaling
//! ([`resolved_at_one`]: every task's r-th rollout as one run, mean ± std
//! over r), with a selector choosing among N ([`best_at_n`], over seeded
//! subsamples), against the ceiling a perfect selector reaches
//! ([`pass_at_k`], [`pass_at_k_curve`]), and for how varied the pool is
//! ([`diversity`]: distinct patches and the edit distance between the
//! rollouts' sequences of tool calls). A [`Report`] computes all of it for
//! several methods and selectors, with Table 1 of the paper and the
//! selector ablation, serialises to JSON, and renders as tables of text
//! ([`Report::tables`]) or Markdown ([`Report::markdown`]).
//!
//! ```
//! use entropo_core::eval::{Method, Pool, Report, ReportOptions};
//! use entropo_core::selector::{Selection, Selector, SelectorError};
//! use entropo_core::types::{ExitReason, RolloutRecord};
//! /// Picks a resolved rollout whenever there is one (an oracle).
//! struct Oracle;
//! impl Selector for Oracle {
//!     fn name(&self) -> &str { "oracle" }
//!     fn select(&self, pool: &[RolloutRecord]) -> Result<Selection, SelectorError> {
//!         let pick = pool.iter().find(|r| r.resolved()).or(pool.first());
//!         Ok(Selection { rollout_id: pick.map(|r| r.rollout_id), reason: String::new(), stages: vec![] })
//!     }
//! }
//! let row = |task: &str, id, ok: bool| RolloutRecord { task_id: task.into(), rollout_id: id,
//!     exit_reason: ExitReason::Agent, steps: 1, tokens: 0, reward: Some(if ok { 1.0 } else { 0.0 }),
//!     regression_passed: None, patch_hash: None, verifier_prob: None,
//!     trajectory: "t.json".into() };
//! let rows = (0..4).flat_map(|t| (0..4).map(move |r| row(&format!("t{t}"), r, r == t))).collect();
//! let methods = [Method { name: "entropo-kto".into(), pool: Pool::from_rows(rows).unwrap(), entropy: None }];
//! let options = ReportOptions { tts_selector: "oracle".into(), ..Default::default() };
//! let report = Report::build(&methods, &[("oracle", &Oracle)], &options);
//! assert_eq!(report.table1[0].resolved, 0.25);          // one rollout in four resolves
//! assert_eq!(report.table1[0].resolved_tts, Some(1.0)); // and the oracle always finds it
//! ```

mod best_at_n;
mod diversity;
mod pass_at_k;
mod pool;
mod report;
mod resolved;
mod tables;
#[cfg(test)]
mod testutil;

pub use best_at_n::{BestAtN, Point, Sampling, best_at_n, effective_ns, pass_at_k_curve};
pub use diversity::{
    Diversity, NO_CALL, action_sequence, action_signature, diversity, mean_pairwise_distance,
    normalised_levenshtein,
};
pub use pass_at_k::pass_at_k;
pub use pool::{EvalError, Pool};
pub use report::{Ablation, AblationRow, Method, MethodReport, Report, ReportOptions, Table1Row};
pub use resolved::{ResolvedAtOne, resolved_at_one};
pub use tables::Table;
