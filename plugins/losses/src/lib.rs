//! Built-in loss plugins: `sft`, `dpo`, `kto`, `entropo-dpo`, `entropo-kto`.
//!
//! Every loss implements [`entropo_core::Loss`]: it reads per-sequence
//! statistics (summed `logp` / `ref_logp` over assistant tokens, token
//! counts), and returns the batch-mean loss, its closed-form gradient with
//! respect to every `logp`, and TRL-named metrics. All arithmetic is `f64`;
//! invalid input is a [`LossError`](entropo_core::loss::LossError), never a panic.
//!
//! ```
//! use entropo_core::{Loss, Registry};
//! let mut registry = Registry::new();
//! entropo_losses::register(&mut registry).unwrap();
//! let params = serde_json::from_str(r#"{"alpha": 0.11, "beta": 0.1}"#).unwrap();
//! let loss = registry.create::<dyn Loss>("entropo-dpo", &params).unwrap();
//! assert_eq!(loss.name(), "entropo-dpo");
//! ```

#![warn(missing_docs)]

mod dpo;
mod entropo_dpo;
mod entropo_kto;
mod input;
mod kto;
mod math;
mod metrics;
mod pairwise;
mod params;
mod prospect;
mod sft;

use entropo_core::Registry;
use entropo_core::loss::Loss;
use entropo_core::registry::{RegistryError, builtin};

pub use dpo::{Dpo, DpoParams};
pub use entropo_dpo::{EntropoDpo, EntropoDpoParams};
pub use entropo_kto::{EntropoKto, EntropoKtoParams, EntropoKtoVariant};
pub use kto::{Kto, KtoParams};
pub use sft::{Sft, SftParams};

/// The names of the built-in losses, in registration order.
///
/// ```
/// assert_eq!(entropo_losses::NAMES.len(), 5);
/// ```
pub const NAMES: [&str; 5] = [
    Sft::NAME,
    Dpo::NAME,
    Kto::NAME,
    EntropoDpo::NAME,
    EntropoKto::NAME,
];

/// Registers the five built-in losses in `registry`, all or none: an
/// error if one of their names is already taken.
///
/// ```
/// use entropo_core::registry::{PluginKind, Registry};
/// let mut registry = Registry::new();
/// entropo_losses::register(&mut registry).unwrap();
/// assert!(registry.info(PluginKind::Loss, "kto").is_some());
/// assert!(entropo_losses::register(&mut registry).is_err(), "names already taken");
/// ```
pub fn register(registry: &mut Registry) -> Result<(), RegistryError> {
    registry.register_all::<dyn Loss>([
        builtin::<dyn Loss, SftParams>(Sft::NAME, Sft::DESCRIPTION, |p| Ok(Box::new(Sft::new(p)?))),
        builtin::<dyn Loss, DpoParams>(Dpo::NAME, Dpo::DESCRIPTION, |p| Ok(Box::new(Dpo::new(p)?))),
        builtin::<dyn Loss, KtoParams>(Kto::NAME, Kto::DESCRIPTION, |p| Ok(Box::new(Kto::new(p)?))),
        builtin::<dyn Loss, EntropoDpoParams>(EntropoDpo::NAME, EntropoDpo::DESCRIPTION, |p| Ok(Box::new(EntropoDpo::new(p)?))),
        builtin::<dyn Loss, EntropoKtoParams>(EntropoKto::NAME, EntropoKto::DESCRIPTION, |p| Ok(Box::new(EntropoKto::new(p)?))),
    ])
}
