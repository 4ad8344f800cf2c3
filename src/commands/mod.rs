//! One module per subcommand.

mod bench;
mod config;
mod data;
mod eval;
mod generate;
mod loss;
mod model;
mod plugins;
mod rollout;
mod run;
mod select;
mod serve;
mod tool;
mod train;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Train and run software-engineering agents with entropy-regularised
/// multi-turn preference optimisation (EntroPO), sandboxed tools and
/// test-time scaling.
///
/// Every experiment is a TOML config; every plugin (loss, selector,
/// verifier, environment) is picked by name and can come from a shared
/// library built against entropo-sdk.
#[derive(Debug, Parser)]
#[command(name = "entropo", version, propagate_version = true, after_help = EXAMPLES)]
pub struct Cli {
    /// More log output (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

const EXAMPLES: &str = "\
Examples:
  entropo run configs/quickstart.toml
  entropo config check configs/example.toml
  entropo plugins list
  entropo loss eval --plugin entropo-dpo --param alpha=0.11 --input batch.json
  entropo data import swebench swe-bench-lite.jsonl --out tasks.jsonl
  entropo data export --format trl-dpo --input pairs.jsonl --output trl.jsonl
  entropo select --compare --input runs/x/index.jsonl";

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate experiment configs and print their JSON Schema.
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// List the plugins entropo knows, built in or loaded from libraries.
    #[command(subcommand)]
    Plugins(plugins::PluginsCommand),
    /// Import tasks and export training data in other tools' formats.
    #[command(subcommand)]
    Data(data::DataCommand),
    /// Evaluate a loss plugin on a batch of per-sequence statistics.
    #[command(subcommand)]
    Loss(loss::LossCommand),
    /// Sample N trajectories per task (resumable), indexed for selectors and datasets.
    Rollout(rollout::RolloutArgs),
    /// The test-time-scaling report: pass@k, Best@N per selector, diversity.
    Eval(eval::EvalArgs),
    /// Pick one rollout per task with a selector, or compare them all.
    Select(select::SelectCommand),
    /// Import and inspect model files.
    #[command(subcommand)]
    Model(model::ModelCommand),
    /// Run the agent's tools by hand on a folder, or print their schemas.
    #[command(subcommand)]
    Tool(tool::ToolCommand),
    /// Train LoRA adapters: SFT, or preference optimisation with a loss plugin.
    #[command(subcommand)]
    Train(train::TrainCommand),
    /// Sample text from a model folder (optionally with a LoRA adapter).
    Generate(generate::GenerateArgs),
    /// Run a whole experiment end to end (tasks → teacher → SFT → preference
    /// training → verifier → rollouts → selectors → report).
    Run(run::RunArgs),
    /// Serve a model folder as an OpenAI-compatible chat endpoint on loopback.
    Serve(serve::ServeArgs),
    /// Measure speed beside a peer (PyTorch) in the same run.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

/// Where to find dynamically loaded plugins.
#[derive(Debug, Clone, Default, Args)]
pub struct PluginPaths {
    /// Load every plugin library in this folder (repeatable).
    #[arg(long = "plugin-dir", value_name = "DIR")]
    dirs: Vec<PathBuf>,
    /// Load this plugin library (repeatable).
    #[arg(long = "plugin-lib", value_name = "PATH")]
    libs: Vec<PathBuf>,
}

impl PluginPaths {
    /// The built-in registry plus these libraries (and any `extra` paths).
    fn registry(&self, extra: &[PathBuf]) -> anyhow::Result<entropo_core::Registry> {
        let mut registry = entropo::builtin_registry()?;
        let paths: Vec<PathBuf> =
            self.dirs.iter().chain(&self.libs).chain(extra).cloned().collect();
        for info in entropo::load_plugins(&mut registry, &paths)? {
            tracing::info!(kind = %info.kind, name = %info.name, origin = %info.origin, "loaded plugin");
        }
        Ok(registry)
    }
}

impl Cli {
    /// The tracing filter the -v flags ask for.
    pub fn log_level(&self) -> &'static str {
        match self.verbose {
            0 => "warn",
            1 => "info",
            2 => "debug",
            _ => "trace",
        }
    }

    /// Runs the chosen subcommand.
    pub fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Config(c) => c.run(),
            Command::Plugins(c) => c.run(),
            Command::Data(c) => c.run(),
            Command::Loss(c) => c.run(),
            Command::Rollout(c) => c.run(),
            Command::Eval(c) => c.run(),
            Command::Select(c) => c.run(),
            Command::Model(c) => c.run(),
            Command::Tool(c) => c.run(),
            Command::Train(c) => c.run(),
            Command::Generate(c) => c.run(),
            Command::Run(c) => c.run(),
            Command::Serve(c) => c.run(),
            Command::Bench(c) => c.run(),
        }
    }
}
