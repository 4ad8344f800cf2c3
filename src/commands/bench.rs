//! `entropo bench`: speed figures beside a peer measured in the same run.

use std::ops::ControlFlow;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Subcommand};
use entropo_burn::engine::EngineOptions;
use entropo_burn::sample::SamplingParams;
use entropo_core::agent::{Policy, Reply};
use entropo_core::types::{Message, Role};
use entropo_openai::{OpenAiPolicy, OpenAiSettings, Server, ServerOptions};
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
    /// `entropo serve` with concurrent clients: tokens/s of the engine
    /// batching them, of the same server computing one request at a time,
    /// and of transformers' batched `generate` on the same model and prompts
    /// (scripts/bench/serve_peer.py), all greedy, in one run.
    #[command(after_help = "\
Example (SmolLM2-135M-Instruct from the GGUF that scripts/setup.sh fetches):
  entropo model import-gguf target/fixtures/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf /tmp/smol
  entropo bench serve --model /tmp/smol --clients 16 --max-tokens 64")]
    Serve(ServeBench),
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

/// What `bench serve` takes.
#[derive(Debug, Args)]
pub struct ServeBench {
    /// A HuggingFace model folder with its tokenizer.
    #[arg(long)]
    model: PathBuf,
    /// Concurrent clients, each with its own prompt.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// New tokens per reply at most.
    #[arg(long, default_value_t = 64)]
    max_tokens: u32,
    /// Skip the transformers peer.
    #[arg(long)]
    no_peer: bool,
    #[command(flatten)]
    python: PeerPython,
}

/// One run of `bench serve`'s clients against a server.
struct Served {
    seconds: f64,
    tokens: u64,
    texts: Vec<String>,
}

impl ServeBench {
    /// `n` distinct short coding conversations.
    fn conversations(n: usize) -> Vec<Vec<Message>> {
        let topics = ["reverses a string", "sums a list", "parses a date", "counts words", "merges two dicts", "checks for a prime", "flattens a list", "reads a CSV file"];
        (0..n)
            .map(|i| {
                vec![
                    Message::new(Role::System, "You are a helpful programming assistant."),
                    Message::new(Role::User, format!("Write a short Python function that {} (variant {i}).", topics[i % topics.len()])),
                ]
            })
            .collect()
    }

    /// Every client's request at once against a server whose engine
    /// computes `batch` completions together.
    fn measure(&self, conversations: &[Vec<Message>], batch: usize) -> anyhow::Result<Served> {
        let engine = EngineOptions { max_batch: batch, ..Default::default() };
        let chat = Arc::new(entropo::serve::BurnChat::load(&self.model, None, "bench".into(), SamplingParams::default(), engine)?);
        let runtime = tokio::runtime::Runtime::new()?;
        let options = ServerOptions { max_concurrency: batch, max_queue: conversations.len(), ..Default::default() };
        let server = runtime.block_on(Server::bind(chat, "127.0.0.1:0".parse()?, options))?;
        let settings = OpenAiSettings {
            endpoints: vec![format!("http://{}/v1", server.local_addr())],
            model: "bench".into(),
            timeout_secs: 3600.0,
            temperature: 0.0,
            max_tokens: Some(self.max_tokens),
            ..Default::default()
        };
        let handle = {
            let _inside = runtime.enter();
            server.spawn()
        };
        let start = Instant::now();
        let replies: Vec<anyhow::Result<Reply>> = std::thread::scope(|scope| {
            let threads: Vec<_> = conversations
                .iter()
                .map(|c| {
                    let settings = settings.clone();
                    scope.spawn(move || Ok(OpenAiPolicy::new(settings)?.respond(c)?))
                })
                .collect();
            threads.into_iter().map(|t| t.join().expect("a client thread")).collect()
        });
        let seconds = start.elapsed().as_secs_f64();
        runtime.block_on(handle.shutdown())?;
        let replies = replies.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Served { seconds, tokens: replies.iter().map(|r| r.completion_tokens).sum(), texts: replies.into_iter().map(|r| r.text).collect() })
    }

    fn run(self) -> anyhow::Result<()> {
        anyhow::ensure!(self.clients > 0, "--clients: must be at least 1");
        let conversations = Self::conversations(self.clients);
        let batched = self.measure(&conversations, self.clients)?;
        let alone = self.measure(&conversations, 1)?;
        let peer = if self.no_peer {
            None
        } else {
            let work = tempfile::tempdir()?;
            let prompts = work.path().join("prompts.json");
            let wire: Vec<Vec<serde_json::Value>> = conversations
                .iter()
                .map(|c| c.iter().map(|m| serde_json::json!({"role": m.role, "content": m.content})).collect())
                .collect();
            std::fs::write(&prompts, serde_json::to_vec(&wire)?)?;
            let args = [self.model.display().to_string(), prompts.display().to_string(), self.max_tokens.to_string(), "cpu".into()];
            self.python.run("serve_peer.py", &args)
        };
        let tps = |s: &Served| s.tokens as f64 / s.seconds;
        let peer_tps = peer.as_ref().and_then(|p| p["tokens_per_second"].as_f64());
        let same = peer.as_ref().and_then(|p| p["texts"].as_array()).map(|texts| {
            texts.iter().zip(&batched.texts).filter(|(a, b)| a.as_str() == Some(b.as_str())).count()
        });
        println!("| {} clients, ≤ {} tokens | tokens | wall s | tokens/s | vs transformers |", self.clients, self.max_tokens);
        println!("| --- | --- | --- | --- | --- |");
        for (name, s) in [(format!("entropo serve, batch {}", self.clients), &batched), ("entropo serve, batch 1".into(), &alone)] {
            let ratio = peer_tps.map_or("n/a".to_string(), |p| format!("{:.2}", tps(s) / p));
            println!("| {name} | {} | {:.1} | {:.1} | {ratio} |", s.tokens, s.seconds, tps(s));
        }
        if let Some(p) = &peer {
            println!("| transformers generate (one batch) | {} | {:.1} | {:.1} | 1.00 |", p["tokens"], p["seconds"].as_f64().unwrap_or(f64::NAN), peer_tps.unwrap_or(f64::NAN));
        }
        if let Some(same) = same {
            println!("\ngreedy replies identical to transformers': {same} of {}", self.clients);
        }
        let record = serde_json::json!({
            "batched": { "tokens": batched.tokens, "seconds": batched.seconds },
            "one_at_a_time": { "tokens": alone.tokens, "seconds": alone.seconds },
            "batch_1_identical_to_batched": alone.texts == batched.texts,
            "peer": peer.map(|mut p| { p.as_object_mut().map(|o| o.remove("texts")); p }),
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
            BenchCommand::Serve(bench) => return bench.run(),
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
