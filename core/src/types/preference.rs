use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Message;

/// A supervised example: a whole conversation whose assistant turns are the
/// learning target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SftSample {
    /// The task the conversation solved.
    pub task_id: String,
    /// System, user (issue), then alternating assistant / observation turns.
    pub messages: Vec<Message>,
}

/// Two trajectories of the same task, `chosen` preferred (resolved over
/// unresolved). `prompt` is the shared opening (system prompt and issue);
/// `chosen` and `rejected` are the multi-turn continuations.
///
/// ```
/// use entropo_core::types::{Message, PreferencePair, Role};
/// let p = PreferencePair {
///     task_id: "t".into(),
///     prompt: vec![Message::new(Role::User, "issue")],
///     chosen: vec![Message::new(Role::Assistant, "fix")],
///     rejected: vec![Message::new(Role::Assistant, "give up")],
/// };
/// let back: PreferencePair = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
/// assert_eq!(back, p);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferencePair {
    /// The task both trajectories worked on.
    pub task_id: String,
    /// Shared opening messages.
    pub prompt: Vec<Message>,
    /// The preferred continuation.
    pub chosen: Vec<Message>,
    /// The dispreferred continuation.
    pub rejected: Vec<Message>,
}

/// One trajectory labelled desirable or undesirable (KTO).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KtoSample {
    /// The task the trajectory worked on.
    pub task_id: String,
    /// Shared opening messages.
    pub prompt: Vec<Message>,
    /// The multi-turn continuation.
    pub completion: Vec<Message>,
    /// `true` for desirable (resolved).
    pub label: bool,
}
