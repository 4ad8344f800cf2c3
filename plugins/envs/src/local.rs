//! The `local` environment: a task's `workspace` folder copied to a fresh
//! temporary directory, R2E-Gym's four tools on it (`file_editor` and
//! `search` as WASM modules, `execute_bash` in bubblewrap, `finish`), the
//! patch from a shadow git repository kept outside the workspace, and the
//! tests run in the sandbox with unittest's verbose output parsed per id.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use entropo_core::environment::{
    EnvError, Environment, StepResult, TestReport, TestStatus, ToolCall, ToolParam, ToolSpec,
};
use entropo_core::registry::PluginError;
use entropo_core::types::Task;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::bash::{self, BashRun, Sandbox};
use crate::wasm::{MAX_MEMORY_BYTES, Tool, ToolLimits, WasmTools};

/// The test command used when a task names none.
pub const DEFAULT_TEST_COMMAND: &str = "python3 -m unittest -v";

/// What `finish` answers, as R2E.
pub const FINISHED: &str = "<<< Finished >>>";

/// Parameters of the `local` environment.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LocalParams {
    /// Where the workspace appears to the tools (default: the task's
    /// `mount_at`, itself `/testbed` by default).
    #[serde(default)]
    pub mount_at: Option<String>,
    /// Wall-clock limit of one tool call, seconds (the paper: 90).
    #[serde(default = "default_step_timeout")]
    pub step_timeout_secs: u64,
    /// Wall-clock limit of the test run, seconds.
    #[serde(default = "default_test_timeout")]
    pub test_timeout_secs: u64,
    /// Linear-memory cap of a tool module, MiB (at most 1024).
    #[serde(default = "default_wasm_memory")]
    pub wasm_memory_mb: u64,
    /// Fuel (about one unit per WASM instruction) of one tool-module call.
    #[serde(default = "default_wasm_fuel")]
    pub wasm_fuel: u64,
    /// Address-space limit of each sandboxed process, MiB.
    #[serde(default = "default_bash_memory")]
    pub bash_memory_mb: u64,
    /// Processes the bash sandbox may hold at once.
    #[serde(default = "default_max_processes")]
    pub max_processes: u64,
    /// Largest file a sandboxed process may write, MiB.
    #[serde(default = "default_max_file")]
    pub max_file_mb: u64,
    /// Host uid (and gid) the sandbox runs as when entropo runs as root.
    #[serde(default = "default_uid")]
    pub sandbox_uid: u32,
}

pub(crate) fn default_step_timeout() -> u64 {
    90
}
pub(crate) fn default_test_timeout() -> u64 {
    1800
}
pub(crate) fn default_wasm_memory() -> u64 {
    256
}
pub(crate) fn default_wasm_fuel() -> u64 {
    20_000_000_000
}
fn default_bash_memory() -> u64 {
    4096
}
fn default_max_processes() -> u64 {
    512
}
fn default_max_file() -> u64 {
    1024
}
pub(crate) fn default_uid() -> u32 {
    65534
}

impl Default for LocalParams {
    fn default() -> Self {
        LocalParams {
            mount_at: None,
            step_timeout_secs: default_step_timeout(),
            test_timeout_secs: default_test_timeout(),
            wasm_memory_mb: default_wasm_memory(),
            wasm_fuel: default_wasm_fuel(),
            bash_memory_mb: default_bash_memory(),
            max_processes: default_max_processes(),
            max_file_mb: default_max_file(),
            sandbox_uid: default_uid(),
        }
    }
}

impl LocalParams {
    /// Checks ranges, naming the offending parameter.
    pub fn validate(&self) -> Result<(), PluginError> {
        validate_common(&self.mount_at, self.step_timeout_secs, self.test_timeout_secs, self.wasm_memory_mb, self.wasm_fuel)?;
        if self.bash_memory_mb < 64 {
            return bad("bash_memory_mb", "must be at least 64".into());
        }
        if self.max_processes < 4 {
            return bad("max_processes", "must be at least 4".into());
        }
        if self.max_file_mb == 0 {
            return bad("max_file_mb", "must be at least 1".into());
        }
        if self.sandbox_uid == 0 {
            return bad("sandbox_uid", "must not be root (0)".into());
        }
        Ok(())
    }
}

/// An [`InvalidParam`](PluginError::InvalidParam) error.
pub(crate) fn bad(param: &str, message: String) -> Result<(), PluginError> {
    Err(PluginError::InvalidParam { param: param.into(), message })
}

/// Checks the parameters every environment with the WASM tools shares.
pub(crate) fn validate_common(
    mount_at: &Option<String>,
    step_timeout_secs: u64,
    test_timeout_secs: u64,
    wasm_memory_mb: u64,
    wasm_fuel: u64,
) -> Result<(), PluginError> {
    if let Some(m) = mount_at
        && (!m.starts_with('/') || m == "/" || m.split('/').any(|p| p == ".." || p == "."))
    {
        return bad("mount_at", format!("must be an absolute path below / without . or .. parts, got {m:?}"));
    }
    if step_timeout_secs == 0 {
        return bad("step_timeout_secs", "must be at least 1".into());
    }
    if test_timeout_secs == 0 {
        return bad("test_timeout_secs", "must be at least 1".into());
    }
    if wasm_memory_mb == 0 || (wasm_memory_mb << 20) as usize > MAX_MEMORY_BYTES {
        return bad("wasm_memory_mb", format!("must be in 1..={}", MAX_MEMORY_BYTES >> 20));
    }
    if wasm_fuel == 0 {
        return bad("wasm_fuel", "must be positive".into());
    }
    Ok(())
}

/// The limits of one WASM tool call.
pub(crate) fn tool_limits(wasm_fuel: u64, wasm_memory_mb: u64, step_timeout_secs: u64) -> ToolLimits {
    ToolLimits {
        fuel: wasm_fuel,
        memory_bytes: (wasm_memory_mb << 20) as usize,
        timeout: Duration::from_secs(step_timeout_secs),
        ..ToolLimits::default()
    }
}

/// One episode's state.
struct Episode {
    checkout: Checkout,
    sandbox: Sandbox,
}

/// A task's workspace copied into a private temporary folder, beside a
/// shadow git repository the patch is taken against; the part of an episode
/// the `local` and `docker` environments share (the WASM tools run on it
/// directly, bash and the tests in the environment's own sandbox).
pub(crate) struct Checkout {
    /// Holds the workspace and the shadow git directory; removed on drop.
    _dir: tempfile::TempDir,
    pub(crate) workspace: PathBuf,
    git_dir: PathBuf,
    base: String,
    pub(crate) mount: String,
    task: Task,
    /// Owner given to the workspace's files when running as root.
    uid: u32,
}

/// The `local` environment (see the module docs).
pub struct LocalEnv {
    params: LocalParams,
    episode: Option<Episode>,
}

impl LocalEnv {
    /// A new environment; nothing is started until [`Environment::reset`].
    pub fn new(params: LocalParams) -> Result<LocalEnv, PluginError> {
        params.validate()?;
        Ok(LocalEnv { params, episode: None })
    }

    /// The host path of the current workspace, once reset.
    pub fn workspace(&self) -> Option<&Path> {
        self.episode.as_ref().map(|e| e.checkout.workspace.as_path())
    }

    fn limits(&self) -> ToolLimits {
        tool_limits(self.params.wasm_fuel, self.params.wasm_memory_mb, self.params.step_timeout_secs)
    }

    /// The bash sandbox for a workspace the tools see at `mount`.
    fn sandbox(&self, mount: String) -> Sandbox {
        let uid = self.params.sandbox_uid;
        Sandbox {
            mount,
            uid,
            gid: uid,
            timeout: Duration::from_secs(self.params.step_timeout_secs),
            max_processes: self.params.max_processes,
            max_memory_bytes: self.params.bash_memory_mb << 20,
            max_file_bytes: self.params.max_file_mb << 20,
            ..Sandbox::default()
        }
    }

    /// Executes one tool call directly on `workspace`: no copy, no reset,
    /// no patch or tests. Edits stay in the folder, and `file_editor` keeps
    /// its undo history in the folder's hidden
    /// [`EDITOR_STATE_DIR`](crate::EDITOR_STATE_DIR), so undo works across
    /// calls, from this process or another (`entropo tool call`). The tools
    /// see the folder at `mount_at` (default `/testbed`); when entropo runs
    /// as root, bash runs as `sandbox_uid`, who must be able to write the
    /// folder for bash to change it.
    pub fn step_in_place(&self, workspace: &Path, call: &ToolCall) -> Result<StepResult, EnvError> {
        let mount = self.params.mount_at.clone().unwrap_or_else(|| "/testbed".into());
        let sandbox = self.sandbox(mount);
        let uid = self.params.sandbox_uid;
        run_call(workspace, &sandbox.mount, uid, call, &self.limits(), |cmd| {
            bash::observation(&sandbox, workspace, cmd).map_err(|e| EnvError::Sandbox(e.to_string()))
        })
    }

    fn episode(&self) -> Result<&Episode, EnvError> {
        self.episode.as_ref().ok_or_else(|| EnvError::Sandbox("the local environment was used before reset()".into()))
    }
}

/// The four R2E tools, described as in the paper's system prompt.
pub fn r2e_tools() -> Vec<ToolSpec> {
    let p = |name: &str, kind: &str, required: bool, description: &str, allowed: &[&str]| ToolParam {
        name: name.into(),
        kind: kind.into(),
        description: description.into(),
        required,
        allowed: allowed.iter().map(|s| s.to_string()).collect(),
    };
    vec![
        ToolSpec {
            name: "file_editor".into(),
            description: "Custom editing tool for viewing, creating and editing files.\n\
- State is persistent across command calls and discussions with the user\n\
- If path is a file, view displays the result of applying `cat -n`. If path is a directory, view lists non-hidden files and directories up to 2 levels deep\n\
- The create command cannot be used if the specified path already exists as a file\n\
- If a command generates a long output, it will be truncated and marked with `<response clipped>`\n\
- The `undo_edit` command will revert the last edit made to the file at path\n\n\
Notes for using the `str_replace` command:\n\
- The `old_str` parameter should match EXACTLY one or more consecutive lines from the original file. Be mindful of whitespaces!\n\
- If the `old_str` parameter is not unique in the file, the replacement will not be performed. Make sure to include enough context in `old_str` to make it unique\n\
- The `new_str` parameter should contain the edited lines that should replace the `old_str`"
                .into(),
            params: vec![
                p("command", "string", true, "The command to run.", &["view", "create", "str_replace", "insert", "undo_edit"]),
                p("path", "string", true, "Absolute path to file or directory, e.g. `/testbed/file.py` or `/testbed`.", &[]),
                p("file_text", "string", false, "Required for the `create` command. Contains the content of the file to be created.", &[]),
                p("old_str", "string", false, "Required for the `str_replace` command. The exact string in path to replace.", &[]),
                p("new_str", "string", false, "- Optional for the `str_replace` command to specify the replacement string.\n- Required for the `insert` command to specify the string to insert.", &[]),
                p("insert_line", "integer", false, "Required for the `insert` command. The `new_str` will be inserted after the line number specified here.", &[]),
                p("view_range", "array", false, "- Optional for the `view` command (when path is a file).\n- If provided, specifies the line range to view, e.g. `[11, 12]` shows lines 11 and 12.\n- `[start_line, -1]` will show all lines from `start_line` to the end of file.", &[]),
                p("concise", "boolean", false, "- Optional for the `view` command.\n- Displays a concise skeletal view of the file. If set to `False`, displays the full content in the specified `view_range`.", &[]),
            ],
        },
        ToolSpec {
            name: "execute_bash".into(),
            description: "Execute a bash command in the terminal.\n\n\
Behavior notes:\n\
- If a command may run indefinitely (long-running), consider running it in the background and redirecting output, e.g. `python3 app.py > server.log 2>&1 &`.\n\
- If the bash command returns exit code -1, it means the process is still running. The assistant may:\n\
 - Call this function again with `command` as an empty string (`\"\"`) to retrieve additional logs.\n\
- Send more input to STDIN of the running process by calling this function again with command set to the text input.\n\
- Send `command=\"ctrl+c\"` to interrupt the currently running process.\n\
- If the command times out, it will be interrupted (SIGINT). The assistant may then retry or do further steps if needed."
                .into(),
            params: vec![p(
                "cmd",
                "string",
                true,
                "The bash command (and optional arguments) to execute.\n- Can be empty (\"\") to retrieve more logs if the process is still running.\n- Can be \"ctrl+c\" to interrupt the running process.",
                &[],
            )],
        },
        ToolSpec {
            name: "search".into(),
            description: "Search for a term in a directory or a single file.\n\
- If `path` is a directory (or unspecified, default is `.`), it recursively searches all non-hidden files and directories for the search term.\n\
- If `path` points to a file, it runs a `grep -n` in that file to show line numbers matching the search term.\n\
- If more than 100 files match in a directory search, results are truncated and the tool will inform you to narrow your search.\n\
- If no matches are found, it will inform you as well."
                .into(),
            params: vec![
                p("search_term", "string", true, "The term or string to search for in files.", &[]),
                p("path", "string", false, "The file or directory to search in. Defaults to `.` if not specified.", &[]),
            ],
        },
        ToolSpec {
            name: "finish".into(),
            description: "Finish the interaction once the task is complete or if no further progress can be made.\n\n\
Behavior notes:\n- The submit command finalizes your output."
                .into(),
            params: vec![
                p("command", "string", true, "Currently allowed value: `[submit]`.", &["submit"]),
                p("result", "string", false, "The result text or final message to submit. Defaults to an empty string if not provided.", &[]),
            ],
        },
    ]
}

/// Copies `src` into the new folder `dst`: files with their permissions,
/// symlinks as symlinks; other special files are skipped.
pub fn copy_tree(src: &Path, dst: &Path) -> std::io::Result<()> {
    std::fs::create_dir(dst)?;
    std::fs::set_permissions(dst, std::fs::metadata(src)?.permissions())?;
    for entry in std::fs::read_dir(src)? {
        let entry = entry?;
        let from = entry.path();
        let to = dst.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&from)?, &to)?;
        } else if kind.is_dir() {
            copy_tree(&from, &to)?;
        } else if kind.is_file() {
            std::fs::copy(&from, &to)?;
        }
    }
    Ok(())
}

/// Runs git on the shadow repository (`git_dir`) with `workspace` as its
/// work tree; the repository's own `.git`, if any, is left alone.
fn git(git_dir: &Path, workspace: &Path, args: &[&str]) -> Result<String, EnvError> {
    let out = Command::new("git")
        .arg(format!("--git-dir={}", git_dir.display()))
        .arg(format!("--work-tree={}", workspace.display()))
        .args([
            "-c", "safe.directory=*", "-c", "user.name=entropo", "-c", "user.email=entropo@localhost",
            "-c", "commit.gpgsign=false", "-c", "core.autocrlf=false", "-c", "core.hooksPath=/dev/null",
        ])
        .args(args)
        .current_dir(workspace)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .output()
        .map_err(|e| EnvError::Sandbox(format!("cannot run git (needed for the patch): {e}")))?;
    if !out.status.success() {
        return Err(EnvError::Sandbox(format!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Where a `file_editor` path lands on the host, if inside the workspace.
fn host_path(workspace: &Path, mount: &str, arg: &str) -> Option<PathBuf> {
    let arg = arg.trim();
    let rel = if arg.starts_with('/') {
        let rest = arg.strip_prefix(mount)?;
        if !(rest.is_empty() || rest.starts_with('/')) {
            return None;
        }
        rest.to_string()
    } else {
        arg.to_string()
    };
    let mut out = workspace.to_path_buf();
    for part in rel.split('/') {
        match part {
            "" | "." => {}
            ".." => return None,
            p => out.push(p),
        }
    }
    Some(out)
}

impl Checkout {
    /// Copies `task`'s workspace into a new temporary folder named
    /// `prefix…` (in `parent`, else the system's temporary folder), commits
    /// it to the shadow repository as the base of the patch and, when
    /// running as root, gives it to `uid`.
    pub(crate) fn new(
        task: &Task,
        mount: String,
        uid: u32,
        prefix: &str,
        parent: Option<&Path>,
    ) -> Result<Checkout, EnvError> {
        let task_err = |reason: String| EnvError::Task { task: task.instance_id.clone(), reason };
        let source = task
            .workspace
            .as_ref()
            .ok_or_else(|| task_err("no `workspace` folder: the environment copies the repository from it".into()))?;
        if !source.is_dir() {
            return Err(task_err(format!("workspace {} is not a folder", source.display())));
        }
        let mut builder = tempfile::Builder::new();
        builder.prefix(prefix);
        let dir = match parent {
            Some(parent) => builder.tempdir_in(parent)?,
            None => builder.tempdir()?,
        };
        // The sandbox user must be able to reach the workspace inside.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o711))?;
        let workspace = dir.path().join("ws");
        copy_tree(source, &workspace)
            .map_err(|e| task_err(format!("cannot copy workspace {}: {e}", source.display())))?;
        let git_dir = dir.path().join("base.git");
        git(&git_dir, &workspace, &["init", "-q"])?;
        std::fs::create_dir_all(git_dir.join("info"))?;
        std::fs::write(
            git_dir.join("info/exclude"),
            format!("/{}\n__pycache__/\n*.pyc\n", crate::EDITOR_STATE_DIR),
        )?;
        git(&git_dir, &workspace, &["add", "-A"])?;
        git(&git_dir, &workspace, &["commit", "-q", "--allow-empty", "--no-verify", "-m", "base"])?;
        let base = git(&git_dir, &workspace, &["rev-parse", "HEAD"])?.trim().to_string();
        bash::chown_tree(&workspace, uid, uid)?;
        Ok(Checkout { _dir: dir, workspace, git_dir, base, mount, task: task.clone(), uid })
    }

    /// Executes one tool call on the workspace (see [`run_call`]).
    pub(crate) fn step(
        &self,
        call: &ToolCall,
        limits: &ToolLimits,
        bash: impl FnOnce(&str) -> Result<String, EnvError>,
    ) -> Result<StepResult, EnvError> {
        run_call(&self.workspace, &self.mount, self.uid, call, limits, bash)
    }

    /// The workspace's diff against its base.
    pub(crate) fn patch(&self) -> Result<String, EnvError> {
        git(&self.git_dir, &self.workspace, &["add", "-A"])?;
        git(&self.git_dir, &self.workspace, &["diff", "--cached", "--no-color", "--no-ext-diff", &self.base])
    }

    /// Applies the task's test patch, runs its test command through `run`
    /// (given the command; a `None` exit code means it timed out after
    /// `timeout_secs`) and judges every FAIL_TO_PASS and PASS_TO_PASS id.
    pub(crate) fn run_tests(
        &self,
        timeout_secs: u64,
        run: impl FnOnce(&str) -> Result<BashRun, EnvError>,
    ) -> Result<TestReport, EnvError> {
        let mut output = String::new();
        if let Some(test_patch) = self.task.test_patch.as_deref().filter(|p| !p.trim().is_empty()) {
            let patch_file = self.git_dir.join("test.patch");
            std::fs::write(&patch_file, test_patch)?;
            let patch_arg = patch_file.display().to_string();
            if let Err(e) = git(&self.git_dir, &self.workspace, &["apply", "--whitespace=nowarn", &patch_arg]) {
                output.push_str(&format!("entropo: cannot apply the test patch: {e}\n"));
            }
            bash::chown_tree(&self.workspace, self.uid, self.uid)?;
        }
        let command = self.task.test_command.clone().unwrap_or_else(|| DEFAULT_TEST_COMMAND.to_string());
        let run = run(&command)?;
        output.push_str(&run.output);
        if run.exit_code.is_none() {
            output.push_str(&format!("\nentropo: the test command timed out after {timeout_secs}s\n"));
        }
        let statuses = parse_unittest(&output);
        let judge = |ids: &[String]| -> BTreeMap<String, TestStatus> {
            ids.iter().map(|id| (id.clone(), lookup(&statuses, id))).collect()
        };
        Ok(TestReport {
            fail_to_pass: judge(&self.task.fail_to_pass),
            pass_to_pass: judge(&self.task.pass_to_pass),
            output,
        })
    }
}

/// Executes one tool call on `workspace`, which the tools see at `mount`:
/// `file_editor` and `search` as WASM modules (files the editor creates go
/// to `uid` when running as root), `execute_bash` through `bash` (given the
/// stripped command, returning the observation), `finish`, or an unknown
/// tool's error observation.
fn run_call(
    workspace: &Path,
    mount: &str,
    uid: u32,
    call: &ToolCall,
    limits: &ToolLimits,
    bash: impl FnOnce(&str) -> Result<String, EnvError>,
) -> Result<StepResult, EnvError> {
    let observation = match call.name.as_str() {
        "file_editor" | "search" => {
            let tool = if call.name == "search" { Tool::Search } else { Tool::FileEditor };
            let tools = WasmTools::global().map_err(|e| EnvError::Sandbox(e.to_string()))?;
            let out = tools
                .run(tool, workspace, mount, &call.params, limits)
                .map_err(|e| EnvError::Sandbox(e.to_string()))?;
            if tool == Tool::FileEditor && bash::running_as_root() {
                // Files the editor created belong to the sandbox user too.
                if let Some(p) = call.params.get("path").and_then(|a| host_path(workspace, mount, a)) {
                    let _ = std::os::unix::fs::lchown(&p, Some(uid), Some(uid));
                }
            }
            format!("Execution output of [{}]:\n{}", tool.name(), out.observation(tool, limits))
        }
        "execute_bash" => match call.params.get("cmd").or_else(|| call.params.get("command")) {
            Some(cmd) => bash(cmd.trim())?,
            None => "Exit code: Error: Exit code 2\nExecution output of [execute_bash]:\n\
                     ERROR: Missing required parameter 'cmd' for execute_bash."
                .to_string(),
        },
        "finish" | "submit" => return Ok(StepResult { observation: FINISHED.into(), done: true }),
        other => format!(
            "Execution output of [{other}]:\nERROR: Unknown tool '{other}'. Available tools: file_editor, execute_bash, search, finish."
        ),
    };
    Ok(StepResult { observation, done: false })
}

impl Environment for LocalEnv {
    fn tools(&self) -> Vec<ToolSpec> {
        r2e_tools()
    }

    fn reset(&mut self, task: &Task) -> Result<(), EnvError> {
        self.episode = None;
        let mount = self.params.mount_at.clone().unwrap_or_else(|| task.mount_at.clone());
        let uid = self.params.sandbox_uid;
        let checkout = Checkout::new(task, mount.clone(), uid, "entropo-local-", None)?;
        let sandbox = self.sandbox(mount);
        self.episode = Some(Episode { checkout, sandbox });
        Ok(())
    }

    fn step(&mut self, call: &ToolCall) -> Result<StepResult, EnvError> {
        let limits = self.limits();
        let ep = self.episode()?;
        ep.checkout.step(call, &limits, |cmd| {
            bash::observation(&ep.sandbox, &ep.checkout.workspace, cmd).map_err(|e| EnvError::Sandbox(e.to_string()))
        })
    }

    fn patch(&mut self) -> Result<String, EnvError> {
        self.episode()?.checkout.patch()
    }

    fn run_tests(&mut self) -> Result<TestReport, EnvError> {
        let ep = self.episode()?;
        let sandbox = Sandbox { max_output_bytes: 64 << 20, ..ep.sandbox.clone() };
        let timeout = Duration::from_secs(self.params.test_timeout_secs);
        ep.checkout.run_tests(timeout.as_secs(), |command| {
            sandbox.run(&ep.checkout.workspace, command, timeout).map_err(|e| EnvError::Sandbox(e.to_string()))
        })
    }
}

/// A test id's status, accepting both `module.Class.test` and Django-style
/// `test (module.Class)` spellings.
fn lookup(statuses: &BTreeMap<String, TestStatus>, id: &str) -> TestStatus {
    if let Some(s) = statuses.get(id) {
        return *s;
    }
    if let Some((name, rest)) = id.split_once(" (")
        && let Some(class) = rest.strip_suffix(')')
        && let Some(s) = statuses.get(&format!("{class}.{name}"))
    {
        return *s;
    }
    TestStatus::Missing
}

/// Reads `test_name (dotted.id)` from a unittest verbose line, giving the
/// full id `module.Class.test_name` (Python 3.11 prints the full id in the
/// parentheses; older versions print `module.Class`).
fn test_id(line: &str) -> Option<(String, &str)> {
    let (name, rest) = line.split_once(" (")?;
    if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return None;
    }
    let close = rest.find(')')?;
    let inner = &rest[..close];
    if inner.is_empty() || inner.contains(' ') {
        return None;
    }
    let id = if inner.ends_with(&format!(".{name}")) { inner.to_string() } else { format!("{inner}.{name}") };
    Some((id, &rest[close + 1..]))
}

fn status_word(s: &str) -> Option<TestStatus> {
    let s = s.trim();
    match s {
        "ok" | "expected failure" => Some(TestStatus::Passed),
        "FAIL" | "ERROR" | "unexpected success" => Some(TestStatus::Failed),
        _ if s.starts_with("skipped") => Some(TestStatus::Failed),
        _ => None,
    }
}

/// Parses `python -m unittest -v` output into a status per test id
/// (`module.Class.test`). `ok` and `expected failure` pass; `FAIL`, `ERROR`,
/// `unexpected success` and skips do not (as SWE-bench grades them). The
/// `FAIL:`/`ERROR:` headers of the failure report override.
///
/// ```
/// use entropo_core::environment::TestStatus;
/// let out = "test_add (tests.test_calc.TestAdd.test_add) ... FAIL\n\
///            test_sub (tests.test_calc.TestSub) ... ok\n";
/// let s = entropo_envs::local::parse_unittest(out);
/// assert_eq!(s["tests.test_calc.TestAdd.test_add"], TestStatus::Failed);
/// assert_eq!(s["tests.test_calc.TestSub.test_sub"], TestStatus::Passed);
/// ```
pub fn parse_unittest(output: &str) -> BTreeMap<String, TestStatus> {
    let mut statuses = BTreeMap::new();
    let mut pending: Option<String> = None;
    for line in output.lines() {
        for prefix in ["FAIL: ", "ERROR: "] {
            if let Some((id, _)) = line.strip_prefix(prefix).and_then(test_id) {
                statuses.insert(id, TestStatus::Failed);
            }
        }
        if line.starts_with("FAIL: ") || line.starts_with("ERROR: ") {
            continue;
        }
        if let Some((id, rest)) = test_id(line) {
            match rest.rfind(" ... ").map(|i| &rest[i + 5..]) {
                Some(word) => match status_word(word) {
                    Some(s) => {
                        statuses.entry(id).or_insert(s);
                        pending = None;
                    }
                    // Output printed by the test split the line.
                    None => pending = Some(id),
                },
                None => pending = Some(id),
            }
            continue;
        }
        if let Some(id) = &pending {
            let word = line.rfind(" ... ").map_or(line, |i| &line[i + 5..]);
            if let Some(s) = status_word(word).or_else(|| status_word(line)) {
                statuses.entry(id.clone()).or_insert(s);
                pending = None;
            }
        }
    }
    statuses
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_validate() {
        assert!(LocalParams::default().validate().is_ok());
        let p = LocalParams { mount_at: Some("relative".into()), ..LocalParams::default() };
        assert!(p.validate().is_err());
        let p = LocalParams { sandbox_uid: 0, ..LocalParams::default() };
        assert!(p.validate().is_err());
    }

    #[test]
    fn host_paths() {
        let ws = Path::new("/tmp/ws");
        assert_eq!(host_path(ws, "/testbed", "/testbed/a/b.py"), Some(PathBuf::from("/tmp/ws/a/b.py")));
        assert_eq!(host_path(ws, "/testbed", "a.py"), Some(PathBuf::from("/tmp/ws/a.py")));
        assert_eq!(host_path(ws, "/testbed", "/testbed2/a.py"), None);
        assert_eq!(host_path(ws, "/testbed", "../x"), None);
    }

    #[test]
    fn unittest_variants() {
        let out = "test_a (m.C.test_a) ... ok\n\
test_b (m.C)\nDoc line. ... ERROR\n\
test_c (m.C.test_c) ... printed stuff\nok\n\
test_d (m.C.test_d) ... skipped 'no'\n\
test_e (m.C.test_e) ... expected failure\n\
test_f (m.C.test_f) ... ok\n\
======================================================================\n\
FAIL: test_f (m.C.test_f)\n";
        let s = parse_unittest(out);
        assert_eq!(s["m.C.test_a"], TestStatus::Passed);
        assert_eq!(s["m.C.test_b"], TestStatus::Failed);
        assert_eq!(s["m.C.test_c"], TestStatus::Passed);
        assert_eq!(s["m.C.test_d"], TestStatus::Failed);
        assert_eq!(s["m.C.test_e"], TestStatus::Passed);
        assert_eq!(s["m.C.test_f"], TestStatus::Failed);
        assert_eq!(lookup(&s, "test_a (m.C)"), TestStatus::Passed);
        assert_eq!(lookup(&s, "m.C.test_zzz"), TestStatus::Missing);
    }
}
