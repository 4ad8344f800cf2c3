//! `entropo bench`: speed figures beside a peer measured in the same run.

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Subcommand;
use entropo_burn::bench::{smollm2_135m, train_throughput};
use entropo_core::Loss;
use entropo_core::training::Backend;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Median latency of the agent's tool calls (WASM file_editor and
    /// search, sandboxed bash, the docker environment) beside the way Python
    /// scaffolds run them (a Python script per call, on the host and through
    /// `docker exec`), in one run. Docker rows need an engine (DOCKER_HOST).
    #[command(after_help = "\
Examples:
  entropo bench tools
  DOCKER_HOST=$(scripts/docker.sh start) entropo bench tools --scale 0.2 --json")]
    Tools {
        /// Multiply the sample counts (1: 300 WASM calls, 30 Python calls, 50 bash calls).
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        /// Print the report as JSON instead of a Markdown table.
        #[arg(long)]
        json: bool,
    },
    /// LoRA training throughput (forward + backward + AdamW, tokens/s) and
    /// peak memory on a SmolLM2-135M-shaped model, beside PyTorch
    /// (transformers + peft, scripts/bench/train_peer.py) on the same shapes
    /// when python3 has torch, transformers and peft.
    #[command(after_help = "\
Examples:
  entropo bench train --seq-len 512 --steps 2
  entropo bench train --backend cuda --seq-len 512 --seq-len 2048 --seq-len 8192")]
    Train {
        /// Tensor backend (ndarray, tch, cuda; the last two need their cargo feature).
        #[arg(long, default_value = "ndarray", value_parser = super::generate::parse_backend)]
        backend: Backend,
        /// Sequence lengths to measure (repeatable).
        #[arg(long = "seq-len", default_values_t = [512, 2048, 8192])]
        seq_len: Vec<usize>,
        /// Timed steps per length (after one warm-up step).
        #[arg(long, default_value_t = 3)]
        steps: usize,
        /// Skip the PyTorch peer.
        #[arg(long)]
        no_peer: bool,
    },
    /// Rollout throughput: environment steps/s and policy tokens/s with N
    /// concurrent rollouts per held-out task of a config's suite, and the
    /// time spent in the policy, the tools and the tests.
    #[command(after_help = "\
Example (after `entropo run configs/quickstart.toml`):
  entropo bench rollout --config configs/quickstart.toml --model runs/quickstart/model/sft")]
    Rollout {
        /// The experiment config (tasks, environment, sampling).
        #[arg(long)]
        config: PathBuf,
        /// The model folder to sample from.
        #[arg(long)]
        model: PathBuf,
        /// Rollouts per task.
        #[arg(long, default_value_t = 16)]
        n: u32,
        /// Rollouts at once.
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// Where the pool goes (replaced).
        #[arg(long, default_value = "runs/bench-rollout")]
        out: PathBuf,
        /// Print JSON instead of a Markdown table.
        #[arg(long)]
        json: bool,
    },
}

impl BenchCommand {
    pub fn run(self) -> anyhow::Result<()> {
        let (backend, seq_len, steps, no_peer) = match self {
            BenchCommand::Tools { scale, json } => {
                anyhow::ensure!(scale > 0.0, "--scale: must be positive");
                let report = entropo_envs::latency::measure(scale)?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&report)?);
                } else {
                    print!("{}", report.markdown());
                }
                return Ok(());
            }
            BenchCommand::Rollout { config, model, n, concurrency, out, json } => {
                let cfg = super::config::load(&config, &[])?;
                let registry = entropo::builtin_registry()?;
                let run = entropo::pipeline::Run { cfg: &cfg, file: &config, registry: &registry };
                let bench = run.bench_rollout(&model, n, concurrency, &out)?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&bench)?);
                } else {
                    print!("{}", bench.markdown());
                }
                return Ok(());
            }
            BenchCommand::Train { backend, seq_len, steps, no_peer } => (backend, seq_len, steps, no_peer),
        };
        let registry = entropo::builtin_registry()?;
        let loss: Box<dyn Loss> = registry.create::<dyn Loss>("sft", &Default::default())?;
        let device = if backend == Backend::Ndarray { "cpu" } else { "cuda" };
        println!("{:>8} {:>22} {:>22} {:>8}", "seq_len", format!("entropo/{}", backend.name()), "pytorch+peft", "ratio");
        for len in seq_len {
            let ours = train_throughput(backend, smollm2_135m(), len, steps, loss.as_ref())?;
            let peer = if no_peer { None } else { peer(device, len, steps) };
            let peer_tps = peer.as_ref().and_then(|p| p["tokens_per_second"].as_f64());
            println!(
                "{len:>8} {:>16.1} tok/s {:>16} {:>8}",
                ours.tokens_per_second,
                peer_tps.map_or("n/a".to_string(), |t| format!("{t:.1} tok/s")),
                peer_tps.map_or("n/a".to_string(), |t| format!("{:.2}", ours.tokens_per_second / t)),
            );
            let record = serde_json::json!({ "entropo": ours, "peer": peer });
            tracing::info!(%record, "bench train");
            eprintln!("{record}");
        }
        Ok(())
    }
}

/// Runs the PyTorch peer script; `None` (with a note) when it cannot run.
fn peer(device: &str, seq_len: usize, steps: usize) -> Option<serde_json::Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/bench/train_peer.py");
    let out = Command::new("python3")
        .arg(&script)
        .args([device, &seq_len.to_string(), &steps.to_string()])
        .output()
        .ok()?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        eprintln!("peer unavailable: {}", err.lines().last().unwrap_or("python3 failed"));
        return None;
    }
    serde_json::from_slice(String::from_utf8_lossy(&out.stdout).lines().last()?.as_bytes()).ok()
}
