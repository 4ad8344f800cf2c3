//! The scaffold's prompts: a TOML template file with a `system` and a `user`
//! prompt, filled by plain substitution of `{tools}`,
//! `{problem_statement}` and `{working_dir}`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::environment::ToolSpec;

/// Why a prompt template could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    /// The file could not be read.
    #[error("{file}: cannot read the prompt template: {source}")]
    Read {
        /// The file.
        file: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid template (bad TOML, unknown or missing key).
    #[error("{file}: {message}")]
    Parse {
        /// The file.
        file: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A prompt lacks a placeholder it must have.
    #[error("{file}: `{key}` must contain the placeholder {placeholder}")]
    MissingPlaceholder {
        /// The file.
        file: PathBuf,
        /// `system` or `user`.
        key: &'static str,
        /// The placeholder, braces included.
        placeholder: &'static str,
    },
}

/// The system prompt and the user prompt that wraps the issue.
///
/// Placeholders, replaced in one pass (text substituted in is never
/// scanned again, and other braces are left alone):
/// - `{tools}`: the functions, rendered by [`render_tools`], or
///   `{tool_signatures}`: one line each, by [`render_signatures`]; `system`
///   needs one of the two.
/// - `{problem_statement}`: the issue text; required in `user`.
/// - `{working_dir}`: where the repository is mounted (`/testbed`).
///
/// ```
/// use entropo_core::agent::PromptTemplate;
/// let t = PromptTemplate::parse("system = 'Tools: {tools}'\nuser = 'Fix {problem_statement} in {working_dir}.'", "inline".as_ref()).unwrap();
/// assert_eq!(t.user_prompt("the {tools} bug", "/testbed"), "Fix the {tools} bug in /testbed.");
/// let e = PromptTemplate::parse("system = 'x'\nuser = '{problem_statement}'", "p.toml".as_ref()).unwrap_err();
/// assert_eq!(e.to_string(), "p.toml: `system` must contain the placeholder {tools} or {tool_signatures}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptTemplate {
    /// The system prompt.
    pub system: String,
    /// The first user message.
    pub user: String,
}

impl PromptTemplate {
    /// Reads a template file (`configs/prompts/r2e.toml`); errors name it.
    pub fn load(path: &Path) -> Result<PromptTemplate, PromptError> {
        let text = std::fs::read_to_string(path).map_err(|source| PromptError::Read { file: path.into(), source })?;
        PromptTemplate::parse(&text, path)
    }

    /// Parses template text; `file` is named in errors.
    pub fn parse(text: &str, file: &Path) -> Result<PromptTemplate, PromptError> {
        let t: PromptTemplate = toml::from_str(text).map_err(|e| {
            let message = match e.span() {
                Some(span) => format!("line {}: {}", text[..span.start].matches('\n').count() + 1, e.message()),
                None => e.message().to_string(),
            };
            PromptError::Parse { file: file.into(), message }
        })?;
        let missing = |key, placeholder| PromptError::MissingPlaceholder { file: file.into(), key, placeholder };
        if !t.system.contains("{tools}") && !t.system.contains("{tool_signatures}") {
            return Err(missing("system", "{tools} or {tool_signatures}"));
        }
        if !t.user.contains("{problem_statement}") {
            return Err(missing("user", "{problem_statement}"));
        }
        Ok(t)
    }

    /// The system prompt with `tools` rendered in.
    pub fn system_prompt(&self, tools: &[ToolSpec], working_dir: &str) -> String {
        substitute(
            &self.system,
            &[
                ("tools", &render_tools(tools)),
                ("tool_signatures", &render_signatures(tools)),
                ("working_dir", working_dir),
            ],
        )
    }

    /// The first user message for an issue.
    pub fn user_prompt(&self, problem_statement: &str, working_dir: &str) -> String {
        substitute(&self.user, &[("problem_statement", problem_statement), ("working_dir", working_dir)])
    }
}

/// Replaces each `{name}` of `values` in `template`, in one pass.
fn substitute(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let hit = values.iter().find(|(name, _)| after.strip_prefix(name).is_some_and(|r| r.starts_with('}')));
        match hit {
            Some((name, value)) => {
                out.push_str(value);
                rest = &after[name.len() + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The functions as R2E-Gym's system prompt lists them: for each, a
/// `–– BEGIN FUNCTION #i: name ––` block with the description and the
/// numbered parameters (type, required or optional, allowed values unless
/// the description already names them, description).
///
/// ```
/// use entropo_core::agent::render_tools;
/// use entropo_core::environment::{ToolParam, ToolSpec};
/// let tools = [ToolSpec { name: "finish".into(), description: "Finish the interaction.".into(), params: vec![
///     ToolParam { name: "command".into(), kind: "string".into(), description: "The command.".into(), required: true, allowed: vec!["submit".into()] },
/// ] }];
/// assert_eq!(render_tools(&tools), "–– BEGIN FUNCTION #1: finish ––\nDescription:\nFinish the interaction.\n\nParameters:\n  1.\tcommand (string, required)\nAllowed values: [submit]\nThe command.\n\n–– END FUNCTION #1 ––");
/// ```
pub fn render_tools(tools: &[ToolSpec]) -> String {
    let mut blocks = Vec::with_capacity(tools.len());
    for (i, tool) in tools.iter().enumerate() {
        let n = i + 1;
        let mut b = format!(
            "–– BEGIN FUNCTION #{n}: {} ––\nDescription:\n{}\n\nParameters:\n",
            tool.name,
            tool.description.trim_end()
        );
        if tool.params.is_empty() {
            b.push_str("  (none)\n");
        }
        for (j, p) in tool.params.iter().enumerate() {
            let need = if p.required { "required" } else { "optional" };
            b.push_str(&format!("  {}.\t{} ({}, {need})\n", j + 1, p.name, p.kind));
            if !p.allowed.is_empty() && !p.description.to_lowercase().contains("allowed value") {
                b.push_str(&format!("Allowed values: [{}]\n", p.allowed.join(", ")));
            }
            b.push_str(p.description.trim_end());
            b.push('\n');
        }
        b.push_str(&format!("\n–– END FUNCTION #{n} ––"));
        blocks.push(b);
    }
    blocks.join("\n\n")
}

/// The functions in one line each, `name(param, optional?: a|b)`, for
/// prompts that must stay short (small models, small contexts).
///
/// ```
/// use entropo_core::agent::render_signatures;
/// use entropo_core::environment::{ToolParam, ToolSpec};
/// let p = |name: &str, required, allowed: &[&str]| ToolParam { name: name.into(), kind: "string".into(),
///     description: String::new(), required, allowed: allowed.iter().map(|a| a.to_string()).collect() };
/// let tools = [ToolSpec { name: "finish".into(), description: "Finish.".into(),
///     params: vec![p("command", true, &["submit"]), p("result", false, &[])] }];
/// assert_eq!(render_signatures(&tools), "finish(command: submit, result?)");
/// ```
pub fn render_signatures(tools: &[ToolSpec]) -> String {
    tools
        .iter()
        .map(|tool| {
            let params: Vec<String> = tool
                .params
                .iter()
                .map(|p| {
                    let name = if p.required { p.name.clone() } else { format!("{}?", p.name) };
                    if p.allowed.is_empty() { name } else { format!("{name}: {}", p.allowed.join("|")) }
                })
                .collect();
            format!("{}({})", tool.name, params.join(", "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitution_is_one_pass_and_leaves_other_braces() {
        let out = substitute("a {x} {y} {z} {", &[("x", "{y}"), ("y", "Y")]);
        assert_eq!(out, "a {y} Y {z} {");
    }
}
