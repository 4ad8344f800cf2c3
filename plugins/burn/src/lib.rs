//! # entropo-burn
//!
//! Llama/Qwen-family chat models on [burn](https://burn.dev): load a
//! HuggingFace model folder ([`model::Decoder`]), add LoRA adapters
//! ([`lora`]), sample with a KV cache ([`sample`]), and train with any
//! [`entropo_core::Loss`] plugin ([`train`]): the model computes per-sequence
//! log-probabilities over assistant tokens, the plugin turns them into a loss
//! and its gradient, and that gradient drives the backward pass.
//!
//! Backends are cargo features: `ndarray` (CPU, default), `openblas`,
//! `tch` (LibTorch) and `cuda`; [`backend::BackendKind`] picks one at run time.
//!
//! ```
//! use burn::backend::NdArray;
//! use entropo_burn::model::Decoder;
//! let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smollm2");
//! let model = Decoder::<NdArray>::load(&dir, &Default::default()).unwrap();
//! let ids = model.ids(&[vec![1, 2, 3]]).unwrap();
//! assert_eq!(model.forward(ids, None, None).dims(), [1, 3, 160]);
//! ```

pub mod attention;
pub mod backend;
pub mod bench;
pub mod cache;
pub mod config;
pub mod engine;
pub mod error;
pub mod jobs;
pub mod judge;
pub mod logprob;
pub mod lora;
pub mod model;
pub mod policy;
pub mod rope;
pub mod sample;
pub mod train;
pub mod weights;

pub use burn;
pub use error::ModelError;
