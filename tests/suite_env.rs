//! The generated task suite in the `local` environment: a task's tests fail
//! on the buggy workspace, and the gold patch applied through the agent's own
//! tools makes them pass. Suite → Task → Environment → TestReport, end to end.

mod common;

use std::collections::BTreeMap;

use common::{entropo, stdout_of};
use entropo_core::Environment;
use entropo_core::environment::{TestStatus, ToolCall};
use entropo_core::types::Task;

fn call(name: &str, params: &[(&str, &str)]) -> ToolCall {
    ToolCall {
        name: name.to_string(),
        params: params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>(),
    }
}

#[test]
fn suite_task_is_fixed_by_its_gold_patch_in_the_local_environment() {
    let dir = tempfile::tempdir().unwrap();
    let a = entropo()
        .args(["data", "suite", "--seed", "5", "--train", "2", "--test", "1", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    assert!(stdout_of(&a).starts_with("generated 2 train and 1 held-out tasks"), "{}", stdout_of(&a));
    let tasks: Vec<Task> = entropo_core::io::read_jsonl(&dir.path().join("train.jsonl")).unwrap();
    let held_out: Vec<Task> = entropo_core::io::read_jsonl(&dir.path().join("test.jsonl")).unwrap();
    assert_eq!((tasks.len(), held_out.len()), (2, 1));

    let registry = entropo::builtin_registry().unwrap();
    let mut env = registry.create::<dyn Environment>("local", &Default::default()).unwrap();
    let task = &tasks[0];
    env.reset(task).unwrap();

    let before = env.run_tests().unwrap();
    assert_eq!(before.reward(), 0.0, "{}", before.output);
    assert!(before.fail_to_pass.values().all(|s| *s != TestStatus::Passed), "{:?}", before.fail_to_pass);
    assert!(before.regression_passed(), "{:?}", before.pass_to_pass);

    // The agent's view of the buggy file, then the fix through execute_bash.
    let listing = env.step(&call("file_editor", &[("command", "view"), ("path", "/testbed")])).unwrap();
    assert!(listing.observation.starts_with("Execution output of [file_editor]:"), "{}", listing.observation);
    let gold = task.patch.as_deref().unwrap();
    let cmd = format!("patch -p1 <<'ENTROPO_EOF'\n{gold}\nENTROPO_EOF");
    let applied = env.step(&call("execute_bash", &[("cmd", &cmd)])).unwrap();
    assert!(applied.observation.starts_with("Exit code: 0"), "{}", applied.observation);

    let after = env.run_tests().unwrap();
    assert_eq!(after.reward(), 1.0, "{}", after.output);
    let patch = env.patch().unwrap();
    let added: Vec<&str> = gold.lines().filter(|l| l.starts_with('+') && !l.starts_with("+++")).collect();
    assert!(added.iter().all(|l| patch.contains(l)), "{patch}");

    let done = env.step(&call("finish", &[("command", "submit")])).unwrap();
    assert!(done.done);
}
