//! The C ABI between entropo (the host) and a plugin library.
//!
//! # Design
//!
//! A plugin library exports six `extern "C"` functions (see [`symbols`]).
//! Everything that crosses the boundary other than the version number,
//! status codes and an opaque instance handle is **UTF-8 JSON**: the plugin's
//! descriptors, the parameters, the input ([`LossBatch`] or a pool of
//! [`RolloutRecord`]s), the output ([`LossOutput`] or [`Selection`]) and typed
//! errors ([`WireLossError`], …). Per-batch cost is a few microseconds, nothing
//! beside a model's forward pass, and no Rust layout ever crosses.
//!
//! | symbol | signature | |
//! |---|---|---|
//! | `entropo_plugin_abi_version` | `() -> u32` | [`ABI_VERSION`] the plugin was built for; the host calls it first and nothing else on a mismatch |
//! | `entropo_plugin_describe` | `(out: *mut EntropoBuffer) -> i32` | JSON array of [`PluginDescriptor`] |
//! | `entropo_plugin_create` | `(name: EntropoStr, params: EntropoStr, handle: *mut *mut c_void, out: *mut EntropoBuffer) -> i32` | an instance of plugin `name` with `params` (a JSON object); on error `out` holds a [`WirePluginError`] |
//! | `entropo_plugin_call` | `(handle: *mut c_void, input: EntropoStr, out: *mut EntropoBuffer) -> i32` | compute (loss) or select (selector); on error `out` holds a [`WireLossError`] / [`WireSelectorError`] |
//! | `entropo_plugin_destroy` | `(handle: *mut c_void) -> i32` | drops an instance |
//! | `entropo_plugin_free_buffer` | `(buf: EntropoBuffer)` | frees a buffer the plugin wrote |
//!
//! Rules:
//!
//! * **Status codes**: [`STATUS_OK`] (the `out` buffer holds the result),
//!   [`STATUS_ERROR`] (it holds the JSON error), [`STATUS_PANIC`] (it holds the
//!   panic message as plain UTF-8). Every entry point runs its body under
//!   [`std::panic::catch_unwind`], so no unwind ever crosses the boundary; a
//!   plugin must therefore be built with `panic = "unwind"` (Cargo's default).
//! * **Memory**: input ([`EntropoStr`]) is borrowed from the host for the
//!   duration of the call. Every [`EntropoBuffer`] the plugin writes is owned by
//!   the plugin and handed back to *its* `entropo_plugin_free_buffer`; the host
//!   sets `out` to [`EntropoBuffer::EMPTY`] before each call and frees it after
//!   reading, whatever the status. Instances are freed with
//!   `entropo_plugin_destroy`.
//! * **Threads**: an instance is `Send + Sync` (as [`Loss`] and [`Selector`]
//!   require), so the host may call it from several threads at once.
//! * **Non-finite numbers**: JSON has none. The host rejects a batch holding
//!   NaN or ±∞ before calling (as every loss must); a plugin whose output holds
//!   one reports an error instead.
//! * **Versioning**: [`ABI_VERSION`] covers the symbols, their signatures and
//!   the JSON of every type above (including `entropo-core`'s [`LossBatch`],
//!   which denies unknown fields). It is bumped on any change.
//!
//! A plugin normally gets all of this from [`export_loss!`](crate::export_loss)
//! and never touches this module; the loader in [`crate::loader`] is the host
//! side. The guest side lives in the hidden `guest` module the macros call.

use std::ffi::c_void;

use serde::{Deserialize, Serialize};

use crate::{
    Loss, LossBatch, LossError, LossOutput, PluginError, PluginKind, RolloutRecord, Selection, Selector,
    SelectorError,
};

/// The version of this ABI. A plugin built against an sdk with another
/// version is refused by the loader before any other call.
pub const ABI_VERSION: u32 = 1;

/// The call succeeded; `out` holds the result (JSON, or nothing).
pub const STATUS_OK: i32 = 0;
/// The plugin reported an error; `out` holds it as JSON.
pub const STATUS_ERROR: i32 = 1;
/// The plugin panicked; `out` holds the panic message (plain UTF-8).
pub const STATUS_PANIC: i32 = 2;
/// The host passed a null pointer or a bad handle; `out` may be untouched.
pub const STATUS_BAD_ARGUMENT: i32 = 3;

/// The names of the exported functions, NUL-terminated for `dlsym`.
pub mod symbols {
    /// `extern "C" fn() -> u32`
    pub const ABI_VERSION: &[u8] = b"entropo_plugin_abi_version\0";
    /// `unsafe extern "C" fn(*mut EntropoBuffer) -> i32`
    pub const DESCRIBE: &[u8] = b"entropo_plugin_describe\0";
    /// `unsafe extern "C" fn(EntropoStr, EntropoStr, *mut *mut c_void, *mut EntropoBuffer) -> i32`
    pub const CREATE: &[u8] = b"entropo_plugin_create\0";
    /// `unsafe extern "C" fn(*mut c_void, EntropoStr, *mut EntropoBuffer) -> i32`
    pub const CALL: &[u8] = b"entropo_plugin_call\0";
    /// `unsafe extern "C" fn(*mut c_void) -> i32`
    pub const DESTROY: &[u8] = b"entropo_plugin_destroy\0";
    /// `unsafe extern "C" fn(EntropoBuffer)`
    pub const FREE_BUFFER: &[u8] = b"entropo_plugin_free_buffer\0";

    /// A symbol's name without its NUL, for messages.
    pub fn display(symbol: &[u8]) -> &str {
        std::str::from_utf8(symbol.strip_suffix(b"\0").unwrap_or(symbol)).unwrap_or("?")
    }
}

/// Type of `entropo_plugin_abi_version`.
pub type AbiVersionFn = unsafe extern "C" fn() -> u32;
/// Type of `entropo_plugin_describe`.
pub type DescribeFn = unsafe extern "C" fn(out: *mut EntropoBuffer) -> i32;
/// Type of `entropo_plugin_create`.
pub type CreateFn = unsafe extern "C" fn(
    name: EntropoStr,
    params: EntropoStr,
    handle: *mut *mut c_void,
    out: *mut EntropoBuffer,
) -> i32;
/// Type of `entropo_plugin_call`.
pub type CallFn =
    unsafe extern "C" fn(handle: *mut c_void, input: EntropoStr, out: *mut EntropoBuffer) -> i32;
/// Type of `entropo_plugin_destroy`.
pub type DestroyFn = unsafe extern "C" fn(handle: *mut c_void) -> i32;
/// Type of `entropo_plugin_free_buffer`.
pub type FreeBufferFn = unsafe extern "C" fn(buf: EntropoBuffer);

/// Bytes borrowed from the caller for the duration of one call.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct EntropoStr {
    /// First byte; may be null when `len` is 0.
    pub ptr: *const u8,
    /// Number of bytes.
    pub len: usize,
}

impl EntropoStr {
    /// Borrows `bytes` (the result must not outlive them).
    pub fn new(bytes: &[u8]) -> Self {
        EntropoStr { ptr: bytes.as_ptr(), len: bytes.len() }
    }

    /// The bytes.
    ///
    /// # Safety
    /// `ptr` must point to `len` readable bytes that outlive `'a`, or be null
    /// with `len == 0`.
    pub unsafe fn as_bytes<'a>(self) -> Option<&'a [u8]> {
        if self.ptr.is_null() {
            (self.len == 0).then_some(&[][..])
        } else {
            // SAFETY: guaranteed by the caller.
            Some(unsafe { std::slice::from_raw_parts(self.ptr, self.len) })
        }
    }
}

/// Bytes allocated by the plugin, freed by the plugin's
/// `entropo_plugin_free_buffer`.
#[repr(C)]
#[derive(Debug)]
pub struct EntropoBuffer {
    /// First byte; null for an empty buffer.
    pub ptr: *mut u8,
    /// Number of bytes.
    pub len: usize,
}

impl EntropoBuffer {
    /// A buffer holding nothing (freeing it does nothing).
    pub const EMPTY: EntropoBuffer = EntropoBuffer { ptr: std::ptr::null_mut(), len: 0 };

    /// Hands `bytes` over; free the result with [`EntropoBuffer::free`] in the
    /// same library.
    pub fn from_vec(bytes: Vec<u8>) -> Self {
        if bytes.is_empty() {
            return Self::EMPTY;
        }
        let boxed = bytes.into_boxed_slice();
        let len = boxed.len();
        EntropoBuffer { ptr: Box::into_raw(boxed).cast::<u8>(), len }
    }

    /// Frees a buffer made by [`EntropoBuffer::from_vec`].
    ///
    /// # Safety
    /// `self` must come from `from_vec` in this same library (this copy of the
    /// sdk) and not have been freed yet.
    pub unsafe fn free(self) {
        if !self.ptr.is_null() {
            // SAFETY: ptr/len come from Box<[u8]>::into_raw in from_vec.
            drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(self.ptr, self.len)) });
        }
    }

    /// A copy of the bytes (the buffer itself is left alone).
    ///
    /// # Safety
    /// `ptr` must point to `len` readable bytes, or be null.
    pub unsafe fn to_vec(&self) -> Vec<u8> {
        if self.ptr.is_null() {
            Vec::new()
        } else {
            // SAFETY: guaranteed by the caller.
            unsafe { std::slice::from_raw_parts(self.ptr, self.len) }.to_vec()
        }
    }
}

/// What `entropo_plugin_describe` returns for each plugin in a library.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginDescriptor {
    /// `loss` or `selector`.
    pub kind: PluginKind,
    /// The plugin's name, unique within its kind.
    pub name: String,
    /// One line saying what it does.
    pub description: String,
    /// JSON Schema of its parameters.
    pub params_schema: serde_json::Value,
}

/// A [`LossError`] as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "error", rename_all = "snake_case", deny_unknown_fields)]
#[allow(missing_docs)]
pub enum WireLossError {
    Empty {
        message: String,
    },
    Unsupported {
        entry: String,
        reason: String,
    },
    MissingField {
        entry: String,
    },
    /// `value` is written as Rust prints it (`NaN`, `inf`), which JSON numbers cannot hold.
    NotFinite {
        entry: String,
        value: String,
    },
    Invalid {
        entry: String,
        reason: String,
    },
    Plugin {
        message: String,
    },
}

impl From<LossError> for WireLossError {
    fn from(e: LossError) -> Self {
        match e {
            LossError::Empty(message) => WireLossError::Empty { message },
            LossError::Unsupported { entry, reason } => WireLossError::Unsupported { entry, reason },
            LossError::MissingField { entry } => WireLossError::MissingField { entry },
            LossError::NotFinite { entry, value } => {
                WireLossError::NotFinite { entry, value: value.to_string() }
            }
            LossError::Invalid { entry, reason } => WireLossError::Invalid { entry, reason },
            LossError::Plugin(message) => WireLossError::Plugin { message },
        }
    }
}

impl From<WireLossError> for LossError {
    fn from(e: WireLossError) -> Self {
        match e {
            WireLossError::Empty { message } => LossError::Empty(message),
            WireLossError::Unsupported { entry, reason } => LossError::Unsupported { entry, reason },
            WireLossError::MissingField { entry } => LossError::MissingField { entry },
            WireLossError::NotFinite { entry, value } => {
                LossError::NotFinite { entry, value: value.parse().unwrap_or(f64::NAN) }
            }
            WireLossError::Invalid { entry, reason } => LossError::Invalid { entry, reason },
            WireLossError::Plugin { message } => LossError::Plugin(message),
        }
    }
}

/// A [`SelectorError`] as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "error", rename_all = "snake_case", deny_unknown_fields)]
#[allow(missing_docs)]
pub enum WireSelectorError {
    InvalidPool { message: String },
    MissingField { task_id: String, rollout_id: u32, reason: String },
    Plugin { message: String },
}

impl From<SelectorError> for WireSelectorError {
    fn from(e: SelectorError) -> Self {
        match e {
            SelectorError::InvalidPool(message) => WireSelectorError::InvalidPool { message },
            SelectorError::MissingField { task_id, rollout_id, reason } => {
                WireSelectorError::MissingField { task_id, rollout_id, reason }
            }
            SelectorError::Plugin(message) => WireSelectorError::Plugin { message },
        }
    }
}

impl From<WireSelectorError> for SelectorError {
    fn from(e: WireSelectorError) -> Self {
        match e {
            WireSelectorError::InvalidPool { message } => SelectorError::InvalidPool(message),
            WireSelectorError::MissingField { task_id, rollout_id, reason } => {
                SelectorError::MissingField { task_id, rollout_id, reason }
            }
            WireSelectorError::Plugin { message } => SelectorError::Plugin(message),
        }
    }
}

/// A [`PluginError`] (bad parameters) as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "error", rename_all = "snake_case", deny_unknown_fields)]
#[allow(missing_docs)]
pub enum WirePluginError {
    InvalidParam { param: String, message: String },
    Other { message: String },
}

impl From<PluginError> for WirePluginError {
    fn from(e: PluginError) -> Self {
        match e {
            PluginError::InvalidParam { param, message } => WirePluginError::InvalidParam { param, message },
            PluginError::Other(message) => WirePluginError::Other { message },
        }
    }
}

impl From<WirePluginError> for PluginError {
    fn from(e: WirePluginError) -> Self {
        match e {
            WirePluginError::InvalidParam { param, message } => PluginError::InvalidParam { param, message },
            WirePluginError::Other { message } => PluginError::Other(message),
        }
    }
}

/// The text of a panic payload (`panic!("…")` gives a `&str` or a `String`).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-string payload".to_string()
    }
}

/// Where in a [`LossOutput`] the first non-finite number is, if any.
fn first_non_finite(out: &LossOutput) -> Option<(String, f64)> {
    if !out.loss.is_finite() {
        return Some(("loss".into(), out.loss));
    }
    for (i, g) in out.grads.pairs.iter().enumerate() {
        if !g.chosen.is_finite() {
            return Some((format!("grads.pairs[{i}].chosen"), g.chosen));
        }
        if !g.rejected.is_finite() {
            return Some((format!("grads.pairs[{i}].rejected"), g.rejected));
        }
    }
    for (i, g) in out.grads.samples.iter().enumerate() {
        if !g.is_finite() {
            return Some((format!("grads.samples[{i}]"), *g));
        }
    }
    out.metrics.iter().find(|(_, v)| !v.is_finite()).map(|(k, v)| (format!("metrics[{k}]"), *v))
}

/// A plugin instance behind a handle.
#[doc(hidden)]
pub enum Instance {
    Loss(Box<dyn Loss>),
    Selector(Box<dyn Selector>),
}

type Constructor = Box<dyn Fn(&crate::Params) -> Result<Instance, PluginError> + Send + Sync>;

/// One plugin a library exports: its descriptor and how to build it.
#[doc(hidden)]
pub struct PluginEntry {
    descriptor: PluginDescriptor,
    create: Constructor,
}

impl PluginEntry {
    /// A loss built by `create` from parameters `P`.
    pub fn loss<P, L>(
        name: &str,
        description: &str,
        create: impl Fn(P) -> Result<L, PluginError> + Send + Sync + 'static,
    ) -> Self
    where
        P: serde::de::DeserializeOwned + schemars::JsonSchema,
        L: Loss + 'static,
    {
        PluginEntry {
            descriptor: PluginDescriptor {
                kind: PluginKind::Loss,
                name: name.to_string(),
                description: description.to_string(),
                params_schema: schemars::schema_for!(P).to_value(),
            },
            create: Box::new(move |params| {
                let p = entropo_core::registry::parse_params::<P>(params)?;
                Ok(Instance::Loss(Box::new(create(p)?)))
            }),
        }
    }

    /// A selector built by `create` from parameters `P`.
    pub fn selector<P, S>(
        name: &str,
        description: &str,
        create: impl Fn(P) -> Result<S, PluginError> + Send + Sync + 'static,
    ) -> Self
    where
        P: serde::de::DeserializeOwned + schemars::JsonSchema,
        S: Selector + 'static,
    {
        PluginEntry {
            descriptor: PluginDescriptor {
                kind: PluginKind::Selector,
                name: name.to_string(),
                description: description.to_string(),
                params_schema: schemars::schema_for!(P).to_value(),
            },
            create: Box::new(move |params| {
                let p = entropo_core::registry::parse_params::<P>(params)?;
                Ok(Instance::Selector(Box::new(create(p)?)))
            }),
        }
    }
}

/// Every plugin a library exports (built once, by the export macros).
#[doc(hidden)]
pub struct PluginTable {
    entries: Vec<PluginEntry>,
}

impl PluginTable {
    /// The table of `entries`.
    pub fn new(entries: Vec<PluginEntry>) -> Self {
        PluginTable { entries }
    }
}

/// The plugin side of the ABI: what the `extern "C"` functions generated by
/// the export macros call. Not for direct use.
#[doc(hidden)]
pub mod guest {
    use std::panic::{AssertUnwindSafe, catch_unwind};

    use super::*;

    /// Runs `body`, writes its bytes to `out` and returns the status; a panic
    /// becomes [`STATUS_PANIC`] with its message.
    fn guard(out: *mut EntropoBuffer, body: impl FnOnce() -> Result<Vec<u8>, Vec<u8>>) -> i32 {
        if out.is_null() {
            return STATUS_BAD_ARGUMENT;
        }
        let (status, bytes) = match catch_unwind(AssertUnwindSafe(body)) {
            Ok(Ok(bytes)) => (STATUS_OK, bytes),
            Ok(Err(bytes)) => (STATUS_ERROR, bytes),
            Err(payload) => {
                let message = panic_message(&*payload);
                // A payload whose drop panics must not unwind out of here either.
                let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
                (STATUS_PANIC, message.into_bytes())
            }
        };
        // SAFETY: the host passes a valid, writable `out` (checked non-null).
        unsafe { out.write(EntropoBuffer::from_vec(bytes)) };
        status
    }

    fn json<T: Serialize>(value: &T) -> Vec<u8> {
        serde_json::to_vec(value).expect("wire types always serialise")
    }

    /// `entropo_plugin_describe`.
    ///
    /// # Safety
    /// `out` must be null or valid for writes.
    pub unsafe fn describe(table: fn() -> &'static PluginTable, out: *mut EntropoBuffer) -> i32 {
        guard(out, || {
            let descriptors: Vec<&PluginDescriptor> = table().entries.iter().map(|e| &e.descriptor).collect();
            Ok(json(&descriptors))
        })
    }

    /// `entropo_plugin_create`.
    ///
    /// # Safety
    /// `name` and `params` must be valid for reads; `handle` and `out` null or
    /// valid for writes.
    pub unsafe fn create(
        table: fn() -> &'static PluginTable,
        name: EntropoStr,
        params: EntropoStr,
        handle: *mut *mut c_void,
        out: *mut EntropoBuffer,
    ) -> i32 {
        if handle.is_null() {
            return STATUS_BAD_ARGUMENT;
        }
        guard(out, || {
            let fail = |e: PluginError| Err(json(&WirePluginError::from(e)));
            // SAFETY: guaranteed by the caller.
            let (Some(name), Some(params)) = (unsafe { name.as_bytes() }, unsafe { params.as_bytes() })
            else {
                return fail(PluginError::Other("null name or params".into()));
            };
            let name = String::from_utf8_lossy(name);
            let params: crate::Params = match serde_json::from_slice(params) {
                Ok(p) => p,
                Err(e) => return fail(PluginError::Other(format!("params are not a JSON object: {e}"))),
            };
            let Some(entry) = table().entries.iter().find(|e| e.descriptor.name == name) else {
                return fail(PluginError::Other(format!("this library exports no plugin named `{name}`")));
            };
            match (entry.create)(&params) {
                Ok(instance) => {
                    let ptr = Box::into_raw(Box::new(instance));
                    // SAFETY: checked non-null above; the host passes a writable slot.
                    unsafe { handle.write(ptr.cast::<c_void>()) };
                    Ok(Vec::new())
                }
                Err(e) => fail(e),
            }
        })
    }

    /// `entropo_plugin_call`.
    ///
    /// # Safety
    /// `handle` must come from [`create`] in this library and not be destroyed;
    /// `input` valid for reads; `out` null or valid for writes.
    pub unsafe fn call(handle: *mut c_void, input: EntropoStr, out: *mut EntropoBuffer) -> i32 {
        if handle.is_null() {
            return STATUS_BAD_ARGUMENT;
        }
        // SAFETY: guaranteed by the caller; instances are Sync so `&` is fine.
        let instance = unsafe { &*handle.cast::<Instance>() };
        // SAFETY: guaranteed by the caller.
        let input = unsafe { input.as_bytes() }.unwrap_or_default();
        guard(out, || match instance {
            Instance::Loss(loss) => {
                let fail = |e: LossError| Err(json(&WireLossError::from(e)));
                let batch: LossBatch = match serde_json::from_slice(input) {
                    Ok(b) => b,
                    Err(e) => {
                        return fail(LossError::Invalid {
                            entry: "batch".into(),
                            reason: format!("invalid JSON: {e}"),
                        });
                    }
                };
                match loss.compute(&batch) {
                    Ok(output) => match first_non_finite(&output) {
                        None => Ok(json(&output)),
                        Some((entry, value)) => fail(LossError::Plugin(format!(
                            "loss `{}` produced a non-finite {entry} ({value})",
                            loss.name()
                        ))),
                    },
                    Err(e) => fail(e),
                }
            }
            Instance::Selector(selector) => {
                let fail = |e: SelectorError| Err(json(&WireSelectorError::from(e)));
                let pool: Vec<RolloutRecord> = match serde_json::from_slice(input) {
                    Ok(p) => p,
                    Err(e) => return fail(SelectorError::InvalidPool(format!("invalid JSON: {e}"))),
                };
                match selector.select(&pool) {
                    Ok(selection) => Ok(json::<Selection>(&selection)),
                    Err(e) => fail(e),
                }
            }
        })
    }

    /// `entropo_plugin_destroy`.
    ///
    /// # Safety
    /// `handle` must come from [`create`] in this library and not be used again.
    pub unsafe fn destroy(handle: *mut c_void) -> i32 {
        if handle.is_null() {
            return STATUS_BAD_ARGUMENT;
        }
        // SAFETY: guaranteed by the caller.
        let instance = unsafe { Box::from_raw(handle.cast::<Instance>()) };
        match catch_unwind(AssertUnwindSafe(move || drop(instance))) {
            Ok(()) => STATUS_OK,
            Err(payload) => {
                let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
                STATUS_PANIC
            }
        }
    }

    /// `entropo_plugin_free_buffer`.
    ///
    /// # Safety
    /// `buf` must have been written by one of this library's entry points.
    pub unsafe fn free_buffer(buf: EntropoBuffer) {
        // SAFETY: guaranteed by the caller; freeing a Box<[u8]> does not panic.
        unsafe { buf.free() }
    }
}
