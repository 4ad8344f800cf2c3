//! Rollouts: an interrupted run (rollouts that failed, a torn index line)
//! resumed to the end gives the same index as one uninterrupted run, and
//! the datasets built from it pair the right trajectories.

mod agent_support;

use std::sync::atomic::{AtomicUsize, Ordering};

use agent_support::*;
use entropo_core::Environment;
use entropo_core::agent::{Limits, Policy};
use entropo_core::datasets::{self, BuildOptions};
use entropo_core::rollout::{RolloutEvent, RolloutFactory, Rollouts, read_index};
use entropo_core::types::{RolloutRecord, Task};

/// Rollout r of a task runs r + 1 bash commands then finishes; odd rollouts
/// fail their tests. When `fail_from` is set, every rollout from that many
/// calls of `policy` on gets no policy (as a crashed worker would).
struct Factory {
    calls: AtomicUsize,
    fail_from: Option<usize>,
}

impl RolloutFactory for Factory {
    fn environment(&self, _: &Task, r: u32) -> Result<Box<dyn Environment>, String> {
        let mut env = FakeEnv::new();
        env.tests_pass = r % 2 == 0;
        Ok(Box::new(env))
    }

    fn policy(&self, _: &Task, r: u32) -> Result<Box<dyn Policy>, String> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        if self.fail_from.is_some_and(|f| n >= f) {
            return Err("the worker died".into());
        }
        let mut turns: Vec<Turn> = (0..=r).map(|i| say(bash(&format!("echo {i}")))).collect();
        turns.push(say(finish()));
        Ok(Box::new(Scripted::new(turns)))
    }
}

fn tasks() -> Vec<Task> {
    ["a", "b", "c"]
        .iter()
        .map(|id| Task { instance_id: format!("demo__{id}"), ..task() })
        .collect()
}

fn run(out: &std::path::Path, factory: &Factory, concurrency: usize) -> Vec<RolloutRecord> {
    let tasks = tasks();
    let prompt = prompt();
    let limits = Limits::default();
    let run = Rollouts { tasks: &tasks, n: 4, concurrency, prompt: &prompt, limits: &limits, out };
    let failed = AtomicUsize::new(0);
    run.run(factory, |e| {
        if let RolloutEvent::Failed { .. } = e {
            failed.fetch_add(1, Ordering::SeqCst);
        }
    })
    .unwrap();
    read_index(&out.join("index.jsonl")).unwrap()
}

#[test]
fn a_resumed_run_equals_an_uninterrupted_one() {
    let whole = tempfile::tempdir().unwrap();
    let uninterrupted = run(whole.path(), &Factory { calls: AtomicUsize::new(0), fail_from: None }, 3);
    assert_eq!(uninterrupted.len(), 12);
    assert_eq!(uninterrupted.iter().filter(|r| r.resolved()).count(), 6);
    assert!(uninterrupted.iter().all(|r| r.steps == r.rollout_id + 2));

    let parts = tempfile::tempdir().unwrap();
    let first = run(parts.path(), &Factory { calls: AtomicUsize::new(0), fail_from: Some(5) }, 1);
    assert_eq!(first.len(), 5, "five rollouts ran before the worker died");
    // A kill in the middle of appending leaves half a row behind.
    let index = parts.path().join("index.jsonl");
    let mut text = std::fs::read_to_string(&index).unwrap();
    text.push_str("{\"task_id\":\"demo__c\",\"rollout_");
    std::fs::write(&index, text).unwrap();

    let resumed_factory = Factory { calls: AtomicUsize::new(0), fail_from: None };
    let resumed = run(parts.path(), &resumed_factory, 2);
    assert_eq!(resumed_factory.calls.load(Ordering::SeqCst), 7, "only the missing rollouts ran");
    assert_eq!(resumed, uninterrupted);

    // Datasets from the pool: 2 resolved × 2 unresolved per task.
    let (judged, skipped) = datasets::load_judged(&[parts.path().to_path_buf()]).unwrap();
    assert_eq!((judged.len(), skipped), (12, 0));
    let all = datasets::build(&judged, &BuildOptions { max_pairs_per_task: 0, ..Default::default() });
    assert_eq!((all.sft.len(), all.pairs.len(), all.kto.len()), (6, 12, 12));
    let capped = datasets::build(&judged, &BuildOptions { max_pairs_per_task: 2, ..Default::default() });
    assert_eq!(capped.pairs.len(), 6);
    for pair in &capped.pairs {
        assert_ne!(pair.chosen, pair.rejected);
        assert_eq!(pair.prompt.len(), 2, "system and issue");
    }
    // The two capped pairs of a task use different chosen and rejected runs.
    assert_ne!(capped.pairs[0].chosen, capped.pairs[1].chosen);
    assert_ne!(capped.pairs[0].rejected, capped.pairs[1].rejected);
}
