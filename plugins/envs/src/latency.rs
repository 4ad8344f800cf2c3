//! Per-call latency of the sandboxed tools beside the way Python scaffolds
//! run them, measured in one run (`entropo bench tools`, and
//! `cargo bench -p entropo-envs --bench tool_latency`):
//!
//! - `file_editor view` of a 50-line file and `search` over 21 files as WASM
//!   calls, beside a Python script started per call that does the same (what
//!   an R2E-style scaffold pays per tool call, before any `docker exec`);
//! - `execute_bash` of `true` in the bubblewrap sandbox, beside plain `bash -c true`;
//! - with a Docker engine (`DOCKER_HOST`, see `scripts/docker.sh`): the same
//!   Python scripts run per call through `docker exec` in the `docker`
//!   environment's running container (the paper's scaffold), `execute_bash`
//!   of `true` in that environment (one Engine API exec), and its `reset`
//!   beside the `local` environment's.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use entropo_core::environment::{EnvError, Environment, ToolCall};
use entropo_core::types::Task;
use serde::Serialize;

use crate::bash::{self, Sandbox};
use crate::docker::{DockerEnv, DockerParams};
use crate::local::{LocalEnv, LocalParams};
use crate::wasm::{Tool, ToolLimits, WasmTools};

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

/// One measured call and its peer, medians in microseconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// What was called.
    pub call: String,
    /// entropo's median.
    pub entropo_us: f64,
    /// How entropo ran it.
    pub entropo_how: String,
    /// The peer's median.
    pub peer_us: f64,
    /// How the peer ran it.
    pub peer_how: String,
}

/// Everything one run measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The rows, host peers first, then Docker peers.
    pub rows: Vec<Row>,
    /// Why the Docker rows are missing, if they are.
    pub docker_missing: Option<String>,
}

impl Report {
    /// A Markdown table (as in BENCHMARKS.md).
    pub fn markdown(&self) -> String {
        let mut out = String::from("| call | entropo | peer | peer / entropo |\n| --- | --- | --- | --- |\n");
        for r in &self.rows {
            out += &format!(
                "| {} | {:.0} µs ({}) | {:.0} µs ({}) | {:.2}× |\n",
                r.call,
                r.entropo_us,
                r.entropo_how,
                r.peer_us,
                r.peer_how,
                r.peer_us / r.entropo_us
            );
        }
        if let Some(why) = &self.docker_missing {
            out += &format!("\n(no Docker rows: {why})\n");
        }
        out
    }
}

fn sandbox_err(e: impl std::fmt::Display) -> EnvError {
    EnvError::Sandbox(e.to_string())
}

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1e6
}

/// Median of `n` timed calls after one warm-up call.
fn time(n: usize, mut f: impl FnMut() -> Result<(), EnvError>) -> Result<f64, EnvError> {
    f()?;
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        f()?;
        samples.push(t.elapsed());
    }
    Ok(median(samples))
}

fn params(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
    kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn write(root: &Path, rel: &str, text: &str) -> Result<(), EnvError> {
    let p = root.join(rel);
    if let Some(dir) = p.parent() {
        std::fs::create_dir_all(dir)?;
    }
    Ok(std::fs::write(p, text)?)
}

/// Debian's interpreter when present: `python3` on PATH may be a version
/// manager's shim, which adds its own start-up to every call.
fn python_bin() -> &'static str {
    if Path::new("/usr/bin/python3").exists() { "/usr/bin/python3" } else { "python3" }
}

fn succeed(cmd: &mut Command) -> Result<(), EnvError> {
    let out = cmd.output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(sandbox_err(String::from_utf8_lossy(&out.stderr)))
    }
}

fn python(script: &str, args: &[&Path]) -> Result<(), EnvError> {
    succeed(Command::new(python_bin()).arg("-c").arg(script).args(args))
}

/// Measures every row; `scale` multiplies the sample counts (1 = the
/// published figures: 300 WASM calls, 30 Python calls, 50 bash calls).
pub fn measure(scale: f64) -> Result<Report, EnvError> {
    let n = |base: usize| ((base as f64 * scale).round() as usize).max(3);
    let ws = tempfile::tempdir()?;
    let fifty: String = (0..50).map(|i| format!("x{i} = {i}\n")).collect();
    write(ws.path(), "pkg/fifty.py", &fifty)?;
    for m in 0..20 {
        write(ws.path(), &format!("pkg/mod{m}.py"), &format!("def f{m}(x):\n    return x + {m}\n"))?;
    }
    let tools = WasmTools::global().map_err(sandbox_err)?;
    let limits = ToolLimits::default();
    let view = params(&[("command", "view"), ("path", "/testbed/pkg/fifty.py")]);
    let search = params(&[("search_term", "return")]);
    let file = ws.path().join("pkg/fifty.py");
    let wasm = |tool: Tool, p: &BTreeMap<String, String>| {
        tools.run(tool, ws.path(), MOUNT, p, &limits).map(drop).map_err(sandbox_err)
    };

    let wasm_view = time(n(300), || wasm(Tool::FileEditor, &view))?;
    let py_view = time(n(30), || python(PY_VIEW, &[&file]))?;
    let wasm_search = time(n(300), || wasm(Tool::Search, &search))?;
    let py_search = time(n(30), || python(PY_SEARCH, &[Path::new("return"), ws.path()]))?;

    let sandbox_root = tempfile::tempdir()?;
    let sws = sandbox_root.path().join("ws");
    std::fs::create_dir(&sws)?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(sandbox_root.path(), std::fs::Permissions::from_mode(0o711))?;
    let sb = Sandbox::default();
    bash::chown_tree(&sws, sb.uid, sb.gid)?;
    let sandboxed = time(n(50), || bash::observation(&sb, &sws, "true").map(drop).map_err(sandbox_err))?;
    let plain = time(n(50), || succeed(Command::new("bash").args(["-c", "true"])))?;

    let task = bench_task(ws.path());
    let mut local = LocalEnv::new(LocalParams::default()).map_err(sandbox_err)?;
    let local_reset = time(n(20), || local.reset(&task))?;

    let py = format!("{} per call", python_bin());
    let row = |call: &str, e: f64, eh: &str, p: f64, ph: &str| Row {
        call: call.into(),
        entropo_us: e,
        entropo_how: eh.into(),
        peer_us: p,
        peer_how: ph.into(),
    };
    let mut rows = vec![
        row("file_editor view, 50 lines", wasm_view, "WASM", py_view, &py),
        row("search, 21 files", wasm_search, "WASM", py_search, &py),
        row("execute_bash `true`", sandboxed, "bubblewrap sandbox", plain, "plain bash -c"),
    ];
    let docker_missing = match docker_latency(&task, &n) {
        Ok(d) => {
            let via = "python3 per call via docker exec";
            rows.push(row("file_editor view, 50 lines", wasm_view, "WASM", d.view, via));
            rows.push(row("search, 21 files", wasm_search, "WASM", d.search, via));
            rows.push(row("execute_bash `true`", d.bash, "docker environment, Engine API exec", plain, "plain bash -c"));
            rows.push(row(
                "reset, 21 files",
                d.reset,
                "docker environment: copy, container start",
                local_reset,
                "local environment: copy",
            ));
            None
        }
        Err(why) => Some(why.to_string()),
    };
    Ok(Report { rows, docker_missing })
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
fn docker_latency(task: &Task, n: &dyn Fn(usize) -> usize) -> Result<DockerRows, EnvError> {
    let mut env = DockerEnv::new(DockerParams::default()).map_err(sandbox_err)?;
    env.reset(task)?;
    let reset = time(n(20), || env.reset(task))?;
    let container = env.container().ok_or_else(|| sandbox_err("no container"))?.to_string();
    let host = env.endpoint().ok_or_else(|| sandbox_err("no endpoint"))?.to_string();
    let docker_exec = |script: &str, args: &[&str]| {
        succeed(
            Command::new("docker")
                .env("DOCKER_HOST", &host)
                .args(["exec", &container, "python3", "-c", script])
                .args(args),
        )
    };
    let view = time(n(30), || docker_exec(PY_VIEW, &["/testbed/pkg/fifty.py"]))?;
    let search = time(n(30), || docker_exec(PY_SEARCH, &["return", "/testbed"]))?;
    let call = ToolCall { name: "execute_bash".into(), params: params(&[("cmd", "true")]) };
    let bash = time(n(50), || {
        let obs = env.step(&call)?.observation;
        if obs.starts_with("Exit code: 0\n") { Ok(()) } else { Err(sandbox_err(obs)) }
    })?;
    Ok(DockerRows { view, search, bash, reset })
}
