//! A method's rollout pool: index rows checked for repeats, grouped by task,
//! with the action sequence of each rollout when its trajectory was read.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use crate::io::IoError;
use crate::rollout::{load_trajectory, read_index};
use crate::types::{RolloutRecord, Trajectory};

use super::diversity::action_sequence;

/// Why a pool could not be built or read.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// The index or a trajectory could not be read (the message names the
    /// file, and the line for an index row).
    #[error(transparent)]
    Io(#[from] IoError),
    /// Two rows share a task and rollout id.
    #[error("{}: rollout {rollout_id} of task `{task_id}` appears a second time", place(file.as_deref(), *row))]
    Repeated {
        /// The index file, when the rows came from one.
        file: Option<PathBuf>,
        /// 1-based row number (the line, for an index without blank lines).
        row: usize,
        /// The task.
        task_id: String,
        /// The repeated rollout id.
        rollout_id: u32,
    },
    /// Rows and trajectories were given in different numbers.
    #[error("{rows} index rows but {trajectories} trajectories")]
    Mismatch {
        /// Rows given.
        rows: usize,
        /// Trajectories given.
        trajectories: usize,
    },
}

fn place(file: Option<&Path>, row: usize) -> String {
    match file {
        Some(f) => format!("{}:{row}", f.display()),
        None => format!("row {row}"),
    }
}

/// The rollouts of one method: index rows (each `(task_id, rollout_id)` at
/// most once) and, when trajectories were read, the action sequence of each
/// (see [`action_sequence`](super::action_sequence)).
///
/// ```
/// use entropo_core::eval::Pool;
/// use entropo_core::types::{ExitReason, RolloutRecord};
/// let row = |task: &str, id| RolloutRecord { task_id: task.into(), rollout_id: id,
///     exit_reason: ExitReason::Agent, steps: 1, tokens: 0, reward: Some(1.0),
///     regression_passed: None, patch_hash: None, verifier_prob: None,
///     trajectory: "t.json".into() };
/// let pool = Pool::from_rows(vec![row("b", 1), row("a", 0), row("b", 0)]).unwrap();
/// assert_eq!(pool.task_count(), 2);
/// assert!(Pool::from_rows(vec![row("a", 0), row("a", 0)]).is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Pool {
    index: Option<PathBuf>,
    rows: Vec<RolloutRecord>,
    actions: Option<Vec<Vec<String>>>,
}

impl Pool {
    /// A pool of `rows` without trajectories (so without action diversity).
    pub fn from_rows(rows: Vec<RolloutRecord>) -> Result<Pool, EvalError> {
        check_repeats(&rows, None)?;
        Ok(Pool {
            index: None,
            rows,
            actions: None,
        })
    }

    /// A pool of `rows` and their trajectories, `trajectories[i]` being the
    /// trajectory of `rows[i]`.
    ///
    /// ```
    /// use entropo_core::eval::Pool;
    /// use entropo_core::types::{ExitReason, RolloutRecord, Step, Trajectory};
    /// let row = RolloutRecord { task_id: "t".into(), rollout_id: 0,
    ///     exit_reason: ExitReason::Agent, steps: 1, tokens: 0, reward: None,
    ///     regression_passed: None, patch_hash: None, verifier_prob: None,
    ///     trajectory: "t/0.json".into() };
    /// let step = Step { action: "<function=finish>\n<parameter=command>submit</parameter>\n</function>".into(), ..Default::default() };
    /// let traj = Trajectory { trajectory_steps: vec![step], ..Default::default() };
    /// let pool = Pool::with_trajectories(vec![row], &[traj]).unwrap();
    /// assert_eq!(pool.actions().unwrap()[0], ["finish:submit"]);
    /// ```
    pub fn with_trajectories(
        rows: Vec<RolloutRecord>,
        trajectories: &[Trajectory],
    ) -> Result<Pool, EvalError> {
        if rows.len() != trajectories.len() {
            return Err(EvalError::Mismatch {
                rows: rows.len(),
                trajectories: trajectories.len(),
            });
        }
        check_repeats(&rows, None)?;
        let actions = trajectories.iter().map(action_sequence).collect();
        Ok(Pool {
            index: None,
            rows,
            actions: Some(actions),
        })
    }

    /// Reads the rollout index `index` and every trajectory it points at
    /// (paths relative to the index's folder), keeping only each
    /// trajectory's action sequence. Errors name the file, and the line for
    /// an index row.
    ///
    /// ```
    /// use entropo_core::eval::Pool;
    /// let dir = tempfile::tempdir().unwrap();
    /// std::fs::create_dir(dir.path().join("t")).unwrap();
    /// std::fs::write(dir.path().join("t/0.json"), r#"{"trajectory_steps": [{"step_idx": 0,
    ///     "action": "<function=search>\n<parameter=search_term>def add</parameter>\n</function>"}]}"#).unwrap();
    /// std::fs::write(dir.path().join("index.jsonl"), concat!(r#"{"task_id":"t","rollout_id":0,"#,
    ///     r#""exit_reason":"agent","steps":1,"tokens":9,"reward":1.0,"regression_passed":null,"#,
    ///     r#""patch_hash":"ab","verifier_prob":null,"trajectory":"t/0.json"}"#, "\n")).unwrap();
    /// let pool = Pool::load(&dir.path().join("index.jsonl")).unwrap();
    /// assert_eq!(pool.actions().unwrap()[0], ["search:def add"]);
    ///
    /// std::fs::remove_file(dir.path().join("t/0.json")).unwrap();
    /// let err = Pool::load(&dir.path().join("index.jsonl")).unwrap_err();
    /// assert!(err.to_string().contains("0.json"), "{err}");
    /// ```
    pub fn load(index: &Path) -> Result<Pool, EvalError> {
        let mut pool = Pool::load_index(index)?;
        let dir = index.parent().unwrap_or(Path::new(""));
        let actions = pool
            .rows
            .iter()
            .map(|row| Ok(action_sequence(&load_trajectory(dir, row)?)))
            .collect::<Result<_, IoError>>()?;
        pool.actions = Some(actions);
        Ok(pool)
    }

    /// Reads the rollout index `index` alone (no trajectories, so no action
    /// diversity). Errors name the file and line.
    pub fn load_index(index: &Path) -> Result<Pool, EvalError> {
        let rows = read_index(index)?;
        check_repeats(&rows, Some(index))?;
        Ok(Pool {
            index: Some(index.to_path_buf()),
            rows,
            actions: None,
        })
    }

    /// The index file the pool was read from, if any.
    pub fn index(&self) -> Option<&Path> {
        self.index.as_deref()
    }

    /// The index rows, in the order given.
    pub fn rows(&self) -> &[RolloutRecord] {
        &self.rows
    }

    /// The action sequence of each row's trajectory (same order as
    /// [`rows`](Pool::rows)); `None` when trajectories were not read.
    pub fn actions(&self) -> Option<&[Vec<String>]> {
        self.actions.as_deref()
    }

    /// How many distinct tasks the pool covers.
    pub fn task_count(&self) -> usize {
        self.by_task().len()
    }

    /// Positions in [`rows`](Pool::rows) grouped by task: tasks in
    /// ascending id order, each task's positions in ascending rollout id.
    pub fn by_task(&self) -> Vec<(&str, Vec<usize>)> {
        let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, r) in self.rows.iter().enumerate() {
            groups.entry(r.task_id.as_str()).or_default().push(i);
        }
        groups
            .into_iter()
            .map(|(task, mut rows)| {
                rows.sort_by_key(|&i| self.rows[i].rollout_id);
                (task, rows)
            })
            .collect()
    }
}

/// An error for the first `(task_id, rollout_id)` that occurs twice.
fn check_repeats(rows: &[RolloutRecord], file: Option<&Path>) -> Result<(), EvalError> {
    let mut seen: HashMap<(&str, u32), usize> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        if seen.insert((r.task_id.as_str(), r.rollout_id), i).is_some() {
            return Err(EvalError::Repeated {
                file: file.map(Path::to_path_buf),
                row: i + 1,
                task_id: r.task_id.clone(),
                rollout_id: r.rollout_id,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::testutil::row;

    #[test]
    fn groups_sorted_by_task_then_rollout() {
        let pool = Pool::from_rows(vec![
            row("b", 2, true),
            row("a", 1, false),
            row("b", 0, false),
            row("a", 0, true),
        ])
        .unwrap();
        let groups = pool.by_task();
        assert_eq!(groups, vec![("a", vec![3, 1]), ("b", vec![2, 0])]);
    }

    #[test]
    fn repeated_rollout_names_file_and_row() {
        let dir = tempfile::tempdir().unwrap();
        let index = dir.path().join("index.jsonl");
        crate::io::write_jsonl(
            &index,
            &[row("a", 0, true), row("b", 0, true), row("a", 0, false)],
        )
        .unwrap();
        let err = Pool::load_index(&index).unwrap_err().to_string();
        assert!(
            err.contains("index.jsonl:3") && err.contains("`a`"),
            "{err}"
        );
        let err = Pool::from_rows(vec![row("a", 0, true), row("a", 0, false)])
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("row 2:"), "{err}");
    }

    #[test]
    fn bad_index_line_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let index = dir.path().join("index.jsonl");
        let good = serde_json::to_string(&row("a", 0, true)).unwrap();
        std::fs::write(&index, format!("{good}\n{{\"task_id\": 3}}\n")).unwrap();
        let err = Pool::load(&index).unwrap_err().to_string();
        assert!(err.contains("index.jsonl:2"), "{err}");
    }

    #[test]
    fn mismatched_trajectories_are_refused() {
        let err = Pool::with_trajectories(vec![row("a", 0, true)], &[]).unwrap_err();
        assert!(matches!(
            err,
            EvalError::Mismatch {
                rows: 1,
                trajectories: 0
            }
        ));
    }
}
