use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Who speaks in a chat turn (OpenAI naming).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The scaffold's instructions.
    System,
    /// The issue text and, in the R2E scaffold, tool observations.
    User,
    /// The model: thought plus one tool call.
    Assistant,
    /// A tool result, for scaffolds that use a separate role for it.
    Tool,
}

/// One chat message.
///
/// ```
/// use entropo_core::types::{Message, Role};
/// let m = Message::new(Role::User, "fix the bug");
/// assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"role":"user","content":"fix the bug"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Message {
    /// The speaker.
    pub role: Role,
    /// The text.
    pub content: String,
}

impl Message {
    /// A message from `role` saying `content`.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Message { role, content: content.into() }
    }
}
