//! Importers and exporters for formats other tools use.
//!
//! | module | format | entropo type |
//! | --- | --- | --- |
//! | [`swebench`] | SWE-bench / Lite / Verified rows (JSONL or a JSON array) | [`Task`](crate::types::Task) |
//! | [`llamafactory`] | LLaMA-Factory ShareGPT SFT, DPO (multi-turn), KTO | [`SftSample`](crate::types::SftSample), [`PreferencePair`](crate::types::PreferencePair), [`KtoSample`](crate::types::KtoSample) |
//! | [`trl`] | TRL conversational DPO and KTO | [`PreferencePair`](crate::types::PreferencePair), [`KtoSample`](crate::types::KtoSample) |
//!
//! [`export_file`] turns entropo's native JSONL into any of the training
//! formats named by [`ExportFormat`]; [`import_file`] goes back. R2E-Gym
//! trajectory JSON needs no converter: [`Trajectory`](crate::types::Trajectory)
//! reads and writes it directly.
//!
//! Every error is a [`FormatError`] naming the file, the row (line, or index
//! in a JSON array) and the field.

mod error;
mod export;
pub mod llamafactory;
mod rows;
pub mod swebench;
pub mod trl;

pub use error::{FormatError, RowRef};
pub use export::{ExportFormat, InputKind, export_file, import_file};

#[cfg(test)]
pub(crate) mod testdata;
