//! What every selector shares: pool validation, filter stages that fall back
//! instead of emptying the pool, and the tie-break (lowest `rollout_id`).

use std::cmp::Ordering;
use std::collections::BTreeSet;

use entropo_core::selector::{Selection, SelectorError, StageReport};
use entropo_core::types::RolloutRecord;

/// A task's candidates, as references sorted by ascending `rollout_id`, so
/// that no choice depends on the order of the rows in an index.
pub(crate) type Pool<'a> = Vec<&'a RolloutRecord>;

/// Checks that `pool` holds the rollouts of one task, each id at most once.
pub(crate) fn validate(pool: &[RolloutRecord]) -> Result<(), SelectorError> {
    let Some(first) = pool.first() else {
        return Ok(());
    };
    let mut seen = BTreeSet::new();
    for r in pool {
        if r.task_id != first.task_id {
            return Err(SelectorError::InvalidPool(format!(
                "the pool mixes tasks `{}` and `{}`",
                first.task_id, r.task_id
            )));
        }
        if !seen.insert(r.rollout_id) {
            return Err(SelectorError::InvalidPool(format!(
                "rollout {} of task `{}` appears more than once",
                r.rollout_id, r.task_id
            )));
        }
    }
    Ok(())
}

/// Validates `pool`, answers an empty one with `rollout_id: None`, and hands
/// a non-empty one to `choose` sorted by rollout id.
pub(crate) fn select_with(
    pool: &[RolloutRecord],
    choose: impl FnOnce(Pool<'_>) -> Result<Selection, SelectorError>,
) -> Result<Selection, SelectorError> {
    validate(pool)?;
    if pool.is_empty() {
        return Ok(Selection {
            rollout_id: None,
            reason: "empty pool".into(),
            stages: vec![],
        });
    }
    let mut sorted: Pool<'_> = pool.iter().collect();
    sorted.sort_by_key(|r| r.rollout_id);
    choose(sorted)
}

/// The best of `pool` by `cmp` (`Greater` means the first argument is
/// better); among equals, the lowest `rollout_id`. `None` only for an empty pool.
pub(crate) fn best<'a>(
    pool: &[&'a RolloutRecord],
    cmp: impl Fn(&RolloutRecord, &RolloutRecord) -> Ordering,
) -> Option<&'a RolloutRecord> {
    pool.iter()
        .copied()
        .max_by(|a, b| cmp(a, b).then_with(|| b.rollout_id.cmp(&a.rollout_id)))
}

/// How many rollouts of `pool` compare equal to `winner` under `cmp`.
pub(crate) fn tied(
    pool: &[&RolloutRecord],
    winner: &RolloutRecord,
    cmp: impl Fn(&RolloutRecord, &RolloutRecord) -> Ordering,
) -> usize {
    pool.iter()
        .filter(|r| cmp(r, winner) == Ordering::Equal)
        .count()
}

/// `" (tie of K broken by lowest rollout id)"` when `ties > 1`, else `""`.
pub(crate) fn tie_note(ties: usize) -> String {
    if ties > 1 {
        format!(" (tie of {ties} broken by lowest rollout id)")
    } else {
        String::new()
    }
}

/// The rollout's verifier probability; a missing or NaN one is
/// [`SelectorError::MissingField`].
pub(crate) fn verifier_prob(r: &RolloutRecord) -> Result<f64, SelectorError> {
    let missing = |reason: &str| SelectorError::MissingField {
        task_id: r.task_id.clone(),
        rollout_id: r.rollout_id,
        reason: reason.to_string(),
    };
    match r.verifier_prob {
        None => Err(missing("verifier_prob is missing (run a verifier first)")),
        Some(p) if p.is_nan() => Err(missing("verifier_prob is NaN")),
        Some(p) => Ok(p),
    }
}

/// The outcome of one filter stage.
pub(crate) struct Filtered<'a> {
    /// What the next stage gets.
    pub kept: Pool<'a>,
    /// What this stage did.
    pub report: StageReport,
    /// How many rollouts the stage got.
    pub input: usize,
}

/// Keeps the rollouts of `input` for which `keep` says `true`; if that
/// would keep none, keeps all of `input` and marks the stage as fallen back.
/// The first error of `keep` (in rollout-id order) aborts the stage.
pub(crate) fn filter<'a>(
    stage: &str,
    input: Pool<'a>,
    mut keep: impl FnMut(&RolloutRecord) -> Result<bool, SelectorError>,
) -> Result<Filtered<'a>, SelectorError> {
    let n = input.len();
    let mut kept = Vec::with_capacity(n);
    let mut removed = Vec::new();
    for r in &input {
        if keep(r)? {
            kept.push(*r);
        } else {
            removed.push(r.rollout_id);
        }
    }
    let fell_back = kept.is_empty() && !input.is_empty();
    if fell_back {
        kept = input;
        removed.clear();
    }
    Ok(Filtered {
        kept,
        report: StageReport {
            stage: stage.to_string(),
            removed,
            fell_back,
        },
        input: n,
    })
}

impl Filtered<'_> {
    /// One clause for a reason line: `"3 truncated dropped"`, or
    /// `"<label> stage fell back (all 5 <plural>)"`.
    pub(crate) fn summary(&self, singular: &str, plural: &str, label: &str) -> String {
        if self.report.fell_back {
            return format!("{label} stage fell back (all {} {plural})", self.input);
        }
        let n = self.report.removed.len();
        format!("{n} {} dropped", if n == 1 { singular } else { plural })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use entropo_core::types::ExitReason;

    fn row(id: u32, steps: u32) -> RolloutRecord {
        RolloutRecord {
            task_id: "t".into(),
            rollout_id: id,
            exit_reason: ExitReason::Agent,
            steps,
            tokens: 0,
            reward: None,
            regression_passed: None,
            patch_hash: None,
            verifier_prob: None,
            trajectory: "x".into(),
        }
    }

    #[test]
    fn best_breaks_ties_by_lowest_id() {
        let rows = [row(5, 3), row(2, 3), row(9, 1)];
        let pool: Vec<_> = rows.iter().collect();
        let by_steps = |a: &RolloutRecord, b: &RolloutRecord| a.steps.cmp(&b.steps);
        assert_eq!(best(&pool, by_steps).unwrap().rollout_id, 2);
        assert_eq!(tied(&pool, &rows[1], by_steps), 2);
        assert_eq!(best(&[], by_steps), None);
    }

    #[test]
    fn filter_falls_back_and_reports() {
        let rows = [row(1, 1), row(2, 2)];
        let pool: Vec<_> = rows.iter().collect();
        let f = filter("s", pool.clone(), |r| Ok(r.steps > 1)).unwrap();
        assert_eq!(f.report.removed, vec![1]);
        assert!(!f.report.fell_back);
        assert_eq!(f.summary("x", "xs", "s"), "1 x dropped");
        let f = filter("s", pool, |_| Ok(false)).unwrap();
        assert!(f.report.fell_back);
        assert!(f.report.removed.is_empty());
        assert_eq!(f.kept.len(), 2);
        assert_eq!(f.summary("x", "xs", "s"), "s stage fell back (all 2 xs)");
    }

    #[test]
    fn verifier_prob_rejects_nan_and_missing() {
        let r = row(1, 1);
        assert!(matches!(
            verifier_prob(&r),
            Err(SelectorError::MissingField { rollout_id: 1, .. })
        ));
        let r = RolloutRecord {
            verifier_prob: Some(f64::NAN),
            ..row(1, 1)
        };
        assert!(verifier_prob(&r).is_err());
    }
}
