use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use entropo_core::Loss;
use entropo_core::config::parse_assignment;
use entropo_core::loss::LossBatch;
use entropo_core::registry::Params;

use super::PluginPaths;

#[derive(Debug, Subcommand)]
pub enum LossCommand {
    /// Compute a loss plugin on a batch and print one JSON object
    /// `{"loss": …, "grads": …, "metrics": {…}}`; `grads` mirrors the
    /// batch, giving d loss / d logp for every chosen, rejected and sample
    /// entry.
    ///
    /// The batch (JSON Schema: `entropo loss schema`):
    /// {"pairs":[{"chosen":{"logp":-12.0,"ref_logp":-12.5,"tokens":40},"rejected":{…}}],
    ///  "samples":[{"label":true,"logp":-9.0,"ref_logp":-9.2,"tokens":30}],
    ///  "kl":[{"logp":-20.0,"ref_logp":-19.0}]}
    #[command(verbatim_doc_comment)]
    Eval {
        /// The loss plugin's name (`entropo plugins list` shows them).
        #[arg(long)]
        plugin: String,
        /// A parameter of the plugin (`--param beta=0.1`, repeatable).
        #[arg(long = "param", value_name = "KEY=VALUE")]
        params: Vec<String>,
        /// The batch as JSON; `-` reads standard input.
        #[arg(long)]
        input: PathBuf,
        #[command(flatten)]
        plugins: PluginPaths,
    },
    /// Print the JSON Schema of the batch `loss eval` reads.
    Schema,
}

impl LossCommand {
    pub fn run(self) -> anyhow::Result<()> {
        match self {
            LossCommand::Schema => {
                let schema = schemars::schema_for!(LossBatch);
                println!("{}", serde_json::to_string_pretty(&schema)?);
                Ok(())
            }
            LossCommand::Eval { plugin, params, input, plugins } => {
                let registry = plugins.registry(&[])?;
                let loss = registry.create::<dyn Loss>(&plugin, &to_params(&params)?)?;
                let batch = read_batch(&input)?;
                let out = loss
                    .compute(&batch)
                    .with_context(|| format!("{}: loss `{plugin}`", input.display()))?;
                println!("{}", serde_json::to_string(&out)?);
                Ok(())
            }
        }
    }
}

/// `key=value` arguments as plugin parameters.
fn to_params(args: &[String]) -> anyhow::Result<Params> {
    let mut params = Params::new();
    for arg in args {
        let (key, value) = parse_assignment(arg)?;
        params.insert(key, serde_json::to_value(value)?);
    }
    Ok(params)
}

/// Reads a batch, naming the file and the entry on error
/// (`batch.json: pairs[0].chosen: missing field `logp``).
fn read_batch(path: &PathBuf) -> anyhow::Result<LossBatch> {
    let text = if path.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).context("reading standard input")?;
        s
    } else {
        std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?
    };
    let mut de = serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let entry = e.path().to_string();
        anyhow::anyhow!("{}: {entry}: {}", path.display(), e.into_inner())
    })
}
