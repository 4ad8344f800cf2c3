//! N rollouts per task with bounded concurrency, recorded as trajectory
//! files plus an `index.jsonl` that selectors, datasets and reports read.
//!
//! The layout of a rollout folder:
//!
//! ```text
//! OUT/index.jsonl                       one RolloutRecord per finished rollout
//! OUT/trajectories/<task>/<r>.json      R2E-Gym trajectory of rollout r
//! ```
//!
//! A run is resumable: rollouts with a row in the index are skipped, and
//! a rollout killed half-way (a trajectory file without a row) runs again.
//! Each row is appended as its rollout ends; at the end the index is
//! rewritten in task order, so a resumed run leaves the same index as an
//! uninterrupted one.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::Environment;
use crate::agent::{AgentError, Limits, Policy, PromptTemplate, run_episode};
use crate::io::{IoError, write_jsonl};
use crate::types::{RolloutRecord, Task, Trajectory, patch_hash};

/// The index file's name inside a rollout folder.
pub const INDEX_FILE: &str = "index.jsonl";

/// Why a rollout run could not go on.
#[derive(Debug, thiserror::Error)]
pub enum RolloutError {
    /// A file could not be read or written.
    #[error(transparent)]
    Io(#[from] IoError),
    /// Two tasks share an id, so their rollouts would overwrite each other.
    #[error("task id {0:?} occurs twice in the task list")]
    DuplicateTask(String),
}

/// Builds what one rollout needs. Called from worker threads.
pub trait RolloutFactory: Sync {
    /// A fresh environment for `rollout` of `task`.
    fn environment(&self, task: &Task, rollout: u32) -> Result<Box<dyn Environment>, String>;
    /// A policy for `rollout` of `task` (seed it from both for reproducible pools).
    fn policy(&self, task: &Task, rollout: u32) -> Result<Box<dyn Policy>, String>;
    /// Tokens its policies have generated so far, where it counts them
    /// (for progress bars).
    fn generated_tokens(&self) -> Option<u64> {
        None
    }
}

/// What happened to one rollout, as the run goes.
#[derive(Debug)]
pub enum RolloutEvent<'a> {
    /// The run starts: rollouts already in the index, and how many will run.
    Started {
        /// Rows found in the index (skipped).
        done: usize,
        /// Rollouts to run now.
        todo: usize,
    },
    /// A rollout ended and was recorded.
    Finished(&'a RolloutRecord),
    /// A rollout could not run or be judged (the environment broke); it has
    /// no row, so the next run tries it again.
    Failed {
        /// The task.
        task_id: &'a str,
        /// The rollout.
        rollout_id: u32,
        /// Why.
        error: String,
    },
}

/// How a run went.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct RolloutSummary {
    /// Rows in the index at the end.
    pub recorded: usize,
    /// Rollouts skipped because the index already had them.
    pub skipped: usize,
    /// Rollouts that ran to a row in this run.
    pub ran: usize,
    /// Rollouts that failed (no row).
    pub failed: usize,
    /// Rows whose tests passed.
    pub resolved: usize,
}

/// N rollouts of every task into `out`; see the [module docs](self).
///
/// ```
/// use entropo_core::agent::{Limits, Policy, PolicyError, PromptTemplate, Reply};
/// use entropo_core::environment::*;
/// use entropo_core::rollout::{RolloutFactory, Rollouts, read_index};
/// use entropo_core::types::{Message, Task};
///
/// struct Done;
/// impl Policy for Done {
///     fn respond(&mut self, _: &[Message]) -> Result<Reply, PolicyError> {
///         Ok(Reply { text: "<function=finish>\n</function>".into(), prompt_tokens: 10, completion_tokens: 5 })
///     }
/// }
/// struct Env;
/// impl Environment for Env {
///     fn tools(&self) -> Vec<ToolSpec> { vec![] }
///     fn reset(&mut self, _: &Task) -> Result<(), EnvError> { Ok(()) }
///     fn step(&mut self, _: &ToolCall) -> Result<StepResult, EnvError> {
///         Ok(StepResult { observation: "bye".into(), done: true })
///     }
///     fn patch(&mut self) -> Result<String, EnvError> { Ok("+fix\n".into()) }
///     fn run_tests(&mut self) -> Result<TestReport, EnvError> {
///         Ok(TestReport { fail_to_pass: Default::default(), pass_to_pass: Default::default(), output: String::new() })
///     }
/// }
/// struct Factory;
/// impl RolloutFactory for Factory {
///     fn environment(&self, _: &Task, _: u32) -> Result<Box<dyn Environment>, String> { Ok(Box::new(Env)) }
///     fn policy(&self, _: &Task, _: u32) -> Result<Box<dyn Policy>, String> { Ok(Box::new(Done)) }
/// }
/// let tasks: Vec<Task> = serde_json::from_str(r#"[{"instance_id": "a", "repo": "r", "problem_statement": "p",
///     "fail_to_pass": [], "pass_to_pass": []}]"#).unwrap();
/// let prompt = PromptTemplate::parse("system = '{tools}'\nuser = '{problem_statement}'", "inline".as_ref()).unwrap();
/// let out = tempfile::tempdir().unwrap();
/// let run = Rollouts { tasks: &tasks, n: 3, concurrency: 2, prompt: &prompt, limits: &Limits::default(), out: out.path() };
/// let summary = run.run(&Factory, |_| {}).unwrap();
/// assert_eq!((summary.ran, summary.recorded), (3, 3));
/// let again = run.run(&Factory, |_| {}).unwrap();
/// assert_eq!((again.ran, again.skipped), (0, 3));
/// let rows = read_index(&out.path().join("index.jsonl")).unwrap();
/// assert_eq!(rows.iter().map(|r| r.rollout_id).collect::<Vec<_>>(), [0, 1, 2]);
/// ```
pub struct Rollouts<'a> {
    /// The tasks, in the order the index lists them.
    pub tasks: &'a [Task],
    /// Rollouts per task.
    pub n: u32,
    /// Rollouts running at once (at least 1).
    pub concurrency: usize,
    /// The scaffold's prompts.
    pub prompt: &'a PromptTemplate,
    /// Episode budgets.
    pub limits: &'a Limits,
    /// The rollout folder.
    pub out: &'a Path,
}

impl Rollouts<'_> {
    /// The trajectory path of `rollout` of `task`, relative to the folder.
    pub fn trajectory_path(task_id: &str, rollout: u32) -> PathBuf {
        let safe: String =
            task_id.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
        PathBuf::from("trajectories").join(safe).join(format!("{rollout}.json"))
    }

    /// Runs what the index lacks; `on_event` sees progress (from worker threads).
    pub fn run(
        &self,
        factory: &dyn RolloutFactory,
        on_event: impl Fn(RolloutEvent<'_>) + Sync,
    ) -> Result<RolloutSummary, RolloutError> {
        let mut seen = HashSet::new();
        for t in self.tasks {
            if !seen.insert(t.instance_id.as_str()) {
                return Err(RolloutError::DuplicateTask(t.instance_id.clone()));
            }
        }
        let index = self.out.join(INDEX_FILE);
        std::fs::create_dir_all(self.out).map_err(|e| IoError::Os { file: self.out.to_path_buf(), source: e })?;
        let existing = read_index_tolerant(&index)?;
        let done: HashSet<(String, u32)> = existing.iter().map(|r| (r.task_id.clone(), r.rollout_id)).collect();
        // Rewrite what was read, dropping a torn last line, before appending.
        write_jsonl(&index, &existing)?;
        let jobs: Vec<(&Task, u32)> = self
            .tasks
            .iter()
            .flat_map(|t| (0..self.n).map(move |r| (t, r)))
            .filter(|(t, r)| !done.contains(&(t.instance_id.clone(), *r)))
            .collect();
        let skipped = self.tasks.len() * self.n as usize - jobs.len();
        on_event(RolloutEvent::Started { done: skipped, todo: jobs.len() });

        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(&index)
            .map_err(|e| IoError::Os { file: index.clone(), source: e })?;
        let sink = Mutex::new(file);
        let next = AtomicUsize::new(0);
        let (ran, failed) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let first_io_error: Mutex<Option<IoError>> = Mutex::new(None);
        std::thread::scope(|scope| {
            for _ in 0..self.concurrency.max(1).min(jobs.len()) {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&(task, r)) = jobs.get(i) else { break };
                        if first_io_error.lock().is_ok_and(|e| e.is_some()) {
                            break;
                        }
                        match self.one(factory, task, r) {
                            Ok(row) => {
                                let mut line = serde_json::to_string(&row).expect("rows serialise");
                                line.push('\n');
                                let written = sink
                                    .lock()
                                    .map_err(|_| std::io::Error::other("index lock poisoned"))
                                    .and_then(|mut f| f.write_all(line.as_bytes()).and_then(|_| f.flush()));
                                if let Err(e) = written {
                                    first_io_error.lock().expect("not poisoned").get_or_insert(IoError::Os {
                                        file: index.clone(),
                                        source: e,
                                    });
                                    break;
                                }
                                ran.fetch_add(1, Ordering::Relaxed);
                                on_event(RolloutEvent::Finished(&row));
                            }
                            Err(OneError::Save(e)) => {
                                first_io_error.lock().expect("not poisoned").get_or_insert(e);
                                break;
                            }
                            Err(OneError::Other(error)) => {
                                failed.fetch_add(1, Ordering::Relaxed);
                                on_event(RolloutEvent::Failed { task_id: &task.instance_id, rollout_id: r, error });
                            }
                        }
                    }
                });
            }
        });
        if let Some(e) = first_io_error.into_inner().expect("not poisoned") {
            return Err(e.into());
        }
        let rows = self.sorted(read_index_tolerant(&index)?);
        write_jsonl(&index, &rows)?;
        Ok(RolloutSummary {
            recorded: rows.len(),
            skipped,
            ran: ran.into_inner(),
            failed: failed.into_inner(),
            resolved: rows.iter().filter(|r| r.resolved()).count(),
        })
    }

    fn one(&self, factory: &dyn RolloutFactory, task: &Task, r: u32) -> Result<RolloutRecord, OneError> {
        let rel = Self::trajectory_path(&task.instance_id, r);
        let mut env = factory.environment(task, r).map_err(|e| OneError::Other(format!("environment: {e}")))?;
        let mut policy = factory.policy(task, r).map_err(|e| OneError::Other(format!("policy: {e}")))?;
        let traj = run_episode(task, env.as_mut(), policy.as_mut(), self.prompt, self.limits, &self.out.join(&rel))
            .map_err(|e| match e {
                AgentError::Save(e) => OneError::Save(e),
                other => OneError::Other(other.to_string()),
            })?;
        Ok(record(&task.instance_id, r, &traj, rel))
    }

    /// Rows in task order, then rollout order; rows of unknown tasks last.
    fn sorted(&self, rows: Vec<RolloutRecord>) -> Vec<RolloutRecord> {
        let order: BTreeMap<&str, usize> =
            self.tasks.iter().enumerate().map(|(i, t)| (t.instance_id.as_str(), i)).collect();
        let mut rows = rows;
        rows.sort_by_key(|r| (order.get(r.task_id.as_str()).copied().unwrap_or(usize::MAX), r.task_id.clone(), r.rollout_id));
        rows.dedup_by(|a, b| a.task_id == b.task_id && a.rollout_id == b.rollout_id);
        rows
    }
}

enum OneError {
    Save(IoError),
    Other(String),
}

/// The index row of a judged trajectory.
///
/// ```
/// use entropo_core::rollout::record;
/// use entropo_core::types::{ExitReason, Trajectory};
/// let t = Trajectory { exit_reason: Some(ExitReason::Agent), reward: Some(1.0), output_patch: "+x\n".into(), ..Default::default() };
/// let row = record("t1", 4, &t, "trajectories/t1/4.json".into());
/// assert!(row.resolved());
/// assert!(row.patch_hash.is_some());
/// ```
pub fn record(task_id: &str, rollout_id: u32, traj: &Trajectory, trajectory: PathBuf) -> RolloutRecord {
    RolloutRecord {
        task_id: task_id.to_string(),
        rollout_id,
        exit_reason: traj.exit_reason.unwrap_or(crate::types::ExitReason::LlmError),
        steps: traj.steps() as u32,
        tokens: traj.total_tokens(),
        reward: traj.reward,
        regression_passed: traj.regression_passed,
        patch_hash: patch_hash(&traj.output_patch),
        verifier_prob: traj.verifier_prob,
        trajectory,
    }
}

/// Reads an index; errors name the file and line.
pub fn read_index(path: &Path) -> Result<Vec<RolloutRecord>, IoError> {
    crate::io::read_jsonl(path)
}

/// Reads an index that a killed run may have left with a torn last line
/// (which is dropped); a missing file is an empty index.
fn read_index_tolerant(path: &Path) -> Result<Vec<RolloutRecord>, IoError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(IoError::Os { file: path.to_path_buf(), source }),
    };
    let complete = match text.rfind('\n') {
        Some(end) if !text.ends_with('\n') => &text[..=end],
        None => "",
        Some(_) => &text[..],
    };
    crate::io::parse_jsonl(complete, path)
}

/// Loads the trajectory a row points at (its path is relative to the index's folder).
pub fn load_trajectory(dir: &Path, row: &RolloutRecord) -> Result<Trajectory, IoError> {
    let path = dir.join(&row.trajectory);
    let bytes = std::fs::read(&path).map_err(|source| IoError::Os { file: path.clone(), source })?;
    serde_json::from_slice(&bytes).map_err(|e| IoError::Parse { file: path, line: e.line(), message: e.to_string() })
}

/// Scores every row of the index in `dir` that has no `verifier_prob` yet
/// with `verifier`, writing the probability into the row and its trajectory
/// (both atomically). `on_row` sees each scored row. Returns how many rows
/// were scored.
pub fn score_index(
    dir: &Path,
    tasks: &[Task],
    verifier: &dyn crate::Verifier,
    mut on_row: impl FnMut(&RolloutRecord),
) -> Result<usize, ScoreError> {
    let index = dir.join(INDEX_FILE);
    let mut rows = read_index(&index)?;
    let by_id: BTreeMap<&str, &Task> = tasks.iter().map(|t| (t.instance_id.as_str(), t)).collect();
    let mut scored = 0;
    for row in rows.iter_mut().filter(|r| r.verifier_prob.is_none()) {
        let task = by_id.get(row.task_id.as_str()).ok_or_else(|| ScoreError::UnknownTask(row.task_id.clone()))?;
        let mut traj = load_trajectory(dir, row)?;
        let p = verifier
            .score(task, &traj)
            .map_err(|e| ScoreError::Verifier { task: row.task_id.clone(), rollout: row.rollout_id, message: e.to_string() })?;
        traj.verifier_prob = Some(p);
        let path = dir.join(&row.trajectory);
        let bytes = serde_json::to_vec_pretty(&traj)
            .map_err(|e| IoError::Serialise { file: path.clone(), message: e.to_string() })?;
        crate::io::write_atomic(&path, &bytes)?;
        row.verifier_prob = Some(p);
        scored += 1;
        on_row(row);
    }
    write_jsonl(&index, &rows)?;
    Ok(scored)
}

/// Why [`score_index`] stopped.
#[derive(Debug, thiserror::Error)]
pub enum ScoreError {
    /// A file could not be read or written.
    #[error(transparent)]
    Io(#[from] IoError),
    /// A row names a task the task list lacks.
    #[error("the index has rollouts of task {0:?}, which is not in the task list")]
    UnknownTask(String),
    /// The verifier failed.
    #[error("task {task}, rollout {rollout}: verifier: {message}")]
    Verifier {
        /// The task.
        task: String,
        /// The rollout.
        rollout: u32,
        /// What it said.
        message: String,
    },
}
