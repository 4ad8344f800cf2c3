//! `execute_bash` in a bubblewrap sandbox, formatted as R2E-Gym formats it.
//!
//! Each command runs in a fresh sandbox built from the recipe verified on
//! these machines: the host process first drops to an unprivileged uid
//! (`setpriv`, when running as root), then `bwrap` gives a tmpfs root with
//! `/usr` and `/etc` read-only, a private `/tmp`, `/proc`, `/dev`, the
//! workspace bound read-write at the mount path, no network (every namespace
//! unshared), its own PID namespace (killing bwrap kills the whole tree),
//! `--die-with-parent` and `--new-session`. Inside, `prlimit` caps processes,
//! address space and file size before `bash -c` runs the command.
//!
//! ```no_run
//! use entropo_envs::bash::{Sandbox, observation};
//! let sandbox = Sandbox::default();
//! let obs = observation(&sandbox, std::path::Path::new("/tmp/ws"), "ls").unwrap();
//! assert!(obs.starts_with("Exit code: 0\nExecution output of [execute_bash]:\n"));
//! ```

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// First words R2E refuses to run.
pub const REFUSED_COMMANDS: [&str; 5] = ["cd", "ipython", "jupyter", "pip", "nohup"];

/// The whole environment of a sandboxed command (nothing else is inherited).
pub const SANDBOX_ENV: [(&str, &str); 5] = [
    ("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
    ("HOME", "/tmp"),
    ("LANG", "C.UTF-8"),
    ("PYTHONDONTWRITEBYTECODE", "1"),
    ("PIP_DISABLE_PIP_VERSION_CHECK", "1"),
];

/// Lines kept at each end of a long bash output.
const KEEP_LINES: usize = 40;

/// Why the sandbox could not run a command at all.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// `setpriv`, `bwrap` or `prlimit` could not be started.
    #[error("cannot start the bash sandbox ({program}): {source}. Install bubblewrap with scripts/setup.sh")]
    Spawn {
        /// The program that failed.
        program: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Waiting for or killing the sandbox failed.
    #[error("bash sandbox: {0}")]
    Io(#[from] std::io::Error),
}

/// Sandbox settings for one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sandbox {
    /// Where the workspace appears inside (`/testbed`).
    pub mount: String,
    /// Host uid the sandbox runs as when entropo runs as root; the workspace
    /// must be owned by it (see [`chown_tree`]).
    pub uid: u32,
    /// Host gid, likewise.
    pub gid: u32,
    /// Wall-clock limit of one command.
    pub timeout: Duration,
    /// Processes (threads included) the sandbox may hold at once.
    pub max_processes: u64,
    /// Address-space limit of each process, bytes.
    pub max_memory_bytes: u64,
    /// Largest file a process may write, bytes.
    pub max_file_bytes: u64,
    /// Size of the sandbox's private `/tmp` (and root) tmpfs, bytes.
    pub tmp_bytes: u64,
    /// Output kept from one command, bytes (first and last halves).
    pub max_output_bytes: usize,
}

impl Default for Sandbox {
    fn default() -> Self {
        Sandbox {
            mount: "/testbed".into(),
            uid: 65534,
            gid: 65534,
            timeout: Duration::from_secs(90),
            max_processes: 512,
            max_memory_bytes: 4 << 30,
            max_file_bytes: 1 << 30,
            tmp_bytes: 512 << 20,
            max_output_bytes: 4 << 20,
        }
    }
}

/// What one command did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BashRun {
    /// stdout and stderr merged, lossily decoded; the middle of a gigantic
    /// output is replaced by a `[... N bytes omitted ...]` line.
    pub output: String,
    /// The exit code; `None` when the command timed out.
    pub exit_code: Option<i32>,
}

/// Whether this process runs as root (then the sandbox drops to
/// [`Sandbox::uid`] first).
pub fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// Gives every file under `root` (symlinks themselves, not their targets) to
/// `uid:gid`, so the sandbox user can write the workspace. A no-op unless
/// running as root.
pub fn chown_tree(root: &Path, uid: u32, gid: u32) -> std::io::Result<()> {
    if !running_as_root() {
        return Ok(());
    }
    std::os::unix::fs::lchown(root, Some(uid), Some(gid))?;
    let meta = std::fs::symlink_metadata(root)?;
    if meta.is_dir() {
        for entry in std::fs::read_dir(root)? {
            chown_tree(&entry?.path(), uid, gid)?;
        }
    }
    Ok(())
}

impl Sandbox {
    /// The full argument vector that runs `script` with `bash -c` on
    /// `workspace`.
    pub fn command_line(&self, workspace: &Path, script: &str) -> Vec<String> {
        let mut argv: Vec<String> = Vec::new();
        if running_as_root() {
            argv.extend([
                "setpriv".to_string(),
                format!("--reuid={}", self.uid),
                format!("--regid={}", self.gid),
                "--clear-groups".into(),
                "--inh-caps=-all".into(),
                "--bounding-set=-all".into(),
            ]);
        }
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        argv.extend(s(&[
            "bwrap",
            "--unshare-all",
            "--unshare-user",
            "--uid",
            "1000",
            "--gid",
            "1000",
            "--cap-drop",
            "ALL",
            "--die-with-parent",
            "--new-session",
            "--clearenv",
        ]));
        for (name, value) in SANDBOX_ENV {
            argv.extend(s(&["--setenv", name, value]));
        }
        let tmp = self.tmp_bytes.to_string();
        argv.extend(s(&["--size", &tmp, "--tmpfs", "/"]));
        argv.extend(s(&[
            "--ro-bind",
            "/usr",
            "/usr",
            "--ro-bind",
            "/etc",
            "/etc",
            "--symlink",
            "usr/bin",
            "/bin",
            "--symlink",
            "usr/sbin",
            "/sbin",
            "--symlink",
            "usr/lib",
            "/lib",
            "--symlink",
            "usr/lib64",
            "/lib64",
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--size",
            &tmp,
            "--tmpfs",
            "/tmp",
        ]));
        argv.push("--bind".into());
        argv.push(workspace.display().to_string());
        argv.push(self.mount.clone());
        argv.extend(s(&["--chdir", &self.mount, "--", "/usr/bin/prlimit"]));
        argv.push(format!("--nproc={}", self.max_processes));
        argv.push(format!("--as={}", self.max_memory_bytes));
        argv.push(format!("--fsize={}", self.max_file_bytes));
        argv.push("--core=0".into());
        argv.extend(s(&["--", "/bin/bash", "-c", script]));
        argv
    }

    /// Runs `script` with `bash -c` in a fresh sandbox on `workspace`, killing
    /// the whole process tree at the deadline.
    pub fn run(&self, workspace: &Path, script: &str, timeout: Duration) -> Result<BashRun, SandboxError> {
        let argv = self.command_line(workspace, script);
        let (reader, writer) = std::io::pipe()?;
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..])
            .stdin(Stdio::null())
            .stdout(writer.try_clone()?)
            .stderr(writer)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        let mut child = cmd.spawn().map_err(|source| SandboxError::Spawn { program: argv[0].clone(), source })?;
        drop(cmd);
        let cap = self.max_output_bytes;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(capture(reader, cap));
        });
        let deadline = Instant::now() + timeout;
        // The pipe closes when every process in the sandbox is gone, so
        // waiting for the output is the fast path; polling covers commands
        // that close their output early.
        let mut output = rx.recv_timeout(timeout).ok();
        let mut pause = Duration::from_micros(200);
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break Some(status);
            }
            if Instant::now() >= deadline {
                // bwrap's child is PID 1 of the sandbox's namespace and dies
                // with bwrap (--die-with-parent), taking every process with it.
                let _ = child.kill();
                child.wait()?;
                break None;
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(20));
        };
        if output.is_none() {
            output = rx.recv_timeout(Duration::from_secs(5)).ok();
        }
        let output = output.unwrap_or_else(|| "[output unavailable]".into());
        let exit_code = status.map(|s| {
            use std::os::unix::process::ExitStatusExt;
            s.code().unwrap_or_else(|| 128 + s.signal().unwrap_or(0))
        });
        Ok(BashRun { output, exit_code })
    }
}

/// Reads everything, keeping the first and last `cap / 2` bytes.
fn capture(mut reader: impl Read, cap: usize) -> String {
    let mut kept = CappedOutput::new(cap);
    let mut buf = vec![0u8; 64 << 10];
    loop {
        match reader.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => kept.push(&buf[..n]),
        }
    }
    kept.finish()
}

/// A command's output collected chunk by chunk, keeping the first and last
/// `cap / 2` bytes; the middle of a gigantic output becomes one
/// `[... N bytes of output omitted ...]` line.
///
/// ```
/// let mut out = entropo_envs::bash::CappedOutput::new(8);
/// out.push(b"0123");
/// out.push(b"456789");
/// assert_eq!(out.finish(), "0123\n[... 2 bytes of output omitted ...]\n6789");
/// ```
#[derive(Debug, Clone)]
pub struct CappedOutput {
    half: usize,
    head: Vec<u8>,
    tail: std::collections::VecDeque<u8>,
    dropped: usize,
}

impl CappedOutput {
    /// Keeps at most `cap` bytes.
    pub fn new(cap: usize) -> CappedOutput {
        CappedOutput { half: cap / 2, head: Vec::new(), tail: Default::default(), dropped: 0 }
    }

    /// Appends the next chunk.
    pub fn push(&mut self, mut chunk: &[u8]) {
        if self.head.len() < self.half {
            let take = (self.half - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
            chunk = &chunk[take..];
        }
        self.tail.extend(chunk);
        if self.tail.len() > self.half {
            let excess = self.tail.len() - self.half;
            self.tail.drain(..excess);
            self.dropped += excess;
        }
    }

    /// The kept output, lossily decoded.
    pub fn finish(mut self) -> String {
        let mut out = String::from_utf8_lossy(&self.head).into_owned();
        if self.dropped > 0 {
            out.push_str(&format!("\n[... {} bytes of output omitted ...]\n", self.dropped));
        }
        out.push_str(&String::from_utf8_lossy(self.tail.make_contiguous()));
        out
    }
}

/// R2E's middle truncation: over 80 lines, keep the first and last 40 with
/// a marker between.
///
/// ```
/// let long: String = (0..100).map(|i| format!("{i}\n")).collect();
/// let t = entropo_envs::bash::truncate_middle(&long);
/// assert!(t.contains("\n<Observation truncated in middle for saving context>\n"));
/// assert!(t.starts_with("0\n1\n") && t.ends_with("98\n99"));
/// ```
pub fn truncate_middle(output: &str) -> String {
    let lines = py_splitlines(output);
    if lines.len() <= 2 * KEEP_LINES {
        return output.to_string();
    }
    let divider = "-".repeat(50);
    format!(
        "{}\n{divider}\n<Observation truncated in middle for saving context>\n{divider}\n{}",
        lines[..KEEP_LINES].join("\n"),
        lines[lines.len() - KEEP_LINES..].join("\n")
    )
}

/// Python's `str.splitlines()`.
fn py_splitlines(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut it = s.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        if matches!(c, '\n' | '\r' | '\u{0b}' | '\u{0c}' | '\u{1c}' | '\u{1d}' | '\u{1e}' | '\u{85}' | '\u{2028}' | '\u{2029}') {
            out.push(&s[start..i]);
            start = i + c.len_utf8();
            if c == '\r' && it.peek().is_some_and(|(_, n)| *n == '\n') {
                it.next();
                start += 1;
            }
        }
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// Removes ANSI colour codes and carriage returns, as R2E does for
/// successful commands.
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {}
            '\x1b' if chars.peek() == Some(&'[') => {
                // `\x1b\[[0-9;]*m`: drop only a complete colour sequence.
                let rest: String = chars.clone().skip(1).take_while(|c| c.is_ascii_digit() || *c == ';').collect();
                let after = chars.clone().nth(1 + rest.len());
                if after == Some('m') {
                    for _ in 0..rest.len() + 2 {
                        chars.next();
                    }
                } else {
                    out.push(c);
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// The first word R2E looks at (`cmd.strip().split()[0]`) when it is refused.
pub fn refused_word(cmd: &str) -> Option<&str> {
    let first = cmd.split_whitespace().next()?;
    REFUSED_COMMANDS.contains(&first).then_some(first)
}

/// Formats a bash result as R2E's observation: `Exit code: 0` or
/// `Exit code: Error: Exit code N` (or `-1` after a timeout), then
/// `Execution output of [execute_bash]:` and the (truncated) output.
///
/// ```
/// use entropo_envs::bash::{BashRun, format_observation};
/// let ok = BashRun { output: "hi\n".into(), exit_code: Some(0) };
/// assert_eq!(format_observation(&ok, 90), "Exit code: 0\nExecution output of [execute_bash]:\nhi\n");
/// let bad = BashRun { output: "no\n".into(), exit_code: Some(2) };
/// assert_eq!(format_observation(&bad, 90), "Exit code: Error: Exit code 2\nExecution output of [execute_bash]:\nno\n");
/// let slow = BashRun { output: String::new(), exit_code: None };
/// assert_eq!(format_observation(&slow, 90), "Exit code: -1\nExecution output of [execute_bash]:\nThe command took too long to execute (>90s)");
/// ```
pub fn format_observation(run: &BashRun, timeout_secs: u64) -> String {
    let (code, output) = match run.exit_code {
        None => ("-1".to_string(), format!("The command took too long to execute (>{timeout_secs}s)")),
        Some(0) => ("0".to_string(), strip_ansi(&run.output)),
        Some(n) => (format!("Error: Exit code {n}"), run.output.clone()),
    };
    format!("Exit code: {code}\nExecution output of [execute_bash]:\n{}", truncate_middle(&output))
}

/// Runs one `execute_bash` call (`cmd` already stripped) and returns the
/// observation, refusing R2E's blocked first words.
pub fn observation(sandbox: &Sandbox, workspace: &Path, cmd: &str) -> Result<String, SandboxError> {
    observation_with(cmd, sandbox.timeout.as_secs(), |cmd| sandbox.run(workspace, cmd, sandbox.timeout))
}

/// The observation of one `execute_bash` call (`cmd` already stripped) whose
/// command `run` executes with a `timeout_secs` limit: R2E's blocked first
/// words are refused without running anything, the rest formatted by
/// [`format_observation`]. Every sandbox (bubblewrap, Docker) shares it.
///
/// ```
/// use entropo_envs::bash::{BashRun, observation_with};
/// let echo = |cmd: &str| Ok::<_, ()>(BashRun { output: format!("ran {cmd}\n"), exit_code: Some(0) });
/// assert_eq!(observation_with("ls", 90, echo).unwrap(), "Exit code: 0\nExecution output of [execute_bash]:\nran ls\n");
/// assert!(observation_with("cd /", 90, echo).unwrap().contains("Bash command 'cd' is not allowed."));
/// ```
pub fn observation_with<E>(
    cmd: &str,
    timeout_secs: u64,
    run: impl FnOnce(&str) -> Result<BashRun, E>,
) -> Result<String, E> {
    let run = match refused_word(cmd) {
        Some(word) => BashRun {
            output: format!("Bash command '{word}' is not allowed. Please use a different command or tool.\n"),
            exit_code: Some(1),
        },
        None => run(cmd)?,
    };
    Ok(format_observation(&run, timeout_secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ansi_and_cr() {
        assert_eq!(strip_ansi("\x1b[31mred\x1b[0m\r\n"), "red\n");
        assert_eq!(strip_ansi("\x1b[2Jx"), "\x1b[2Jx");
    }

    #[test]
    fn refusals() {
        assert_eq!(refused_word("  cd /tmp && ls"), Some("cd"));
        assert_eq!(refused_word("pip install x"), Some("pip"));
        assert_eq!(refused_word("pip3 install x"), None);
        assert_eq!(refused_word("ls; cd x"), None);
        assert_eq!(refused_word(""), None);
    }

    #[test]
    fn capture_keeps_ends() {
        let data: Vec<u8> = (0..10_000u32).flat_map(|i| format!("{i}\n").into_bytes()).collect();
        let out = capture(&data[..], 1000);
        assert!(out.starts_with("0\n1\n"));
        assert!(out.ends_with("9999\n"));
        assert!(out.contains("bytes of output omitted"));
    }

    #[test]
    fn truncation_boundary() {
        let eighty: String = (0..80).map(|i| format!("{i}\n")).collect();
        assert_eq!(truncate_middle(&eighty), eighty);
    }
}
