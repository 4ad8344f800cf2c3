//! Per-call latency of the sandboxed tools beside the way Python scaffolds
//! run them, measured in one run:
//!
//! - `file_editor view` of a 50-line file as a WASM call, beside a Python
//!   script started per call that prints the same `cat -n` view (what an
//!   R2E-style scaffold pays per tool call, before any `docker exec`);
//! - `search` over a small repository as a WASM call, beside the same search
//!   in a per-call Python script;
//! - `execute_bash` of `true` in the bubblewrap sandbox, beside plain `bash -c true`.
//!
//!     cargo bench -p entropo-envs --bench tool_latency

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use entropo_envs::bash::{self, Sandbox};
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

    println!("| call | entropo | peer | peer / entropo |");
    println!("| --- | --- | --- | --- |");
    println!("| file_editor view, 50 lines | {wasm_view:.0} µs (WASM) | {py_view:.0} µs ({} per call) | {:.0}× |", python_bin(), py_view / wasm_view);
    println!("| search, 21 files | {wasm_search:.0} µs (WASM) | {py_search:.0} µs ({} per call) | {:.0}× |", python_bin(), py_search / wasm_search);
    println!("| execute_bash `true` | {sandboxed:.0} µs (bubblewrap sandbox) | {plain:.0} µs (plain bash -c) | {:.2}× |", plain / sandboxed);
}
