//! `entropo eval`: the test-time-scaling report from rollout pools.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use entropo_core::Selector;
use entropo_core::eval::{Method, Pool, Report, ReportOptions, Sampling};
use entropo_core::pipeline::EvalSection;

use super::PluginPaths;

/// Resolved rate at N = 1, pass@k, Best@N per selector, diversity → report files.
#[derive(Debug, Args)]
#[command(after_help = "\
Each --method is NAME=DIR (a rollout folder with index.jsonl, usually named by its loss
plugin), optionally followed by ,entropy=X (the policy's mean token entropy). Writes
report.json, report.md, report.html and PNG plots into --out and prints the tables.

Examples:
  entropo eval --method sft=runs/q/eval/sft --method entropo-kto=runs/q/eval/entropo-kto --out runs/q/report
  entropo eval --method x=pool --selector hybrid --selector patch-consensus --n 1,4,16")]
pub struct EvalArgs {
    /// A method's pool: NAME=DIR[,entropy=X] (repeatable).
    #[arg(long = "method", value_name = "NAME=DIR", required = true)]
    methods: Vec<String>,
    /// Selectors to compare, as NAME[,key=value…] (repeatable; default: all of the paper's).
    #[arg(long = "selector", value_name = "SPEC")]
    selectors: Vec<String>,
    /// Pool sizes for Best@N.
    #[arg(long, value_delimiter = ',', default_values_t = EvalSection::default().ns)]
    n: Vec<usize>,
    /// Random subsamples per N.
    #[arg(long, default_value_t = EvalSection::default().subsamples)]
    samples: usize,
    /// Seed of the subsampling.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The selector of Table 1's "with TTS" column.
    #[arg(long, default_value_t = EvalSection::default().tts_selector)]
    tts_selector: String,
    /// Where the report goes.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    plugins: PluginPaths,
}

impl EvalArgs {
    pub fn run(self) -> anyhow::Result<()> {
        let registry = self.plugins.registry(&[])?;
        let mut methods = Vec::new();
        for spec in &self.methods {
            let (name, rest) = spec.split_once('=').with_context(|| format!("--method {spec}: expected NAME=DIR"))?;
            let (dir, entropy) = match rest.split_once(",entropy=") {
                Some((dir, e)) => (dir, Some(e.parse::<f64>().with_context(|| format!("--method {spec}: entropy"))?)),
                None => (rest, None),
            };
            let pool = Pool::load(&PathBuf::from(dir).join("index.jsonl"))?;
            methods.push(Method { name: name.to_string(), pool, entropy });
        }
        let specs = if self.selectors.is_empty() { EvalSection::default().selectors } else { self.selectors.clone() };
        let mut built: Vec<(String, Box<dyn Selector>)> = Vec::new();
        for spec in specs {
            let (name, params) = entropo::plugin_spec(&spec)?;
            built.push((spec.clone(), registry.create::<dyn Selector>(&name, &params)?));
        }
        let selectors: Vec<(&str, &dyn Selector)> = built.iter().map(|(l, s)| (l.as_str(), s.as_ref())).collect();
        let options = ReportOptions {
            sampling: Sampling { ns: self.n.clone(), samples: self.samples, seed: self.seed },
            tts_selector: self.tts_selector.clone(),
        };
        let report = Report::build(&methods, &selectors, &options);
        let files = entropo_report::write_report(&report, &self.out)?;
        println!("{}", report.markdown());
        println!("wrote {} files; open {}", files.len(), self.out.join("report.html").display());
        Ok(())
    }
}
