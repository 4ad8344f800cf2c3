//! How varied a pool is: distinct patches per task, how far apart the
//! rollouts' action sequences are, and (from outside) token entropy.

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::agent::{CallError, parse_reply};
use crate::environment::ToolSpec;
use crate::types::Trajectory;

use super::Pool;

/// The element of an action sequence for a step whose action holds no
/// readable function call.
pub const NO_CALL: &str = "(no call)";

/// Parameters whose value names what a call acts on, in order of
/// preference: the first one a call has is its main argument.
const MAIN_ARGUMENTS: [&str; 3] = ["search_term", "path", "cmd"];

/// Diversity of a method's pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Diversity {
    /// Distinct non-empty patch hashes per task, averaged over tasks.
    pub distinct_patches: f64,
    /// Mean normalised edit distance (0 = same, 1 = nothing shared) between
    /// the action sequences of two rollouts of a task, over every pair of
    /// the task's rollouts, averaged over tasks with at least two rollouts;
    /// `None` when trajectories were not read or no task has two rollouts.
    pub action_distance: Option<f64>,
    /// Mean token entropy of the policy's samples, when measured elsewhere.
    pub token_entropy: Option<f64>,
}

/// The diversity of `pool`; `token_entropy` is passed through (a NaN or
/// infinite value is taken as unknown).
///
/// ```
/// use entropo_core::eval::{Pool, diversity};
/// use entropo_core::types::{ExitReason, RolloutRecord};
/// let row = |id, hash: Option<&str>| RolloutRecord { task_id: "t".into(), rollout_id: id,
///     exit_reason: ExitReason::Agent, steps: 1, tokens: 0, reward: None,
///     regression_passed: None, patch_hash: hash.map(String::from), verifier_prob: None,
///     trajectory: "t.json".into() };
/// let pool = Pool::from_rows(vec![row(0, Some("a")), row(1, Some("a")), row(2, Some("b")), row(3, None)]).unwrap();
/// let d = diversity(&pool, Some(0.7));
/// assert_eq!(d.distinct_patches, 2.0);
/// assert_eq!(d.action_distance, None); // no trajectories read
/// assert_eq!(d.token_entropy, Some(0.7));
/// ```
pub fn diversity(pool: &Pool, token_entropy: Option<f64>) -> Diversity {
    let groups = pool.by_task();
    let rows = pool.rows();
    let patches: Vec<f64> = groups
        .iter()
        .map(|(_, members)| {
            let distinct: BTreeSet<&str> = members
                .iter()
                .filter_map(|&i| rows[i].patch_hash.as_deref())
                .collect();
            distinct.len() as f64
        })
        .collect();
    let action_distance = pool.actions().and_then(|actions| {
        let per_task: Vec<f64> = groups
            .iter()
            .filter_map(|(_, members)| {
                let seqs: Vec<&[String]> = members.iter().map(|&i| actions[i].as_slice()).collect();
                mean_pairwise_distance(&seqs)
            })
            .collect();
        mean(&per_task)
    });
    Diversity {
        distinct_patches: mean(&patches).unwrap_or(0.0),
        action_distance,
        token_entropy: token_entropy.filter(|e| e.is_finite()),
    }
}

/// The action sequence of a trajectory: one element per step, the
/// step's [`action_signature`] or [`NO_CALL`].
///
/// ```
/// use entropo_core::eval::action_sequence;
/// use entropo_core::types::{Step, Trajectory};
/// let step = |action: &str| Step { action: action.into(), ..Default::default() };
/// let t = Trajectory { trajectory_steps: vec![
///     step("<function=file_editor>\n<parameter=command>view</parameter>\n<parameter=path>/testbed/a.py</parameter>\n</function>"),
///     step("I am not sure."),
/// ], ..Default::default() };
/// assert_eq!(action_sequence(&t), ["file_editor:view:/testbed/a.py", "(no call)"]);
/// ```
pub fn action_sequence(trajectory: &Trajectory) -> Vec<String> {
    trajectory
        .trajectory_steps
        .iter()
        .map(|s| action_signature(&s.action).unwrap_or_else(|| NO_CALL.to_string()))
        .collect()
}

/// A step's call reduced to what it does: the function name, its `command`
/// parameter when it has one, and its main argument (the first of
/// `search_term`, `path`, `cmd` that it has, white space runs collapsed),
/// joined by `:`. The call may be in R2E-Gym's format or JSON (as
/// [`parse_reply`] reads them); `None` when the text holds no readable call.
///
/// ```
/// use entropo_core::eval::action_signature;
/// let view = "<function=file_editor>\n<parameter=command>view</parameter>\n<parameter=path>/testbed/a.py</parameter>\n</function>";
/// assert_eq!(action_signature(view).as_deref(), Some("file_editor:view:/testbed/a.py"));
/// let bash = r#"<tool_call>{"name": "execute_bash", "arguments": {"cmd": "python  -m pytest\n -q"}}</tool_call>"#;
/// assert_eq!(action_signature(bash).as_deref(), Some("execute_bash:python -m pytest -q"));
/// assert_eq!(action_signature("no call here"), None);
/// ```
pub fn action_signature(action: &str) -> Option<String> {
    // Read against no tools, the call's name comes back in the error; read
    // again against a tool of that name with no declared parameters, every
    // parameter is passed through.
    let name = match parse_reply(action, &[]).call {
        Err(CallError::UnknownTool { name }) => name,
        _ => return None,
    };
    let spec = ToolSpec {
        name,
        description: String::new(),
        params: vec![],
    };
    let call = parse_reply(action, &[spec]).call.ok()?;
    let mut parts = vec![call.name.clone()];
    if let Some(command) = call.params.get("command") {
        parts.push(collapse(command));
    }
    if let Some(main) = MAIN_ARGUMENTS.iter().find_map(|p| call.params.get(*p)) {
        parts.push(collapse(main));
    }
    Some(parts.join(":"))
}

/// `text` with surrounding white space removed and inner runs made one space.
fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Levenshtein distance between `a` and `b` (insertions, deletions and
/// substitutions of whole elements) divided by the longer length: 0 for
/// equal sequences, 1 when nothing lines up. Two empty sequences are 0
/// apart.
///
/// ```
/// use entropo_core::eval::normalised_levenshtein;
/// assert_eq!(normalised_levenshtein(&["a", "b", "c"], &["a", "b", "c"]), 0.0);
/// assert_eq!(normalised_levenshtein(&["a", "b", "c", "d"], &["a", "x", "c"]), 0.5);
/// assert_eq!(normalised_levenshtein::<&str>(&[], &["a"]), 1.0);
/// ```
pub fn normalised_levenshtein<T: PartialEq>(a: &[T], b: &[T]) -> f64 {
    let longer = a.len().max(b.len());
    if longer == 0 {
        return 0.0;
    }
    // One row of the edit-distance table at a time.
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, x) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, y) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(x != y);
            cur[j + 1] = substitute.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()] as f64 / longer as f64
}

/// The mean [`normalised_levenshtein`] over every unordered pair of
/// `sequences`; `None` for fewer than two.
///
/// ```
/// use entropo_core::eval::mean_pairwise_distance;
/// let a = vec!["x".to_string(), "y".to_string()];
/// let b = vec!["x".to_string(), "z".to_string()];
/// assert_eq!(mean_pairwise_distance(&[&a, &a, &b]), Some((0.0 + 0.5 + 0.5) / 3.0));
/// assert_eq!(mean_pairwise_distance(&[&a]), None);
/// ```
pub fn mean_pairwise_distance(sequences: &[&[String]]) -> Option<f64> {
    let mut distances = Vec::new();
    for (i, a) in sequences.iter().enumerate() {
        for b in &sequences[i + 1..] {
            distances.push(normalised_levenshtein(a, b));
        }
    }
    mean(&distances)
}

/// The arithmetic mean; `None` for no values.
pub(crate) fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::testutil::row;
    use crate::types::Step;

    fn traj(actions: &[&str]) -> Trajectory {
        let steps = actions
            .iter()
            .map(|a| Step {
                action: format!(
                    "<function=search>\n<parameter=search_term>{a}</parameter>\n</function>"
                ),
                ..Default::default()
            })
            .collect();
        Trajectory {
            trajectory_steps: steps,
            ..Default::default()
        }
    }

    #[test]
    fn levenshtein_by_hand() {
        let d = |a: &str, b: &str| {
            normalised_levenshtein(
                &a.chars().collect::<Vec<_>>(),
                &b.chars().collect::<Vec<_>>(),
            )
        };
        assert_eq!(d("kitten", "sitting"), 3.0 / 7.0);
        assert_eq!(d("flaw", "lawn"), 2.0 / 4.0);
        assert_eq!(d("", ""), 0.0);
        assert_eq!(d("abc", ""), 1.0);
        assert_eq!(d("abc", "xyz"), 1.0);
        assert_eq!(d("ab", "ba"), 1.0);
    }

    #[test]
    fn signatures_of_the_r2e_tools() {
        let finish = "Done.\n<function=finish>\n<parameter=command>submit</parameter>\n<parameter=result>ok</parameter>\n</function>";
        assert_eq!(action_signature(finish).as_deref(), Some("finish:submit"));
        let search = "<function=search>\n<parameter=search_term>def add</parameter>\n<parameter=path>/testbed</parameter>\n</function>";
        assert_eq!(action_signature(search).as_deref(), Some("search:def add"));
        let bare = "<function=finish>\n</function>";
        assert_eq!(action_signature(bare).as_deref(), Some("finish"));
        assert_eq!(
            action_signature("<function=search>\n<parameter=x>unclosed"),
            None
        );
        assert_eq!(action_signature(""), None);
    }

    #[test]
    fn action_distance_averages_pairs_then_tasks() {
        let rows = vec![
            row("a", 0, true),
            row("a", 1, false),
            row("a", 2, false),
            row("b", 0, true),
            row("c", 0, true),
            row("c", 1, true),
        ];
        let trajs = [
            traj(&["x", "y"]),      // a0
            traj(&["x", "y"]),      // a1: 0 from a0
            traj(&["x", "z"]),      // a2: 0.5 from both
            traj(&["q"]),           // b0: alone, no pair
            traj(&["p", "q", "r"]), // c0
            traj(&[]),              // c1: 1 from c0
        ];
        let pool = Pool::with_trajectories(rows, &trajs).unwrap();
        let d = diversity(&pool, Some(f64::NAN));
        let a = (0.0 + 0.5 + 0.5) / 3.0;
        assert!((d.action_distance.unwrap() - (a + 1.0) / 2.0).abs() < 1e-12);
        assert_eq!(d.token_entropy, None);
        assert_eq!(d.distinct_patches, 0.0, "no patch hashes in these rows");
    }

    #[test]
    fn empty_pool_has_no_diversity() {
        let d = diversity(&Pool::with_trajectories(vec![], &[]).unwrap(), None);
        assert_eq!(
            d,
            Diversity {
                distinct_patches: 0.0,
                action_distance: None,
                token_entropy: None
            }
        );
    }
}
