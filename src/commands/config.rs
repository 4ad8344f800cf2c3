use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use entropo_core::config::{ExperimentConfig, parse_assignment};

use super::PluginPaths;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the JSON Schema of experiment configs (for editors and linters).
    Schema {
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Check a config: TOML syntax, known keys and types, and that every
    /// named plugin exists and accepts its parameters. Exits non-zero with a
    /// message naming the file and key otherwise.
    Check {
        /// The experiment config (TOML).
        file: PathBuf,
        /// Override a key, as the run would (`--set loss.params.beta=0.2`).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        #[command(flatten)]
        plugins: PluginPaths,
    },
}

impl ConfigCommand {
    pub fn run(self) -> anyhow::Result<()> {
        match self {
            ConfigCommand::Schema { output } => {
                let text = serde_json::to_string_pretty(&ExperimentConfig::json_schema())? + "\n";
                match output {
                    Some(path) => entropo_core::io::write_atomic(&path, text.as_bytes())?,
                    None => print!("{text}"),
                }
                Ok(())
            }
            ConfigCommand::Check { file, set, plugins } => {
                let cfg = load(&file, &set)?;
                let registry = plugins
                    .registry(&cfg.plugins)
                    .with_context(|| format!("{}: plugins", file.display()))?;
                cfg.validate(&file, &registry)?;
                let named: Vec<String> = cfg
                    .plugin_refs()
                    .iter()
                    .map(|(key, _, r)| format!("{key}={}", r.name))
                    .collect();
                println!("{}: ok ({})", file.display(), named.join(", "));
                Ok(())
            }
        }
    }
}

/// Loads a config with `--set` overrides applied.
pub fn load(file: &std::path::Path, set: &[String]) -> anyhow::Result<ExperimentConfig> {
    let overrides = set.iter().map(|s| parse_assignment(s)).collect::<Result<Vec<_>, _>>()?;
    Ok(ExperimentConfig::load(file, &overrides)?)
}
