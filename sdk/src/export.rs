//! The macros that export plugins from a library through the C ABI.

/// Exports one loss from this library (a `cdylib`) through the C ABI.
///
/// * `name`: the plugin name users pick it by (`--plugin simpo`);
/// * `description`: one line for `entropo plugins list`;
/// * `params`: the parameter struct, `Deserialize + JsonSchema` (its schema is
///   published; unknown or mistyped keys are reported by name, so use
///   `#[serde(deny_unknown_fields)]` and `#[serde(default)]`);
/// * `create`: `Fn(Params) -> Result<YourLoss, PluginError>`, where `YourLoss`
///   implements [`Loss`](crate::Loss).
///
/// Use it once per library; to export several plugins from one library use
/// [`export_plugins!`](crate::export_plugins).
///
/// ```
/// use entropo_sdk::{Loss, LossBatch, LossError, LossGrads, LossOutput, PluginError};
/// use entropo_sdk::{schemars, serde};
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// #[serde(crate = "entropo_sdk::serde", deny_unknown_fields)]
/// #[schemars(crate = "entropo_sdk::schemars")]
/// pub struct Params {
///     /// Multiplies the loss.
///     #[serde(default = "one")]
///     pub scale: f64,
/// }
/// fn one() -> f64 { 1.0 }
///
/// pub struct MeanNll { scale: f64 }
///
/// impl Loss for MeanNll {
///     fn name(&self) -> &str { "mean-nll" }
///     fn compute(&self, batch: &LossBatch) -> Result<LossOutput, LossError> {
///         batch.check_finite()?;
///         let n = batch.samples.len();
///         if n == 0 { return Err(LossError::Empty("no samples".into())); }
///         let loss = -self.scale * batch.samples.iter().map(|s| s.seq.logp).sum::<f64>() / n as f64;
///         let mut grads = LossGrads::zeros_like(batch);
///         grads.samples.iter_mut().for_each(|g| *g = -self.scale / n as f64);
///         Ok(LossOutput { loss, grads, metrics: Default::default() })
///     }
/// }
///
/// entropo_sdk::export_loss! {
///     name: "mean-nll",
///     description: "Mean negative log-likelihood of the labelled samples.",
///     params: Params,
///     create: |p: Params| Ok::<_, PluginError>(MeanNll { scale: p.scale }),
/// }
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! export_loss {
    (
        name: $name:expr,
        description: $description:expr,
        params: $params:ty,
        create: $create:expr $(,)?
    ) => {
        $crate::export_plugins! {
            loss { name: $name, description: $description, params: $params, create: $create }
        }
    };
}

/// Exports one selector from this library through the C ABI; the arguments
/// are those of [`export_loss!`](crate::export_loss), with `create` returning
/// a [`Selector`](crate::Selector). Pools and selections cross the ABI as JSON.
#[macro_export]
macro_rules! export_selector {
    (
        name: $name:expr,
        description: $description:expr,
        params: $params:ty,
        create: $create:expr $(,)?
    ) => {
        $crate::export_plugins! {
            selector { name: $name, description: $description, params: $params, create: $create }
        }
    };
}

/// Exports several plugins (losses and selectors) from one library; use it
/// once per library, instead of [`export_loss!`](crate::export_loss).
///
/// ```
/// use entropo_sdk::{Loss, LossBatch, LossError, LossOutput, PluginError, RolloutRecord};
/// use entropo_sdk::{Selection, Selector, SelectorError, schemars, serde};
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// #[serde(crate = "entropo_sdk::serde", deny_unknown_fields)]
/// #[schemars(crate = "entropo_sdk::schemars")]
/// pub struct NoParams {}
///
/// pub struct Zero;
/// impl Loss for Zero {
///     fn name(&self) -> &str { "zero" }
///     fn compute(&self, b: &LossBatch) -> Result<LossOutput, LossError> {
///         Ok(LossOutput { grads: entropo_sdk::LossGrads::zeros_like(b), ..Default::default() })
///     }
/// }
///
/// pub struct First;
/// impl Selector for First {
///     fn name(&self) -> &str { "first" }
///     fn select(&self, pool: &[RolloutRecord]) -> Result<Selection, SelectorError> {
///         Ok(Selection { rollout_id: pool.first().map(|r| r.rollout_id), reason: "first".into(), stages: vec![] })
///     }
/// }
///
/// entropo_sdk::export_plugins! {
///     loss { name: "zero", description: "Always zero.", params: NoParams, create: |_: NoParams| Ok(Zero) },
///     selector { name: "first", description: "The first rollout.", params: NoParams, create: |_: NoParams| Ok(First) },
/// }
/// # fn main() {}
/// ```
///
/// It defines the `extern "C"` functions of [`crate::abi`], each running its
/// body under `catch_unwind`, inside an anonymous `const` block so that no
/// other name enters your crate.
#[macro_export]
macro_rules! export_plugins {
    (
        $(
            $kind:ident {
                name: $name:expr,
                description: $description:expr,
                params: $params:ty,
                create: $create:expr $(,)?
            }
        ),+ $(,)?
    ) => {
        const _: () = {
            fn table() -> &'static $crate::abi::PluginTable {
                static TABLE: ::std::sync::OnceLock<$crate::abi::PluginTable> = ::std::sync::OnceLock::new();
                TABLE.get_or_init(|| {
                    $crate::abi::PluginTable::new(::std::vec![
                        $( $crate::__entropo_plugin_entry!($kind, $name, $description, $params, $create) ),+
                    ])
                })
            }

            /// The entropo plugin ABI version this library was built for.
            #[unsafe(no_mangle)]
            pub extern "C" fn entropo_plugin_abi_version() -> u32 {
                $crate::abi::ABI_VERSION
            }

            /// Writes the JSON descriptors of the exported plugins to `out`.
            ///
            /// # Safety
            /// See `entropo_sdk::abi`.
            #[unsafe(no_mangle)]
            pub unsafe extern "C" fn entropo_plugin_describe(out: *mut $crate::abi::EntropoBuffer) -> i32 {
                unsafe { $crate::abi::guest::describe(table, out) }
            }

            /// Creates an instance of plugin `name` with JSON `params`.
            ///
            /// # Safety
            /// See `entropo_sdk::abi`.
            #[unsafe(no_mangle)]
            pub unsafe extern "C" fn entropo_plugin_create(
                name: $crate::abi::EntropoStr,
                params: $crate::abi::EntropoStr,
                handle: *mut *mut ::std::ffi::c_void,
                out: *mut $crate::abi::EntropoBuffer,
            ) -> i32 {
                unsafe { $crate::abi::guest::create(table, name, params, handle, out) }
            }

            /// Runs an instance on JSON `input`.
            ///
            /// # Safety
            /// See `entropo_sdk::abi`.
            #[unsafe(no_mangle)]
            pub unsafe extern "C" fn entropo_plugin_call(
                handle: *mut ::std::ffi::c_void,
                input: $crate::abi::EntropoStr,
                out: *mut $crate::abi::EntropoBuffer,
            ) -> i32 {
                unsafe { $crate::abi::guest::call(handle, input, out) }
            }

            /// Drops an instance.
            ///
            /// # Safety
            /// See `entropo_sdk::abi`.
            #[unsafe(no_mangle)]
            pub unsafe extern "C" fn entropo_plugin_destroy(handle: *mut ::std::ffi::c_void) -> i32 {
                unsafe { $crate::abi::guest::destroy(handle) }
            }

            /// Frees a buffer written by this library.
            ///
            /// # Safety
            /// See `entropo_sdk::abi`.
            #[unsafe(no_mangle)]
            pub unsafe extern "C" fn entropo_plugin_free_buffer(buf: $crate::abi::EntropoBuffer) {
                unsafe { $crate::abi::guest::free_buffer(buf) }
            }
        };
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __entropo_plugin_entry {
    (loss, $name:expr, $description:expr, $params:ty, $create:expr) => {
        $crate::abi::PluginEntry::loss::<$params, _>($name, $description, $create)
    };
    (selector, $name:expr, $description:expr, $params:ty, $create:expr) => {
        $crate::abi::PluginEntry::selector::<$params, _>($name, $description, $create)
    };
}
