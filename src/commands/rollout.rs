//! `entropo rollout`: N rollouts per task, resumable, with an index.

use std::path::PathBuf;

use clap::Args;

use super::PluginPaths;
use super::config::load;

/// Samples N trajectories per task with the configured environment and policy.
#[derive(Debug, Args)]
#[command(after_help = "\
Tasks come from the config's [tasks] (the bundled suite, or train_file / test_file);
sampling, budgets, concurrency and N from [rollout]; the environment from [environment].
The policy is the model folder (--model, or [model] path) with an optional LoRA adapter,
or, when [rollout] endpoints is set, those OpenAI-compatible servers (spread over them).

Writes DIR/trajectories/<task>/<r>.json and DIR/index.jsonl (task_id, rollout_id,
exit_reason, steps, tokens, reward, regression_passed, patch_hash, verifier_prob,
trajectory). Rerun the same command to resume: recorded rollouts are skipped.

Examples:
  entropo rollout --config configs/quickstart.toml --model runs/quickstart/model/sft --out runs/pool
  entropo rollout --config configs/paper/qwen3-coder-30b-verified.toml --split test --out runs/pool")]
pub struct RolloutArgs {
    /// The experiment config (TOML).
    #[arg(long)]
    config: PathBuf,
    /// Which tasks: train or test.
    #[arg(long, default_value = "test", value_parser = ["train", "test"])]
    split: String,
    /// A model folder (overrides [model] path).
    #[arg(long)]
    model: Option<PathBuf>,
    /// A PEFT LoRA adapter on top of the model.
    #[arg(long)]
    adapter: Option<PathBuf>,
    /// The rollout folder.
    #[arg(long)]
    out: PathBuf,
    /// Override a config key (repeatable): `--set rollout.n=4`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    #[command(flatten)]
    plugins: PluginPaths,
}

impl RolloutArgs {
    pub fn run(self) -> anyhow::Result<()> {
        let cfg = load(&self.config, &self.set)?;
        let registry = self.plugins.registry(&cfg.plugins)?;
        cfg.validate(&self.config, &registry)?;
        let run = entropo::pipeline::Run { cfg: &cfg, file: &self.config, registry: &registry };
        run.rollout(self.split == "test", self.model.as_deref(), self.adapter.as_deref(), &self.out)?;
        println!("index: {}", self.out.join("index.jsonl").display());
        Ok(())
    }
}
