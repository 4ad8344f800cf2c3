//! LoRA training throughput of a SmolLM2-135M-shaped decoder (random weights;
//! or of the shape of a model folder's `config.json`) on one backend, without
//! building the whole CLI (handy on a GPU machine).
//!
//! ```text
//! cargo run --release -p entropo-burn --example train_throughput -- ndarray 512 3
//! cargo run --release -p entropo-burn --features cuda --example train_throughput -- cuda 2048 5
//! cargo run --release -p entropo-burn --example train_throughput -- ndarray 1024 3 runs/quickstart/model/sft
//! ```
//! Arguments: backend (ndarray | tch | cuda), sequence length, timed steps,
//! and optionally a model folder whose shape to use.
//! Prints one JSON line; `entropo bench train` does the same with a peer.

use entropo_burn::backend::BackendKind;
use entropo_burn::bench::{smollm2_135m, train_throughput};
use entropo_burn::config::ModelConfig;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let backend: BackendKind = serde_json::from_value(serde_json::json!(args.first().map_or("ndarray", String::as_str)))?;
    let seq_len = args.get(1).map_or(Ok(512), |s| s.parse())?;
    let steps = args.get(2).map_or(Ok(3), |s| s.parse())?;
    let loss = entropo_losses::Sft::new(Default::default())?;
    let config = match args.get(3) {
        Some(dir) => ModelConfig::from_dir(std::path::Path::new(dir))?,
        None => smollm2_135m(),
    };
    let result = train_throughput(backend, config, None, seq_len, steps, &loss)?;
    println!("{}", serde_json::to_string(&result)?);
    Ok(())
}
