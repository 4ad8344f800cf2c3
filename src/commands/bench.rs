//! `entropo bench`: speed figures beside a peer measured in the same run.

use std::ops::ControlFlow;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, Subcommand};
use entropo_burn::backend::runs_on_gpu;
use entropo_burn::bench::{smollm2_135m, train_throughput};
use entropo_burn::jobs::{TrainJob, train};
use entropo_burn::model::AttentionBlocks;
use entropo_burn::train::data::load_examples;
use entropo_core::Loss;
use entropo_core::formats::{ExportFormat, export_file};
use entropo_core::training::{Backend, Cutoff, ModelSection, Overflow, TrainSection};

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
        /// Queries per attention block (default: 256 on the CPU; on a GPU one
        /// block up to 2048 tokens, smaller blocks beyond).
        #[arg(long)]
        attention_chunk: Option<usize>,
        /// Skip the PyTorch peer.
        #[arg(long)]
        no_peer: bool,
        #[command(flatten)]
        python: PeerPython,
    },
    /// One epoch of DPO preference training (LoRA r 8 / alpha 16 on every
    /// linear layer) on a model folder and a pairs file, beside TRL's
    /// `DPOTrainer` with its default set-up (scripts/bench/preference_peer.py)
    /// on the same model, pairs and settings. entropo computes the reference
    /// log-probs once, with the adapters off; TRL's default recomputes them
    /// at every step. entropo's time counts everything from reading the data;
    /// TRL's counts `trainer.train()` alone.
    #[command(after_help = "\
Example (after `entropo run configs/quickstart.toml`):
  entropo bench preference --model runs/quickstart/model/sft --pairs runs/quickstart/data/preference/pairs.jsonl")]
    Preference(PreferenceBench),
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

/// Which Python runs the peers.
#[derive(Debug, Args)]
pub struct PeerPython {
    /// The Python with torch, transformers, peft and trl (default:
    /// .venv-torch/bin/python from scripts/bench/torch-env.sh when it
    /// exists, else python3).
    #[arg(long = "python", env = "ENTROPO_PYTHON", value_name = "PATH")]
    path: Option<PathBuf>,
}

/// `rel` in the repository entropo runs from (the current folder), else in
/// the one it was built from.
fn repo_file(rel: &str) -> PathBuf {
    let here = Path::new(rel);
    if here.exists() { here.to_path_buf() } else { Path::new(env!("CARGO_MANIFEST_DIR")).join(rel) }
}

impl PeerPython {
    fn command(&self) -> Command {
        let venv = repo_file(".venv-torch/bin/python");
        match &self.path {
            Some(p) => Command::new(p),
            None if venv.exists() => Command::new(venv),
            None => Command::new("python3"),
        }
    }

    /// Runs `scripts/bench/<script>` with `args` and parses the JSON line it
    /// prints last; `None` (with a note) when it cannot run.
    fn run(&self, script: &str, args: &[String]) -> Option<serde_json::Value> {
        let script = repo_file(&format!("scripts/bench/{script}"));
        let out = self.command().arg(&script).args(args).output().ok()?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let why = match out.status.signal() {
                Some(9) => "killed by SIGKILL (most likely the kernel's out-of-memory killer)".to_string(),
                Some(signal) => format!("killed by signal {signal}"),
                None => err.lines().last().unwrap_or("python failed").to_string(),
            };
            eprintln!("peer unavailable: {why}");
            return None;
        }
        serde_json::from_slice(String::from_utf8_lossy(&out.stdout).lines().last()?.as_bytes()).ok()
    }
}

/// What `bench preference` takes.
#[derive(Debug, Args)]
pub struct PreferenceBench {
    /// The model folder (the policy before preference training).
    #[arg(long)]
    model: PathBuf,
    /// Preference pairs, entropo's JSONL (as `entropo run` writes to
    /// data/preference/pairs.jsonl).
    #[arg(long)]
    pairs: PathBuf,
    /// Tensor backend (ndarray, tch, cuda; the last two need their cargo feature).
    #[arg(long, default_value = "ndarray", value_parser = super::generate::parse_backend)]
    backend: Backend,
    /// Pairs per optimizer step, for both trainers.
    #[arg(long, default_value_t = 4)]
    batch_size: usize,
    /// Longest sequence in tokens (longer ones are truncated).
    #[arg(long, default_value_t = 2048)]
    max_length: usize,
    /// Skip the TRL peer.
    #[arg(long)]
    no_peer: bool,
    #[command(flatten)]
    python: PeerPython,
}

impl PreferenceBench {
    fn run(self) -> anyhow::Result<()> {
        anyhow::ensure!(self.batch_size > 0, "--batch-size: must be at least 1");
        anyhow::ensure!(self.max_length > 1, "--max-length: must be at least 2");
        let registry = entropo::builtin_registry()?;
        let params = serde_json::from_value(serde_json::json!({ "beta": 0.1 }))?;
        let loss: Box<dyn Loss> = registry.create::<dyn Loss>("dpo", &params)?;
        let settings = TrainSection {
            learning_rate: 1e-3,
            epochs: 1,
            batch_size: self.batch_size,
            micro_batch_size: self.batch_size,
            save_every: 0,
            cutoff: Cutoff { max_tokens: self.max_length, on_overflow: Overflow::Truncate },
            ..Default::default()
        };
        let work = tempfile::tempdir()?;
        let model = ModelSection { path: self.model.clone(), backend: self.backend, merge_adapters: vec![] };

        let start = Instant::now();
        let tokenizer = entropo_text::Tokenizer::from_dir(&self.model)?;
        let (_, examples, report) = load_examples(&self.pairs, &tokenizer, settings.cutoff)?;
        let mut observer = |_: &entropo_burn::train::StepMetrics| ControlFlow::Continue(());
        let steps = train(TrainJob {
            model: &model,
            settings: &settings,
            examples: &examples,
            loss: loss.as_ref(),
            seed: 0,
            out: &work.path().join("entropo"),
            observer: &mut observer,
        })?
        .steps;
        let ours = start.elapsed().as_secs_f64();

        let peer = if self.no_peer {
            None
        } else {
            let trl = work.path().join("trl-dpo.jsonl");
            export_file(ExportFormat::TrlDpo, &self.pairs, &trl).with_context(|| self.pairs.display().to_string())?;
            let device = if runs_on_gpu(self.backend) { "cuda" } else { "cpu" };
            let args = [self.model.display().to_string(), trl.display().to_string(), self.batch_size.to_string(), self.max_length.to_string(), device.into()];
            self.python.run("preference_peer.py", &args)
        };
        let peer_secs = peer.as_ref().and_then(|p| p["seconds"].as_f64());
        println!("{:>6} {:>6} {:>22} {:>16} {:>16}", "pairs", "steps", format!("entropo/{} epoch", self.backend.name()), "trl epoch", "trl / entropo");
        println!(
            "{:>6} {:>6} {:>20.1} s {:>16} {:>16}",
            report.examples,
            steps,
            ours,
            peer_secs.map_or("n/a".to_string(), |t| format!("{t:.1} s")),
            peer_secs.map_or("n/a".to_string(), |t| format!("{:.2}", t / ours)),
        );
        let record = serde_json::json!({
            "entropo": { "backend": self.backend.name(), "pairs": report.examples, "steps": steps, "seconds": ours, "cutoff": report.cutoff },
            "peer": peer,
        });
        eprintln!("{record}");
        Ok(())
    }
}

impl BenchCommand {
    pub fn run(self) -> anyhow::Result<()> {
        let (backend, seq_len, steps, chunk, no_peer, python) = match self {
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
            BenchCommand::Preference(bench) => return bench.run(),
            BenchCommand::Train { backend, seq_len, steps, attention_chunk, no_peer, python } => {
                (backend, seq_len, steps, attention_chunk, no_peer, python)
            }
        };
        let registry = entropo::builtin_registry()?;
        let loss: Box<dyn Loss> = registry.create::<dyn Loss>("sft", &Default::default())?;
        let device = if runs_on_gpu(backend) { "cuda" } else { "cpu" };
        println!("{:>8} {:>22} {:>22} {:>8}", "seq_len", format!("entropo/{}", backend.name()), "pytorch+peft", "ratio");
        for len in seq_len {
            let ours = train_throughput(backend, smollm2_135m(), chunk.map(AttentionBlocks::Queries), len, steps, loss.as_ref())?;
            let args = [device.to_string(), len.to_string(), steps.to_string()];
            let peer = if no_peer { None } else { python.run("train_peer.py", &args) };
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
