//! Training throughput: forward + backward + optimizer tokens per second of
//! LoRA training, the figure `entropo bench train` reports.

use std::ops::ControlFlow;
use std::time::Instant;

use crate::attention::TrainBackend;
use entropo_core::Loss;
use entropo_core::training::TrainSection;
use serde::Serialize;

use crate::backend::{BackendJob, BackendKind, attention_blocks, dispatch};
use crate::config::ModelConfig;
use crate::error::ModelError;
use crate::logprob::Sequence;
use crate::model::{AttentionBlocks, Decoder};
use crate::train::{Example, Trainer};

/// SmolLM2-135M's architecture (30 layers, width 576, 9/3 heads, vocab 49 152).
pub fn smollm2_135m() -> ModelConfig {
    ModelConfig::from_json(
        &serde_json::json!({
            "model_type": "llama", "hidden_size": 576, "intermediate_size": 1536,
            "num_hidden_layers": 30, "num_attention_heads": 9, "num_key_value_heads": 3,
            "vocab_size": 49152, "tie_word_embeddings": true, "rope_theta": 100000.0,
            "max_position_embeddings": 8192
        }),
        "smollm2-135m".as_ref(),
    )
    .expect("a valid built-in config")
}

/// One measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Throughput {
    /// Backend name.
    pub backend: &'static str,
    /// Tokens per sequence (batch of one).
    pub seq_len: usize,
    /// How attention was split into blocks.
    pub attention: AttentionBlocks,
    /// Timed steps (the first, warm-up step is left out).
    pub steps: usize,
    /// Mean wall time of a timed step.
    pub seconds_per_step: f64,
    /// `seq_len / seconds_per_step`.
    pub tokens_per_second: f64,
    /// Peak resident memory of the process so far (Linux), in bytes.
    pub peak_rss_bytes: Option<u64>,
}

struct Job<'a> {
    config: ModelConfig,
    attention: AttentionBlocks,
    seq_len: usize,
    steps: usize,
    loss: &'a dyn Loss,
}

impl BackendJob for Job<'_> {
    type Output = (usize, f64);
    fn run<B: TrainBackend>(self, device: B::Device) -> Result<(usize, f64), ModelError> {
        let vocab = self.config.vocab_size;
        let model = Decoder::<B>::random(self.config, 0, &device).with_attention_blocks(self.attention);
        let examples: Vec<Example> = (0..=self.steps)
            .map(|i| {
                let ids = (0..self.seq_len).map(|t| ((t * 7919 + i * 104_729) % (vocab - 1)) as u32 + 1).collect();
                Example::Sft(Sequence { ids, mask: vec![1; self.seq_len] })
            })
            .collect();
        let settings = TrainSection {
            batch_size: 1,
            micro_batch_size: 1,
            max_steps: Some(self.steps + 1),
            save_every: 0,
            learning_rate: 1e-4,
            ..Default::default()
        };
        let out = tempfile::tempdir().map_err(|e| ModelError::io(std::env::temp_dir(), e))?;
        let mut times = Vec::new();
        let mut t = Instant::now();
        Trainer::new(&model, self.loss, &settings, 0, out.path()).run(&examples, |_| {
            times.push(t.elapsed().as_secs_f64());
            t = Instant::now();
            ControlFlow::Continue(())
        })?;
        let timed = &times[1..];
        Ok((timed.len(), timed.iter().sum::<f64>() / timed.len().max(1) as f64))
    }
}

/// LoRA (the paper's r 8 / alpha 16 on every linear layer) training steps of
/// one sequence of `seq_len` tokens on a random-weight model of `config`,
/// with `loss` (normally `sft`); one warm-up step, then `steps` timed ones.
/// Attention is split as `blocks` says (default: the backend's
/// [`attention_blocks`]).
pub fn train_throughput(
    backend: BackendKind,
    config: ModelConfig,
    blocks: Option<AttentionBlocks>,
    seq_len: usize,
    steps: usize,
    loss: &dyn Loss,
) -> Result<Throughput, ModelError> {
    if seq_len < 2 || steps == 0 {
        return Err(ModelError::Invalid("bench: need seq_len ≥ 2 and at least one step".into()));
    }
    let attention = blocks.unwrap_or_else(|| attention_blocks(backend));
    let (steps, secs) = dispatch(backend, Job { config, attention, seq_len, steps, loss })?;
    Ok(Throughput {
        backend: backend.name(),
        seq_len,
        attention,
        steps,
        seconds_per_step: secs,
        tokens_per_second: seq_len as f64 / secs,
        peak_rss_bytes: peak_rss(),
    })
}

/// `VmHWM` of this process, from /proc.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
