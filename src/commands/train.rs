//! `entropo train sft|preference`: LoRA training on burn.

use std::ops::ControlFlow;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use entropo_burn::train::data::{DataKind, load_examples};
use entropo_core::Loss;
use entropo_core::config::{ExperimentConfig, PluginRef};
use indicatif::{ProgressBar, ProgressStyle};

use super::PluginPaths;
use super::config::load;

#[derive(Debug, Subcommand)]
pub enum TrainCommand {
    /// Supervised fine-tuning (loss `sft`) on SFT samples, e.g. resolved
    /// teacher trajectories.
    Sft(TrainArgs),
    /// Preference optimisation with the config's `[loss]` (dpo, kto,
    /// entropo-dpo, entropo-kto, or a loss from a plugin library) on
    /// preference pairs or KTO samples.
    Preference(TrainArgs),
    /// The lm-judge verifier: LoRA SFT of the [model] to answer YES (resolved)
    /// or NO on judged trajectories; writes <output_dir>/train/verifier/adapter.
    Verifier(VerifierArgs),
}

/// What `train verifier` takes.
#[derive(Debug, Args)]
#[command(after_help = "\
Training settings come from the config's [verifier_training] (LoRA, learning rate, …).

Example:
  entropo train verifier --config configs/quickstart.toml --rollouts runs/q/rollouts/teacher --rollouts runs/q/rollouts/student")]
pub struct VerifierArgs {
    /// The experiment config (TOML).
    #[arg(long)]
    config: PathBuf,
    /// A rollout folder of judged trajectories (repeatable).
    #[arg(long = "rollouts", value_name = "DIR", required = true)]
    rollouts: Vec<PathBuf>,
    /// Override a config key (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    #[command(flatten)]
    plugins: PluginPaths,
}

/// What both trainers take.
#[derive(Debug, Args)]
#[command(after_help = "\
The config's [model] names the base model folder, its backend and any adapter to merge
first (e.g. the SFT adapter before preference training); [train] holds the data file,
LoRA and optimiser settings. Output goes to train.output (default
<output_dir>/train/<loss>): adapter/ (PEFT), metrics.jsonl, checkpoint/. Run the same
command again to resume an interrupted run.

Examples:
  entropo train sft --config configs/quickstart.toml --set train.data=runs/q/sft.jsonl
  entropo train preference --config configs/quickstart.toml --set loss.name=entropo-kto")]
pub struct TrainArgs {
    /// The experiment config (TOML).
    #[arg(long)]
    config: PathBuf,
    /// Override a config key (repeatable): `--set train.learning_rate=1e-4`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    #[command(flatten)]
    plugins: PluginPaths,
}

impl TrainCommand {
    pub fn run(self) -> anyhow::Result<()> {
        let (args, sft) = match self {
            TrainCommand::Sft(a) => (a, true),
            TrainCommand::Preference(a) => (a, false),
            TrainCommand::Verifier(v) => return v.run(),
        };
        let cfg = load(&args.config, &args.set)?;
        let registry = args.plugins.registry(&cfg.plugins)?;
        cfg.validate(&args.config, &registry)?;
        let file = args.config.display();
        let loss_ref = if sft {
            PluginRef { name: "sft".into(), params: Default::default() }
        } else {
            cfg.loss.clone().with_context(|| format!("{file}: loss: missing (preference training needs a [loss])"))?
        };
        let loss: Box<dyn Loss> = registry.create::<dyn Loss>(&loss_ref.name, &loss_ref.params)?;
        let model = cfg.model.clone().with_context(|| format!("{file}: model: missing ([model] path = …)"))?;
        let settings = cfg.train.clone().unwrap_or_default();
        let data = settings.data.clone().with_context(|| format!("{file}: train.data: missing"))?;
        let out = settings.output.clone().unwrap_or_else(|| default_output(&cfg, &loss_ref.name));

        let tokenizer = entropo_text::Tokenizer::from_dir(&model.path)?;
        let (kind, examples, report) = load_examples(&data, &tokenizer, settings.cutoff)?;
        match (sft, kind) {
            (true, DataKind::Sft) | (false, DataKind::Pairs | DataKind::Kto) => {}
            (true, k) => bail!("{}: holds {k:?} rows; `train sft` needs SFT samples", data.display()),
            (false, k) => bail!("{}: holds {k:?} rows; `train preference` needs pairs or KTO samples", data.display()),
        }
        eprintln!(
            "{}: {} rows → {} examples; cutoff {} tokens: {}",
            data.display(),
            report.rows,
            report.examples,
            settings.cutoff.max_tokens,
            report.cutoff
        );

        let bar = ProgressBar::new(0).with_style(
            ProgressStyle::with_template("{spinner} train {pos}/{len} [{elapsed_precise}<{eta}] {msg}")
                .expect("valid template"),
        );
        let mut observer = |m: &entropo_burn::train::StepMetrics| {
            bar.set_length(m.total_steps as u64);
            bar.set_position(m.step as u64);
            bar.set_message(format!("loss {:.4} lr {:.2e} entropy {:.3}", m.loss, m.lr, m.entropy));
            ControlFlow::Continue(())
        };
        let summary = entropo_burn::jobs::train(entropo_burn::jobs::TrainJob {
            model: &model,
            settings: &settings,
            examples: &examples,
            loss: loss.as_ref(),
            seed: cfg.seed,
            out: &out,
            observer: &mut observer,
        })?;
        bar.finish_and_clear();
        if let Some(step) = summary.resumed_from {
            eprintln!("resumed from step {step}");
        }
        println!(
            "trained {} ({} steps, {} trainable parameters, final loss {:.4}): {}, metrics {}",
            loss_ref.name,
            summary.steps,
            summary.trainable_parameters,
            summary.final_loss.unwrap_or(f64::NAN),
            summary.output.display(),
            summary.metrics.display()
        );
        Ok(())
    }
}

fn default_output(cfg: &ExperimentConfig, loss: &str) -> PathBuf {
    cfg.output_dir.join("train").join(loss)
}

impl VerifierArgs {
    fn run(self) -> anyhow::Result<()> {
        let cfg = load(&self.config, &self.set)?;
        let registry = self.plugins.registry(&cfg.plugins)?;
        cfg.validate(&self.config, &registry)?;
        let model = cfg.model.clone().with_context(|| format!("{}: model: missing ([model] path = …)", self.config.display()))?;
        let run = entropo::pipeline::Run { cfg: &cfg, file: &self.config, registry: &registry };
        let adapter = run.train_verifier(&model.path, &self.rollouts)?;
        println!("verifier adapter: {}", adapter.display());
        Ok(())
    }
}
