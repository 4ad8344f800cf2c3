//! The `local` environment end to end: reset → view → fix → tests → reward.

mod common;

use std::collections::BTreeMap;

use common::*;
use entropo_core::environment::{Environment, TestStatus, ToolCall};
use entropo_core::registry::Registry;
use entropo_core::types::Task;

fn call(name: &str, kv: &[(&str, &str)]) -> ToolCall {
    ToolCall { name: name.into(), params: params(kv) }
}

fn task(workspace: &std::path::Path) -> Task {
    Task {
        instance_id: "demo__calc-1".into(),
        repo: "demo/calc".into(),
        base_commit: None,
        problem_statement: "add() subtracts".into(),
        workspace: Some(workspace.to_path_buf()),
        image: None,
        mount_at: "/testbed".into(),
        fail_to_pass: vec!["tests.test_ops.TestAdd.test_add".into()],
        pass_to_pass: vec!["tests.test_ops.TestSub.test_sub".into(), "test_missing (tests.test_ops.TestSub)".into()],
        patch: None,
        test_patch: None,
        test_command: None,
    }
}

fn make_env() -> Box<dyn Environment> {
    let mut registry = Registry::new();
    entropo_envs::register(&mut registry).unwrap();
    let p: entropo_core::registry::Params = serde_json::from_str(r#"{"step_timeout_secs": 30}"#).unwrap();
    registry.create::<dyn Environment>("local", &p).unwrap()
}

#[test]
fn full_episode_fixes_the_bug_and_earns_reward_1() {
    let source = tempfile::tempdir().unwrap();
    calc_repo(source.path());
    let mut t = task(source.path());
    t.pass_to_pass.pop();
    let mut env = make_env();
    env.reset(&t).unwrap();

    // Before the fix the FAIL_TO_PASS test fails.
    let before = env.run_tests().unwrap();
    assert_eq!(before.fail_to_pass["tests.test_ops.TestAdd.test_add"], TestStatus::Failed, "{}", before.output);
    assert_eq!(before.pass_to_pass["tests.test_ops.TestSub.test_sub"], TestStatus::Passed);
    assert_eq!(before.reward(), 0.0);

    let view = env.step(&call("file_editor", &[("command", "view"), ("path", "/testbed/calc/ops.py")])).unwrap();
    assert!(view.observation.starts_with("Execution output of [file_editor]:\nHere's the result of running `cat -n` on the file: /testbed/calc/ops.py:\n     1 def add(a, b):\n"));
    assert!(!view.done);
    let found = env.step(&call("search", &[("search_term", "def add")])).unwrap();
    assert_eq!(
        found.observation,
        "Execution output of [search]:\nFound 1 matches for \"def add\" in /testbed:\n./calc/ops.py (1 matches)\nEnd of matches for \"def add\" in /testbed\n"
    );
    let fix = env
        .step(&call(
            "file_editor",
            &[("command", "str_replace"), ("path", "/testbed/calc/ops.py"), ("old_str", "def add(a, b):\n    return a - b"), ("new_str", "def add(a, b):\n    return a + b")],
        ))
        .unwrap();
    assert!(fix.observation.contains("has been edited"), "{}", fix.observation);
    let created = env.step(&call("file_editor", &[("command", "create"), ("path", "/testbed/repro.py"), ("file_text", "from calc.ops import add\nprint(add(2, 3))")])).unwrap();
    assert!(created.observation.contains("File created at /testbed/repro.py"));
    // Files the editor made are writable by the sandbox user.
    let ran = env.step(&call("execute_bash", &[("cmd", "python3 repro.py && echo '# ok' >> repro.py && rm repro.py")])).unwrap();
    assert_eq!(ran.observation, "Exit code: 0\nExecution output of [execute_bash]:\n5\n");

    let patch = env.patch().unwrap();
    assert!(patch.contains("--- a/calc/ops.py\n+++ b/calc/ops.py\n"), "{patch}");
    assert!(patch.contains("-    return a - b\n+    return a + b\n"), "{patch}");
    assert!(!patch.contains(".entropo"), "{patch}");
    assert!(!patch.contains("repro.py"), "{patch}");

    let done = env.step(&call("finish", &[("command", "submit")])).unwrap();
    assert!(done.done);
    let report = env.run_tests().unwrap();
    assert_eq!(report.fail_to_pass["tests.test_ops.TestAdd.test_add"], TestStatus::Passed, "{}", report.output);
    assert_eq!(report.reward(), 1.0);
    assert!(report.regression_passed());
}

#[test]
fn errors_are_observations_and_ids_absent_are_missing() {
    let source = tempfile::tempdir().unwrap();
    calc_repo(source.path());
    let mut env = make_env();
    assert!(env.step(&call("file_editor", &[])).is_err(), "step before reset is an environment error");
    env.reset(&task(source.path())).unwrap();
    let unknown = env.step(&call("browse", &[])).unwrap();
    assert_eq!(
        unknown.observation,
        "Execution output of [browse]:\nERROR: Unknown tool 'browse'. Available tools: file_editor, execute_bash, search, finish."
    );
    let missing = env.step(&call("execute_bash", &[])).unwrap();
    assert!(missing.observation.contains("Missing required parameter 'cmd'"));
    let missing = env.step(&call("search", &[])).unwrap();
    assert!(missing.observation.contains("Missing required parameter 'search_term'"));
    let report = env.run_tests().unwrap();
    assert_eq!(report.pass_to_pass["test_missing (tests.test_ops.TestSub)"], TestStatus::Missing);
    // The original folder is never touched.
    env.step(&call("execute_bash", &[("cmd", "rm -rf calc")])).unwrap();
    assert!(source.path().join("calc/ops.py").exists());
}

#[test]
fn reset_needs_a_workspace_and_params_are_checked() {
    let mut env = make_env();
    let mut t = task(std::path::Path::new("/nonexistent"));
    t.workspace = None;
    let err = env.reset(&t).unwrap_err().to_string();
    assert!(err.contains("demo__calc-1") && err.contains("workspace"), "{err}");
    let mut registry = Registry::new();
    entropo_envs::register(&mut registry).unwrap();
    let bad: entropo_core::registry::Params = serde_json::from_str(r#"{"wasm_memory_mb": 0}"#).unwrap();
    let err = registry.create::<dyn Environment>("local", &bad).err().unwrap().to_string();
    assert!(err.contains("params.wasm_memory_mb"), "{err}");
    let bad: entropo_core::registry::Params = serde_json::from_str(r#"{"step_timeout": 3}"#).unwrap();
    assert!(registry.create::<dyn Environment>("local", &bad).is_err());
    let _ = BTreeMap::<String, String>::new();
}

#[test]
fn test_patch_and_custom_command() {
    let source = tempfile::tempdir().unwrap();
    calc_repo(source.path());
    let mut t = task(source.path());
    t.fail_to_pass = vec!["tests.test_extra.TestExtra.test_neg".into()];
    t.pass_to_pass = vec![];
    t.test_command = Some("python3 -m unittest -v tests.test_extra".into());
    t.test_patch = Some(
        "diff --git a/tests/test_extra.py b/tests/test_extra.py\nnew file mode 100644\n--- /dev/null\n+++ b/tests/test_extra.py\n@@ -0,0 +1,6 @@\n+import unittest\n+from calc.ops import sub\n+\n+class TestExtra(unittest.TestCase):\n+    def test_neg(self):\n+        self.assertEqual(sub(1, 2), -1)\n"
            .into(),
    );
    let mut env = make_env();
    env.reset(&t).unwrap();
    let report = env.run_tests().unwrap();
    assert_eq!(report.fail_to_pass["tests.test_extra.TestExtra.test_neg"], TestStatus::Passed, "{}", report.output);
}
