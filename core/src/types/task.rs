use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One issue to resolve in one repository, with the tests that judge it.
///
/// Serialised as one JSON object per line in `tasks.jsonl`.
///
/// ```
/// use entropo_core::types::Task;
/// let t: Task = serde_json::from_str(r#"{
///   "instance_id": "demo__calc-1", "repo": "demo/calc",
///   "problem_statement": "add() subtracts",
///   "fail_to_pass": ["tests.test_calc.TestAdd.test_add"], "pass_to_pass": []
/// }"#).unwrap();
/// assert_eq!(t.mount_at, "/testbed");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Task {
    /// Unique id, e.g. `astropy__astropy-12907`.
    pub instance_id: String,
    /// `owner/name` of the repository.
    pub repo: String,
    /// Commit the workspace starts from (SWE-bench tasks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_commit: Option<String>,
    /// The issue text shown to the agent.
    pub problem_statement: String,
    /// A local directory holding the repository at its base state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<PathBuf>,
    /// A container image holding the repository (Docker environments).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Where the repository appears to the agent's tools.
    #[serde(default = "default_mount")]
    pub mount_at: String,
    /// Tests that fail before the fix and must pass after it.
    pub fail_to_pass: Vec<String>,
    /// Tests that pass before the fix and must keep passing.
    pub pass_to_pass: Vec<String>,
    /// The reference fix, when known (never shown to the agent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch: Option<String>,
    /// Test changes applied before judging (SWE-bench).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_patch: Option<String>,
    /// The command that runs the tests, when not derived from the repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_command: Option<String>,
}

fn default_mount() -> String {
    "/testbed".to_string()
}
