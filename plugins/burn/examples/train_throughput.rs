//! LoRA training throughput of a SmolLM2-135M-shaped decoder (random weights)
//! on the chosen backend: forward + backward tokens per second.
//!
//! ```text
//! cargo run --release -p entropo-burn --example train_throughput -- ndarray 512 3
//! cargo run --release -p entropo-burn --features cuda --example train_throughput -- cuda 2048 5
//! ```
//! Arguments: backend (ndarray | tch | cuda), sequence length, timed steps.
//! Prints one JSON line per run.

use std::ops::ControlFlow;
use std::time::Instant;

use burn::tensor::backend::AutodiffBackend;
use entropo_burn::backend::{BackendJob, BackendKind, dispatch};
use entropo_burn::config::ModelConfig;
use entropo_burn::logprob::Sequence;
use entropo_burn::model::Decoder;
use entropo_burn::train::{Example, Trainer};
use entropo_burn::ModelError;
use entropo_core::training::TrainSection;

struct Job {
    seq_len: usize,
    steps: usize,
}

impl BackendJob for Job {
    type Output = serde_json::Value;
    fn run<B: AutodiffBackend>(self, device: B::Device) -> Result<Self::Output, ModelError> {
        let config = ModelConfig::from_json(
            &serde_json::json!({
                "model_type": "llama", "hidden_size": 576, "intermediate_size": 1536,
                "num_hidden_layers": 30, "num_attention_heads": 9, "num_key_value_heads": 3,
                "vocab_size": 49152, "tie_word_embeddings": true, "rope_theta": 100000.0
            }),
            "smollm2-135m".as_ref(),
        )?;
        let model = Decoder::<B>::random(config, 0, &device);
        let examples: Vec<Example> = (0..self.steps + 1)
            .map(|i| {
                let ids = (0..self.seq_len).map(|t| ((t * 7919 + i * 104_729) % 49_000) as u32 + 1).collect();
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
        let loss = entropo_losses::Sft::new(Default::default()).map_err(|e| ModelError::Invalid(e.to_string()))?;
        let out = tempfile::tempdir().map_err(|e| ModelError::Io { path: std::env::temp_dir(), source: e })?;
        let mut times = Vec::new();
        let mut t = Instant::now();
        Trainer::new(&model, &loss, &settings, 0, out.path()).run(&examples, |_| {
            times.push(t.elapsed().as_secs_f64());
            t = Instant::now();
            ControlFlow::Continue(())
        })?;
        // The first step compiles kernels and warms caches: leave it out.
        let timed = &times[1..];
        let secs = timed.iter().sum::<f64>() / timed.len() as f64;
        Ok(serde_json::json!({
            "seq_len": self.seq_len,
            "steps": timed.len(),
            "seconds_per_step": secs,
            "tokens_per_second": self.seq_len as f64 / secs,
        }))
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let backend: BackendKind = serde_json::from_value(serde_json::json!(args.first().map_or("ndarray", String::as_str)))?;
    let seq_len = args.get(1).map_or(Ok(512), |s| s.parse())?;
    let steps = args.get(2).map_or(Ok(3), |s| s.parse())?;
    let mut result = dispatch(backend, Job { seq_len, steps })?;
    result["backend"] = backend.name().into();
    println!("{result}");
    Ok(())
}
