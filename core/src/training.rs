//! Model and training settings of an experiment, as plain data: the
//! `[model]` and `[train]` sections of a config. The burn engine reads them;
//! core only describes and validates their shape.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A tensor backend, by name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// CPU through ndarray (default; what CI uses).
    #[default]
    Ndarray,
    /// LibTorch (cargo feature `tch`): CUDA if present, else CPU.
    Tch,
    /// NVIDIA GPUs through CubeCL (cargo feature `cuda`).
    Cuda,
}

impl Backend {
    /// The config spelling.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Ndarray => "ndarray",
            Backend::Tch => "tch",
            Backend::Cuda => "cuda",
        }
    }
}

/// The `[model]` section: which weights, on which backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelSection {
    /// A HuggingFace model folder (`config.json`, `*.safetensors`,
    /// `tokenizer.json`, `tokenizer_config.json`).
    pub path: PathBuf,
    /// The tensor backend.
    #[serde(default)]
    pub backend: Backend,
    /// PEFT adapter folders merged into the base weights at load time (for
    /// example the SFT adapter, so preference training starts from the SFT
    /// policy and uses it as the reference).
    #[serde(default)]
    pub merge_adapters: Vec<PathBuf>,
}

/// LoRA settings (the paper: r 8, alpha 16, every linear layer).
///
/// ```
/// let l = entropo_core::training::LoraConfig::default();
/// assert_eq!((l.r, l.alpha, l.scale()), (8, 16.0, 2.0));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoraConfig {
    /// Rank.
    #[serde(default = "default_r")]
    pub r: usize,
    /// The update is `alpha / r · B·A`.
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    /// Dropout on the adapter's input while training.
    #[serde(default)]
    pub dropout: f64,
    /// `all` (every linear layer) or names such as `q_proj`, `v_proj`.
    #[serde(default = "default_targets")]
    pub target_modules: Vec<String>,
}

fn default_r() -> usize {
    8
}
fn default_alpha() -> f64 {
    16.0
}
fn default_targets() -> Vec<String> {
    vec!["all".into()]
}

impl Default for LoraConfig {
    fn default() -> Self {
        LoraConfig { r: default_r(), alpha: default_alpha(), dropout: 0.0, target_modules: default_targets() }
    }
}

impl LoraConfig {
    /// `alpha / r`.
    pub fn scale(&self) -> f64 {
        self.alpha / self.r as f64
    }
}

/// What happens to a sequence longer than the cutoff.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Overflow {
    /// Keep its first `max_tokens` tokens.
    #[default]
    Truncate,
    /// Leave it out.
    Drop,
}

/// Which weights a run trains.
///
/// ```
/// use entropo_core::training::{Finetuning, TrainSection};
/// let s: TrainSection = toml::from_str(r#"finetuning = "full""#).unwrap();
/// assert_eq!(s.finetuning, Finetuning::Full);
/// assert_eq!(TrainSection::default().finetuning, Finetuning::Lora);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Finetuning {
    /// LoRA adapters on a frozen model (the paper's setting); the run
    /// writes a PEFT adapter.
    #[default]
    Lora,
    /// Every weight of the model, embeddings included (for a model trained
    /// from scratch); the run writes a whole model folder and `lora` is unused.
    Full,
}

/// The longest sequence trained on (the paper: 18 000 tokens).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cutoff {
    /// Most tokens per sequence.
    #[serde(default = "default_cutoff")]
    pub max_tokens: usize,
    /// Truncate or drop longer ones.
    #[serde(default)]
    pub on_overflow: Overflow,
}

fn default_cutoff() -> usize {
    18_000
}

impl Default for Cutoff {
    fn default() -> Self {
        Cutoff { max_tokens: default_cutoff(), on_overflow: Overflow::default() }
    }
}

/// The `[train]` section: optimisation settings shared by SFT and
/// preference training (defaults are the paper's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrainSection {
    /// Training data (JSONL of SFT samples, preference pairs or KTO samples).
    #[serde(default)]
    pub data: Option<PathBuf>,
    /// Where checkpoints, the adapter and `metrics.jsonl` go (default:
    /// `<output_dir>/train/<loss>`).
    #[serde(default)]
    pub output: Option<PathBuf>,
    /// LoRA adapters (the default) or every weight.
    #[serde(default)]
    pub finetuning: Finetuning,
    /// The adapters.
    #[serde(default)]
    pub lora: LoraConfig,
    /// Peak learning rate.
    #[serde(default = "default_lr")]
    pub learning_rate: f64,
    /// Share of the steps spent warming up linearly; then cosine decay to 0.
    #[serde(default = "default_warmup")]
    pub warmup_ratio: f64,
    /// Passes over the data.
    #[serde(default = "default_epochs")]
    pub epochs: usize,
    /// Stop after this many optimizer steps, whatever the epochs say.
    #[serde(default)]
    pub max_steps: Option<usize>,
    /// Examples (sequences, pairs or KTO samples) per optimizer step.
    #[serde(default = "default_batch")]
    pub batch_size: usize,
    /// Examples per forward pass; gradients accumulate up to `batch_size`.
    #[serde(default = "default_micro")]
    pub micro_batch_size: usize,
    /// AdamW decoupled weight decay.
    #[serde(default)]
    pub weight_decay: f64,
    /// Clip the global gradient norm to this (0: no clipping).
    #[serde(default = "default_clip")]
    pub max_grad_norm: f64,
    /// Longest sequence.
    #[serde(default)]
    pub cutoff: Cutoff,
    /// Write a resumable checkpoint every this many steps (and at the end).
    #[serde(default = "default_save_every")]
    pub save_every: usize,
}

fn default_lr() -> f64 {
    1e-5
}
fn default_warmup() -> f64 {
    0.1
}
fn default_epochs() -> usize {
    1
}
fn default_batch() -> usize {
    16
}
fn default_micro() -> usize {
    1
}
fn default_clip() -> f64 {
    1.0
}
fn default_save_every() -> usize {
    50
}

impl Default for TrainSection {
    fn default() -> Self {
        TrainSection {
            data: None,
            output: None,
            finetuning: Finetuning::default(),
            lora: LoraConfig::default(),
            learning_rate: default_lr(),
            warmup_ratio: default_warmup(),
            epochs: default_epochs(),
            max_steps: None,
            batch_size: default_batch(),
            micro_batch_size: default_micro(),
            weight_decay: 0.0,
            max_grad_norm: default_clip(),
            cutoff: Cutoff::default(),
            save_every: default_save_every(),
        }
    }
}

impl TrainSection {
    /// Checks the ranges; the error names the key under `[train]`.
    ///
    /// ```
    /// let mut t = entropo_core::training::TrainSection::default();
    /// assert!(t.check().is_ok());
    /// t.micro_batch_size = 3;
    /// assert_eq!(t.check().unwrap_err(), "train.batch_size: must be a multiple of micro_batch_size (3)");
    /// ```
    pub fn check(&self) -> Result<(), String> {
        let positive = [
            ("batch_size", self.batch_size),
            ("micro_batch_size", self.micro_batch_size),
            ("epochs", self.epochs),
            ("lora.r", self.lora.r),
            ("cutoff.max_tokens", self.cutoff.max_tokens),
        ];
        if let Some((key, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(format!("train.{key}: must be at least 1"));
        }
        if !self.batch_size.is_multiple_of(self.micro_batch_size) {
            return Err(format!(
                "train.batch_size: must be a multiple of micro_batch_size ({})",
                self.micro_batch_size
            ));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return Err("train.learning_rate: must be a positive number".into());
        }
        if !(0.0..=1.0).contains(&self.warmup_ratio) {
            return Err("train.warmup_ratio: must be in [0, 1]".into());
        }
        if !(0.0..1.0).contains(&self.lora.dropout) {
            return Err("train.lora.dropout: must be in [0, 1)".into());
        }
        if self.max_grad_norm < 0.0 || self.weight_decay < 0.0 {
            return Err("train.max_grad_norm and train.weight_decay: must not be negative".into());
        }
        Ok(())
    }
}
