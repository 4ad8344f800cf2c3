//! What can be wrong with a function call, and the observation that tells
//! the model.

use crate::environment::ToolSpec;

/// Why a reply's function call cannot be executed. The episode goes on: the
/// model reads [`CallError::observation`] and can correct itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The reply holds no function call at all.
    #[error("Your response contains no function call.")]
    NoCall,
    /// A tag or block was opened and never closed.
    #[error("{0}")]
    Unclosed(String),
    /// A JSON function call could not be read.
    #[error("The JSON function call could not be read: {0}.")]
    BadJson(String),
    /// The call names no function.
    #[error("The function call names no function.")]
    NoName,
    /// The function does not exist.
    #[error("Unknown function '{name}'.")]
    UnknownTool {
        /// The name the call gave.
        name: String,
    },
    /// A parameter is given more than once.
    #[error("Parameter '{param}' is given more than once in the call to '{tool}'.")]
    RepeatedParam {
        /// The function.
        tool: String,
        /// The parameter.
        param: String,
    },
    /// Required parameters are missing.
    #[error("Missing required parameter{} {} for function '{tool}'.", if params.len() > 1 { "s" } else { "" }, quoted(params))]
    MissingParams {
        /// The function.
        tool: String,
        /// The missing parameters, in the function's order.
        params: Vec<String>,
    },
    /// A parameter's value is not one of the values it allows.
    #[error("Invalid value '{value}' for parameter '{param}' of function '{tool}'. Allowed values: [{}].", allowed.join(", "))]
    NotAllowed {
        /// The function.
        tool: String,
        /// The parameter.
        param: String,
        /// The value given.
        value: String,
        /// The values allowed.
        allowed: Vec<String>,
    },
}

fn quoted(names: &[String]) -> String {
    names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ")
}

impl CallError {
    /// The observation the model reads instead of a tool's output: `ERROR:`
    /// and what is wrong, then the expected format. When the function is
    /// known its parameters are listed and the example calls it; otherwise
    /// the available functions are named.
    ///
    /// ```
    /// use entropo_core::agent::CallError;
    /// use entropo_core::environment::{ToolParam, ToolSpec};
    /// let tools = [ToolSpec { name: "execute_bash".into(), description: "Run a command.".into(), params: vec![
    ///     ToolParam { name: "cmd".into(), kind: "string".into(), description: "The command.".into(), required: true, allowed: vec![] },
    /// ] }];
    /// let e = CallError::MissingParams { tool: "execute_bash".into(), params: vec!["cmd".into()] };
    /// let obs = e.observation(&tools);
    /// assert!(obs.starts_with("ERROR: Missing required parameter 'cmd' for function 'execute_bash'.\n"));
    /// assert!(obs.contains("<function=execute_bash>\n<parameter=cmd>"));
    /// ```
    pub fn observation(&self, tools: &[ToolSpec]) -> String {
        let tool_name = match self {
            CallError::RepeatedParam { tool, .. }
            | CallError::MissingParams { tool, .. }
            | CallError::NotAllowed { tool, .. } => Some(tool.as_str()),
            _ => None,
        };
        let mut out = format!("ERROR: {self}\n\n");
        match tool_name.and_then(|n| tools.iter().find(|t| t.name == n)) {
            Some(tool) => {
                out.push_str(&format!("Parameters of '{}':\n", tool.name));
                for p in &tool.params {
                    let need = if p.required { "required" } else { "optional" };
                    out.push_str(&format!("  {} ({}, {need})", p.name, p.kind));
                    if !p.allowed.is_empty() {
                        out.push_str(&format!(", allowed values: [{}]", p.allowed.join(", ")));
                    }
                    out.push('\n');
                }
                out.push_str("\nCall it in this format, with NO suffix:\n");
                out.push_str(&example(tool));
            }
            None => {
                let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
                out.push_str(&format!("Available functions: {}.\n\n", names.join(", ")));
                out.push_str(GENERIC_FORMAT);
            }
        }
        out
    }
}

/// The format reminder when no particular function is concerned.
const GENERIC_FORMAT: &str = "Each response must include your reasoning (as natural text) followed by exactly one function call in this format, with NO suffix:
<function=example_function_name>
<parameter=example_parameter_1>value_1</parameter>
<parameter=example_parameter_2>
This is the value for the second parameter
that can span
multiple lines
</parameter>
</function>";

/// A call of `tool` with its required parameters, in the R2E format.
fn example(tool: &ToolSpec) -> String {
    let mut out = format!("<function={}>\n", tool.name);
    for p in tool.params.iter().filter(|p| p.required) {
        let value = p.allowed.first().map_or("VALUE", String::as_str);
        out.push_str(&format!("<parameter={}>{value}</parameter>\n", p.name));
    }
    out.push_str("</function>");
    out
}
