use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Why an episode ended (R2E-Gym's names; `llm_error` is entropo's own).
///
/// ```
/// use entropo_core::types::ExitReason;
/// for r in ExitReason::ALL {
///     let json = serde_json::to_string(&r).unwrap();
///     assert_eq!(json, format!("\"{}\"", r.as_str()));
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExitReason {
    /// The agent called `finish`.
    Agent,
    /// The step budget ran out.
    MaxStepLimit,
    /// The token budget ran out.
    TokenLimit,
    /// The wall-clock budget ran out.
    TrajTimeLimit,
    /// The policy failed to answer (endpoint down, garbage response…).
    LlmError,
    /// R2E-Gym: the agent's own step budget ran out.
    AgentMaxStepLimit,
    /// R2E-Gym: the absolute step budget ran out.
    AbsStepLimit,
}

impl ExitReason {
    /// Every exit reason, in a stable order.
    pub const ALL: [ExitReason; 7] = [
        ExitReason::Agent,
        ExitReason::MaxStepLimit,
        ExitReason::TokenLimit,
        ExitReason::TrajTimeLimit,
        ExitReason::LlmError,
        ExitReason::AgentMaxStepLimit,
        ExitReason::AbsStepLimit,
    ];

    /// The snake_case name used in files (`max_step_limit`).
    ///
    /// ```
    /// use entropo_core::types::ExitReason;
    /// assert_eq!(ExitReason::TrajTimeLimit.as_str(), "traj_time_limit");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            ExitReason::Agent => "agent",
            ExitReason::MaxStepLimit => "max_step_limit",
            ExitReason::TokenLimit => "token_limit",
            ExitReason::TrajTimeLimit => "traj_time_limit",
            ExitReason::LlmError => "llm_error",
            ExitReason::AgentMaxStepLimit => "agent_max_step_limit",
            ExitReason::AbsStepLimit => "abs_step_limit",
        }
    }

    /// Whether the episode was cut short instead of finished by the agent.
    pub fn is_truncated(self) -> bool {
        self != ExitReason::Agent
    }
}

impl fmt::Display for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One turn of an episode: the model's thought and tool call, and what the
/// environment answered. Field names follow R2E-Gym's `TrajectoryStep`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Step {
    /// 0-based index of the step.
    pub step_idx: u32,
    /// Free text before the call.
    #[serde(default)]
    pub thought: String,
    /// The tool call exactly as the model wrote it.
    #[serde(default)]
    pub action: String,
    /// What the environment answered.
    #[serde(default)]
    pub observation: String,
    /// Whether this step ended the episode.
    #[serde(default)]
    pub done: bool,
    /// Seconds the policy took.
    #[serde(default)]
    pub llm_exec_time: f64,
    /// Seconds the environment took.
    #[serde(default)]
    pub env_exec_time: f64,
    /// Seconds for the whole step.
    #[serde(default)]
    pub total_step_time: f64,
    /// Seconds since the episode started, at the end of this step.
    #[serde(default)]
    pub total_time_traj: f64,
    /// Prompt tokens the policy read for this step.
    #[serde(default)]
    pub token_usage_prompt: u64,
    /// Tokens the policy wrote for this step.
    #[serde(default)]
    pub token_usage_completion: u64,
    /// Prompt plus completion tokens.
    #[serde(default)]
    pub token_usage_total: u64,
    /// Fields from other scaffolds (R2E-Gym's `info` and `step_count`), kept
    /// verbatim.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// A whole episode, readable and writable as R2E-Gym trajectory JSON.
///
/// Fields entropo does not know are kept in `extra` and written back, so a
/// trajectory from another scaffold survives a round trip.
///
/// ```
/// use entropo_core::types::{ExitReason, Trajectory};
/// let t: Trajectory = serde_json::from_str(r#"{
///   "problem_statement": "x", "trajectory_steps": [], "exit_reason": "agent",
///   "output_patch": "", "reward": 1.0, "agent_args": {"llm_name": "m"}
/// }"#).unwrap();
/// assert_eq!(t.exit_reason, Some(ExitReason::Agent));
/// assert!(t.extra.contains_key("agent_args"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Trajectory {
    /// The task this episode worked on (entropo's addition; optional in R2E files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    /// The issue text.
    #[serde(default)]
    pub problem_statement: String,
    /// The container image the episode ran in, if any.
    #[serde(default)]
    pub docker_image: String,
    /// The steps, in order.
    #[serde(default, alias = "history")]
    pub trajectory_steps: Vec<Step>,
    /// Why the episode ended; `None` while it is still running.
    #[serde(default)]
    pub exit_reason: Option<ExitReason>,
    /// `git diff` of the workspace against its base at the end.
    #[serde(default)]
    pub output_patch: String,
    /// 1.0 iff every FAIL_TO_PASS and PASS_TO_PASS test passes.
    #[serde(default)]
    pub reward: Option<f64>,
    /// Output of the test run that set `reward` (R2E-Gym writes `null` when
    /// no test ran; read as empty).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub test_output: String,
    /// Output of the regression (PASS_TO_PASS) run (`null` read as empty).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub regression_test_output: String,
    /// Whether the regression tests kept passing; `None` when not run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regression_passed: Option<bool>,
    /// The verifier's p(YES); `None` until scored.
    #[serde(default)]
    pub verifier_prob: Option<f64>,
    /// Fields from other scaffolds, kept verbatim.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Trajectory {
    /// Number of environment interactions.
    pub fn steps(&self) -> usize {
        self.trajectory_steps.len()
    }

    /// Tokens used over the episode (prompt + completion of every step).
    pub fn total_tokens(&self) -> u64 {
        self.trajectory_steps.iter().map(|s| s.token_usage_total).sum()
    }

    /// Whether the tests judged the episode a success.
    pub fn resolved(&self) -> bool {
        self.reward.is_some_and(|r| r >= 1.0)
    }
}

/// Reads a string that R2E-Gym may write as `null` (its `Optional[str]`).
fn null_as_empty<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.unwrap_or_default())
}
