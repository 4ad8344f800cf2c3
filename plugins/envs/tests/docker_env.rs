//! The `docker` environment against a real Docker engine: the one
//! `DOCKER_HOST` names (`.ci/run` starts a private engine and exports it),
//! else the standard socket. These tests never skip: without an engine they
//! fail, saying how to start one.

mod common;

use std::path::Path;

use bollard::Docker;
use common::*;
use entropo_core::environment::{Environment, TestStatus, ToolCall};
use entropo_core::registry::{Params, Registry};
use entropo_core::types::Task;
use entropo_envs::docker::{DEFAULT_IMAGE, DockerEnv, DockerParams};

const SETUP_HINT: &str = "start the engine with `export DOCKER_HOST=$(scripts/docker.sh start)` and build the base \
                          image with `scripts/docker.sh image` (scripts/setup.sh does both)";

/// A client of the engine under test, for assertions through the API.
struct Engine {
    rt: tokio::runtime::Runtime,
    docker: Docker,
}

impl Engine {
    /// Connects, or fails the test with the set-up hint.
    fn connect() -> Engine {
        let endpoint = DockerParams::default().resolved_endpoints()[0].clone();
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let docker = rt
            .block_on(async { Docker::connect_with_defaults()?.negotiate_version().await })
            .unwrap_or_else(|e| panic!("no Docker engine answers at {endpoint} ({e}): {SETUP_HINT}"));
        if let Err(e) = rt.block_on(docker.inspect_image(DEFAULT_IMAGE)) {
            panic!("the engine at {endpoint} lacks {DEFAULT_IMAGE} ({e}): {SETUP_HINT}");
        }
        Engine { rt, docker }
    }

    /// Whether a container of this name exists (running or not).
    fn exists(&self, name: &str) -> bool {
        match self.rt.block_on(self.docker.inspect_container(name, None)) {
            Ok(_) => true,
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => false,
            Err(e) => panic!("inspect {name}: {e}"),
        }
    }

    fn inspect(&self, name: &str) -> bollard::models::ContainerInspectResponse {
        self.rt.block_on(self.docker.inspect_container(name, None)).unwrap()
    }
}

fn call(name: &str, kv: &[(&str, &str)]) -> ToolCall {
    ToolCall { name: name.into(), params: params(kv) }
}

fn bash(env: &mut dyn Environment, cmd: &str) -> String {
    env.step(&call("execute_bash", &[("cmd", cmd)])).unwrap().observation
}

fn ok(output: &str) -> String {
    format!("Exit code: 0\nExecution output of [execute_bash]:\n{output}")
}

fn docker_env(json: &str) -> DockerEnv {
    let _ = Engine::connect();
    DockerEnv::new(serde_json::from_str(json).unwrap()).unwrap()
}

/// The calculator task of the other tests, on a copy at `source`.
fn calc_task(source: &Path) -> Task {
    calc_repo(source);
    Task {
        instance_id: "demo__calc-1".into(),
        repo: "demo/calc".into(),
        base_commit: None,
        problem_statement: "add() subtracts".into(),
        workspace: Some(source.to_path_buf()),
        image: None,
        mount_at: "/testbed".into(),
        fail_to_pass: vec!["tests.test_ops.TestAdd.test_add".into()],
        pass_to_pass: vec!["tests.test_ops.TestSub.test_sub".into()],
        patch: None,
        test_patch: None,
        test_command: None,
    }
}

#[test]
fn suite_task_earns_1_with_its_gold_patch_and_0_without() {
    let dir = tempfile::tempdir().unwrap();
    let suite = entropo_suite::generate(&entropo_suite::SuiteConfig { seed: 5, train: 1, test: 0 }, dir.path()).unwrap();
    let task = &suite.train[0].task;
    let mut env = docker_env("{}");
    env.reset(task).unwrap();

    let before = env.run_tests().unwrap();
    assert_eq!(before.reward(), 0.0, "{}", before.output);
    let failing: Vec<&String> = before.fail_to_pass.iter().filter(|(_, s)| **s == TestStatus::Failed).map(|(id, _)| id).collect();
    assert_eq!(failing, task.fail_to_pass.iter().collect::<Vec<_>>(), "{}", before.output);
    assert!(before.regression_passed(), "{:?}", before.pass_to_pass);

    let gold = task.patch.as_deref().unwrap();
    let applied = bash(&mut env, &format!("patch -p1 <<'ENTROPO_EOF'\n{gold}\nENTROPO_EOF"));
    assert!(applied.starts_with("Exit code: 0\n"), "{applied}");
    let after = env.run_tests().unwrap();
    assert_eq!(after.reward(), 1.0, "{}", after.output);
    let patch = env.patch().unwrap();
    let added: Vec<&str> = gold.lines().filter(|l| l.starts_with('+') && !l.starts_with("+++")).collect();
    assert!(!added.is_empty() && added.iter().all(|l| patch.contains(l)), "{patch}");
}

#[test]
fn bash_observations_match_the_local_environment() {
    let source = tempfile::tempdir().unwrap();
    let task = calc_task(source.path());
    let mut registry = Registry::new();
    entropo_envs::register(&mut registry).unwrap();
    let mut local = registry.create::<dyn Environment>("local", &Params::default()).unwrap();
    let _ = Engine::connect();
    let mut docker = registry.create::<dyn Environment>("docker", &Params::default()).unwrap();
    local.reset(&task).unwrap();
    docker.reset(&task).unwrap();
    let commands = [
        "echo hello",
        "pwd; ls",
        "echo $PATH $HOME $LANG $PYTHONDONTWRITEBYTECODE $PIP_DISABLE_PIP_VERSION_CHECK",
        "echo out; echo err >&2; echo out again; exit 3",
        "seq 1 200",
        "printf '\\033[31mred\\033[0m\\r\\n'",
        "printf '\\033[31mred\\033[0m\\r\\n'; false",
        "nosuchcommand --flag",
        "kill -9 $$",
        "cd /tmp && ls",
        "pip install requests",
        "python3 -c 'import sys; print(sys.argv)' a b; python3 -c 'raise SystemExit(4)'",
        "head -c 3000000 /dev/zero | tr '\\0' x | fold -w 100 | wc -l",
    ];
    for cmd in commands {
        let (l, d) = (bash(local.as_mut(), cmd), bash(docker.as_mut(), cmd));
        assert_eq!(d, l, "for {cmd:?}");
    }
    // The comparison covers every branch of the format.
    assert_eq!(bash(docker.as_mut(), "echo hello"), ok("hello\n"));
    let long = bash(docker.as_mut(), "seq 1 200");
    assert!(long.contains("\n<Observation truncated in middle for saving context>\n") && long.ends_with("\n200"), "{long}");
    let failed = bash(docker.as_mut(), "nosuchcommand --flag");
    assert_eq!(failed, "Exit code: Error: Exit code 127\nExecution output of [execute_bash]:\n/bin/bash: line 1: nosuchcommand: command not found\n");
    let mixed = bash(docker.as_mut(), "echo out; echo err >&2; echo out again; exit 3");
    assert!(mixed.ends_with("\nout\nerr\nout again\n"), "stdout and stderr interleave in order: {mixed}");
}

#[test]
fn container_is_locked_down() {
    let engine = Engine::connect();
    let source = tempfile::tempdir().unwrap();
    let mut env = docker_env(r#"{"memory_mb": 512, "pids_limit": 100}"#);
    env.reset(&calc_task(source.path())).unwrap();
    let name = env.container().unwrap().to_string();
    let info = engine.inspect(&name);
    let host = info.host_config.unwrap();
    assert_eq!(host.network_mode.as_deref(), Some("none"));
    assert_eq!(host.readonly_rootfs, Some(true));
    assert_eq!(host.memory, Some(512 << 20));
    assert_eq!(host.pids_limit, Some(100));
    assert_eq!(host.cap_drop, Some(vec!["ALL".to_string()]));
    assert_eq!(host.security_opt, Some(vec!["no-new-privileges".to_string()]));
    let user = info.config.unwrap().user.unwrap();
    assert!(!user.is_empty() && !user.starts_with("0:"), "runs as {user}");

    // No network: not even a route out.
    let net = bash(&mut env, "python3 -c \"import socket; socket.create_connection(('10.1.2.3', 80), timeout=5)\"");
    assert!(net.starts_with("Exit code: Error: Exit code 1\n") && net.contains("Network is unreachable"), "{net}");
    // The root file system is read-only even where permissions would allow
    // a write (/var/tmp is world-writable in the image).
    let root = bash(&mut env, "touch /var/tmp/probe");
    assert!(root.contains("Read-only file system"), "{root}");
    let priv_ = bash(&mut env, "id -u");
    assert_ne!(priv_, ok("0\n"), "not root");
    // /tmp and the workspace are writable.
    assert_eq!(bash(&mut env, "echo t > /tmp/t && cat /tmp/t && echo w > w.txt && cat /testbed/w.txt"), ok("t\nw\n"));
    assert!(!source.path().join("w.txt").exists(), "the task's own folder is never touched");
}

#[test]
fn fork_and_memory_bombs_are_contained() {
    let source = tempfile::tempdir().unwrap();
    let mut env = docker_env(r#"{"memory_mb": 256, "pids_limit": 64, "step_timeout_secs": 10}"#);
    env.reset(&calc_task(source.path())).unwrap();

    // Forking stops at the PID limit.
    let forks = bash(
        &mut env,
        "python3 -c \"\nimport os, time\nn = 0\ntry:\n    while n < 1000:\n        if os.fork() == 0:\n            time.sleep(30)\n            os._exit(0)\n        n += 1\nexcept OSError as e:\n    print('stopped', n, e.errno)\n\"",
    );
    let n: usize = forks
        .lines()
        .find_map(|l| l.strip_prefix("stopped "))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{forks}"));
    assert!(n < 64, "{forks}");

    // A classic fork bomb either burns out against the PID limit or runs
    // until the step deadline (then its container goes); either way the
    // environment keeps answering.
    let bomb = bash(&mut env, ":(){ :|:& };:");
    let timed_out = bomb == "Exit code: -1\nExecution output of [execute_bash]:\nThe command took too long to execute (>10s)";
    assert!(timed_out || bomb.contains("fork: retry: Resource temporarily unavailable"), "{bomb}");
    assert_eq!(timed_out, env.container().is_none());
    assert_eq!(bash(&mut env, "echo alive"), ok("alive\n"));

    // A memory bomb is killed by the memory limit.
    let mem = bash(&mut env, "python3 -c \"x = b'x' * (1 << 30); print(len(x))\"");
    assert!(mem.starts_with("Exit code: Error: Exit code 137\n"), "{mem}");
    assert_eq!(bash(&mut env, "echo alive"), ok("alive\n"));
}

#[test]
fn a_timeout_kills_everything_and_replaces_the_container() {
    let engine = Engine::connect();
    let source = tempfile::tempdir().unwrap();
    let mut env = docker_env(r#"{"step_timeout_secs": 3}"#);
    env.reset(&calc_task(source.path())).unwrap();
    assert_eq!(bash(&mut env, "echo kept > kept.txt"), ok(""));
    let first = env.container().unwrap().to_string();

    let slow = bash(&mut env, "setsid sleep 612 >/dev/null 2>&1 & sleep 60");
    assert_eq!(slow, "Exit code: -1\nExecution output of [execute_bash]:\nThe command took too long to execute (>3s)");
    assert!(!engine.exists(&first), "the timed-out container is removed");
    assert_eq!(env.container(), None);

    // The next call runs in a fresh container on the same workspace, with
    // nothing left of the escaped process.
    let procs = bash(&mut env, "cat kept.txt; cat /proc/[0-9]*/cmdline | tr '\\0' ' '");
    assert!(procs.starts_with("Exit code: 0\nExecution output of [execute_bash]:\nkept\n"), "{procs}");
    assert!(!procs.contains("sleep 612"), "{procs}");
    let second = env.container().unwrap().to_string();
    assert_ne!(second, first);
    assert!(engine.exists(&second));
    drop(env);
    assert!(!engine.exists(&second), "drop removes the container");
}

#[test]
fn a_container_that_dies_is_replaced() {
    let engine = Engine::connect();
    let source = tempfile::tempdir().unwrap();
    let mut env = docker_env("{}");
    env.reset(&calc_task(source.path())).unwrap();
    let first = env.container().unwrap().to_string();
    // Killing every process the user may signal ends the keep-alive command,
    // and with it the container.
    bash(&mut env, "kill -9 -1");
    assert_eq!(bash(&mut env, "echo alive"), ok("alive\n"));
    let second = env.container().unwrap().to_string();
    assert_ne!(second, first);
    assert!(!engine.exists(&first));
}

#[test]
fn reset_drop_and_panics_remove_the_container() {
    let engine = Engine::connect();
    let source = tempfile::tempdir().unwrap();
    let task = calc_task(source.path());
    let mut env = docker_env("{}");
    env.reset(&task).unwrap();
    let first = env.container().unwrap().to_string();
    assert!(engine.exists(&first));
    env.reset(&task).unwrap();
    assert!(!engine.exists(&first), "reset removes the previous container");
    let second = env.container().unwrap().to_string();
    drop(env);
    assert!(!engine.exists(&second), "drop removes the container");

    let mut named = String::new();
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut env = docker_env("{}");
        env.reset(&task).unwrap();
        named = env.container().unwrap().to_string();
        bash(&mut env, "echo working");
        panic!("the agent loop fails mid-episode");
    }));
    assert!(panicked.is_err());
    assert!(!named.is_empty() && !engine.exists(&named), "unwinding removes the container");
}

#[test]
fn wasm_tool_edits_and_bash_share_the_workspace() {
    let source = tempfile::tempdir().unwrap();
    let mut env = docker_env("{}");
    env.reset(&calc_task(source.path())).unwrap();
    let created = env
        .step(&call("file_editor", &[("command", "create"), ("path", "/testbed/repro.py"), ("file_text", "from calc.ops import add\nprint(add(2, 3))")]))
        .unwrap();
    assert!(created.observation.contains("File created at /testbed/repro.py"), "{}", created.observation);
    assert_eq!(bash(&mut env, "python3 repro.py"), ok("-1\n"));
    let fixed = env
        .step(&call(
            "file_editor",
            &[("command", "str_replace"), ("path", "/testbed/calc/ops.py"), ("old_str", "def add(a, b):\n    return a - b"), ("new_str", "def add(a, b):\n    return a + b")],
        ))
        .unwrap();
    assert!(fixed.observation.contains("has been edited"), "{}", fixed.observation);
    assert_eq!(bash(&mut env, "python3 repro.py && echo '# more' >> repro.py && printf 'x = 1\\n' > made.py"), ok("5\n"));
    // What bash wrote, the editor sees.
    let view = env.step(&call("file_editor", &[("command", "view"), ("path", "/testbed/made.py")])).unwrap();
    assert!(view.observation.contains("     1 x = 1"), "{}", view.observation);
    let found = env.step(&call("search", &[("search_term", "# more")])).unwrap();
    assert!(found.observation.contains("./repro.py (1 matches)"), "{}", found.observation);
    let patch = env.patch().unwrap();
    assert!(patch.contains("-    return a - b\n+    return a + b\n") && patch.contains("+x = 1"), "{patch}");
    let report = env.run_tests().unwrap();
    assert_eq!(report.reward(), 1.0, "{}", report.output);
    assert!(env.step(&call("finish", &[("command", "submit")])).unwrap().done);
}

#[test]
fn missing_engine_or_image_is_an_error_naming_the_fix() {
    let source = tempfile::tempdir().unwrap();
    let mut task = calc_task(source.path());
    let params = DockerParams { endpoints: vec!["unix:///nonexistent/docker.sock".into()], ..DockerParams::default() };
    let mut env = DockerEnv::new(params).unwrap();
    let err = env.reset(&task).unwrap_err().to_string();
    assert!(err.contains("demo__calc-1") && err.contains("scripts/docker.sh start"), "{err}");
    assert!(env.step(&call("execute_bash", &[("cmd", "ls")])).is_err(), "no episode after a failed reset");

    task.image = Some("entropo/no-such-image:1".into());
    let mut env = docker_env("{}");
    let err = env.reset(&task).unwrap_err().to_string();
    assert!(err.contains("entropo/no-such-image:1") && err.contains("scripts/docker.sh image"), "{err}");
}
