//! The [`Environment`] trait: a sandboxed repository an agent acts on.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::types::Task;

/// One parameter of a tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ToolParam {
    /// Parameter name (`path`, `cmd`…).
    pub name: String,
    /// JSON type: `string`, `integer`, `array`, `boolean`.
    #[serde(rename = "type")]
    pub kind: String,
    /// What the parameter means.
    pub description: String,
    /// Whether a call must give it.
    pub required: bool,
    /// Allowed values, when restricted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed: Vec<String>,
}

/// A tool an environment offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ToolSpec {
    /// Tool name as the model calls it (`file_editor`).
    pub name: String,
    /// What the tool does, as shown in the system prompt.
    pub description: String,
    /// Its parameters.
    pub params: Vec<ToolParam>,
}

/// A parsed tool call: the tool's name and its parameters as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ToolCall {
    /// The tool.
    pub name: String,
    /// Parameter values, exactly as the call gave them.
    pub params: BTreeMap<String, String>,
}

/// What a step returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StepResult {
    /// The observation shown to the model.
    pub observation: String,
    /// Whether the episode is over (`finish` was called).
    pub done: bool,
}

/// Outcome of one test id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TestStatus {
    /// The test passed.
    Passed,
    /// The test failed or errored.
    Failed,
    /// The runner never reported the test.
    Missing,
}

/// The judgement of a finished episode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TestReport {
    /// Status of every FAIL_TO_PASS test.
    pub fail_to_pass: BTreeMap<String, TestStatus>,
    /// Status of every PASS_TO_PASS test.
    pub pass_to_pass: BTreeMap<String, TestStatus>,
    /// The runner's raw output.
    pub output: String,
}

impl TestReport {
    /// 1.0 iff every FAIL_TO_PASS and PASS_TO_PASS test passed.
    ///
    /// ```
    /// use entropo_core::environment::{TestReport, TestStatus};
    /// let mut r = TestReport { fail_to_pass: [("a".to_string(), TestStatus::Passed)].into(), pass_to_pass: Default::default(), output: String::new() };
    /// assert_eq!(r.reward(), 1.0);
    /// r.pass_to_pass.insert("b".into(), TestStatus::Missing);
    /// assert_eq!(r.reward(), 0.0);
    /// assert!(!r.regression_passed());
    /// ```
    pub fn reward(&self) -> f64 {
        let all = self.fail_to_pass.values().chain(self.pass_to_pass.values());
        if all.clone().all(|s| *s == TestStatus::Passed) { 1.0 } else { 0.0 }
    }

    /// Whether every PASS_TO_PASS test still passes.
    pub fn regression_passed(&self) -> bool {
        self.pass_to_pass.values().all(|s| *s == TestStatus::Passed)
    }
}

/// Why an environment operation failed (as opposed to a tool error, which is
/// an observation the model sees).
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    /// The task cannot run here (no workspace, missing image…).
    #[error("task {task}: {reason}")]
    Task {
        /// The task id.
        task: String,
        /// What is wrong.
        reason: String,
    },
    /// The sandbox itself failed.
    #[error("sandbox: {0}")]
    Sandbox(String),
    /// An I/O error.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// A repository sandbox an agent works in.
///
/// Tool errors (bad arguments, unknown tool) are not `Err`: they come back as
/// an observation the model can learn from. `Err` means the environment
/// itself broke.
///
/// ```
/// use entropo_core::environment::*;
/// use entropo_core::types::Task;
///
/// /// An environment whose only tool ends the episode.
/// struct Trivial;
/// impl Environment for Trivial {
///     fn tools(&self) -> Vec<ToolSpec> {
///         vec![ToolSpec { name: "finish".into(), description: "end".into(), params: vec![] }]
///     }
///     fn reset(&mut self, _task: &Task) -> Result<(), EnvError> { Ok(()) }
///     fn step(&mut self, call: &ToolCall) -> Result<StepResult, EnvError> {
///         let done = call.name == "finish";
///         let observation = if done { "<<<Finished>>>".into() } else { format!("unknown tool {}", call.name) };
///         Ok(StepResult { observation, done })
///     }
///     fn patch(&mut self) -> Result<String, EnvError> { Ok(String::new()) }
///     fn run_tests(&mut self) -> Result<TestReport, EnvError> {
///         Ok(TestReport { fail_to_pass: Default::default(), pass_to_pass: Default::default(), output: String::new() })
///     }
/// }
/// let call = ToolCall { name: "finish".into(), params: Default::default() };
/// assert!(Trivial.step(&call).unwrap().done);
/// ```
pub trait Environment: Send {
    /// The tools this environment offers.
    fn tools(&self) -> Vec<ToolSpec>;
    /// Prepares a fresh workspace for `task`.
    fn reset(&mut self, task: &Task) -> Result<(), EnvError>;
    /// Executes one tool call.
    fn step(&mut self, call: &ToolCall) -> Result<StepResult, EnvError>;
    /// The workspace's diff against its base.
    fn patch(&mut self) -> Result<String, EnvError>;
    /// Runs the task's tests on the current workspace.
    fn run_tests(&mut self) -> Result<TestReport, EnvError>;
}
