//! The chat a trajectory's policy saw, rebuilt from the trajectory file, so
//! that rollouts become training data exactly as the model read them.

use crate::agent::Limits;
use crate::types::{Message, Role, Trajectory};

/// The assistant message of one step: the thought, a blank line, the call
/// (either part may be empty). The agent loop sends exactly this text back
/// to the model, so training data rebuilt from a trajectory matches it.
///
/// ```
/// use entropo_core::agent::assistant_text;
/// assert_eq!(assistant_text("Look first.", "<function=finish>\n</function>"), "Look first.\n\n<function=finish>\n</function>");
/// assert_eq!(assistant_text("", "call"), "call");
/// assert_eq!(assistant_text("only words", ""), "only words");
/// ```
pub fn assistant_text(thought: &str, action: &str) -> String {
    match (thought.is_empty(), action.is_empty()) {
        (_, true) => thought.to_string(),
        (true, false) => action.to_string(),
        (false, false) => format!("{thought}\n\n{action}"),
    }
}

/// The conversation of a finished episode as [`run_episode`](crate::agent::run_episode)
/// held it: the system prompt, the issue, then each step's reply and
/// observation, with the `Steps Remaining` line appended to every message
/// the model answered. `None` when the trajectory lacks its prompts
/// (`agent_args` in its extra fields), as files from other scaffolds may.
///
/// ```
/// use entropo_core::agent::conversation;
/// use entropo_core::types::{Role, Step, Trajectory};
/// let mut t = Trajectory::default();
/// t.extra.insert("agent_args".into(), serde_json::json!({"system_prompt": "S", "instance_prompt": "U"}));
/// t.extra.insert("max_steps".into(), serde_json::json!(3));
/// t.trajectory_steps.push(Step { thought: "hm".into(), action: "A".into(), observation: "O".into(), ..Default::default() });
/// let chat = conversation(&t).unwrap();
/// let roles: Vec<Role> = chat.iter().map(|m| m.role).collect();
/// assert_eq!(roles, [Role::System, Role::User, Role::Assistant, Role::User]);
/// assert_eq!(chat[1].content, "U\nSteps Remaining: 3");
/// assert_eq!(chat[2].content, "hm\n\nA");
/// assert_eq!(chat[3].content, "O");
/// ```
pub fn conversation(traj: &Trajectory) -> Option<Vec<Message>> {
    let args = traj.extra.get("agent_args")?;
    let system = args.get("system_prompt")?.as_str()?;
    let user = args.get("instance_prompt")?.as_str()?;
    let limits = Limits {
        max_steps: traj.extra.get("max_steps").and_then(|v| v.as_u64()).map_or(Limits::default().max_steps, |v| v as u32),
        ..Limits::default()
    };
    let mut messages = vec![Message::new(Role::System, system), Message::new(Role::User, user)];
    for (i, step) in traj.trajectory_steps.iter().enumerate() {
        if let Some(last) = messages.last_mut() {
            last.content.push('\n');
            last.content.push_str(&limits.steps_remaining_text(i as u32));
        }
        messages.push(Message::new(Role::Assistant, assistant_text(&step.thought, &step.action)));
        messages.push(Message::new(Role::User, step.observation.clone()));
    }
    // The last observation was never answered: it carries no step line.
    Some(messages)
}
