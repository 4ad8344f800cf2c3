//! The resolved rate without test-time scaling (N = 1), with its spread
//! over the N independent rollouts ("seeds") of each task.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Pool;
use super::diversity::mean;

/// The resolved rate at N = 1: rollout r of every task taken as one run
/// (seed r) of the method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ResolvedAtOne {
    /// Mean of [`per_seed`](Self::per_seed); 0 for an empty pool.
    pub mean: f64,
    /// Sample standard deviation (n − 1) of `per_seed`; 0 with fewer than
    /// two seeds.
    pub std: f64,
    /// For r = 0, 1, …: the fraction of tasks whose r-th rollout (in
    /// ascending rollout id) is resolved; a task with fewer rollouts counts
    /// as unresolved for the missing ones.
    pub per_seed: Vec<f64>,
}

/// The resolved rate at N = 1 of `pool`, seed by seed.
///
/// ```
/// use entropo_core::eval::{Pool, resolved_at_one};
/// use entropo_core::types::{ExitReason, RolloutRecord};
/// let row = |task: &str, id, ok: bool| RolloutRecord { task_id: task.into(), rollout_id: id,
///     exit_reason: ExitReason::Agent, steps: 1, tokens: 0, reward: Some(if ok { 1.0 } else { 0.0 }),
///     regression_passed: None, patch_hash: None, verifier_prob: None,
///     trajectory: "t.json".into() };
/// // Seed 0 resolves both tasks, seed 1 neither.
/// let pool = Pool::from_rows(vec![row("a", 0, true), row("a", 1, false), row("b", 0, true), row("b", 1, false)]).unwrap();
/// let r = resolved_at_one(&pool);
/// assert_eq!(r.per_seed, [1.0, 0.0]);
/// assert_eq!(r.mean, 0.5);
/// assert!((r.std - 0.5f64.sqrt()).abs() < 1e-12);
/// ```
pub fn resolved_at_one(pool: &Pool) -> ResolvedAtOne {
    let groups = pool.by_task();
    let rows = pool.rows();
    let seeds = groups
        .iter()
        .map(|(_, members)| members.len())
        .max()
        .unwrap_or(0);
    let per_seed: Vec<f64> = (0..seeds)
        .map(|r| {
            let hits = groups
                .iter()
                .filter(|(_, members)| members.get(r).is_some_and(|&i| rows[i].resolved()))
                .count();
            hits as f64 / groups.len() as f64
        })
        .collect();
    let mean_rate = mean(&per_seed).unwrap_or(0.0);
    let std = if per_seed.len() < 2 {
        0.0
    } else {
        let ss: f64 = per_seed.iter().map(|x| (x - mean_rate).powi(2)).sum();
        (ss / (per_seed.len() - 1) as f64).sqrt()
    };
    ResolvedAtOne {
        mean: mean_rate,
        std,
        per_seed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::testutil::row;

    #[test]
    fn three_seeds_by_hand() {
        // Tasks a, b, c, d; seed 0 resolves a and b, seed 1 resolves a,
        // seed 2 resolves a, b and c: rates 0.5, 0.25, 0.75.
        let outcomes = [
            ("a", [true, true, true]),
            ("b", [true, false, true]),
            ("c", [false, false, true]),
            ("d", [false; 3]),
        ];
        let rows = outcomes
            .iter()
            .flat_map(|(t, oks)| {
                oks.iter()
                    .enumerate()
                    .map(|(r, &ok)| row(t, 10 + r as u32, ok))
            })
            .collect();
        let r = resolved_at_one(&Pool::from_rows(rows).unwrap());
        assert_eq!(r.per_seed, [0.5, 0.25, 0.75]);
        assert_eq!(r.mean, 0.5);
        // Deviations ±0.25 and 0: (0.0625 * 2) / 2 = 0.0625, sqrt 0.25.
        assert!((r.std - 0.25).abs() < 1e-12);
    }

    #[test]
    fn uneven_pools_count_missing_rollouts_as_unresolved() {
        let rows = vec![row("a", 0, true), row("a", 1, true), row("b", 5, true)];
        let r = resolved_at_one(&Pool::from_rows(rows).unwrap());
        assert_eq!(r.per_seed, [1.0, 0.5]);
    }

    #[test]
    fn one_seed_and_no_rows() {
        let r =
            resolved_at_one(&Pool::from_rows(vec![row("a", 0, true), row("b", 0, false)]).unwrap());
        assert_eq!((r.mean, r.std), (0.5, 0.0));
        let r = resolved_at_one(&Pool::from_rows(vec![]).unwrap());
        assert_eq!(
            r,
            ResolvedAtOne {
                mean: 0.0,
                std: 0.0,
                per_seed: vec![]
            }
        );
    }
}
