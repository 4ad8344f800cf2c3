use std::path::PathBuf;

use clap::Subcommand;
use entropo_core::datasets::{self, BuildOptions};
use entropo_core::formats::{ExportFormat, export_file, import_file, swebench};
use entropo_suite::SuiteConfig;

#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Import tasks from another tool's format into entropo's tasks.jsonl.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Generate the bundled task suite of small buggy Python repositories.
    ///
    /// Each repository has one injected bug (wrong operator, off-by-one, missing edge case, wrong
    /// default, swapped arguments), a user's bug report, FAIL_TO_PASS and
    /// PASS_TO_PASS unittest ids and the gold patch. The same seed gives the
    /// same files. Writes OUT/repos/<id>/, OUT/train.jsonl, OUT/test.jsonl and
    /// OUT/manifest.jsonl (bug family and site per task, kept from agents).
    Suite {
        /// Fixes every random choice.
        #[arg(long, default_value_t = SuiteConfig::default().seed)]
        seed: u64,
        /// Training tasks.
        #[arg(long, default_value_t = SuiteConfig::default().train)]
        train: usize,
        /// Held-out tasks (bug sites never seen in training).
        #[arg(long, default_value_t = SuiteConfig::default().test)]
        test: usize,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
    },
    /// Convert native rows to LLaMA-Factory or TRL training rows, and back
    ///
    /// Reads entropo's native rows (sft / pairs / kto JSONL) and writes:
    ///   sharegpt          LLaMA-Factory ShareGPT SFT        (from SFT rows)
    ///   llamafactory-dpo  LLaMA-Factory pairwise, multi-turn (from preference pairs)
    ///   llamafactory-kto  LLaMA-Factory KTO                 (from KTO samples)
    ///   trl-dpo           TRL prompt/chosen/rejected        (from preference pairs)
    ///   trl-kto           TRL prompt/completion/label       (from KTO samples)
    /// With --reverse, reads the format and writes native rows.
    /// Build SFT rows, preference pairs and KTO samples from judged rollouts.
    Build(BuildArgs),
    #[command(verbatim_doc_comment)]
    Export {
        /// The target format.
        #[arg(long, value_parser = parse_format)]
        format: ExportFormat,
        /// Native JSONL rows (or, with --reverse, rows in FORMAT).
        #[arg(long)]
        input: PathBuf,
        /// Where to write JSON Lines (atomically).
        #[arg(long)]
        output: PathBuf,
        /// Convert from FORMAT back to native rows.
        #[arg(long)]
        reverse: bool,
    },
}

/// `entropo data build`: rollouts → training sets.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Writes sft.jsonl (resolved trajectories), pairs.jsonl (resolved vs unresolved of the same
task) and kto.jsonl (every judged trajectory, labelled by the tests), plus copies in
ShareGPT, LLaMA-Factory and TRL formats, all read by `entropo train` and by other tools.

Example:
  entropo data build --rollouts runs/q/rollouts/teacher --rollouts runs/q/rollouts/student --out runs/q/data")]
pub struct BuildArgs {
    /// A rollout folder (with index.jsonl); repeat to pool several.
    #[arg(long = "rollouts", value_name = "DIR", required = true)]
    rollouts: Vec<PathBuf>,
    /// Where the files go.
    #[arg(long)]
    out: PathBuf,
    /// Preference pairs per task at most (0 = every combination).
    #[arg(long, default_value_t = BuildOptions::default().max_pairs_per_task)]
    max_pairs_per_task: usize,
    /// Also use resolved trajectories that ran out of budget for SFT rows and
    /// chosen sides (by default only those that called finish).
    #[arg(long)]
    allow_unfinished: bool,
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// SWE-bench, SWE-bench Lite or Verified rows (JSONL or a JSON array with
    /// instance_id, repo, base_commit, patch, test_patch, problem_statement,
    /// FAIL_TO_PASS, PASS_TO_PASS). A row missing a field is an error naming
    /// its instance_id and the field.
    Swebench {
        /// The rows to import.
        file: PathBuf,
        /// Where to write the tasks (JSONL).
        #[arg(long)]
        out: PathBuf,
    },
}

fn parse_format(text: &str) -> Result<ExportFormat, String> {
    text.parse().map_err(|e: entropo_core::formats::FormatError| e.to_string())
}

impl DataCommand {
    pub fn run(self) -> anyhow::Result<()> {
        match self {
            DataCommand::Import(ImportCommand::Swebench { file, out }) => {
                let tasks = swebench::read_tasks(&file)?;
                swebench::write_tasks(&out, &tasks)?;
                let tests: usize = tasks.iter().map(|t| t.fail_to_pass.len() + t.pass_to_pass.len()).sum();
                println!(
                    "imported {} tasks ({} tests) from {} to {}",
                    tasks.len(),
                    tests,
                    file.display(),
                    out.display()
                );
                Ok(())
            }
            DataCommand::Suite { seed, train, test, out } => {
                let suite = entropo_suite::generate(&SuiteConfig { seed, train, test }, &out)?;
                println!(
                    "generated {} train and {} held-out tasks (seed {seed}): {} and {}",
                    suite.train.len(),
                    suite.test.len(),
                    out.join("train.jsonl").display(),
                    out.join("test.jsonl").display()
                );
                Ok(())
            }
            DataCommand::Build(args) => {
                let options =
                    BuildOptions { max_pairs_per_task: args.max_pairs_per_task, sft_requires_finish: !args.allow_unfinished };
                let (judged, skipped) = datasets::load_judged(&args.rollouts)?;
                let sets = datasets::build(&judged, &options);
                let paths = datasets::write(&sets, &args.out)?;
                println!(
                    "{} judged trajectories{} → {} SFT rows, {} pairs, {} KTO samples ({} desirable) in {}",
                    judged.len(),
                    if skipped > 0 { format!(" ({skipped} unjudged left out)") } else { String::new() },
                    sets.sft.len(),
                    sets.pairs.len(),
                    sets.kto.len(),
                    sets.kto.iter().filter(|k| k.label).count(),
                    paths[0].parent().unwrap_or(&args.out).display()
                );
                Ok(())
            }
            DataCommand::Export { format, input, output, reverse } => {
                let (rows, what) = if reverse {
                    (import_file(format, &input, &output)?, format!("{format} rows to native rows"))
                } else {
                    (export_file(format, &input, &output)?, format!("native rows to {format}"))
                };
                println!("converted {rows} {what}: {}", output.display());
                Ok(())
            }
        }
    }
}
