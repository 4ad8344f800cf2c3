//! Security: every escape attempt fails closed with a clear observation.

mod common;

use std::os::unix::ffi::OsStrExt;
use std::time::{Duration, Instant};

use common::*;
use entropo_envs::bash::{self, Sandbox};
use entropo_envs::wasm::{Tool, ToolLimits, ToolOutcome, WasmTools};

fn ws() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    calc_repo(dir.path());
    dir
}

// ---------------------------------------------------------------- WASM tools

#[test]
fn absolute_and_dotdot_paths_outside_are_refused() {
    let d = ws();
    for path in ["/etc/passwd", "../etc/passwd", "/testbed/../etc/passwd", "/testbed2/x.py", "/"] {
        let out = editor(d.path(), &[("command", "view"), ("path", path)]);
        assert!(out.starts_with("ERROR: Access denied: the path"), "{path}: {out}");
        assert!(!out.contains("root:"), "{out}");
        let out = search(d.path(), &[("search_term", "root"), ("path", path)]);
        assert!(out.starts_with("Access denied: the path"), "{path}: {out}");
    }
    let out = editor(d.path(), &[("command", "create"), ("path", "/tmp/evil.py"), ("file_text", "x")]);
    assert!(out.starts_with("ERROR: Access denied"), "{out}");
}

#[test]
fn symlinks_pointing_out_are_refused() {
    let d = ws();
    std::os::unix::fs::symlink("/etc/passwd", d.path().join("passwd.py")).unwrap();
    std::os::unix::fs::symlink("/etc", d.path().join("etc")).unwrap();
    let out = editor(d.path(), &[("command", "view"), ("path", "/testbed/passwd.py")]);
    assert!(out.contains("leads outside the workspace"), "{out}");
    let out = editor(d.path(), &[("command", "str_replace"), ("path", "/testbed/passwd.py"), ("old_str", "root"), ("new_str", "x")]);
    assert!(out.contains("outside the workspace"), "{out}");
    let out = editor(d.path(), &[("command", "view"), ("path", "/testbed/etc")]);
    assert!(out.contains("outside the workspace"), "{out}");
    let out = editor(d.path(), &[("command", "create"), ("path", "/testbed/etc/evil.py"), ("file_text", "x")]);
    assert!(out.starts_with("ERROR:"), "{out}");
    assert!(!std::path::Path::new("/etc/evil.py").exists());
    // The listing and search do not follow the links out.
    let listing = editor(d.path(), &[("command", "view"), ("path", "/testbed")]);
    assert!(!listing.contains("/testbed/etc/"), "{listing}");
    let found = search(d.path(), &[("search_term", "root")]);
    assert!(!found.contains("passwd"), "{found}");
}

#[test]
fn binary_files_and_non_utf8_names() {
    let d = ws();
    std::fs::write(d.path().join("blob.py"), [0xff, 0xfe, 0x00, 0x01]).unwrap();
    let out = editor(d.path(), &[("command", "view"), ("path", "/testbed/blob.py")]);
    assert_eq!(out, "ERROR: Unhandled exception: 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte\n");
    let out = editor(d.path(), &[("command", "str_replace"), ("path", "/testbed/blob.py"), ("old_str", "a")]);
    assert!(out.starts_with("ERROR: Failed to read file /testbed/blob.py: 'utf-8' codec"), "{out}");
    let out = search(d.path(), &[("search_term", "x"), ("path", "/testbed/blob.py")]);
    assert!(out.starts_with("No matches found"), "{out}");
    let name = std::ffi::OsStr::from_bytes(b"bad\xffname.py");
    std::fs::write(d.path().join(name), "def add(): pass\n").unwrap();
    // WASI refuses listings holding such names: the tools say so.
    let listing = editor(d.path(), &[("command", "view"), ("path", "/testbed")]);
    assert!(listing.starts_with("Here's the files and directories"), "{listing}");
    assert!(listing.contains("Note: these folders could not be fully listed (file names must be valid UTF-8"), "{listing}");
    let found = search(d.path(), &[("search_term", "def add")]);
    assert!(found.contains("could not be fully listed"), "{found}");
    // Files can still be named directly.
    let direct = search(d.path(), &[("search_term", "def add"), ("path", "/testbed/calc/ops.py")]);
    assert_eq!(direct, "Matches for \"def add\" in /testbed/calc/ops.py:\n1:def add(a, b):\n");
}

#[test]
fn gigantic_output_is_capped() {
    let d = ws();
    let text: String = (0..20_000).map(|i| format!("v{i} = {i}\n")).collect();
    write_files(d.path(), &[("big.py", &text)]);
    // R2E clips views at 10 000 characters.
    let out = editor(d.path(), &[("command", "view"), ("path", "/testbed/big.py"), ("view_range", "[1, -1]")]);
    assert!(out.len() < 11_000 && out.contains("<response clipped>"));
    // The host caps whatever a module writes.
    let limits = ToolLimits { max_output_bytes: 1000, ..ToolLimits::default() };
    let out = run_with(Tool::FileEditor, d.path(), &[("command", "create"), ("path", "/testbed/c.py"), ("file_text", &text)], &limits);
    assert_eq!(out.outcome, ToolOutcome::OutputTooLarge);
    assert!(out.observation(Tool::FileEditor, &limits).contains("output exceeded 1000 bytes"));
}

/// `(module (func (export "_start") (loop (br 0))))`
const ENDLESS_LOOP: &[u8] = &[
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // header
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type: () -> ()
    0x03, 0x02, 0x01, 0x00, // func 0: type 0
    0x07, 0x0a, 0x01, 0x06, b'_', b's', b't', b'a', b'r', b't', 0x00, 0x00, // export
    0x0a, 0x09, 0x01, 0x07, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b, // loop br 0
];

/// `(module (memory 1) (func (export "_start") (loop (drop (memory.grow (i32.const 1000))) (br 0))))`
const MEMORY_BOMB: &[u8] = &[
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // header
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type
    0x03, 0x02, 0x01, 0x00, // func
    0x05, 0x03, 0x01, 0x00, 0x01, // memory min 1
    0x07, 0x0a, 0x01, 0x06, b'_', b's', b't', b'a', b'r', b't', 0x00, 0x00, // export
    0x0a, 0x0f, 0x01, 0x0d, 0x00, 0x03, 0x40, 0x41, 0xe8, 0x07, 0x40, 0x00, 0x1a, 0x0c, 0x00, 0x0b, 0x0b,
];

#[test]
fn endless_loop_in_a_module_hits_the_epoch_deadline() {
    let d = ws();
    let limits = ToolLimits { fuel: u64::MAX / 2, timeout: Duration::from_millis(500), ..ToolLimits::default() };
    let t = Instant::now();
    let out = WasmTools::global().unwrap().run_module(ENDLESS_LOOP, d.path(), MOUNT, &params(&[]), &limits).unwrap();
    assert_eq!(out.outcome, ToolOutcome::Timeout);
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert_eq!(out.observation(Tool::FileEditor, &limits), "The command took too long to execute (>0s)");
    // With a small budget, fuel stops it first.
    let limits = ToolLimits { fuel: 1_000_000, ..ToolLimits::default() };
    let out = WasmTools::global().unwrap().run_module(ENDLESS_LOOP, d.path(), MOUNT, &params(&[]), &limits).unwrap();
    assert_eq!(out.outcome, ToolOutcome::OutOfFuel);
}

#[test]
fn memory_bomb_in_a_module_traps() {
    let d = ws();
    let limits = ToolLimits::default();
    let out = WasmTools::global().unwrap().run_module(MEMORY_BOMB, d.path(), MOUNT, &params(&[]), &limits).unwrap();
    assert_eq!(out.outcome, ToolOutcome::OutOfMemory);
    assert!(out.observation(Tool::Search, &limits).contains("exceeded its memory limit (256 MiB)"));
}

// ---------------------------------------------------------------- bash sandbox

fn sandbox_ws() -> (tempfile::TempDir, std::path::PathBuf, Sandbox) {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    let ws = dir.path().join("ws");
    std::fs::create_dir(&ws).unwrap();
    calc_repo(&ws);
    let sb = Sandbox { timeout: Duration::from_secs(20), max_processes: 64, ..Sandbox::default() };
    bash::chown_tree(&ws, sb.uid, sb.gid).unwrap();
    (dir, ws, sb)
}

fn sh(sb: &Sandbox, ws: &std::path::Path, cmd: &str) -> String {
    bash::observation(sb, ws, cmd).unwrap()
}

#[test]
fn bash_runs_in_the_workspace_and_formats_like_r2e() {
    let (_d, ws, sb) = sandbox_ws();
    assert_eq!(sh(&sb, &ws, "pwd; echo hi >&2"), "Exit code: 0\nExecution output of [execute_bash]:\n/testbed\nhi\n");
    assert_eq!(sh(&sb, &ws, "echo no; exit 3"), "Exit code: Error: Exit code 3\nExecution output of [execute_bash]:\nno\n");
    assert_eq!(
        sh(&sb, &ws, "cd /tmp && ls"),
        "Exit code: Error: Exit code 1\nExecution output of [execute_bash]:\nBash command 'cd' is not allowed. Please use a different command or tool.\n"
    );
    let out = sh(&sb, &ws, "python3 -c 'import calc.ops as o; print(o.add(2, 3))' && touch made.txt");
    assert_eq!(out, "Exit code: 0\nExecution output of [execute_bash]:\n-1\n");
    assert!(ws.join("made.txt").exists());
    let long = sh(&sb, &ws, "seq 1 200");
    assert!(long.contains("\n40\n--------------------------------------------------\n<Observation truncated in middle for saving context>\n--------------------------------------------------\n161\n"), "{long}");
    assert!(long.ends_with("\n200"));
}

#[test]
fn bash_cannot_write_outside_or_read_host_secrets() {
    let (_d, ws, sb) = sandbox_ws();
    let marker = format!("entropo-escape-{}", std::process::id());
    let out = sh(&sb, &ws, &format!("touch /usr/{marker}; touch /etc/{marker}; touch /{marker}; touch /tmp/{marker}; ls /tmp"));
    assert!(out.contains("Read-only file system"), "{out}");
    for dir in ["/usr", "/etc", "/tmp", "/"] {
        assert!(!std::path::Path::new(dir).join(&marker).exists(), "{dir}/{marker} escaped");
    }
    let out = sh(&sb, &ws, "cat /etc/shadow; ls /root; ls /work");
    assert!(out.starts_with("Exit code: Error: Exit code"), "{out}");
    assert!(!out.contains("root:"), "{out}");
}

#[test]
fn bash_has_no_network() {
    let (_d, ws, sb) = sandbox_ws();
    let out = sh(&sb, &ws, "python3 -c \"import socket; socket.create_connection(('1.1.1.1', 80), timeout=3)\"");
    assert!(out.starts_with("Exit code: Error: Exit code 1"), "{out}");
    assert!(out.contains("Network is unreachable") || out.contains("OSError"), "{out}");
    let out = sh(&sb, &ws, "python3 -c \"import socket; socket.create_connection(('127.0.0.1', 22), timeout=3)\"");
    assert!(out.contains("Connection refused") || out.contains("unreachable"), "{out}");
}

#[test]
fn endless_loops_and_escaped_children_are_killed_at_the_deadline() {
    let (_d, ws, mut sb) = sandbox_ws();
    sb.timeout = Duration::from_secs(2);
    let tag = format!("77{}", std::process::id() % 1000);
    let t = Instant::now();
    let out = sh(&sb, &ws, &format!("setsid sleep {tag} & nohup sleep {tag} & while true; do :; done"));
    assert!(t.elapsed() < Duration::from_secs(6), "{:?}", t.elapsed());
    assert_eq!(out, "Exit code: -1\nExecution output of [execute_bash]:\nThe command took too long to execute (>2s)");
    std::thread::sleep(Duration::from_millis(300));
    let ps = std::process::Command::new("pgrep").args(["-f", &format!("sleep {tag}")]).output().unwrap();
    assert!(ps.stdout.is_empty(), "leftover processes: {}", String::from_utf8_lossy(&ps.stdout));
}

#[test]
fn fork_bomb_is_contained() {
    let (_d, ws, mut sb) = sandbox_ws();
    sb.timeout = Duration::from_secs(5);
    let t = Instant::now();
    let out = sh(&sb, &ws, ":(){ :|:& };:");
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    assert!(out.starts_with("Exit code:"), "{out}");
    // The machine still works afterwards.
    assert_eq!(sh(&sb, &ws, "echo alive"), "Exit code: 0\nExecution output of [execute_bash]:\nalive\n");
}

#[test]
fn memory_bomb_in_bash_fails() {
    let (_d, ws, mut sb) = sandbox_ws();
    sb.max_memory_bytes = 512 << 20;
    let out = sh(&sb, &ws, "python3 -c 'x = bytearray(2 * 1024**3)'");
    assert!(out.starts_with("Exit code: Error: Exit code 1"), "{out}");
    assert!(out.contains("MemoryError"), "{out}");
}

#[test]
fn gigantic_bash_output_is_cut() {
    let (_d, ws, sb) = sandbox_ws();
    let t = Instant::now();
    let out = sh(&sb, &ws, "yes entropo | head -c 200000000; echo; echo done");
    assert!(t.elapsed() < Duration::from_secs(20));
    assert!(out.len() < 10_000, "{}", out.len());
    assert!(out.contains("<Observation truncated in middle for saving context>"));
    assert!(out.ends_with("\ndone"), "{}", &out[out.len() - 100..]);
}
