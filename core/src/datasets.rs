//! Training sets from judged rollouts: SFT samples from resolved
//! trajectories, preference pairs (resolved vs unresolved of the same task)
//! and KTO samples labelled by the tests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::agent::conversation;
use crate::formats::{ExportFormat, FormatError, InputKind, export_file};
use crate::io::{IoError, write_jsonl};
use crate::rollout::{INDEX_FILE, load_trajectory, read_index};
use crate::types::{KtoSample, Message, PreferencePair, SftSample, Trajectory};

/// How [`build`] turns rollouts into training rows.
///
/// ```
/// let o: entropo_core::datasets::BuildOptions = toml::from_str("max_pairs_per_task = 2").unwrap();
/// assert_eq!((o.max_pairs_per_task, o.sft_requires_finish), (2, true));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct BuildOptions {
    /// At most this many preference pairs per task (0 = every resolved ×
    /// unresolved combination).
    pub max_pairs_per_task: usize,
    /// SFT and "chosen" rows only from trajectories that ended with the
    /// agent's own `finish` (not a budget).
    pub sft_requires_finish: bool,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions { max_pairs_per_task: 4, sft_requires_finish: true }
    }
}

/// One judged trajectory with its chat, ready to become rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    /// The task.
    pub task_id: String,
    /// The conversation the policy saw (see [`conversation`]).
    pub messages: Vec<Message>,
    /// Whether the tests passed.
    pub resolved: bool,
    /// Whether the agent finished on its own.
    pub finished: bool,
}

impl Judged {
    /// From a trajectory; `None` when it was not judged or lacks its prompts.
    pub fn from_trajectory(task_id: &str, traj: &Trajectory) -> Option<Judged> {
        let reward = traj.reward?;
        Some(Judged {
            task_id: task_id.to_string(),
            messages: conversation(traj)?,
            resolved: reward >= 1.0,
            finished: traj.exit_reason.is_some_and(|e| !e.is_truncated()),
        })
    }

    /// The prompt (system and first user message) and the completion.
    fn split(&self) -> (Vec<Message>, Vec<Message>) {
        let cut = self.messages.len().min(2);
        (self.messages[..cut].to_vec(), self.messages[cut..].to_vec())
    }
}

/// The three training sets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Datasets {
    /// Resolved trajectories.
    pub sft: Vec<SftSample>,
    /// Resolved (chosen) vs unresolved (rejected) of the same task.
    pub pairs: Vec<PreferencePair>,
    /// Every judged trajectory, labelled by the tests.
    pub kto: Vec<KtoSample>,
}

/// Builds the sets from judged trajectories, in input order. A task's pairs
/// walk the resolved × unresolved grid by diagonals (`(0,0), (1,1), …,
/// (0,1), (1,2), …`), so a cap keeps as many different trajectories as it
/// can and no combination repeats.
///
/// ```
/// use entropo_core::datasets::{BuildOptions, Judged, build};
/// use entropo_core::types::{Message, Role};
/// let chat = |s: &str| vec![Message::new(Role::System, "s"), Message::new(Role::User, "u"), Message::new(Role::Assistant, s)];
/// let j = |s: &str, resolved| Judged { task_id: "t".into(), messages: chat(s), resolved, finished: true };
/// let sets = build(&[j("good", true), j("bad", false), j("worse", false)], &BuildOptions::default());
/// assert_eq!(sets.sft.len(), 1);
/// assert_eq!(sets.pairs.len(), 2);
/// assert_eq!(sets.pairs[1].rejected[0].content, "worse");
/// assert_eq!(sets.kto.iter().filter(|k| k.label).count(), 1);
/// ```
pub fn build(judged: &[Judged], options: &BuildOptions) -> Datasets {
    let mut out = Datasets::default();
    let mut by_task: BTreeMap<&str, (Vec<&Judged>, Vec<&Judged>)> = BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    for j in judged {
        let (prompt, completion) = j.split();
        out.kto.push(KtoSample { task_id: j.task_id.clone(), prompt, completion, label: j.resolved });
        let good = j.resolved && (j.finished || !options.sft_requires_finish);
        if good {
            out.sft.push(SftSample { task_id: j.task_id.clone(), messages: j.messages.clone() });
        }
        if !by_task.contains_key(j.task_id.as_str()) {
            order.push(&j.task_id);
        }
        let entry = by_task.entry(&j.task_id).or_default();
        if good {
            entry.0.push(j);
        } else if !j.resolved {
            entry.1.push(j);
        }
    }
    for task in order {
        let (good, bad) = &by_task[task];
        let all = good.len() * bad.len();
        let cap = if options.max_pairs_per_task == 0 { all } else { options.max_pairs_per_task.min(all) };
        for i in 0..cap {
            // Walk the grid diagonally so that early pairs use distinct rows.
            let (g, b) = (i % good.len(), (i % good.len() + i / good.len()) % bad.len());
            let (prompt, chosen) = good[g].split();
            let (_, rejected) = bad[b].split();
            out.pairs.push(PreferencePair { task_id: task.to_string(), prompt, chosen, rejected });
        }
    }
    out
}

/// Reads every judged trajectory of the rollout folders `dirs` (each with
/// an `index.jsonl`), in index order. Returns them and how many rows were
/// skipped (unjudged, or without their prompts).
pub fn load_judged(dirs: &[PathBuf]) -> Result<(Vec<Judged>, usize), IoError> {
    let mut out = Vec::new();
    let mut skipped = 0;
    for dir in dirs {
        for row in read_index(&dir.join(INDEX_FILE))? {
            let traj = load_trajectory(dir, &row)?;
            match Judged::from_trajectory(&row.task_id, &traj) {
                Some(j) => out.push(j),
                None => skipped += 1,
            }
        }
    }
    Ok((out, skipped))
}

/// Writes `sft.jsonl`, `pairs.jsonl` and `kto.jsonl` into `dir`, and a copy
/// of each in every format other tools read (`sharegpt.jsonl`,
/// `trl-dpo.jsonl`, `llamafactory-kto.jsonl`, …; see [`ExportFormat`]), all
/// atomically. Returns the native files' paths in that order.
pub fn write(sets: &Datasets, dir: &Path) -> Result<[PathBuf; 3], FormatError> {
    let paths = [dir.join("sft.jsonl"), dir.join("pairs.jsonl"), dir.join("kto.jsonl")];
    write_jsonl(&paths[0], &sets.sft)?;
    write_jsonl(&paths[1], &sets.pairs)?;
    write_jsonl(&paths[2], &sets.kto)?;
    for format in ExportFormat::ALL {
        let input = match format.input_kind() {
            InputKind::Sft => &paths[0],
            InputKind::Preference => &paths[1],
            InputKind::Kto => &paths[2],
        };
        export_file(format, input, &dir.join(format!("{}.jsonl", format.name())))?;
    }
    Ok(paths)
}
