//! Runs the `file_editor` and `search` tool modules under wasmtime.
//!
//! The modules (built from `tools-wasm/` by this crate's build script and
//! embedded in the binary) are compiled once into one shared [`Engine`] with
//! the pooling allocator (the compiled artefact is cached on disk, see
//! [`cache_dir`], and deserialised by later processes), and instantiated per
//! call through an [`InstancePre`]. A call sees only the workspace, preopened read-write at
//! the mount path; it runs under a fuel budget, a wall-clock deadline (epoch
//! interruption, ticked by a background thread every 10 ms) and a memory cap
//! (`StoreLimits` with `trap_on_grow_failure`); its stdout is captured up to
//! a byte cap.
//!
//! ```no_run
//! use entropo_envs::wasm::{Tool, ToolLimits, WasmTools};
//! let tools = WasmTools::global().unwrap();
//! let params = [("command".to_string(), "view".to_string()), ("path".to_string(), "/testbed".to_string())].into();
//! let out = tools.run(Tool::FileEditor, std::path::Path::new("/tmp/ws"), "/testbed", &params, &ToolLimits::default()).unwrap();
//! println!("{}", out.text);
//! ```

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, InstancePre, Linker, Module, PoolingAllocationConfig, Store,
    StoreLimits, StoreLimitsBuilder, Trap,
};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

/// The `file_editor` module, built by `build.rs`.
pub static FILE_EDITOR_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/file_editor.wasm"));
/// The `search` module, built by `build.rs`.
pub static SEARCH_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/search.wasm"));

/// Epoch tick period of the deadline thread.
const TICK: Duration = Duration::from_millis(10);
/// Upper bound of any module's linear memory (the pool reserves this much).
pub const MAX_MEMORY_BYTES: usize = 1 << 30;
/// Exit code with which the tool modules report that stdout refused a write
/// (`OUTPUT_REFUSED_EXIT` in tools-wasm).
const OUTPUT_REFUSED_EXIT: i32 = 75;
/// Instances the pool holds at once (concurrent calls across environments).
const POOL_INSTANCES: u32 = 64;

/// A tool implemented as a WASM module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// R2E's `file_editor`.
    FileEditor,
    /// R2E's `search`.
    Search,
}

impl Tool {
    /// The tool's name as the model calls it.
    pub fn name(self) -> &'static str {
        match self {
            Tool::FileEditor => "file_editor",
            Tool::Search => "search",
        }
    }
}

/// Limits of one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolLimits {
    /// Instructions (roughly) a call may execute.
    pub fuel: u64,
    /// Linear memory cap in bytes (at most [`MAX_MEMORY_BYTES`]).
    pub memory_bytes: usize,
    /// Wall-clock deadline.
    pub timeout: Duration,
    /// Captured stdout cap in bytes.
    pub max_output_bytes: usize,
}

impl Default for ToolLimits {
    fn default() -> Self {
        ToolLimits {
            fuel: 20_000_000_000,
            memory_bytes: 256 << 20,
            timeout: Duration::from_secs(90),
            max_output_bytes: 1 << 20,
        }
    }
}

/// How a call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolOutcome {
    /// The module ran to completion (exit code 0 or `exit(n)`).
    Completed {
        /// The module's exit code.
        exit_code: i32,
    },
    /// The wall-clock deadline passed.
    Timeout,
    /// The fuel budget ran out.
    OutOfFuel,
    /// The module tried to grow its memory past the cap.
    OutOfMemory,
    /// The module wrote more than the output cap.
    OutputTooLarge,
    /// Any other trap (a bug in the module).
    Trap(String),
}

/// The result of one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolOutput {
    /// What the module printed (lossily decoded).
    pub text: String,
    /// How it ended.
    pub outcome: ToolOutcome,
}

impl ToolOutput {
    /// The text the model sees: the module's output, or a clear message when
    /// a limit stopped it.
    pub fn observation(&self, tool: Tool, limits: &ToolLimits) -> String {
        match &self.outcome {
            ToolOutcome::Completed { .. } => self.text.clone(),
            ToolOutcome::Timeout => {
                format!("The command took too long to execute (>{}s)", limits.timeout.as_secs())
            }
            ToolOutcome::OutOfFuel => format!(
                "ERROR: {} was stopped: it exceeded its compute budget ({} fuel). Narrow the request (a smaller file, range or directory).",
                tool.name(),
                limits.fuel
            ),
            ToolOutcome::OutOfMemory => format!(
                "ERROR: {} was stopped: it exceeded its memory limit ({} MiB). Narrow the request (a smaller file, range or directory).",
                tool.name(),
                limits.memory_bytes >> 20
            ),
            ToolOutcome::OutputTooLarge => format!(
                "{}\nERROR: {} output exceeded {} bytes and was cut.",
                self.text,
                tool.name(),
                limits.max_output_bytes
            ),
            ToolOutcome::Trap(msg) => format!("ERROR: {} failed: {msg}", tool.name()),
        }
    }
}

/// Why the WASM runtime itself failed (not a tool error).
#[derive(Debug, thiserror::Error)]
pub enum WasmError {
    /// Engine set-up or module compilation failed.
    #[error("wasm engine: {0}")]
    Engine(String),
    /// The workspace could not be preopened.
    #[error("cannot open workspace {path}: {message}")]
    Workspace {
        /// The host path.
        path: String,
        /// What failed.
        message: String,
    },
    /// Instantiation failed (e.g. the instance pool is exhausted).
    #[error("cannot instantiate {tool}: {message}")]
    Instantiate {
        /// The tool.
        tool: &'static str,
        /// What failed.
        message: String,
    },
}

struct State {
    wasi: WasiP1Ctx,
    limits: StoreLimits,
}

/// The compiled tool modules and their engine, shared by every environment
/// in the process.
pub struct WasmTools {
    engine: Engine,
    file_editor: InstancePre<State>,
    search: InstancePre<State>,
}

static GLOBAL: OnceLock<Result<WasmTools, String>> = OnceLock::new();

impl WasmTools {
    /// The process-wide instance: built (engine, compilation, epoch thread)
    /// on first use, then reused.
    pub fn global() -> Result<&'static WasmTools, WasmError> {
        GLOBAL.get_or_init(|| WasmTools::new().map_err(|e| e.to_string())).as_ref().map_err(|e| WasmError::Engine(e.clone()))
    }

    fn new() -> Result<WasmTools, WasmError> {
        let eng = |e: wasmtime::Error| WasmError::Engine(format!("{e:#}"));
        let mut pool = PoolingAllocationConfig::default();
        pool.total_core_instances(POOL_INSTANCES)
            .total_memories(POOL_INSTANCES)
            .total_tables(POOL_INSTANCES)
            .max_memory_size(MAX_MEMORY_BYTES);
        let mut config = Config::new();
        config
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
            .consume_fuel(true)
            .epoch_interruption(true);
        let engine = Engine::new(&config).map_err(eng)?;
        let mut linker: Linker<State> = Linker::new(&engine);
        wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |s: &mut State| &mut s.wasi).map_err(eng)?;
        let compile = |name: &str, bytes: &[u8]| -> Result<InstancePre<State>, WasmError> {
            let module = cached_module(&engine, name, bytes)?;
            linker.instantiate_pre(&module).map_err(eng)
        };
        let file_editor = compile("file_editor", FILE_EDITOR_WASM)?;
        let search = compile("search", SEARCH_WASM)?;
        let ticker = engine.weak();
        std::thread::Builder::new()
            .name("entropo-wasm-epoch".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(TICK);
                    match ticker.upgrade() {
                        Some(e) => e.increment_epoch(),
                        None => break,
                    }
                }
            })
            .map_err(|e| WasmError::Engine(format!("cannot start the epoch thread: {e}")))?;
        Ok(WasmTools { engine, file_editor, search })
    }

    /// Runs `tool` once on `workspace` (seen by the module at `mount`) with
    /// the call's parameters as given.
    pub fn run(
        &self,
        tool: Tool,
        workspace: &Path,
        mount: &str,
        params: &BTreeMap<String, String>,
        limits: &ToolLimits,
    ) -> Result<ToolOutput, WasmError> {
        let pre = match tool {
            Tool::FileEditor => &self.file_editor,
            Tool::Search => &self.search,
        };
        self.run_pre(pre, tool.name(), workspace, mount, params, limits)
    }

    /// Compiles and runs any WASI command module under the same sandbox and
    /// limits as the tools (used to test the limits with hostile modules).
    pub fn run_module(
        &self,
        wasm: &[u8],
        workspace: &Path,
        mount: &str,
        params: &BTreeMap<String, String>,
        limits: &ToolLimits,
    ) -> Result<ToolOutput, WasmError> {
        let eng = |e: wasmtime::Error| WasmError::Engine(format!("{e:#}"));
        let module = Module::new(&self.engine, wasm).map_err(eng)?;
        let mut linker: Linker<State> = Linker::new(&self.engine);
        wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |s: &mut State| &mut s.wasi).map_err(eng)?;
        let pre = linker.instantiate_pre(&module).map_err(eng)?;
        self.run_pre(&pre, "module", workspace, mount, params, limits)
    }

    fn run_pre(
        &self,
        pre: &InstancePre<State>,
        name: &'static str,
        workspace: &Path,
        mount: &str,
        params: &BTreeMap<String, String>,
        limits: &ToolLimits,
    ) -> Result<ToolOutput, WasmError> {
        let input = serde_json::json!({ "mount": mount, "params": params }).to_string();
        let stdout = MemoryOutputPipe::new(limits.max_output_bytes);
        let mut builder = WasiCtxBuilder::new();
        builder
            .arg(name)
            .stdin(MemoryInputPipe::new(input))
            .stdout(stdout.clone())
            .stderr(stdout.clone())
            .allow_blocking_current_thread(true);
        builder.preopened_dir(workspace, mount, FsPerms::ReadWrite).map_err(|e| {
            WasmError::Workspace { path: workspace.display().to_string(), message: format!("{e:#}") }
        })?;
        let limits_store = StoreLimitsBuilder::new()
            .memory_size(limits.memory_bytes.min(MAX_MEMORY_BYTES))
            .instances(1)
            .trap_on_grow_failure(true)
            .build();
        let mut store = Store::new(&self.engine, State { wasi: builder.build_p1(), limits: limits_store });
        store.limiter(|s| &mut s.limits);
        store.set_fuel(limits.fuel).map_err(|e| WasmError::Engine(format!("{e:#}")))?;
        let ticks = (limits.timeout.as_millis() / TICK.as_millis()).max(1) as u64;
        store.set_epoch_deadline(ticks);
        store.epoch_deadline_trap();
        let instance = pre
            .instantiate(&mut store)
            .map_err(|e| WasmError::Instantiate { tool: name, message: format!("{e:#}") })?;
        let start = instance
            .get_typed_func::<(), ()>(&mut store, "_start")
            .map_err(|e| WasmError::Instantiate { tool: name, message: format!("{e:#}") })?;
        let result = start.call(&mut store, ());
        drop(store);
        let text = String::from_utf8_lossy(&stdout.contents()).into_owned();
        let outcome = match result {
            Ok(()) => ToolOutcome::Completed { exit_code: 0 },
            Err(e) => match classify(&e) {
                // The module could not write (the pipe was full).
                ToolOutcome::Completed { exit_code: OUTPUT_REFUSED_EXIT } => ToolOutcome::OutputTooLarge,
                other => other,
            },
        };
        Ok(ToolOutput { text, outcome })
    }
}

/// The folder of compiled modules: `$ENTROPO_WASM_CACHE`, else
/// `$XDG_CACHE_HOME/entropo/wasm`, else `~/.cache/entropo/wasm`; `None` when
/// `ENTROPO_WASM_CACHE=off` or no home is known.
pub fn cache_dir() -> Option<std::path::PathBuf> {
    use std::path::PathBuf;
    match std::env::var_os("ENTROPO_WASM_CACHE") {
        Some(v) if v == "off" || v == "0" => None,
        Some(v) => Some(PathBuf::from(v)),
        None => std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .map(|d| d.join("entropo/wasm")),
    }
}

/// Whether `path` belongs to this process's user and nobody else can write
/// it: only then is a compiled artefact in it trusted.
fn private_to_us(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(me) = std::fs::metadata("/proc/self") else { return false };
    std::fs::symlink_metadata(path).is_ok_and(|m| m.uid() == me.uid() && m.mode() & 0o022 == 0)
}

/// Compiles `bytes`, or loads the artefact a previous process compiled from
/// the same bytes with a compatible engine (`<name>-<sha256>-<engine>.cwasm`
/// in [`cache_dir`]). The cache is best-effort: any problem falls back to
/// compiling in memory.
fn cached_module(engine: &Engine, name: &str, bytes: &[u8]) -> Result<Module, WasmError> {
    use sha2::Digest;
    use std::hash::{Hash, Hasher};
    let compile = || Module::new(engine, bytes).map_err(|e| WasmError::Engine(format!("{e:#}")));
    let Some(dir) = cache_dir() else { return compile() };
    let digest = sha2::Sha256::digest(bytes);
    let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    let file = dir.join(format!("{name}-{hex}-{:016x}.cwasm", h.finish()));
    if private_to_us(&dir) && private_to_us(&file) {
        // SAFETY: the file was written by `Module::serialize` of this user
        // (only this user can write the folder and the file), and wasmtime
        // checks that it matches this engine's version and configuration.
        if let Ok(module) = unsafe { Module::deserialize_file(engine, &file) } {
            return Ok(module);
        }
    }
    let module = compile()?;
    let _ = (|| -> Option<()> {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(&dir).ok()?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).ok()?;
        let artefact = module.serialize().ok()?;
        entropo_core::io::write_atomic(&file, &artefact).ok()?;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).ok()
    })();
    Ok(module)
}

fn classify(e: &wasmtime::Error) -> ToolOutcome {
    if let Some(exit) = e.downcast_ref::<wasmtime_wasi::I32Exit>() {
        return ToolOutcome::Completed { exit_code: exit.0 };
    }
    if let Some(trap) = e.downcast_ref::<Trap>() {
        return match trap {
            Trap::Interrupt => ToolOutcome::Timeout,
            Trap::OutOfFuel => ToolOutcome::OutOfFuel,
            other => ToolOutcome::Trap(other.to_string()),
        };
    }
    let text = format!("{e:#}");
    if text.contains("forcing trap when growing memory") {
        ToolOutcome::OutOfMemory
    } else if text.contains("write beyond capacity") {
        ToolOutcome::OutputTooLarge
    } else {
        ToolOutcome::Trap(text)
    }
}
