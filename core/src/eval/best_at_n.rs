//! Best@N: the resolved rate when a selector picks one of N rollouts per
//! task, estimated over seeded subsamples of each task's pool; and the
//! pass@k curve it is bounded by.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::index::sample;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Selector;
use crate::types::RolloutRecord;

use super::Pool;
use super::pass_at_k::pass_at_k;

/// How Best@N is estimated.
///
/// ```
/// let s = entropo_core::eval::Sampling::default();
/// assert_eq!((s.ns.as_slice(), s.samples, s.seed), (&[1, 2, 4, 8, 16][..], 20, 0));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Sampling {
    /// The N values; each is capped at the largest pool of a task (see
    /// [`effective_ns`]).
    pub ns: Vec<usize>,
    /// Subsets drawn per task and N; a task with at most this many subsets
    /// of N rollouts is evaluated on each of them once instead (exact), so
    /// a task whose whole pool is drawn is evaluated once.
    pub samples: usize,
    /// Seed of the subsampling; the same seed gives the same subsamples.
    pub seed: u64,
}

impl Default for Sampling {
    fn default() -> Self {
        Sampling {
            ns: vec![1, 2, 4, 8, 16],
            samples: 20,
            seed: 0,
        }
    }
}

/// One point of a curve: a value at N (or k).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Point {
    /// N, the rollouts per task the value is for.
    pub n: usize,
    /// The resolved rate (0..1).
    pub value: f64,
}

/// One selector's Best@N curve on one pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BestAtN {
    /// The selector's label.
    pub selector: String,
    /// Best@N for each N; empty when the selector failed.
    pub points: Vec<Point>,
    /// Why the selector could not choose (e.g. it needs verifier scores the
    /// pool lacks); `None` when it worked.
    pub error: Option<String>,
}

impl BestAtN {
    /// The value at `n`, if computed.
    ///
    /// ```
    /// use entropo_core::eval::{BestAtN, Point};
    /// let c = BestAtN { selector: "first".into(), points: vec![Point { n: 4, value: 0.5 }], error: None };
    /// assert_eq!(c.at(4), Some(0.5));
    /// assert_eq!(c.at(8), None);
    /// ```
    pub fn at(&self, n: usize) -> Option<f64> {
        self.points.iter().find(|p| p.n == n).map(|p| p.value)
    }
}

/// The N values used for pools whose largest task has `max_pool`
/// rollouts: each of `ns` capped at `max_pool`, zeros dropped, sorted,
/// without repeats.
///
/// ```
/// use entropo_core::eval::effective_ns;
/// assert_eq!(effective_ns(&[1, 2, 4, 8, 16], 10), [1, 2, 4, 8, 10]);
/// assert_eq!(effective_ns(&[16, 0, 4, 4], 16), [4, 16]);
/// assert!(effective_ns(&[1, 2], 0).is_empty());
/// ```
pub fn effective_ns(ns: &[usize], max_pool: usize) -> Vec<usize> {
    let mut out: Vec<usize> = ns
        .iter()
        .map(|&n| n.min(max_pool))
        .filter(|&n| n > 0)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The largest number of rollouts any task of `pool` has.
fn max_pool(pool: &Pool) -> usize {
    pool.by_task()
        .iter()
        .map(|(_, m)| m.len())
        .max()
        .unwrap_or(0)
}

/// Best@N of each selector on `pool`, for N in
/// [`effective_ns`]`(sampling.ns, largest task pool)`.
///
/// For each N and task, `sampling.samples` subsets of N rollouts are drawn
/// without replacement, the same subsets for every selector; a task with at
/// most that many distinct subsets (C(n, N) ≤ samples, e.g. N = 1, or a
/// pool of at most N rollouts, used whole once) is evaluated on every
/// subset once, so its average is exact. Each selector picks one rollout of
/// each subset, and Best@N is the fraction of resolved picks, averaged over
/// the subsets of a task and then over tasks. A pick of nothing, or of a
/// rollout not in the subset, is unresolved. The subsets depend only on the
/// seed, N and the pool, so a seed gives the same numbers on every run. A selector that fails on some task gets no points
/// and the error (naming the task).
///
/// ```
/// use entropo_core::eval::{Pool, Sampling, best_at_n};
/// use entropo_core::selector::{Selection, Selector, SelectorError};
/// use entropo_core::types::{ExitReason, RolloutRecord};
/// /// Picks the lowest rollout id.
/// struct First;
/// impl Selector for First {
///     fn name(&self) -> &str { "first" }
///     fn select(&self, pool: &[RolloutRecord]) -> Result<Selection, SelectorError> {
///         let id = pool.iter().map(|r| r.rollout_id).min();
///         Ok(Selection { rollout_id: id, reason: String::new(), stages: vec![] })
///     }
/// }
/// let row = |task: &str, id, ok: bool| RolloutRecord { task_id: task.into(), rollout_id: id,
///     exit_reason: ExitReason::Agent, steps: 1, tokens: 0, reward: Some(if ok { 1.0 } else { 0.0 }),
///     regression_passed: None, patch_hash: None, verifier_prob: None,
///     trajectory: "t.json".into() };
/// // Task a: only rollout 0 resolved; task b: only rollout 1.
/// let pool = Pool::from_rows(vec![row("a", 0, true), row("a", 1, false), row("b", 0, false), row("b", 1, true)]).unwrap();
/// let sampling = Sampling { ns: vec![2], samples: 20, seed: 1 };
/// let curves = best_at_n(&pool, &[("first", &First)], &sampling);
/// assert_eq!(curves[0].at(2), Some(0.5)); // the whole pool: a's pick resolves, b's does not
/// ```
pub fn best_at_n(
    pool: &Pool,
    selectors: &[(&str, &dyn Selector)],
    sampling: &Sampling,
) -> Vec<BestAtN> {
    let groups = pool.by_task();
    let rows = pool.rows();
    let ns = effective_ns(&sampling.ns, max_pool(pool));
    let mut totals = vec![vec![0.0; ns.len()]; selectors.len()];
    let mut errors: Vec<Option<String>> = vec![None; selectors.len()];
    for (ni, &n) in ns.iter().enumerate() {
        let mut rng = subsample_rng(sampling.seed, n);
        for (task, members) in &groups {
            let subsets = subsets(members.len(), n, sampling.samples.max(1), &mut rng);
            let mut hits = vec![0usize; selectors.len()];
            for positions in &subsets {
                let subset: Vec<RolloutRecord> = positions
                    .iter()
                    .map(|&p| rows[members[p]].clone())
                    .collect();
                for (si, (_, selector)) in selectors.iter().enumerate() {
                    if errors[si].is_some() {
                        continue;
                    }
                    match selector.select(&subset) {
                        Ok(choice) => {
                            let hit = choice.rollout_id.is_some_and(|id| {
                                subset.iter().any(|r| r.rollout_id == id && r.resolved())
                            });
                            hits[si] += usize::from(hit);
                        }
                        Err(e) => errors[si] = Some(format!("task `{task}`: {e}")),
                    }
                }
            }
            for (total, h) in totals.iter_mut().zip(hits) {
                total[ni] += h as f64 / subsets.len() as f64;
            }
        }
    }
    selectors
        .iter()
        .zip(totals)
        .zip(errors)
        .map(|(((label, _), totals), error)| BestAtN {
            selector: label.to_string(),
            points: match error {
                Some(_) => vec![],
                None => ns
                    .iter()
                    .zip(totals)
                    .map(|(&n, total)| Point {
                        n,
                        value: total / groups.len() as f64,
                    })
                    .collect(),
            },
            error,
        })
        .collect()
}

/// The generator of the subsets for N = `n`: seeded from `seed` and `n`
/// alone, so adding an N to the list leaves the other subsets unchanged.
fn subsample_rng(seed: u64, n: usize) -> StdRng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&(n as u64).to_le_bytes());
    StdRng::from_seed(key)
}

/// The subsets of `n` of the positions `0..len` (each sorted) that a task
/// is evaluated on: every subset when there are at most `samples` of them
/// (so the average is exact, and a pool of at most `n` is used once),
/// otherwise `samples` drawn without replacement with `rng`.
fn subsets(len: usize, n: usize, samples: usize, rng: &mut StdRng) -> Vec<Vec<usize>> {
    let n = n.min(len);
    if binomial_at_most(len, n, samples) {
        return all_subsets(len, n);
    }
    (0..samples)
        .map(|_| {
            let mut picked = sample(rng, len, n).into_vec();
            picked.sort_unstable();
            picked
        })
        .collect()
}

/// Whether C(`len`, `k`) ≤ `cap`, without overflowing.
fn binomial_at_most(len: usize, k: usize, cap: usize) -> bool {
    let k = k.min(len - k);
    let mut c: u128 = 1;
    for i in 0..k {
        // C(len, i + 1) from C(len, i); exact, and growing while i < k ≤ len / 2.
        c = c * (len - i) as u128 / (i + 1) as u128;
        if c > cap as u128 {
            return false;
        }
    }
    true
}

/// Every subset of `k` of `0..len`, in lexicographic order.
fn all_subsets(len: usize, k: usize) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    let mut current: Vec<usize> = (0..k).collect();
    loop {
        out.push(current.clone());
        // The rightmost position that can still move right, then reset the
        // ones after it to follow it.
        let Some(i) = (0..k).rev().find(|&i| current[i] < len - k + i) else {
            return out;
        };
        current[i] += 1;
        for j in i + 1..k {
            current[j] = current[j - 1] + 1;
        }
    }
}

/// pass@k of `pool` for k in [`effective_ns`]`(ks, largest task pool)`:
/// [`pass_at_k`] of each task (k capped at the task's pool), averaged over
/// tasks. It is what a selector that always finds a resolved rollout when
/// there is one would reach, the ceiling of Best@N.
///
/// ```
/// use entropo_core::eval::{Point, Pool, pass_at_k_curve};
/// use entropo_core::types::{ExitReason, RolloutRecord};
/// let row = |task: &str, id, ok: bool| RolloutRecord { task_id: task.into(), rollout_id: id,
///     exit_reason: ExitReason::Agent, steps: 1, tokens: 0, reward: Some(if ok { 1.0 } else { 0.0 }),
///     regression_passed: None, patch_hash: None, verifier_prob: None,
///     trajectory: "t.json".into() };
/// let pool = Pool::from_rows(vec![row("a", 0, true), row("a", 1, false), row("b", 0, false), row("b", 1, false)]).unwrap();
/// assert_eq!(pass_at_k_curve(&pool, &[1, 2, 4]), [Point { n: 1, value: 0.25 }, Point { n: 2, value: 0.5 }]);
/// ```
pub fn pass_at_k_curve(pool: &Pool, ks: &[usize]) -> Vec<Point> {
    let groups = pool.by_task();
    let rows = pool.rows();
    effective_ns(ks, max_pool(pool))
        .into_iter()
        .map(|k| {
            let sum: f64 = groups
                .iter()
                .map(|(_, members)| {
                    let c = members.iter().filter(|&&i| rows[i].resolved()).count();
                    pass_at_k(members.len(), c, k)
                })
                .sum();
            Point {
                n: k,
                value: sum / groups.len() as f64,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::testutil::row;
    use crate::selector::{Selection, SelectorError};

    /// A selector from a closure over the subset.
    struct By<F>(F);
    impl<F: Fn(&[RolloutRecord]) -> Option<u32> + Send + Sync> Selector for By<F> {
        fn name(&self) -> &str {
            "by"
        }
        fn select(&self, pool: &[RolloutRecord]) -> Result<Selection, SelectorError> {
            Ok(Selection {
                rollout_id: (self.0)(pool),
                reason: String::new(),
                stages: vec![],
            })
        }
    }

    fn first() -> By<impl Fn(&[RolloutRecord]) -> Option<u32> + Send + Sync> {
        By(|p: &[RolloutRecord]| p.iter().map(|r| r.rollout_id).min())
    }

    fn oracle() -> By<impl Fn(&[RolloutRecord]) -> Option<u32> + Send + Sync> {
        By(|p: &[RolloutRecord]| {
            p.iter()
                .find(|r| r.resolved())
                .or(p.first())
                .map(|r| r.rollout_id)
        })
    }

    /// `tasks` tasks of `n` rollouts; task t has rollouts `0..resolved(t)` resolved.
    fn pool(tasks: usize, n: u32, resolved: impl Fn(usize) -> u32) -> Pool {
        let rows = (0..tasks)
            .flat_map(|t| {
                let c = resolved(t);
                (0..n).map(move |r| row(&format!("t{t:02}"), r, r < c))
            })
            .collect();
        Pool::from_rows(rows).unwrap()
    }

    #[test]
    fn first_on_half_resolved_rollout_zero() {
        // Rollout 0 is the only resolved one, in half of 10 tasks of 4.
        let pool = pool(10, 4, |t| u32::from(t % 2 == 0));
        let curves = best_at_n(
            &pool,
            &[("first", &first())],
            &Sampling {
                ns: vec![1, 2, 4],
                samples: 6,
                seed: 9,
            },
        );
        let c = &curves[0];
        assert_eq!(c.error, None);
        // Every subset is evaluated (C(4, 1) = 4 and C(4, 2) = 6, at most
        // 6): rollout 0 is in 1 of 4 singletons and 3 of 6 pairs, and then
        // `first` picks it; with the whole pool it always does.
        assert_eq!(c.at(1), Some(0.5 * 0.25));
        assert_eq!(c.at(2), Some(0.5 * 0.5));
        assert_eq!(c.at(4), Some(0.5));
        // With 2 random pairs per task instead, the estimate is near 0.25.
        let sampled = best_at_n(
            &pool,
            &[("first", &first())],
            &Sampling {
                ns: vec![2],
                samples: 2,
                seed: 9,
            },
        );
        assert!(
            (sampled[0].at(2).unwrap() - 0.25).abs() <= 0.2,
            "{sampled:?}"
        );
    }

    #[test]
    fn oracle_equals_pass_at_k_when_every_subset_is_evaluated() {
        let pool = pool(12, 8, |t| (t % 5) as u32); // 0..4 resolved of 8
        let sampling = Sampling {
            ns: vec![1, 2, 4, 8],
            samples: 70,
            seed: 3,
        }; // C(8, 4) = 70
        let curve = &best_at_n(&pool, &[("oracle", &oracle())], &sampling)[0];
        for p in pass_at_k_curve(&pool, &sampling.ns) {
            assert!(
                (curve.at(p.n).unwrap() - p.value).abs() < 1e-12,
                "N={}",
                p.n
            );
        }
    }

    #[test]
    fn oracle_matches_pass_at_k_in_expectation_when_sampled() {
        let pool = pool(12, 16, |t| (t % 5) as u32); // 0..4 resolved of 16
        let sampling = Sampling {
            ns: vec![4, 8],
            samples: 3000,
            seed: 3,
        }; // C(16, 4) = 1820 ≤ 3000 < C(16, 8)
        let curve = &best_at_n(&pool, &[("oracle", &oracle())], &sampling)[0];
        let exact = pass_at_k_curve(&pool, &sampling.ns);
        assert!((curve.at(4).unwrap() - exact[0].value).abs() < 1e-12);
        assert_ne!(curve.at(8), Some(exact[1].value), "sampled, so not exact");
        assert!(
            (curve.at(8).unwrap() - exact[1].value).abs() < 0.01,
            "{curve:?} vs {exact:?}"
        );
    }

    #[test]
    fn subsets_all_or_sampled() {
        assert!(binomial_at_most(16, 8, 12870) && !binomial_at_most(16, 8, 12869));
        assert!(
            binomial_at_most(5, 5, 1) && binomial_at_most(5, 0, 1) && binomial_at_most(0, 0, 1)
        );
        assert!(!binomial_at_most(200, 100, usize::MAX), "no overflow");
        assert_eq!(
            all_subsets(4, 2),
            [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]]
        );
        assert_eq!(all_subsets(3, 3), [[0, 1, 2]]);
        let mut rng = subsample_rng(0, 3);
        assert_eq!(
            subsets(2, 3, 5, &mut rng),
            [[0, 1]],
            "a small pool is used whole"
        );
        let drawn = subsets(10, 3, 5, &mut rng);
        assert_eq!(drawn.len(), 5);
        for d in drawn {
            assert!(
                d.len() == 3 && d.windows(2).all(|w| w[0] < w[1]) && d[2] < 10,
                "{d:?}"
            );
        }
    }

    #[test]
    fn same_seed_same_numbers_and_n_capped() {
        let pool = pool(6, 5, |t| t as u32 % 3);
        let sampling = Sampling {
            ns: vec![1, 2, 16],
            samples: 7,
            seed: 42,
        };
        let a = best_at_n(&pool, &[("first", &first())], &sampling);
        let b = best_at_n(&pool, &[("first", &first())], &sampling);
        assert_eq!(a, b);
        let ns: Vec<usize> = a[0].points.iter().map(|p| p.n).collect();
        assert_eq!(ns, [1, 2, 5]);
        // Another N in the list leaves the subsets of N = 2 alone.
        let wider = Sampling {
            ns: vec![2, 3],
            ..sampling
        };
        assert_eq!(
            best_at_n(&pool, &[("first", &first())], &wider)[0].at(2),
            a[0].at(2)
        );
    }

    #[test]
    fn failing_selector_reports_the_task_and_others_go_on() {
        struct Fails;
        impl Selector for Fails {
            fn name(&self) -> &str {
                "fails"
            }
            fn select(&self, _: &[RolloutRecord]) -> Result<Selection, SelectorError> {
                Err(SelectorError::Plugin("no scores".into()))
            }
        }
        let pool = pool(2, 2, |_| 1);
        let curves = best_at_n(
            &pool,
            &[("fails", &Fails), ("first", &first())],
            &Sampling::default(),
        );
        assert_eq!(curves[0].error.as_deref(), Some("task `t00`: no scores"));
        assert!(curves[0].points.is_empty());
        assert_eq!(curves[1].at(2), Some(1.0));
    }

    #[test]
    fn no_choice_or_a_foreign_choice_is_unresolved() {
        let pool = pool(2, 2, |_| 2);
        let none = By(|_: &[RolloutRecord]| None);
        let foreign = By(|_: &[RolloutRecord]| Some(99));
        let curves = best_at_n(
            &pool,
            &[("none", &none), ("foreign", &foreign)],
            &Sampling::default(),
        );
        assert_eq!(
            curves[0].points,
            [Point { n: 1, value: 0.0 }, Point { n: 2, value: 0.0 }]
        );
        assert_eq!(curves[1].at(2), Some(0.0));
    }

    #[test]
    fn empty_pool_has_no_points() {
        let pool = Pool::from_rows(vec![]).unwrap();
        assert!(
            best_at_n(&pool, &[("first", &first())], &Sampling::default())[0]
                .points
                .is_empty()
        );
        assert!(pass_at_k_curve(&pool, &[1]).is_empty());
    }
}
