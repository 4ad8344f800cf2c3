//! [`run_episode`]: one task, one policy, one environment, until the agent
//! finishes or a budget runs out.

use std::path::Path;
use std::time::Instant;

use serde_json::json;

use crate::environment::{EnvError, Environment, TestReport, TestStatus};
use crate::io::{IoError, write_atomic};
use crate::types::{ExitReason, Message, Role, Step, Task, Trajectory};

use super::limits::Limits;
use super::policy::Policy;
use super::prompt::PromptTemplate;
use super::reply::parse_reply;

/// Why an episode could not run to its end. A policy failure is not one of
/// these: it ends the episode normally with exit reason `llm_error`.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The environment broke (not a tool error, which the model sees).
    #[error("task {task}: {stage}: {source}")]
    Env {
        /// The task.
        task: String,
        /// What was being done: `reset`, `step 3`, `patch`, `tests`.
        stage: String,
        /// The environment's error.
        #[source]
        source: EnvError,
    },
    /// The trajectory file could not be written.
    #[error("cannot save the trajectory: {0}")]
    Save(#[from] IoError),
}

/// Runs one episode of the R2E scaffold and returns its trajectory.
///
/// 1. Resets `env` on `task`; the conversation starts with the system
///    prompt (the environment's tools rendered in) and the issue.
/// 2. Each step: the last user message gets `Steps Remaining: N` (on the
///    last allowed step, [`FINAL_STEP_MESSAGE`](super::FINAL_STEP_MESSAGE))
///    on a new line; the policy answers; the reply's first call is executed
///    (or the model is told what is wrong with it); the reply and the
///    observation join the conversation.
/// 3. After each step, in R2E-Gym's order: `finish` called → exit `agent`;
///    the call's prompt plus completion tokens ≥ `max_tokens` →
///    `token_limit`; `max_steps` steps taken → `max_step_limit`; wall time
///    ≥ `max_time_secs` → `traj_time_limit`. A policy error ends the episode
///    with `llm_error` and no step for the failed call (its message is kept
///    as `llm_error_message`).
/// 4. Then the output patch (`env.patch()`) and the tests (`env.run_tests()`):
///    `reward`, `test_output`, `regression_passed`, and the PASS_TO_PASS
///    statuses as `regression_test_output`.
///
/// The trajectory (R2E-Gym JSON) is rewritten atomically at
/// `trajectory_path` when the episode starts, after every step and after
/// each final stage, so a crash keeps every finished step; `exit_reason`
/// stays `null` until the loop ends. The rendered prompts and the limits are
/// recorded as R2E-Gym records them (`agent_args.system_prompt`,
/// `agent_args.instance_prompt`, `max_steps`, `max_token_limit`,
/// `max_total_time`).
///
/// An environment failure (an `Err` from `reset`, `step`, `patch` or
/// `run_tests`) stops the episode with [`AgentError::Env`]; the file keeps
/// what was done until then.
///
/// ```
/// use entropo_core::agent::{Limits, Policy, PolicyError, PromptTemplate, Reply, run_episode};
/// use entropo_core::environment::*;
/// use entropo_core::types::{ExitReason, Message, Task};
///
/// struct Finisher;
/// impl Policy for Finisher {
///     fn respond(&mut self, _: &[Message]) -> Result<Reply, PolicyError> {
///         let text = "All good.\n<function=finish>\n<parameter=command>submit</parameter>\n</function>";
///         Ok(Reply { text: text.into(), prompt_tokens: 100, completion_tokens: 20 })
///     }
/// }
/// struct Env;
/// impl Environment for Env {
///     fn tools(&self) -> Vec<ToolSpec> {
///         vec![ToolSpec { name: "finish".into(), description: "Finish.".into(), params: vec![] }]
///     }
///     fn reset(&mut self, _: &Task) -> Result<(), EnvError> { Ok(()) }
///     fn step(&mut self, call: &ToolCall) -> Result<StepResult, EnvError> {
///         Ok(StepResult { observation: "<<< Finished >>>".into(), done: call.name == "finish" })
///     }
///     fn patch(&mut self) -> Result<String, EnvError> { Ok(String::new()) }
///     fn run_tests(&mut self) -> Result<TestReport, EnvError> {
///         Ok(TestReport { fail_to_pass: Default::default(), pass_to_pass: Default::default(), output: "OK".into() })
///     }
/// }
/// let task: Task = serde_json::from_str(r#"{"instance_id": "t", "repo": "r", "problem_statement": "p",
///     "fail_to_pass": [], "pass_to_pass": []}"#).unwrap();
/// let prompt = PromptTemplate::parse("system = '{tools}'\nuser = '{problem_statement}'", "inline".as_ref()).unwrap();
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("t.json");
/// let traj = run_episode(&task, &mut Env, &mut Finisher, &prompt, &Limits::default(), &path).unwrap();
/// assert_eq!(traj.exit_reason, Some(ExitReason::Agent));
/// assert_eq!(traj.trajectory_steps[0].token_usage_total, 120);
/// let on_disk: entropo_core::types::Trajectory = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
/// assert_eq!(on_disk, traj);
/// ```
pub fn run_episode(
    task: &Task,
    env: &mut dyn Environment,
    policy: &mut dyn Policy,
    prompt: &PromptTemplate,
    limits: &Limits,
    trajectory_path: &Path,
) -> Result<Trajectory, AgentError> {
    let started = Instant::now();
    let env_error = |stage: String| {
        let task = task.instance_id.clone();
        move |source| AgentError::Env { task, stage, source }
    };
    env.reset(task).map_err(env_error("reset".into()))?;
    let tools = env.tools();
    let system = prompt.system_prompt(&tools, &task.mount_at);
    let user = prompt.user_prompt(&task.problem_statement, &task.mount_at);

    let mut traj = Trajectory {
        instance_id: Some(task.instance_id.clone()),
        problem_statement: task.problem_statement.clone(),
        docker_image: task.image.clone().unwrap_or_default(),
        ..Trajectory::default()
    };
    traj.extra.insert("agent_args".into(), json!({ "system_prompt": system, "instance_prompt": user }));
    traj.extra.insert("max_steps".into(), json!(limits.max_steps));
    traj.extra.insert("max_token_limit".into(), json!(limits.max_tokens));
    traj.extra.insert("max_total_time".into(), json!(limits.max_time_secs));
    save(&traj, trajectory_path)?;

    let mut messages = vec![Message::new(Role::System, system), Message::new(Role::User, user)];
    let exit = loop {
        let step_idx = traj.trajectory_steps.len() as u32;
        if step_idx >= limits.max_steps {
            break ExitReason::MaxStepLimit;
        }
        let step_start = Instant::now();
        if let Some(last) = messages.last_mut() {
            last.content.push('\n');
            last.content.push_str(&limits.steps_remaining_text(step_idx));
        }
        let reply = match policy.respond(&messages) {
            Ok(reply) => reply,
            Err(e) => {
                traj.extra.insert("llm_error_message".into(), json!(e.to_string()));
                break ExitReason::LlmError;
            }
        };
        let llm_exec_time = step_start.elapsed();
        let parsed = parse_reply(&reply.text, &tools);
        let env_start = Instant::now();
        let result = parsed.observe(&tools, |call| env.step(call)).map_err(env_error(format!("step {step_idx}")))?;
        let env_exec_time = env_start.elapsed();
        messages.push(Message::new(Role::Assistant, parsed.assistant_message()));
        messages.push(Message::new(Role::User, result.observation.clone()));

        let elapsed = started.elapsed();
        let exit = if result.done {
            Some(ExitReason::Agent)
        } else if reply.total_tokens() >= limits.max_tokens {
            Some(ExitReason::TokenLimit)
        } else if step_idx + 1 >= limits.max_steps {
            Some(ExitReason::MaxStepLimit)
        } else if limits.max_time_secs.is_some_and(|max| elapsed.as_secs_f64() >= max) {
            Some(ExitReason::TrajTimeLimit)
        } else {
            None
        };
        traj.trajectory_steps.push(Step {
            step_idx,
            thought: parsed.thought,
            action: parsed.action,
            observation: result.observation,
            done: exit.is_some(),
            llm_exec_time: llm_exec_time.as_secs_f64(),
            env_exec_time: env_exec_time.as_secs_f64(),
            total_step_time: step_start.elapsed().as_secs_f64(),
            total_time_traj: started.elapsed().as_secs_f64(),
            token_usage_prompt: reply.prompt_tokens,
            token_usage_completion: reply.completion_tokens,
            token_usage_total: reply.total_tokens(),
            extra: Default::default(),
        });
        save(&traj, trajectory_path)?;
        if let Some(exit) = exit {
            break exit;
        }
    };
    traj.exit_reason = Some(exit);
    save(&traj, trajectory_path)?;

    traj.output_patch = env.patch().map_err(env_error("patch".into()))?;
    save(&traj, trajectory_path)?;
    let tests_start = Instant::now();
    let report = env.run_tests().map_err(env_error("tests".into()))?;
    traj.extra.insert("test_exec_time".into(), json!(tests_start.elapsed().as_secs_f64()));
    judge(&mut traj, report);
    save(&traj, trajectory_path)?;
    Ok(traj)
}

/// Copies a test report into the trajectory.
fn judge(traj: &mut Trajectory, report: TestReport) {
    traj.reward = Some(report.reward());
    traj.regression_passed = Some(report.regression_passed());
    traj.regression_test_output = report
        .pass_to_pass
        .iter()
        .map(|(id, status)| {
            let word = match status {
                TestStatus::Passed => "PASSED",
                TestStatus::Failed => "FAILED",
                TestStatus::Missing => "MISSING",
            };
            format!("{word} {id}\n")
        })
        .collect();
    traj.test_output = report.output;
}

/// Writes the trajectory as pretty JSON, atomically.
fn save(traj: &Trajectory, path: &Path) -> Result<(), IoError> {
    let bytes = serde_json::to_vec_pretty(traj)
        .map_err(|e| IoError::Serialise { file: path.to_path_buf(), message: e.to_string() })?;
    write_atomic(path, &bytes)
}
