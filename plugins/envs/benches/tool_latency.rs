//! Per-call latency of the sandboxed tools beside the way Python scaffolds
//! run them, measured in one run:
//!
//! - `file_editor view` of a 50-line file as a WASM call, beside a Python
//!   script started per call that prints the same `cat -n` view (what an
//!   R2E-style scaffold pays per tool call, before any `docker exec`);
//! - `search` over a small repository as a WASM call, beside the same search
//!   in a per-call Python script;
//! - `execute_bash` of `true` in the bubblewrap sandbox, beside plain `bash -c true`;
//! - with a Docker engine (`DOCKER_HOST`, see `scripts/docker.sh`): the same
//!   Python scripts run per call through `docker exec` in the `docker`
//!   environment's running container (what R2E-style scaffolds pay), and
//!   `execute_bash` of `true` in that environment (one Engine API exec)
//!   beside plain `bash -c true`, and its `reset` (workspace copy, container
//!   created and started) beside the `local` environment's.
//!
//!     cargo bench -p entropo-envs --bench tool_latency

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use entropo_core::environment::{Environment, ToolCall};
use entropo_core::types::Task;
use entropo_envs::bash::{self, Sandbox};
use entropo_envs::docker::{DockerEnv, DockerParams};
use entropo_envs::local::{LocalEnv, LocalParams};
use entropo_envs::wasm::{Tool, ToolLimits, WasmTools};

const MOUNT: &str = "/testbed";

const PY_VIEW: &str = r#"
import sys
with open(sys.argv[1]) as f:
    lines = f.read().split("\n")
print("\n".join(f"{i:6d}\t{l}" for i, l in enumerate(lines, 1)))
"#;

const PY_SEARCH: &str = r#"
import os, sys
term, root, hits = sys.argv[1], sys.argv[2], []
for d, dirs, files in os.walk(root):
    dirs[:] = [x for x in dirs if not x.startswith(".")]
    for name in files:
        if name.endswith(".py") and not name.startswith("."):
            p = os.path.join(d, name)
            with open(p, errors="ignore") as f:
                n = sum(term in line for line in f)
            if n:
                hits.append(f"./{os.path.relpath(p, root)} ({n} matches)")
print("\n".join(sorted(hits)))
"#;

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1e6
}

fn time(n: usize, mut f: impl FnMut()) -> f64 {
    f(); // warm up
    median((0..n).map(|_| {
        let t = Instant::now();
        f();
        t.elapsed()
    }).collect())
}

fn params(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
    kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// Debian's interpreter when present: `python3` on PATH may be a version
/// manager's shim, which adds its own start-up to every call.
fn python_bin() -> &'static str {
    if Path::new("/usr/bin/python3").exists() { "/usr/bin/python3" } else { "python3" }
}

fn python(script: &str, args: &[&Path]) {
    let out = Command::new(python_bin()).arg("-c").arg(script).args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn main() {
    let ws = tempfile::tempdir().unwrap();
    let fifty: String = (0..50).map(|i| format!("x{i} = {i}\n")).collect();
    write(ws.path(), "pkg/fifty.py", &fifty);
    for m in 0..20 {
        write(ws.path(), &format!("pkg/mod{m}.py"), &format!("def f{m}(x):\n    return x + {m}\n"));
    }
    let tools = WasmTools::global().unwrap();
    let limits = ToolLimits::default();
    let view = params(&[("command", "view"), ("path", "/testbed/pkg/fifty.py")]);
    let search = params(&[("search_term", "return")]);
    let file = ws.path().join("pkg/fifty.py");

    let wasm_view = time(300, || drop(tools.run(Tool::FileEditor, ws.path(), MOUNT, &view, &limits).unwrap()));
    let py_view = time(30, || python(PY_VIEW, &[&file]));
    let wasm_search = time(300, || drop(tools.run(Tool::Search, ws.path(), MOUNT, &search, &limits).unwrap()));
    let py_search = time(30, || python(PY_SEARCH, &[Path::new("return"), ws.path()]));

    let sandbox_root = tempfile::tempdir().unwrap();
    let sws = sandbox_root.path().join("ws");
    std::fs::create_dir(&sws).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(sandbox_root.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    let sb = Sandbox::default();
    bash::chown_tree(&sws, sb.uid, sb.gid).unwrap();
    let sandboxed = time(50, || drop(bash::observation(&sb, &sws, "true").unwrap()));
    let plain = time(50, || assert!(Command::new("bash").args(["-c", "true"]).status().unwrap().success()));

    let task = bench_task(ws.path());
    let mut local = LocalEnv::new(LocalParams::default()).unwrap();
    let local_reset = time(20, || local.reset(&task).unwrap());
    let docker_rows = docker_latency(&task);

    println!("| call | entropo | peer | peer / entropo |");
    println!("| --- | --- | --- | --- |");
    println!("| file_editor view, 50 lines | {wasm_view:.0} µs (WASM) | {py_view:.0} µs ({} per call) | {:.0}× |", python_bin(), py_view / wasm_view);
    println!("| search, 21 files | {wasm_search:.0} µs (WASM) | {py_search:.0} µs ({} per call) | {:.0}× |", python_bin(), py_search / wasm_search);
    println!("| execute_bash `true` | {sandboxed:.0} µs (bubblewrap sandbox) | {plain:.0} µs (plain bash -c) | {:.2}× |", plain / sandboxed);
    match docker_rows {
        Ok(d) => {
            println!("| file_editor view, 50 lines | {wasm_view:.0} µs (WASM) | {:.0} µs (python3 per call via docker exec) | {:.0}× |", d.view, d.view / wasm_view);
            println!("| search, 21 files | {wasm_search:.0} µs (WASM) | {:.0} µs (python3 per call via docker exec) | {:.0}× |", d.search, d.search / wasm_search);
            println!("| execute_bash `true` | {:.0} µs (docker environment, Engine API exec) | {plain:.0} µs (plain bash -c) | {:.2}× |", d.bash, plain / d.bash);
            println!("| reset, 21 files | {:.0} µs (docker environment: copy, container start) | {local_reset:.0} µs (local environment: copy) | {:.2}× |", d.reset, local_reset / d.reset);
        }
        Err(why) => println!("\n(no Docker rows: {why}; start an engine with `export DOCKER_HOST=$(scripts/docker.sh start)`)"),
    }
}

/// Medians, µs, of the Docker peers.
struct DockerRows {
    view: f64,
    search: f64,
    bash: f64,
    reset: f64,
}

fn bench_task(ws: &Path) -> Task {
    Task {
        instance_id: "bench".into(),
        repo: "bench/bench".into(),
        base_commit: None,
        problem_statement: String::new(),
        workspace: Some(ws.to_path_buf()),
        image: None,
        mount_at: MOUNT.into(),
        fail_to_pass: vec![],
        pass_to_pass: vec![],
        patch: None,
        test_patch: None,
        test_command: None,
    }
}

/// Runs the Docker peers in one `docker` environment on `task`.
fn docker_latency(task: &Task) -> Result<DockerRows, String> {
    let mut env = DockerEnv::new(DockerParams::default()).map_err(|e| e.to_string())?;
    env.reset(task).map_err(|e| e.to_string())?;
    let reset = time(20, || env.reset(task).unwrap());
    let container = env.container().ok_or("no container")?.to_string();
    let host = env.endpoint().ok_or("no endpoint")?.to_string();
    let docker_exec = |script: &str, args: &[&str]| {
        let out = Command::new("docker")
            .env("DOCKER_HOST", &host)
            .args(["exec", &container, "python3", "-c", script])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    let view = time(30, || docker_exec(PY_VIEW, &["/testbed/pkg/fifty.py"]));
    let search = time(30, || docker_exec(PY_SEARCH, &["return", "/testbed"]));
    let call = ToolCall { name: "execute_bash".into(), params: params(&[("cmd", "true")]) };
    let bash = time(50, || assert!(env.step(&call).unwrap().observation.starts_with("Exit code: 0\n")));
    Ok(DockerRows { view, search, bash, reset })
}
