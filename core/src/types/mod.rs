//! The data model: tasks, trajectories, rollout records and training samples.
//!
//! Every type is serde-serialisable with a JSON Schema (schemars), so each
//! stage of a run writes files that other tools can read.

mod message;
mod preference;
mod rollout;
mod task;
mod trajectory;

pub use message::{Message, Role};
pub use preference::{KtoSample, PreferencePair, SftSample};
pub use rollout::{RolloutRecord, normalise_patch, patch_hash};
pub use task::Task;
pub use trajectory::{ExitReason, Step, Trajectory};
