use clap::Subcommand;

use super::PluginPaths;

#[derive(Debug, Subcommand)]
pub enum PluginsCommand {
    /// List every plugin: kind, name, origin (builtin or the library it came
    /// from) and what it does.
    List {
        #[command(flatten)]
        plugins: PluginPaths,
        /// Print JSON (one object per plugin, with its parameter schema).
        #[arg(long)]
        json: bool,
    },
}

impl PluginsCommand {
    pub fn run(self) -> anyhow::Result<()> {
        let PluginsCommand::List { plugins, json } = self;
        let registry = plugins.registry(&[])?;
        let infos: Vec<_> = registry.infos().collect();
        if json {
            println!("{}", serde_json::to_string_pretty(&infos)?);
            return Ok(());
        }
        let name_w = infos.iter().map(|i| i.name.len()).max().unwrap_or(4).max(4);
        let desc_w = infos.iter().map(|i| i.description.len()).max().unwrap_or(11).max(11);
        println!("{:<11} {:<name_w$} {:<desc_w$} ORIGIN", "KIND", "NAME", "DESCRIPTION");
        for i in &infos {
            println!("{:<11} {:<name_w$} {:<desc_w$} {}", i.kind.as_str(), i.name, i.description, i.origin);
        }
        Ok(())
    }
}
