//! # entropo-sdk
//!
//! What third parties compile entropo plugins against: the C ABI
//! ([`abi`]), the export macros ([`export_loss!`], [`export_selector!`],
//! [`export_plugins!`]), the host-side [`loader`] and the [`conformance`]
//! suite. A plugin is a shared library entropo loads at run time: adding a
//! loss needs no rebuild of entropo.
//!
//! The sdk re-exports everything a plugin author needs from `entropo-core`
//! ([`Loss`], [`LossBatch`], [`LossOutput`], [`Selector`], [`PluginError`], …)
//! and the `serde`, `schemars` and `serde_json` it was built with, so a plugin
//! needs one dependency.
//!
//! ## From `cargo new` to a loaded plugin
//!
//! **1. A library crate built as a shared library.**
//!
//! ```sh
//! cargo new --lib my-loss && cd my-loss
//! ```
//!
//! ```toml
//! # Cargo.toml
//! [package]
//! name = "my-loss"
//! version = "0.1.0"
//! edition = "2024"
//!
//! [lib]
//! crate-type = ["cdylib", "rlib"]   # cdylib: the plugin; rlib: for your tests
//!
//! [dependencies]
//! entropo-sdk = { path = "…/entropo/sdk" }   # or a version
//! ```
//!
//! Keep Cargo's default `panic = "unwind"`: the entry points catch panics and
//! report them as errors, which `panic = "abort"` would prevent.
//!
//! **2. The loss, its parameters and the export line** (`src/lib.rs`). A loss
//! maps per-sequence statistics to a mean loss, its gradient with respect to
//! every `logp`, and metrics (see [`Loss`]). Parameters are a struct with
//! `serde::Deserialize` and `schemars::JsonSchema`; its doc comments become
//! the published JSON Schema.
//!
//! ```
//! use entropo_sdk::{Loss, LossBatch, LossError, LossGrads, LossOutput, PluginError};
//! use entropo_sdk::{schemars, serde};
//!
//! /// Parameters of `nll`.
//! #[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
//! #[serde(crate = "entropo_sdk::serde", deny_unknown_fields)]
//! #[schemars(crate = "entropo_sdk::schemars")]
//! pub struct NllParams {
//!     /// Divide each sample's log-likelihood by its token count.
//!     #[serde(default)]
//!     pub per_token: bool,
//! }
//!
//! /// Mean negative log-likelihood of the desirable samples.
//! pub struct Nll { per_token: bool }
//!
//! impl Nll {
//!     pub fn new(p: NllParams) -> Result<Self, PluginError> {
//!         Ok(Nll { per_token: p.per_token })
//!     }
//! }
//!
//! impl Loss for Nll {
//!     fn name(&self) -> &str { "nll" }
//!     fn compute(&self, batch: &LossBatch) -> Result<LossOutput, LossError> {
//!         batch.check_finite()?;
//!         if !batch.pairs.is_empty() || !batch.kl.is_empty() {
//!             return Err(LossError::Unsupported { entry: "pairs/kl".into(), reason: "nll takes samples only".into() });
//!         }
//!         if batch.samples.is_empty() {
//!             return Err(LossError::Empty("nll needs samples".into()));
//!         }
//!         let n = batch.samples.len() as f64;
//!         let mut grads = LossGrads::zeros_like(batch);
//!         let mut loss = 0.0;
//!         for (i, s) in batch.samples.iter().enumerate() {
//!             let entry = format!("samples[{i}]");
//!             if !s.label {
//!                 return Err(LossError::Unsupported { entry, reason: "nll trains on desirable samples only".into() });
//!             }
//!             let scale = if self.per_token { 1.0 / s.seq.require_tokens(&entry)? as f64 } else { 1.0 };
//!             loss -= scale * s.seq.logp / n;
//!             grads.samples[i] = -scale / n;
//!         }
//!         Ok(LossOutput { loss, grads, metrics: Default::default() })
//!     }
//! }
//!
//! entropo_sdk::export_loss! {
//!     name: "nll",
//!     description: "Mean negative log-likelihood of the desirable samples.",
//!     params: NllParams,
//!     create: Nll::new,
//! }
//!
//! // 3. One line runs the conformance suite in `cargo test`
//! //    (finite-difference gradients, mean reduction, errors on empty/NaN
//! //    batches, determinism, finite metrics).
//! entropo_sdk::loss_conformance!(conformance, || {
//!     Box::new(Nll::new(NllParams { per_token: true }).unwrap()) as Box<dyn Loss>
//! });
//! # fn main() {
//! #     entropo_sdk::conformance::check_all(&Nll { per_token: true }).unwrap();
//! #     entropo_sdk::conformance::check_all(&Nll { per_token: false }).unwrap();
//! # }
//! ```
//!
//! **4. Build and test.**
//!
//! ```sh
//! cargo test
//! cargo build --release   # → target/release/libmy_loss.so (.dylib on macOS, .dll on Windows)
//! ```
//!
//! **5. Load it into entropo.** Put the library in a folder (or name it
//! directly) and use it like a built-in loss:
//!
//! ```sh
//! entropo plugins list --plugin-dir plugins/
//! entropo loss eval --plugin-lib target/release/libmy_loss.so --plugin nll --input batch.json
//! ```
//!
//! where `batch.json` is a [`LossBatch`]
//! (`{"samples": [{"label": true, "logp": -9.0, "tokens": 30}]}`); its JSON
//! Schema ships as `sdk/schema/loss-batch.schema.json` and is printed by
//! `entropo loss schema`. Entropo
//! refuses a library built against another [`abi::ABI_VERSION`] with a message
//! naming both versions; rebuild it against the matching `entropo-sdk`.
//!
//! A complete example is the `entropo-example-simpo` crate (`sdk/example-plugin`
//! in the entropo repository): `cargo build -p entropo-example-simpo` gives
//! `target/debug/libentropo_example_simpo.so`, a loss named `simpo`.
//!
//! ## For hosts
//!
//! [`loader::load_library`] and [`loader::load_dir`] register a library's
//! plugins in a [`Registry`]; [`conformance::check_all`] runs the suite on any
//! `&dyn Loss`, including a loaded one.

#![warn(missing_docs)]

pub mod abi;
pub mod build;
pub mod conformance;
mod export;
pub mod loader;

pub use entropo_core;
pub use entropo_core::loss::{
    KlStats, LabelledStats, Loss, LossBatch, LossError, LossGrads, LossOutput, PairGrad, PairStats, SeqStats,
};
pub use entropo_core::registry::{
    Factory, Origin, Params, PluginError, PluginInfo, PluginKind, Registry, RegistryError, parse_params,
};
pub use entropo_core::selector::{Selection, Selector, SelectorError, StageReport};
pub use entropo_core::types::RolloutRecord;
pub use loader::{LoadError, load_dir, load_library};
pub use {schemars, serde, serde_json};
