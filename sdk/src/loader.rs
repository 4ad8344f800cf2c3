//! The host side: load plugin libraries and register their plugins.
//!
//! [`load_library`] opens one shared library, checks its ABI version before
//! anything else, reads its descriptors and registers one [`Factory`] per
//! plugin in a [`Registry`] with [`Origin::Dynamic`]. The plugins it creates
//! call through the C ABI of [`crate::abi`] and keep the library loaded
//! (an `Arc`) for as long as any of them, or the registry, lives.
//!
//! ```no_run
//! use entropo_sdk::{Loss, Registry, loader};
//!
//! let mut registry = Registry::new();
//! let infos = loader::load_library("target/debug/libentropo_example_simpo.so", &mut registry)?;
//! assert_eq!(infos[0].name, "simpo");
//! let params = serde_json::from_str(r#"{"beta": 2.5}"#)?;
//! let simpo = registry.create::<dyn Loss>("simpo", &params)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::ffi::c_void;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use libloading::Library;

use crate::abi::{
    ABI_VERSION, AbiVersionFn, CallFn, CreateFn, DescribeFn, DestroyFn, EntropoBuffer, EntropoStr,
    FreeBufferFn, PluginDescriptor, STATUS_ERROR, STATUS_OK, STATUS_PANIC, WireLossError, WirePluginError,
    WireSelectorError, symbols,
};
use crate::{
    Factory, Loss, LossBatch, LossError, LossOutput, Origin, Params, PluginError, PluginInfo, PluginKind,
    Registry, RegistryError, RolloutRecord, Selection, Selector, SelectorError,
};

/// Why a plugin library could not be loaded. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file or folder could not be read (missing, no permission, …).
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The file exists but the dynamic loader refused it.
    #[error("{}: not a loadable shared library: {message}", .path.display())]
    NotALibrary {
        /// The file.
        path: PathBuf,
        /// What the dynamic loader said.
        message: String,
    },
    /// A shared library without the ABI version symbol: not an entropo plugin.
    #[error("{}: not an entropo plugin (it does not export `{symbol}`)", .path.display())]
    NotAPlugin {
        /// The file.
        path: PathBuf,
        /// The symbol looked for.
        symbol: String,
    },
    /// The plugin was built against another version of the ABI.
    #[error(
        "{}: built for entropo plugin ABI version {found}, but this entropo expects ABI version {expected}; rebuild the plugin against a matching entropo-sdk",
        .path.display()
    )]
    AbiMismatch {
        /// The file.
        path: PathBuf,
        /// The version the plugin reports.
        found: u32,
        /// [`ABI_VERSION`].
        expected: u32,
    },
    /// The plugin has the right ABI version but lacks an entry point.
    #[error("{}: broken entropo plugin: it does not export `{symbol}`", .path.display())]
    MissingSymbol {
        /// The file.
        path: PathBuf,
        /// The missing symbol.
        symbol: String,
    },
    /// An entry point returned something that is not the expected JSON.
    #[error("{}: plugin returned invalid JSON from {call}: {message}", .path.display())]
    InvalidJson {
        /// The file.
        path: PathBuf,
        /// The entry point.
        call: &'static str,
        /// The parser's complaint.
        message: String,
    },
    /// An entry point panicked (caught inside the plugin).
    #[error("{}: plugin panicked in {call}: {message}", .path.display())]
    Panicked {
        /// The file.
        path: PathBuf,
        /// The entry point.
        call: &'static str,
        /// The panic message.
        message: String,
    },
    /// An entry point returned an error status.
    #[error("{}: {call} failed: {message}", .path.display())]
    Failed {
        /// The file.
        path: PathBuf,
        /// The entry point.
        call: &'static str,
        /// What the plugin said.
        message: String,
    },
    /// The library exports a plugin of a kind the ABI cannot carry.
    #[error("{}: plugin `{name}` is a {kind} plugin; only loss and selector plugins can be loaded from libraries", .path.display())]
    UnsupportedKind {
        /// The file.
        path: PathBuf,
        /// The plugin.
        name: String,
        /// Its kind.
        kind: PluginKind,
    },
    /// A plugin's name is already taken (by a built-in, another library or
    /// the same library). Nothing from the library is registered then.
    #[error("{}: {source}", .path.display())]
    Duplicate {
        /// The file.
        path: PathBuf,
        /// The registry's complaint, naming the existing plugin's origin.
        #[source]
        source: RegistryError,
    },
}

impl LoadError {
    /// The file (or folder) the error is about.
    pub fn path(&self) -> &Path {
        match self {
            LoadError::Io { path, .. }
            | LoadError::NotALibrary { path, .. }
            | LoadError::NotAPlugin { path, .. }
            | LoadError::AbiMismatch { path, .. }
            | LoadError::MissingSymbol { path, .. }
            | LoadError::InvalidJson { path, .. }
            | LoadError::Panicked { path, .. }
            | LoadError::Failed { path, .. }
            | LoadError::UnsupportedKind { path, .. }
            | LoadError::Duplicate { path, .. } => path,
        }
    }
}

/// The entry points of one library, as plain function pointers.
#[derive(Clone, Copy)]
pub(crate) struct AbiFns {
    /// Read only before the struct is built, except by in-process tests.
    #[cfg_attr(not(test), allow(dead_code))]
    pub abi_version: AbiVersionFn,
    pub describe: DescribeFn,
    pub create: CreateFn,
    pub call: CallFn,
    pub destroy: DestroyFn,
    pub free_buffer: FreeBufferFn,
}

/// What an entry point answered.
enum Reply {
    Ok(Vec<u8>),
    Error(Vec<u8>),
    Panic(String),
    Status(i32),
}

/// A loaded library; the function pointers stay valid while `_library` lives.
struct PluginLib {
    path: PathBuf,
    fns: AbiFns,
    /// `None` for entry points linked into this process (tests).
    _library: Option<Library>,
}

impl PluginLib {
    /// Calls an entry point that writes one buffer, copies and frees it.
    fn reply(&self, call: impl FnOnce(*mut EntropoBuffer) -> i32) -> Reply {
        let mut out = EntropoBuffer::EMPTY;
        let status = call(&mut out);
        // SAFETY: `out` is EMPTY or was written by the plugin, which owns it;
        // it is freed exactly once, by the plugin's own free function.
        let bytes = unsafe { out.to_vec() };
        unsafe { (self.fns.free_buffer)(out) };
        match status {
            STATUS_OK => Reply::Ok(bytes),
            STATUS_ERROR => Reply::Error(bytes),
            STATUS_PANIC => Reply::Panic(String::from_utf8_lossy(&bytes).into_owned()),
            other => Reply::Status(other),
        }
    }

    fn describe(&self) -> Result<Vec<PluginDescriptor>, LoadError> {
        const CALL: &str = "entropo_plugin_describe";
        // SAFETY: entry point of the ABI, called as documented.
        match self.reply(|out| unsafe { (self.fns.describe)(out) }) {
            Reply::Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| LoadError::InvalidJson {
                path: self.path.clone(),
                call: CALL,
                message: e.to_string(),
            }),
            Reply::Panic(message) => {
                Err(LoadError::Panicked { path: self.path.clone(), call: CALL, message })
            }
            Reply::Error(bytes) => Err(LoadError::Failed {
                path: self.path.clone(),
                call: CALL,
                message: String::from_utf8_lossy(&bytes).into_owned(),
            }),
            Reply::Status(s) => Err(LoadError::Failed {
                path: self.path.clone(),
                call: CALL,
                message: format!("unknown status {s}"),
            }),
        }
    }

    fn create(
        self: &Arc<Self>,
        kind: PluginKind,
        name: &str,
        params: &Params,
    ) -> Result<Handle, PluginError> {
        let who = || format!("{kind} plugin `{name}` ({})", self.path.display());
        let params = serde_json::to_vec(params).map_err(|e| PluginError::Other(e.to_string()))?;
        let mut ptr: *mut c_void = std::ptr::null_mut();
        // SAFETY: entry point of the ABI; name and params outlive the call.
        let reply = self.reply(|out| unsafe {
            (self.fns.create)(EntropoStr::new(name.as_bytes()), EntropoStr::new(&params), &mut ptr, out)
        });
        match reply {
            Reply::Ok(_) if !ptr.is_null() => Ok(Handle { lib: Arc::clone(self), ptr }),
            Reply::Ok(_) => Err(PluginError::Other(format!("{} returned no instance", who()))),
            Reply::Error(bytes) => match serde_json::from_slice::<WirePluginError>(&bytes) {
                Ok(e) => Err(e.into()),
                Err(e) => {
                    Err(PluginError::Other(format!("{} returned invalid JSON for its error: {e}", who())))
                }
            },
            Reply::Panic(message) => Err(PluginError::Other(format!("{} panicked: {message}", who()))),
            Reply::Status(s) => Err(PluginError::Other(format!("{} returned unknown status {s}", who()))),
        }
    }
}

/// One plugin instance inside a library; destroyed on drop.
struct Handle {
    lib: Arc<PluginLib>,
    ptr: *mut c_void,
}

// SAFETY: the instance behind `ptr` is a `Loss` or `Selector`, both
// `Send + Sync`, and the ABI allows calls from any thread.
unsafe impl Send for Handle {}
// SAFETY: as above.
unsafe impl Sync for Handle {}

impl Handle {
    fn call(&self, input: &[u8]) -> Reply {
        // SAFETY: `ptr` came from this library's create and is not destroyed yet.
        self.lib.reply(|out| unsafe { (self.lib.fns.call)(self.ptr, EntropoStr::new(input), out) })
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from this library's create; it is not used again.
        // A panic in the plugin's drop is caught there; nothing to report to.
        unsafe { (self.lib.fns.destroy)(self.ptr) };
    }
}

/// A loss that lives in a plugin library.
struct DynLoss {
    name: String,
    handle: Handle,
}

impl DynLoss {
    fn who(&self) -> String {
        format!("loss plugin `{}` ({})", self.name, self.handle.lib.path.display())
    }
}

impl Loss for DynLoss {
    fn name(&self) -> &str {
        &self.name
    }

    fn compute(&self, batch: &LossBatch) -> Result<LossOutput, LossError> {
        // JSON cannot carry NaN or ±∞, and every loss must reject them anyway.
        batch.check_finite()?;
        let input = serde_json::to_vec(batch).map_err(|e| LossError::Plugin(e.to_string()))?;
        match self.handle.call(&input) {
            Reply::Ok(bytes) => {
                let out: LossOutput = serde_json::from_slice(&bytes).map_err(|e| {
                    LossError::Plugin(format!("{} returned invalid JSON for its output: {e}", self.who()))
                })?;
                if out.grads.pairs.len() != batch.pairs.len()
                    || out.grads.samples.len() != batch.samples.len()
                {
                    return Err(LossError::Plugin(format!(
                        "{} returned gradients for {} pairs and {} samples, but the batch has {} and {}",
                        self.who(),
                        out.grads.pairs.len(),
                        out.grads.samples.len(),
                        batch.pairs.len(),
                        batch.samples.len()
                    )));
                }
                Ok(out)
            }
            Reply::Error(bytes) => match serde_json::from_slice::<WireLossError>(&bytes) {
                Ok(e) => Err(e.into()),
                Err(e) => {
                    Err(LossError::Plugin(format!("{} returned invalid JSON for its error: {e}", self.who())))
                }
            },
            Reply::Panic(message) => Err(LossError::Plugin(format!("{} panicked: {message}", self.who()))),
            Reply::Status(s) => Err(LossError::Plugin(format!("{} returned unknown status {s}", self.who()))),
        }
    }
}

/// A selector that lives in a plugin library.
struct DynSelector {
    name: String,
    handle: Handle,
}

impl DynSelector {
    fn who(&self) -> String {
        format!("selector plugin `{}` ({})", self.name, self.handle.lib.path.display())
    }
}

impl Selector for DynSelector {
    fn name(&self) -> &str {
        &self.name
    }

    fn select(&self, pool: &[RolloutRecord]) -> Result<Selection, SelectorError> {
        let input = serde_json::to_vec(pool).map_err(|e| SelectorError::Plugin(e.to_string()))?;
        match self.handle.call(&input) {
            Reply::Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                SelectorError::Plugin(format!("{} returned invalid JSON for its selection: {e}", self.who()))
            }),
            Reply::Error(bytes) => match serde_json::from_slice::<WireSelectorError>(&bytes) {
                Ok(e) => Err(e.into()),
                Err(e) => Err(SelectorError::Plugin(format!(
                    "{} returned invalid JSON for its error: {e}",
                    self.who()
                ))),
            },
            Reply::Panic(message) => {
                Err(SelectorError::Plugin(format!("{} panicked: {message}", self.who())))
            }
            Reply::Status(s) => {
                Err(SelectorError::Plugin(format!("{} returned unknown status {s}", self.who())))
            }
        }
    }
}

/// Loads the plugin library at `path` and registers every plugin it exports
/// in `registry`, returning what was registered.
///
/// The ABI version is checked before any other call. If any plugin's name is
/// already taken, nothing from the library is registered.
pub fn load_library(path: impl AsRef<Path>, registry: &mut Registry) -> Result<Vec<PluginInfo>, LoadError> {
    let path = path.as_ref();
    let shown = path.to_path_buf();
    let meta = std::fs::metadata(path).map_err(|source| LoadError::Io { path: shown.clone(), source })?;
    if !meta.is_file() {
        return Err(LoadError::NotALibrary { path: shown, message: "not a regular file".into() });
    }
    // An absolute path, so that the dynamic loader never searches its own
    // folders for a bare file name.
    let absolute =
        std::fs::canonicalize(path).map_err(|source| LoadError::Io { path: shown.clone(), source })?;
    // SAFETY: loading a library runs its initialisers; loading a plugin means
    // trusting it, as the user asked for by naming it.
    let library = unsafe { Library::new(&absolute) }
        .map_err(|e| LoadError::NotALibrary { path: shown.clone(), message: e.to_string() })?;

    // SAFETY (all `get`s): the types are those the ABI documents for the symbols.
    let abi_version = *unsafe { library.get::<AbiVersionFn>(symbols::ABI_VERSION) }.map_err(|_| {
        LoadError::NotAPlugin { path: shown.clone(), symbol: symbols::display(symbols::ABI_VERSION).into() }
    })?;
    // SAFETY: checked by the version before any other call; takes no argument.
    let found = unsafe { abi_version() };
    if found != ABI_VERSION {
        return Err(LoadError::AbiMismatch { path: shown, found, expected: ABI_VERSION });
    }
    fn get<T: Copy>(library: &Library, symbol: &[u8], path: &Path) -> Result<T, LoadError> {
        // SAFETY: see above.
        unsafe { library.get::<T>(symbol) }.map(|s| *s).map_err(|_| LoadError::MissingSymbol {
            path: path.to_path_buf(),
            symbol: symbols::display(symbol).into(),
        })
    }
    let fns = AbiFns {
        abi_version,
        describe: get(&library, symbols::DESCRIBE, &shown)?,
        create: get(&library, symbols::CREATE, &shown)?,
        call: get(&library, symbols::CALL, &shown)?,
        destroy: get(&library, symbols::DESTROY, &shown)?,
        free_buffer: get(&library, symbols::FREE_BUFFER, &shown)?,
    };
    let lib = PluginLib { path: shown, fns, _library: Some(library) };
    register(Arc::new(lib), absolute, registry)
}

/// Registers the entry points `fns` of a library already in this process
/// (used by tests of the ABI without a shared library).
#[cfg(test)]
pub(crate) fn load_linked(
    label: &str,
    fns: AbiFns,
    registry: &mut Registry,
) -> Result<Vec<PluginInfo>, LoadError> {
    // SAFETY: entry point of the ABI.
    let found = unsafe { (fns.abi_version)() };
    if found != ABI_VERSION {
        return Err(LoadError::AbiMismatch { path: label.into(), found, expected: ABI_VERSION });
    }
    let lib = PluginLib { path: label.into(), fns, _library: None };
    register(Arc::new(lib), label.into(), registry)
}

fn register(
    lib: Arc<PluginLib>,
    origin_path: PathBuf,
    registry: &mut Registry,
) -> Result<Vec<PluginInfo>, LoadError> {
    let descriptors = lib.describe()?;
    let path = &lib.path;
    // Check everything first, so that a library is registered whole or not at all.
    for (i, d) in descriptors.iter().enumerate() {
        if !matches!(d.kind, PluginKind::Loss | PluginKind::Selector) {
            return Err(LoadError::UnsupportedKind {
                path: path.clone(),
                name: d.name.clone(),
                kind: d.kind,
            });
        }
        let existing = registry.info(d.kind, &d.name).map(|info| info.origin.clone()).or_else(|| {
            descriptors[..i]
                .iter()
                .any(|o| o.kind == d.kind && o.name == d.name)
                .then(|| Origin::Dynamic { path: origin_path.clone() })
        });
        if let Some(existing) = existing {
            return Err(LoadError::Duplicate {
                path: path.clone(),
                source: RegistryError::Duplicate { kind: d.kind, name: d.name.clone(), existing },
            });
        }
    }
    let mut infos = Vec::with_capacity(descriptors.len());
    for d in descriptors {
        let info = PluginInfo {
            kind: d.kind,
            name: d.name.clone(),
            description: d.description,
            origin: Origin::Dynamic { path: origin_path.clone() },
            params_schema: d.params_schema,
        };
        let name = d.name;
        let registered = match d.kind {
            PluginKind::Loss => {
                let lib = Arc::clone(&lib);
                let factory: Factory<dyn Loss> = Arc::new(move |params: &Params| {
                    let handle = lib.create(PluginKind::Loss, &name, params)?;
                    Ok(Box::new(DynLoss { name: name.clone(), handle }) as Box<dyn Loss>)
                });
                registry.register(info.clone(), factory)
            }
            _ => {
                let lib = Arc::clone(&lib);
                let factory: Factory<dyn Selector> = Arc::new(move |params: &Params| {
                    let handle = lib.create(PluginKind::Selector, &name, params)?;
                    Ok(Box::new(DynSelector { name: name.clone(), handle }) as Box<dyn Selector>)
                });
                registry.register(info.clone(), factory)
            }
        };
        registered.map_err(|source| LoadError::Duplicate { path: path.clone(), source })?;
        infos.push(info);
    }
    Ok(infos)
}

/// Whether `path` names a shared library on this platform (`.so` on Linux,
/// `.dylib` on macOS, `.dll` on Windows).
pub fn is_library_file(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == std::env::consts::DLL_EXTENSION)
}

/// Loads every shared library of this platform (see [`is_library_file`])
/// directly inside `dir`, in file-name order, and registers their plugins.
///
/// Other files are ignored. Stops at the first library that fails to load,
/// whose path the error names; the libraries before it stay registered.
pub fn load_dir(dir: impl AsRef<Path>, registry: &mut Registry) -> Result<Vec<PluginInfo>, LoadError> {
    let dir = dir.as_ref();
    let io = |source| LoadError::Io { path: dir.to_path_buf(), source };
    let mut libraries = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if is_library_file(&path) && path.is_file() {
            libraries.push(path);
        }
    }
    libraries.sort();
    let mut infos = Vec::new();
    for path in libraries {
        infos.extend(load_library(&path, registry)?);
    }
    Ok(infos)
}

/// The whole ABI round trip in one process: the guest side of `abi` behind
/// hand-written entry points, the host side of this module in front.
#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use super::*;
    use crate::abi::{PluginEntry, PluginTable, STATUS_BAD_ARGUMENT, guest};
    use crate::{LossGrads, StageReport};

    #[derive(serde::Deserialize, schemars::JsonSchema)]
    #[serde(deny_unknown_fields)]
    struct ThriftyParams {
        #[serde(default)]
        panic_in_select: bool,
    }

    /// Picks the rollout with the fewest tokens.
    struct Thrifty {
        panic_in_select: bool,
    }

    impl Selector for Thrifty {
        fn name(&self) -> &str {
            "thrifty"
        }
        fn select(&self, pool: &[RolloutRecord]) -> Result<Selection, SelectorError> {
            assert!(!self.panic_in_select, "thrifty was told to panic");
            if pool.iter().any(|r| r.task_id != pool[0].task_id) {
                return Err(SelectorError::InvalidPool("mixed tasks".into()));
            }
            let best = pool.iter().min_by_key(|r| (r.tokens, r.rollout_id));
            Ok(Selection {
                rollout_id: best.map(|r| r.rollout_id),
                reason: "fewest tokens".into(),
                stages: vec![StageReport { stage: "all".into(), removed: vec![], fell_back: false }],
            })
        }
    }

    #[derive(serde::Deserialize, schemars::JsonSchema)]
    struct NoParams {}

    /// Returns a NaN loss for any batch.
    struct NanLoss;

    impl Loss for NanLoss {
        fn name(&self) -> &str {
            "nan"
        }
        fn compute(&self, batch: &LossBatch) -> Result<LossOutput, LossError> {
            Ok(LossOutput {
                loss: f64::NAN,
                grads: LossGrads::zeros_like(batch),
                metrics: Default::default(),
            })
        }
    }

    fn table() -> &'static PluginTable {
        static TABLE: OnceLock<PluginTable> = OnceLock::new();
        TABLE.get_or_init(|| {
            PluginTable::new(vec![
                PluginEntry::selector("thrifty", "fewest tokens", |p: ThriftyParams| {
                    Ok(Thrifty { panic_in_select: p.panic_in_select })
                }),
                PluginEntry::loss("nan", "always NaN", |_: NoParams| Ok(NanLoss)),
                PluginEntry::loss(
                    "boom",
                    "panics when created",
                    |_: NoParams| -> Result<NanLoss, PluginError> { panic!("boom in create") },
                ),
            ])
        })
    }

    extern "C" fn version() -> u32 {
        ABI_VERSION
    }
    unsafe extern "C" fn describe(out: *mut EntropoBuffer) -> i32 {
        unsafe { guest::describe(table, out) }
    }
    unsafe extern "C" fn create(
        n: EntropoStr,
        p: EntropoStr,
        h: *mut *mut c_void,
        out: *mut EntropoBuffer,
    ) -> i32 {
        unsafe { guest::create(table, n, p, h, out) }
    }
    unsafe extern "C" fn call(h: *mut c_void, input: EntropoStr, out: *mut EntropoBuffer) -> i32 {
        unsafe { guest::call(h, input, out) }
    }
    unsafe extern "C" fn destroy(h: *mut c_void) -> i32 {
        unsafe { guest::destroy(h) }
    }
    unsafe extern "C" fn free_buffer(buf: EntropoBuffer) {
        unsafe { guest::free_buffer(buf) }
    }

    fn fns() -> AbiFns {
        AbiFns { abi_version: version, describe, create, call, destroy, free_buffer }
    }

    fn registry() -> Registry {
        let mut registry = Registry::new();
        let infos = load_linked("in-process", fns(), &mut registry).unwrap();
        let names: Vec<_> = infos.iter().map(|i| (i.kind, i.name.as_str())).collect();
        assert_eq!(
            names,
            [(PluginKind::Selector, "thrifty"), (PluginKind::Loss, "nan"), (PluginKind::Loss, "boom")]
        );
        registry
    }

    fn rollout(task: &str, id: u32, tokens: u64) -> RolloutRecord {
        serde_json::from_value(serde_json::json!({
            "task_id": task, "rollout_id": id, "exit_reason": "agent", "steps": 3, "tokens": tokens,
            "reward": null, "regression_passed": null, "patch_hash": null, "verifier_prob": null,
            "trajectory": format!("{task}/{id}.json"),
        }))
        .unwrap()
    }

    #[test]
    fn selectors_cross_the_abi() {
        let registry = registry();
        let thrifty = registry.create::<dyn Selector>("thrifty", &Params::new()).unwrap();
        assert_eq!(thrifty.name(), "thrifty");
        let pool = [rollout("t", 0, 50), rollout("t", 1, 20), rollout("t", 2, 20)];
        let selection = thrifty.select(&pool).unwrap();
        assert_eq!(selection.rollout_id, Some(1));
        assert_eq!(selection.stages[0].stage, "all");
        assert_eq!(thrifty.select(&[]).unwrap().rollout_id, None);
        assert_eq!(
            thrifty.select(&[rollout("a", 0, 1), rollout("b", 1, 1)]).unwrap_err(),
            SelectorError::InvalidPool("mixed tasks".into())
        );

        let params: Params = serde_json::from_str(r#"{"panic_in_select": true}"#).unwrap();
        let panicky = registry.create::<dyn Selector>("thrifty", &params).unwrap();
        let err = panicky.select(&pool).unwrap_err();
        assert!(
            matches!(&err, SelectorError::Plugin(m) if m.contains("panicked: thrifty was told to panic")),
            "{err}"
        );

        let bad: Params = serde_json::from_str(r#"{"panic": true}"#).unwrap();
        let err = registry.create::<dyn Selector>("thrifty", &bad).err().unwrap();
        assert!(
            matches!(&err, RegistryError::Plugin { source: PluginError::InvalidParam { param, .. }, .. } if param == "panic"),
            "{err:?}"
        );
    }

    #[test]
    fn panics_and_non_finite_outputs_become_errors() {
        let registry = registry();
        let err = registry.create::<dyn Loss>("boom", &Params::new()).err().unwrap();
        assert!(err.to_string().contains("panicked: boom in create"), "{err}");

        let nan = registry.create::<dyn Loss>("nan", &Params::new()).unwrap();
        let err = nan.compute(&crate::conformance::random_batch(crate::conformance::BatchShape::Pairs, 2, 0));
        assert!(matches!(&err, Err(LossError::Plugin(m)) if m.contains("non-finite loss (NaN)")), "{err:?}");
        // The suite reports it too.
        assert!(crate::conformance::check_all(&*nan).is_err());
    }

    #[test]
    fn duplicates_within_and_across_libraries() {
        let mut registry = registry();
        let err = load_linked("again", fns(), &mut registry).unwrap_err();
        assert!(
            err.to_string().starts_with("again: selector plugin `thrifty` is already registered"),
            "{err}"
        );
    }

    #[test]
    fn guest_rejects_null_arguments() {
        let mut out = EntropoBuffer::EMPTY;
        // SAFETY: null handle and empty input are what is being tested.
        let status = unsafe { call(std::ptr::null_mut(), EntropoStr::new(b""), &mut out) };
        assert_eq!(status, STATUS_BAD_ARGUMENT);
        assert_eq!(unsafe { describe(std::ptr::null_mut()) }, STATUS_BAD_ARGUMENT);
        assert_eq!(unsafe { destroy(std::ptr::null_mut()) }, STATUS_BAD_ARGUMENT);
    }

    #[test]
    fn wire_errors_round_trip() {
        for e in [
            LossError::NotFinite { entry: "kl[0].logp".into(), value: f64::NEG_INFINITY },
            LossError::Empty("x".into()),
            LossError::Unsupported { entry: "samples".into(), reason: "r".into() },
            LossError::MissingField { entry: "pairs[0].chosen.tokens".into() },
            LossError::Invalid { entry: "e".into(), reason: "r".into() },
            LossError::Plugin("p".into()),
        ] {
            let wire = serde_json::to_string(&WireLossError::from(e.clone())).unwrap();
            assert_eq!(LossError::from(serde_json::from_str::<WireLossError>(&wire).unwrap()), e, "{wire}");
        }
        let nan = WireLossError::from(LossError::NotFinite { entry: "x".into(), value: f64::NAN });
        let back = LossError::from(nan);
        assert!(matches!(back, LossError::NotFinite { value, .. } if value.is_nan()));
    }
}
