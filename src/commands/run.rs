//! `entropo run`: the whole experiment, stage by stage.

use std::path::PathBuf;

use clap::Args;

use super::PluginPaths;
use super::config::load;

/// Runs the end-to-end experiment a config describes.
#[derive(Debug, Args)]
#[command(after_help = "\
Stages (each leaves its files under output_dir and is skipped when rerun):
  tasks → teacher rollouts → model (from [init] or [model]) → SFT → student rollouts
  → preference data → one adapter per [preference] method → lm-judge verifier
  → N rollouts per held-out task per method → every selector → report/

Examples:
  entropo run configs/quickstart.toml
  entropo run configs/quickstart.toml --set output_dir=/tmp/q --set rollout.n=4")]
pub struct RunArgs {
    /// The experiment config (TOML).
    config: PathBuf,
    /// Override a config key (repeatable): `--set output_dir=runs/mine`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    #[command(flatten)]
    plugins: PluginPaths,
}

impl RunArgs {
    pub fn run(self) -> anyhow::Result<()> {
        let cfg = load(&self.config, &self.set)?;
        let registry = self.plugins.registry(&cfg.plugins)?;
        cfg.validate(&self.config, &registry)?;
        eprintln!("run {} → {}", cfg.name, cfg.output_dir.display());
        let done = entropo::pipeline::Run { cfg: &cfg, file: &self.config, registry: &registry }.run()?;
        println!("{}", done.report.markdown());
        println!(
            "finished in {:.0} s; report: {}",
            done.seconds,
            done.report_dir.join("report.html").display()
        );
        Ok(())
    }
}
