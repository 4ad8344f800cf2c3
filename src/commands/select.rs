use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use entropo_core::Selector;
use entropo_core::registry::{Params, PluginKind};
use entropo_core::types::RolloutRecord;
use entropo_selectors::{resolved_rate, select_all};
use serde::Serialize;

use super::PluginPaths;

/// Pick one rollout per task from a rollout index with a selector, or
/// compare every selector on the same pool.
///
/// The index is JSON Lines, one row per rollout: task_id, rollout_id,
/// exit_reason, steps, tokens, reward, regression_passed, patch_hash,
/// verifier_prob, trajectory. Pools from other scaffolds can be converted to
/// it and selected too.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  entropo select --selector hybrid,final=fewest-steps --input runs/x/index.jsonl --output choices.jsonl
  entropo select --compare --input runs/x/index.jsonl")]
pub struct SelectCommand {
    /// NAME[,key=value…]: the selector and its parameters (`entropo plugins list`).
    #[arg(long, required_unless_present = "compare", conflicts_with = "compare")]
    selector: Option<String>,
    /// Apply every selector (default parameters) to the same pool and print
    /// the resolved rate of each.
    #[arg(long)]
    compare: bool,
    /// The rollout index (JSONL).
    #[arg(long)]
    input: PathBuf,
    /// Where to write one row per task: {task_id, rollout_id, reason}.
    #[arg(long, conflicts_with = "compare")]
    output: Option<PathBuf>,
    #[command(flatten)]
    plugins: PluginPaths,
}

#[derive(Serialize)]
struct Choice<'a> {
    task_id: &'a str,
    rollout_id: Option<u32>,
    reason: &'a str,
}

impl SelectCommand {
    pub fn run(self) -> anyhow::Result<()> {
        let registry = self.plugins.registry(&[])?;
        let rows: Vec<RolloutRecord> = entropo_core::io::read_jsonl(&self.input)?;
        let tasks = rows.iter().map(|r| r.task_id.as_str()).collect::<std::collections::BTreeSet<_>>().len();
        if self.compare {
            println!("{} rollouts of {tasks} tasks in {}", rows.len(), self.input.display());
            println!("{:<16} {:>9}", "SELECTOR", "RESOLVED");
            let names: Vec<String> = registry
                .infos()
                .filter(|i| i.kind == PluginKind::Selector)
                .map(|i| i.name.clone())
                .collect();
            for name in names {
                let selector = registry.create::<dyn Selector>(&name, &Params::new())?;
                match select_all(&*selector, &rows) {
                    Ok(choices) => println!("{name:<16} {:>8.1}%", 100.0 * resolved_rate(&rows, &choices)),
                    Err(e) => println!("{name:<16} {:>9}  ({e})", "n/a"),
                }
            }
            return Ok(());
        }
        let spec = self.selector.as_deref().unwrap_or_default();
        let (name, params) = entropo::plugin_spec(spec)?;
        let selector = registry.create::<dyn Selector>(&name, &params)?;
        let choices = select_all(&*selector, &rows).with_context(|| format!("{}", self.input.display()))?;
        if let Some(output) = &self.output {
            let out: Vec<Choice> = choices
                .iter()
                .map(|(task_id, s)| Choice { task_id, rollout_id: s.rollout_id, reason: &s.reason })
                .collect();
            entropo_core::io::write_jsonl(output, &out)?;
        }
        println!(
            "{name}: resolved {:.1}% of {tasks} tasks ({} rollouts){}",
            100.0 * resolved_rate(&rows, &choices),
            rows.len(),
            self.output.as_ref().map(|o| format!("; choices in {}", o.display())).unwrap_or_default()
        );
        Ok(())
    }
}

