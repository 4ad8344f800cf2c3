use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use entropo_core::Environment;
use entropo_core::agent::{openai_tools, parse_reply};
use entropo_core::environment::ToolSpec;
use entropo_envs::{LocalEnv, LocalParams};

/// Run the agent's tools by hand, or print their schemas.
#[derive(Debug, Subcommand)]
pub enum ToolCommand {
    /// Execute ONE function call read from standard input on a folder and
    /// print the observation exactly as the agent would see it.
    ///
    /// The call is in the R2E format (`<function=NAME>`,
    /// `<parameter=P>value</parameter>`, `</function>`) or OpenAI-style JSON
    /// (`{"name": …, "arguments": {…}}`, bare, fenced or in `<tool_call>`
    /// tags), read by the agent's own parser: text before the call is the
    /// thought and is ignored, a malformed call prints the error observation
    /// the agent would get (exit status 0), and only the first of several
    /// calls runs.
    ///
    /// The folder is used in place, not copied: edits persist between
    /// calls, and so does file_editor's undo history, kept in the folder's
    /// hidden `.entropo/` subfolder. When run as root, bash runs as the
    /// folder's owner (or uid 65534 when root owns it).
    #[command(after_help = "Examples:
  printf '<function=file_editor>\\n<parameter=command>view</parameter>\\n<parameter=path>/testbed</parameter>\\n</function>' \\
    | entropo tool call --workspace ./repo
  echo '{\"name\": \"search\", \"arguments\": {\"search_term\": \"def add\"}}' | entropo tool call --workspace ./repo
  entropo tool call --workspace ./repo --mount-at /app --timeout-secs 30 < call.txt")]
    Call(CallArgs),
    /// Print the tools' schemas: a table, entropo's ToolSpec JSON, or the
    /// OpenAI `tools` array for function-calling APIs.
    #[command(after_help = "Examples:
  entropo tool list
  entropo tool list --openai > tools.json")]
    List(ListArgs),
}

/// The environments whose tools can run by hand.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum EnvName {
    /// R2E tools as WASM modules, bash in bubblewrap.
    Local,
}

#[derive(Debug, Args)]
pub struct CallArgs {
    /// The environment whose tools run the call.
    #[arg(long, value_enum, default_value = "local")]
    env: EnvName,
    /// The folder the tools work on (the repository).
    #[arg(long, value_name = "DIR")]
    workspace: PathBuf,
    /// Where the folder appears to the tools.
    #[arg(long, value_name = "PATH", default_value = "/testbed")]
    mount_at: String,
    /// Wall-clock limit of the call, seconds.
    #[arg(long, value_name = "N", default_value_t = 90)]
    timeout_secs: u64,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// The environment whose tools to list (built in or `entropo plugins list`).
    #[arg(long, default_value = "local")]
    env: String,
    /// entropo's tool specs as JSON.
    #[arg(long, conflicts_with = "openai")]
    json: bool,
    /// The OpenAI chat-completions `tools` array.
    #[arg(long)]
    openai: bool,
}

impl ToolCommand {
    pub fn run(self) -> anyhow::Result<()> {
        match self {
            ToolCommand::Call(a) => a.run(),
            ToolCommand::List(a) => a.run(),
        }
    }
}

impl CallArgs {
    fn run(self) -> anyhow::Result<()> {
        let EnvName::Local = self.env;
        let workspace =
            self.workspace.canonicalize().with_context(|| format!("--workspace {}", self.workspace.display()))?;
        anyhow::ensure!(workspace.is_dir(), "--workspace {}: not a folder", self.workspace.display());
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).context("cannot read the function call from standard input")?;

        let owner = std::fs::metadata(&workspace)?.uid();
        let mut params = LocalParams {
            mount_at: Some(self.mount_at),
            step_timeout_secs: self.timeout_secs,
            ..LocalParams::default()
        };
        if owner != 0 {
            params.sandbox_uid = owner;
        }
        let env = LocalEnv::new(params)?;
        let tools = env.tools();
        let reply = parse_reply(&text, &tools);
        let result = reply.observe(&tools, |call| env.step_in_place(&workspace, call))?;
        let mut out = result.observation;
        if !out.ends_with('\n') {
            out.push('\n');
        }
        print!("{out}");
        Ok(())
    }
}

impl ListArgs {
    fn run(self) -> anyhow::Result<()> {
        let registry = entropo::builtin_registry()?;
        let env = registry.create::<dyn Environment>(&self.env, &Default::default())?;
        let tools = env.tools();
        if self.openai {
            println!("{}", serde_json::to_string_pretty(&openai_tools(&tools))?);
        } else if self.json {
            println!("{}", serde_json::to_string_pretty(&tools)?);
        } else {
            print!("{}", table(&tools));
        }
        Ok(())
    }
}

/// Each tool's first description line, then its parameters.
fn table(tools: &[ToolSpec]) -> String {
    let mut out = String::new();
    for t in tools {
        out.push_str(&format!("{}  {}\n", t.name, t.description.lines().next().unwrap_or_default()));
        for p in &t.params {
            let need = if p.required { "required" } else { "optional" };
            out.push_str(&format!("  {:<12} {:<8} {need}", p.name, p.kind));
            if !p.allowed.is_empty() {
                out.push_str(&format!("  [{}]", p.allowed.join(", ")));
            }
            out.push('\n');
        }
    }
    out
}
