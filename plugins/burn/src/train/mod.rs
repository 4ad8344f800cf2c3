//! Training LoRA adapters, or every weight, with any
//! [`Loss`](entropo_core::Loss) plugin.
//!
//! Each micro-batch: the decoder scores every sequence (Σ log π over its
//! assistant tokens), the loss plugin returns the loss and `∂L/∂logp` per
//! sequence, and the backward pass of `Σᵢ (∂L/∂logpᵢ) · logpᵢ` gives exactly
//! the gradient of `L` with respect to the trained values (chain rule).
//! Reference log-probs are computed once by the starting model (adapters
//! off), only for the examples the run's steps visit, and cached.
//!
//! Runs are resumable: a checkpoint (adapter or weights, optimizer moments, step) is
//! written atomically every `save_every` steps, and a restarted run continues
//! from it to the same result as an uninterrupted one.

mod checkpoint;
pub mod data;
mod optim;
mod params;
mod trainer;

pub use checkpoint::Checkpoint;
pub use optim::{AdamW, AdamWConfig, clip_global_norm, lr_at};
pub use params::{GradSource, Live, Trainable};
pub use trainer::{Example, StepMetrics, TrainSummary, Trainer, backward_with};
