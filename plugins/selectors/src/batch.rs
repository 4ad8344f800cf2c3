//! Applying a selector to a whole rollout index, and scoring the choices.

use std::collections::{BTreeSet, HashMap};

use entropo_core::selector::{Selection, Selector, SelectorError};
use entropo_core::types::RolloutRecord;

/// Groups `rows` (a rollout index) by `task_id` and applies `selector` to
/// each group. Tasks come out **in the order of their first row**; a task's
/// rows need not be adjacent. The first task the selector fails on stops
/// the run with its error.
///
/// ```
/// use entropo_core::types::{ExitReason, RolloutRecord};
/// use entropo_selectors::{First, select_all};
/// let row = |task: &str, id| RolloutRecord { task_id: task.into(), rollout_id: id,
///     exit_reason: ExitReason::Agent, steps: 1, tokens: 0, reward: None,
///     regression_passed: None, patch_hash: None, verifier_prob: None,
///     trajectory: "t.json".into() };
/// let rows = [row("b", 4), row("a", 2), row("b", 1)];
/// let picks = select_all(&First, &rows).unwrap();
/// assert_eq!(picks.len(), 2);
/// assert_eq!((picks[0].0.as_str(), picks[0].1.rollout_id), ("b", Some(1)));
/// assert_eq!((picks[1].0.as_str(), picks[1].1.rollout_id), ("a", Some(2)));
/// ```
pub fn select_all(
    selector: &dyn Selector,
    rows: &[RolloutRecord],
) -> Result<Vec<(String, Selection)>, SelectorError> {
    let mut groups: Vec<(&str, Vec<RolloutRecord>)> = Vec::new();
    let mut slot: HashMap<&str, usize> = HashMap::new();
    for r in rows {
        let i = *slot.entry(r.task_id.as_str()).or_insert_with(|| {
            groups.push((r.task_id.as_str(), Vec::new()));
            groups.len() - 1
        });
        groups[i].1.push(r.clone());
    }
    groups
        .into_iter()
        .map(|(task, pool)| Ok((task.to_string(), selector.select(&pool)?)))
        .collect()
}

/// The fraction of tasks whose chosen rollout is resolved (`reward >= 1`).
///
/// The tasks counted are every task id in `rows` or in `choices`. A task is
/// unresolved when it has no choice, its choice is `rollout_id: None`, or
/// the chosen rollout is not in `rows`; when a task appears more than once
/// in `choices`, its first choice counts. No tasks at all give `0.0`.
///
/// ```
/// use entropo_core::types::{ExitReason, RolloutRecord};
/// use entropo_selectors::{First, resolved_rate, select_all};
/// let row = |task: &str, id, reward| RolloutRecord { task_id: task.into(), rollout_id: id,
///     exit_reason: ExitReason::Agent, steps: 1, tokens: 0, reward: Some(reward),
///     regression_passed: None, patch_hash: None, verifier_prob: None,
///     trajectory: "t.json".into() };
/// let rows = [row("a", 0, 1.0), row("a", 1, 0.0), row("b", 0, 0.0), row("b", 1, 1.0)];
/// let picks = select_all(&First, &rows).unwrap();
/// assert_eq!(resolved_rate(&rows, &picks), 0.5);
/// ```
pub fn resolved_rate(rows: &[RolloutRecord], choices: &[(String, Selection)]) -> f64 {
    let mut tasks: BTreeSet<&str> = rows.iter().map(|r| r.task_id.as_str()).collect();
    tasks.extend(choices.iter().map(|(t, _)| t.as_str()));
    if tasks.is_empty() {
        return 0.0;
    }
    let mut chosen: HashMap<&str, Option<u32>> = HashMap::new();
    for (task, selection) in choices {
        chosen.entry(task.as_str()).or_insert(selection.rollout_id);
    }
    let resolved: BTreeSet<(&str, u32)> = rows
        .iter()
        .filter(|r| r.resolved())
        .map(|r| (r.task_id.as_str(), r.rollout_id))
        .collect();
    let hits = tasks
        .iter()
        .filter(|t| {
            chosen
                .get(*t)
                .copied()
                .flatten()
                .is_some_and(|id| resolved.contains(&(**t, id)))
        })
        .count();
    hits as f64 / tasks.len() as f64
}
