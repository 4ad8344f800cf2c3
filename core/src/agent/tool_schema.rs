//! Tool specs as OpenAI function-calling schemas.

use serde_json::{Map, Value, json};

use crate::environment::ToolSpec;

/// The `tools` array of an OpenAI chat-completions request: one
/// `{"type": "function", "function": {name, description, parameters}}` per
/// tool, its parameters a JSON Schema object with `enum` for restricted
/// values and `required` listing the required ones.
///
/// ```
/// use entropo_core::agent::openai_tools;
/// use entropo_core::environment::{ToolParam, ToolSpec};
/// let tools = [ToolSpec { name: "finish".into(), description: "Finish.".into(), params: vec![
///     ToolParam { name: "command".into(), kind: "string".into(), description: "The command.".into(), required: true, allowed: vec!["submit".into()] },
/// ] }];
/// let v = openai_tools(&tools);
/// assert_eq!(v[0]["function"]["parameters"]["properties"]["command"]["enum"][0], "submit");
/// assert_eq!(v[0]["function"]["parameters"]["required"][0], "command");
/// ```
pub fn openai_tools(tools: &[ToolSpec]) -> Vec<Value> {
    tools
        .iter()
        .map(|t| {
            let mut properties = Map::new();
            for p in &t.params {
                let mut prop = json!({ "type": p.kind, "description": p.description });
                if !p.allowed.is_empty() {
                    prop["enum"] = json!(p.allowed);
                }
                properties.insert(p.name.clone(), prop);
            }
            let required: Vec<&str> = t.params.iter().filter(|p| p.required).map(|p| p.name.as_str()).collect();
            json!({
                "type": "function",
                "function": {
                    "name": t.name,
                    "description": t.description,
                    "parameters": { "type": "object", "properties": properties, "required": required },
                },
            })
        })
        .collect()
}
