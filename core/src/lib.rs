//! # entropo-core
//!
//! The centre of entropo: the domain types every stage reads and writes
//! ([`types`]), the four plugin traits ([`Loss`], [`Selector`], [`Verifier`],
//! [`Environment`]), the [`Registry`] that maps names to plugin factories, and
//! experiment configs ([`config`]). It depends on no plugin, no tensor
//! library and no sandbox.

pub mod agent;
pub mod config;
pub mod datasets;
pub mod environment;
pub mod eval;
pub mod formats;
pub mod io;
pub mod loss;
pub mod pipeline;
pub mod registry;
pub mod rollout;
pub mod selector;
pub mod training;
pub mod types;
pub mod verifier;

pub use environment::Environment;
pub use loss::Loss;
pub use registry::Registry;
pub use selector::Selector;
pub use verifier::Verifier;
