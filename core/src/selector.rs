//! The [`Selector`] trait: pick one rollout from a task's pool and say why.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::types::RolloutRecord;

/// What one stage of a selector did to the pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StageReport {
    /// The stage's name (`drop-truncated`, `verifier-threshold`, …).
    pub stage: String,
    /// Rollout ids the stage removed.
    pub removed: Vec<u32>,
    /// Whether the stage would have emptied the pool and so kept its input.
    pub fell_back: bool,
}

/// A selector's choice for one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Selection {
    /// The chosen rollout; `None` when the pool was empty.
    pub rollout_id: Option<u32>,
    /// One line a person can read: why this rollout.
    pub reason: String,
    /// Stage by stage, what was removed.
    pub stages: Vec<StageReport>,
}

/// Why a selector could not choose.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SelectorError {
    /// The pool mixes tasks or repeats a rollout id.
    #[error("invalid pool: {0}")]
    InvalidPool(String),
    /// The selector needs a field the pool lacks (e.g. `verifier_prob`).
    #[error("rollout {rollout_id} of task {task_id}: {reason}")]
    MissingField {
        /// The task.
        task_id: String,
        /// The rollout.
        rollout_id: u32,
        /// What is missing.
        reason: String,
    },
    /// The selector failed for a reason of its own.
    #[error("{0}")]
    Plugin(String),
}

/// Picks one candidate from the rollouts of one task.
///
/// ```
/// use entropo_core::selector::{Selection, Selector, SelectorError};
/// use entropo_core::types::RolloutRecord;
///
/// /// Picks the rollout that used the fewest tokens.
/// struct Thrifty;
/// impl Selector for Thrifty {
///     fn name(&self) -> &str { "thrifty" }
///     fn select(&self, pool: &[RolloutRecord]) -> Result<Selection, SelectorError> {
///         let best = pool.iter().min_by_key(|r| (r.tokens, r.rollout_id));
///         Ok(Selection {
///             rollout_id: best.map(|r| r.rollout_id),
///             reason: "fewest tokens".into(),
///             stages: vec![],
///         })
///     }
/// }
/// assert_eq!(Thrifty.select(&[]).unwrap().rollout_id, None);
/// ```
pub trait Selector: Send + Sync {
    /// The plugin name this selector was registered under.
    fn name(&self) -> &str;
    /// Chooses among `pool`, the rollouts of one task (possibly empty).
    fn select(&self, pool: &[RolloutRecord]) -> Result<Selection, SelectorError>;
}
