//! The evaluation report: every metric of every method, Table 1 of the
//! paper and the selector ablation, with what is needed to recompute them.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Selector;

use super::best_at_n::{BestAtN, Point, Sampling, best_at_n, pass_at_k_curve};
use super::diversity::{Diversity, diversity};
use super::pool::Pool;
use super::resolved::{ResolvedAtOne, resolved_at_one};

/// One trained method to evaluate: its rollout pool on the test tasks.
#[derive(Debug, Clone)]
pub struct Method {
    /// The method's name, usually its loss plugin (`sft`, `dpo`, `kto`,
    /// `entropo-dpo`, `entropo-kto`).
    pub name: String,
    /// Its rollouts (N per task).
    pub pool: Pool,
    /// Mean token entropy of its samples, when measured.
    pub entropy: Option<f64>,
}

/// What a report is computed with, besides the pools and selectors.
///
/// ```
/// let o = entropo_core::eval::ReportOptions::default();
/// assert_eq!(o.tts_selector, "hybrid");
/// assert_eq!(o.sampling.samples, 20);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportOptions {
    /// The N values, subsamples and seed of Best@N.
    pub sampling: Sampling,
    /// The selector label whose Best@N at the largest N is Table 1's
    /// "with test-time scaling" column.
    pub tts_selector: String,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            sampling: Sampling::default(),
            tts_selector: "hybrid".into(),
        }
    }
}

/// Every metric of one method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MethodReport {
    /// The method's name.
    pub name: String,
    /// The rollout index the pool was read from, if any.
    pub index: Option<PathBuf>,
    /// Tasks in the pool.
    pub tasks: usize,
    /// Rollouts in the pool.
    pub rollouts: usize,
    /// Fewest rollouts of a task.
    pub min_rollouts_per_task: usize,
    /// Most rollouts of a task (the largest N).
    pub max_rollouts_per_task: usize,
    /// Resolved rate without test-time scaling.
    pub resolved_at_1: ResolvedAtOne,
    /// pass@k for k in the N list (capped at the pool).
    pub pass_at_k: Vec<Point>,
    /// Best@N of each selector, in the order the selectors were given.
    pub best_at_n: Vec<BestAtN>,
    /// Diversity of the pool, with the entropy given.
    pub diversity: Diversity,
}

impl MethodReport {
    /// The largest N evaluated (0 for an empty pool).
    pub fn n_max(&self) -> usize {
        self.pass_at_k.last().map_or(0, |p| p.n)
    }

    /// The Best@N curve of the selector labelled `selector`.
    pub fn curve(&self, selector: &str) -> Option<&BestAtN> {
        self.best_at_n.iter().find(|c| c.selector == selector)
    }
}

/// One row of Table 1: a method with and without test-time scaling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Table1Row {
    /// The method.
    pub method: String,
    /// Resolved rate at N = 1 (mean over seeds).
    pub resolved: f64,
    /// Its sample standard deviation over seeds.
    pub resolved_std: f64,
    /// Seeds (rollouts per task) behind it.
    pub seeds: usize,
    /// The N of the test-time-scaling column (the method's largest).
    pub tts_n: usize,
    /// Best@`tts_n` of the designated selector; `None` when that selector
    /// was not given or failed on this pool.
    pub resolved_tts: Option<f64>,
}

/// The selector ablation: Best@N at each method's largest N, selector by
/// selector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Ablation {
    /// Column heads: the methods, in report order.
    pub methods: Vec<String>,
    /// One row per selector.
    pub rows: Vec<AblationRow>,
}

/// One selector across the methods.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AblationRow {
    /// The selector's label.
    pub selector: String,
    /// Best@N_max for each method (same order as [`Ablation::methods`]);
    /// `None` where the selector failed or the pool is empty.
    pub values: Vec<Option<Point>>,
}

/// An evaluation report over several methods and selectors.
///
/// ```
/// use entropo_core::eval::{Method, Pool, Report, ReportOptions, Sampling};
/// use entropo_core::selector::{Selection, Selector, SelectorError};
/// use entropo_core::types::{ExitReason, RolloutRecord};
/// struct First;
/// impl Selector for First {
///     fn name(&self) -> &str { "first" }
///     fn select(&self, pool: &[RolloutRecord]) -> Result<Selection, SelectorError> {
///         Ok(Selection { rollout_id: pool.iter().map(|r| r.rollout_id).min(), reason: String::new(), stages: vec![] })
///     }
/// }
/// let row = |task: &str, id, ok: bool| RolloutRecord { task_id: task.into(), rollout_id: id,
///     exit_reason: ExitReason::Agent, steps: 1, tokens: 0, reward: Some(if ok { 1.0 } else { 0.0 }),
///     regression_passed: None, patch_hash: None, verifier_prob: None,
///     trajectory: "t.json".into() };
/// let pool = Pool::from_rows(vec![row("a", 0, true), row("a", 1, false), row("b", 0, false), row("b", 1, false)]).unwrap();
/// let methods = [Method { name: "sft".into(), pool, entropy: Some(0.4) }];
/// let options = ReportOptions { tts_selector: "first".into(), ..Default::default() };
/// let report = Report::build(&methods, &[("first", &First)], &options);
/// assert_eq!(report.table1[0].resolved, 0.25);
/// assert_eq!((report.table1[0].tts_n, report.table1[0].resolved_tts), (2, Some(0.5)));
/// assert!(report.markdown().contains("| sft |"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Report {
    /// The options it was computed with (N list, subsamples, seed, the
    /// test-time-scaling selector).
    pub options: ReportOptions,
    /// The selector labels, in the order given.
    pub selectors: Vec<String>,
    /// Every metric, method by method.
    pub methods: Vec<MethodReport>,
    /// Table 1: resolved without and with test-time scaling.
    pub table1: Vec<Table1Row>,
    /// Best@N_max of every selector on every method.
    pub ablation: Ablation,
}

impl Report {
    /// Computes every metric of every method with every selector. A
    /// selector that fails on a pool (e.g. one needing verifier scores the
    /// pool lacks) gets no numbers there and its error is kept in the
    /// method's [`BestAtN::error`].
    pub fn build(
        methods: &[Method],
        selectors: &[(&str, &dyn Selector)],
        options: &ReportOptions,
    ) -> Report {
        let methods: Vec<MethodReport> = methods
            .iter()
            .map(|m| method_report(m, selectors, &options.sampling))
            .collect();
        let table1 = methods
            .iter()
            .map(|m| Table1Row {
                method: m.name.clone(),
                resolved: m.resolved_at_1.mean,
                resolved_std: m.resolved_at_1.std,
                seeds: m.resolved_at_1.per_seed.len(),
                tts_n: m.n_max(),
                resolved_tts: m.curve(&options.tts_selector).and_then(|c| c.at(m.n_max())),
            })
            .collect();
        let ablation = Ablation {
            methods: methods.iter().map(|m| m.name.clone()).collect(),
            rows: selectors
                .iter()
                .map(|(label, _)| AblationRow {
                    selector: label.to_string(),
                    values: methods
                        .iter()
                        .map(|m| {
                            let n = m.n_max();
                            m.curve(label)
                                .and_then(|c| c.at(n))
                                .map(|value| Point { n, value })
                        })
                        .collect(),
                })
                .collect(),
        };
        Report {
            options: options.clone(),
            selectors: selectors
                .iter()
                .map(|(label, _)| label.to_string())
                .collect(),
            methods,
            table1,
            ablation,
        }
    }
}

fn method_report(
    method: &Method,
    selectors: &[(&str, &dyn Selector)],
    sampling: &Sampling,
) -> MethodReport {
    let pool = &method.pool;
    let sizes: Vec<usize> = pool.by_task().iter().map(|(_, m)| m.len()).collect();
    MethodReport {
        name: method.name.clone(),
        index: pool.index().map(PathBuf::from),
        tasks: sizes.len(),
        rollouts: pool.rows().len(),
        min_rollouts_per_task: sizes.iter().copied().min().unwrap_or(0),
        max_rollouts_per_task: sizes.iter().copied().max().unwrap_or(0),
        resolved_at_1: resolved_at_one(pool),
        pass_at_k: pass_at_k_curve(pool, &sampling.ns),
        best_at_n: best_at_n(pool, selectors, sampling),
        diversity: diversity(pool, method.entropy),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::testutil::{Lowest, row, sample_report};

    #[test]
    fn tables_by_hand() {
        let r = sample_report();
        let sft = &r.methods[0];
        assert_eq!(
            (
                sft.tasks,
                sft.rollouts,
                sft.min_rollouts_per_task,
                sft.max_rollouts_per_task
            ),
            (4, 16, 4, 4)
        );
        assert_eq!(sft.resolved_at_1.per_seed, [0.5, 0.0, 0.0, 0.0]);
        assert_eq!(
            sft.pass_at_k.iter().map(|p| p.n).collect::<Vec<_>>(),
            [1, 2, 4]
        );
        assert_eq!(r.table1[0].resolved, 0.125);
        assert_eq!(
            (r.table1[0].tts_n, r.table1[0].resolved_tts),
            (4, Some(0.5))
        );
        assert_eq!(r.table1[1].resolved, 0.25);
        assert_eq!(
            (r.table1[1].tts_n, r.table1[1].resolved_tts),
            (2, Some(0.25))
        );
        assert_eq!(r.selectors, ["lowest", "needs-scores"]);
        assert_eq!(r.ablation.methods, ["sft", "entropo-kto"]);
        assert_eq!(
            r.ablation.rows[0].values,
            [
                Some(Point { n: 4, value: 0.5 }),
                Some(Point { n: 2, value: 0.25 })
            ]
        );
        assert_eq!(r.ablation.rows[1].values, [None, None]);
        assert!(
            sft.curve("needs-scores")
                .unwrap()
                .error
                .as_deref()
                .unwrap()
                .contains("verifier_prob")
        );
        assert_eq!(sft.diversity.token_entropy, Some(0.8));
    }

    #[test]
    fn json_round_trip() {
        let r = sample_report();
        let json = serde_json::to_string_pretty(&r).unwrap();
        assert_eq!(serde_json::from_str::<Report>(&json).unwrap(), r);
    }

    #[test]
    fn missing_tts_selector_leaves_the_column_empty() {
        let pool = Pool::from_rows(vec![row("a", 0, true)]).unwrap();
        let methods = [Method {
            name: "sft".into(),
            pool,
            entropy: None,
        }];
        let r = Report::build(&methods, &[("lowest", &Lowest)], &ReportOptions::default());
        assert_eq!(r.table1[0].resolved_tts, None);
        assert_eq!(r.options.tts_selector, "hybrid");
    }
}
