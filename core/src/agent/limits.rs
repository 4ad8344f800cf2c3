//! Episode budgets and the step-count line the model reads.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What the model is told on its last allowed step (R2E-Gym's text).
pub const FINAL_STEP_MESSAGE: &str = "You have reached the maximum number of steps. Please submit your answer NOW.";

/// Budgets of one episode. Each is checked after a step, in R2E-Gym's order:
/// `finish` called (exit `agent`), then tokens (`token_limit`), steps
/// (`max_step_limit`) and wall time (`traj_time_limit`).
///
/// ```
/// use entropo_core::agent::Limits;
/// let l: Limits = serde_json::from_str(r#"{"max_steps": 40, "max_time_secs": 1200}"#).unwrap();
/// assert_eq!((l.max_steps, l.max_tokens), (40, 131_072));
/// assert!(serde_json::from_str::<Limits>(r#"{"max_step": 40}"#).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Steps (policy call plus tool call) an episode may take (paper: 200).
    #[serde(default = "default_max_steps")]
    pub max_steps: u32,
    /// Largest context one policy call may fill, prompt plus completion
    /// tokens (paper: 131 072). As in R2E-Gym, the prompt already holds the
    /// whole conversation, so this bounds the episode's length in tokens.
    #[serde(default = "default_max_tokens")]
    pub max_tokens: u64,
    /// Wall-clock seconds an episode may run; no limit when absent.
    #[serde(default)]
    pub max_time_secs: Option<f64>,
}

fn default_max_steps() -> u32 {
    200
}

fn default_max_tokens() -> u64 {
    131_072
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_steps: default_max_steps(), max_tokens: default_max_tokens(), max_time_secs: None }
    }
}

impl Limits {
    /// The line added to the user message before step `step_idx` (0-based):
    /// `Steps Remaining: N` counting this step, and on the last allowed step
    /// [`FINAL_STEP_MESSAGE`].
    ///
    /// ```
    /// use entropo_core::agent::{FINAL_STEP_MESSAGE, Limits};
    /// let l = Limits { max_steps: 3, ..Limits::default() };
    /// assert_eq!(l.steps_remaining_text(0), "Steps Remaining: 3");
    /// assert_eq!(l.steps_remaining_text(1), "Steps Remaining: 2");
    /// assert_eq!(l.steps_remaining_text(2), FINAL_STEP_MESSAGE);
    /// ```
    pub fn steps_remaining_text(&self, step_idx: u32) -> String {
        let remaining = self.max_steps.saturating_sub(step_idx);
        if remaining > 1 { format!("Steps Remaining: {remaining}") } else { FINAL_STEP_MESSAGE.to_string() }
    }
}
