//! `run_episode` with a scripted policy and a fake environment: every exit
//! reason, the step-count lines, token and time limits, malformed calls,
//! and the trajectory file after every step and after a failure.

mod agent_support;

use agent_support::*;
use entropo_core::agent::{AgentError, FINAL_STEP_MESSAGE, Limits, PolicyError, run_episode};
use entropo_core::types::{ExitReason, Role, Trajectory};

struct Run {
    traj: Trajectory,
    policy: Scripted,
    env: FakeEnv,
    file: Trajectory,
}

fn run(turns: Vec<Turn>, limits: Limits) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runs/demo__calc-1/0.json");
    let mut policy = Scripted::new(turns);
    policy.watch = Some(path.clone());
    let mut env = FakeEnv::new();
    let traj = run_episode(&task(), &mut env, &mut policy, &prompt(), &limits, &path).unwrap();
    let file = read_trajectory(&path);
    Run { traj, policy, env, file }
}

fn exits(r: &Run) -> Option<ExitReason> {
    r.traj.exit_reason
}

#[test]
fn agent_finishes_and_the_episode_is_judged() {
    let r = run(vec![say(bash("python -m unittest -v")), say(finish())], Limits::default());
    assert_eq!(exits(&r), Some(ExitReason::Agent));
    assert_eq!(r.file, r.traj, "the file holds the returned trajectory");
    assert_eq!(r.env.resets, 1);
    assert_eq!(r.env.calls.len(), 2);
    let steps = &r.traj.trajectory_steps;
    assert_eq!(steps.iter().map(|s| (s.step_idx, s.done)).collect::<Vec<_>>(), [(0, false), (1, true)]);
    assert_eq!(steps[0].thought, "Let me run a command.");
    assert_eq!(
        steps[0].action,
        "<function=execute_bash>\n<parameter=cmd>python -m unittest -v</parameter>\n</function>"
    );
    assert_eq!(steps[0].observation, "Exit code: 0\nExecution output of [execute_bash]:\npython -m unittest -v\n");
    assert_eq!(steps[1].observation, "<<< Finished >>>");
    assert_eq!(
        (steps[0].token_usage_prompt, steps[0].token_usage_completion, steps[0].token_usage_total),
        (1000, 50, 1050)
    );
    assert!(steps.iter().all(|s| s.llm_exec_time >= 0.0 && s.total_step_time >= s.llm_exec_time));
    assert!(steps[1].total_time_traj >= steps[0].total_time_traj);
    assert_eq!(r.traj.output_patch, "diff --git a/calc.py b/calc.py\n+# 2 calls\n");
    assert_eq!(r.traj.reward, Some(1.0));
    assert_eq!(r.traj.regression_passed, Some(true));
    assert_eq!(r.traj.test_output, "Ran 2 tests in 0.001s\n\nOK\n");
    assert_eq!(r.traj.regression_test_output, "PASSED tests.test_ops.TestSub.test_sub\n");
    assert_eq!(r.traj.instance_id.as_deref(), Some("demo__calc-1"));
    assert_eq!(r.traj.problem_statement, "add(2, 3) returns -1 instead of 5.");
    assert_eq!(r.traj.extra["max_steps"], 200);
    assert_eq!(r.traj.extra["max_token_limit"], 131_072);
    assert!(r.traj.extra["max_total_time"].is_null());
}

#[test]
fn the_conversation_follows_the_r2e_scaffold() {
    let r = run(vec![say(bash("ls")), say(finish())], Limits::default());
    let first = &r.policy.seen[0];
    assert_eq!(first.len(), 2);
    assert_eq!(first[0].role, Role::System);
    assert!(first[0].content.starts_with("You are a programming agent who is provided a github issue"));
    assert!(first[0].content.contains("–– BEGIN FUNCTION #1: file_editor ––"), "tools rendered in");
    assert!(first[0].content.contains("–– END FUNCTION #4 ––"));
    assert!(!first[0].content.contains("{tools}"));
    assert_eq!(first[1].role, Role::User);
    assert!(first[1].content.starts_with("I have uploaded a python code repository in the /testbed directory."));
    assert!(first[1].content.contains("<github_issue>\nadd(2, 3) returns -1 instead of 5.\n</github_issue>"));
    assert!(first[1].content.ends_with("\nSteps Remaining: 200"), "{}", first[1].content);

    let second = &r.policy.seen[1];
    assert_eq!(second.len(), 4);
    assert_eq!(second[..2], first[..], "earlier messages are unchanged");
    assert_eq!(second[2].role, Role::Assistant);
    assert_eq!(second[2].content, format!("Let me run a command.\n\n{}", r.traj.trajectory_steps[0].action));
    assert_eq!(second[3].role, Role::User);
    assert_eq!(second[3].content, format!("{}\nSteps Remaining: 199", r.traj.trajectory_steps[0].observation));
    // The rendered prompts are recorded where R2E-Gym records its prompts.
    assert_eq!(r.traj.extra["agent_args"]["system_prompt"], first[0].content.as_str());
}

#[test]
fn step_limit_with_the_final_step_message() {
    let limits = Limits { max_steps: 3, ..Limits::default() };
    let r = run((0..5).map(|i| say(bash(&format!("echo {i}")))).collect(), limits);
    assert_eq!(exits(&r), Some(ExitReason::MaxStepLimit));
    assert_eq!(r.traj.steps(), 3);
    assert_eq!(r.policy.seen.len(), 3, "no fourth call");
    let tails: Vec<&str> =
        r.policy.seen.iter().map(|m| m.last().unwrap().content.rsplit('\n').next().unwrap()).collect();
    assert_eq!(tails, ["Steps Remaining: 3", "Steps Remaining: 2", FINAL_STEP_MESSAGE]);
    assert_eq!(r.traj.trajectory_steps.iter().map(|s| s.done).collect::<Vec<_>>(), [false, false, true]);
    // Truncated episodes are judged too.
    assert_eq!(r.traj.reward, Some(1.0));

    let r = run(vec![say(finish())], Limits { max_steps: 0, ..Limits::default() });
    assert_eq!((exits(&r), r.traj.steps(), r.policy.seen.len()), (Some(ExitReason::MaxStepLimit), 0, 0));
}

#[test]
fn finishing_on_the_last_step_is_the_agents_exit() {
    let r = run(vec![say(bash("ls")), say(finish())], Limits { max_steps: 2, ..Limits::default() });
    assert_eq!(exits(&r), Some(ExitReason::Agent));
}

#[test]
fn token_limit_counts_the_context_of_one_call() {
    let limits = Limits { max_tokens: 10_000, ..Limits::default() };
    let turns = vec![
        Turn::Say(bash("ls"), 4_000, 500),
        Turn::Say(bash("ls -la"), 9_000, 999),
        Turn::Say(bash("pwd"), 9_500, 500),
        Turn::Say(finish(), 10, 10),
    ];
    let r = run(turns, limits);
    assert_eq!(exits(&r), Some(ExitReason::TokenLimit));
    assert_eq!(r.traj.steps(), 3, "9 999 tokens is under the limit, 10 000 reaches it");
    assert_eq!(r.env.calls.len(), 3, "the step that reaches the limit is still executed");
    assert!(r.traj.trajectory_steps[2].done);
}

#[test]
fn time_limit() {
    let r = run(vec![say(bash("ls")), say(finish())], Limits { max_time_secs: Some(0.0), ..Limits::default() });
    assert_eq!(exits(&r), Some(ExitReason::TrajTimeLimit));
    assert_eq!(r.traj.steps(), 1);
    assert_eq!(r.file.extra["max_total_time"], 0.0);
    // finish wins over a budget that runs out on the same step.
    let r = run(vec![say(finish())], Limits { max_time_secs: Some(0.0), ..Limits::default() });
    assert_eq!(exits(&r), Some(ExitReason::Agent));
}

#[test]
fn policy_error_at_step_k_keeps_k_steps() {
    let turns = vec![
        say(bash("ls")),
        say(bash("cat calc.py")),
        Turn::Fail(PolicyError::Unavailable("connection refused (localhost:8000)".into())),
        say(finish()),
    ];
    let r = run(turns, Limits::default());
    assert_eq!(exits(&r), Some(ExitReason::LlmError));
    assert_eq!(r.traj.steps(), 2);
    assert_eq!(r.file, r.traj);
    assert!(!r.traj.trajectory_steps[1].done);
    assert_eq!(r.traj.extra["llm_error_message"], "the model is unavailable: connection refused (localhost:8000)");
    assert!(r.traj.output_patch.contains("2 calls"), "the patch is still taken");
    assert!(r.traj.reward.is_some(), "and the tests still run");
}

#[test]
fn the_file_is_rewritten_after_every_step() {
    let r = run(vec![say(bash("a")), say(bash("b")), say(bash("c")), say(finish())], Limits::default());
    // What the policy found on disk when asked for step k: k finished steps, no exit reason yet.
    assert_eq!(r.policy.on_disk, [(0, true), (1, true), (2, true), (3, true)]);
    assert_eq!(r.file.steps(), 4);
    assert_eq!(r.file.exit_reason, Some(ExitReason::Agent));
}

#[test]
fn environment_failure_mid_episode_leaves_the_finished_steps_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.json");
    let mut policy = Scripted::new(vec![say(bash("a")), say(bash("b")), say(bash("c")), say(finish())]);
    let mut env = FakeEnv::new();
    env.fail_at = Some(2);
    let err = run_episode(&task(), &mut env, &mut policy, &prompt(), &Limits::default(), &path).unwrap_err();
    assert!(matches!(&err, AgentError::Env { stage, .. } if stage == "step 2"), "{err:?}");
    assert_eq!(err.to_string(), "task demo__calc-1: step 2: sandbox: the sandbox died");
    let on_disk = read_trajectory(&path);
    assert_eq!(on_disk.steps(), 2);
    assert_eq!(on_disk.exit_reason, None, "the episode never ended");
    assert_eq!(
        on_disk.trajectory_steps[1].action,
        "<function=execute_bash>\n<parameter=cmd>b</parameter>\n</function>"
    );
}

#[test]
fn malformed_calls_are_steps_the_model_learns_from() {
    let turns = vec![
        say("I should look at the code first.".into()),
        say(xml("Viewing.", "file_editor", &[("command", "view")])),
        say(format!("{}\n{}", bash("ls"), bash("pwd"))),
        say(finish()),
    ];
    let r = run(turns, Limits::default());
    assert_eq!(exits(&r), Some(ExitReason::Agent));
    assert_eq!(r.traj.steps(), 4);
    let calls: Vec<&str> = r.env.calls.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(calls, ["execute_bash", "finish"], "malformed calls never reach the environment");
    assert_eq!(r.env.calls[0].params["cmd"], "ls", "only the first of several calls runs");
    let obs: Vec<&str> = r.traj.trajectory_steps.iter().map(|s| s.observation.as_str()).collect();
    assert!(obs[0].starts_with("ERROR: Your response contains no function call."), "{}", obs[0]);
    assert!(obs[1].starts_with("ERROR: Missing required parameter 'path' for function 'file_editor'."), "{}", obs[1]);
    assert!(
        obs[2].ends_with("only the first one (execute_bash) was executed. Call one function at a time."),
        "{}",
        obs[2]
    );
    assert_eq!(r.traj.trajectory_steps[0].thought, "I should look at the code first.");
    assert_eq!(r.traj.trajectory_steps[0].action, "");
    // The reply without a call is kept as written in the conversation.
    assert_eq!(r.policy.seen[1][2].content, "I should look at the code first.");
}

#[test]
fn failed_tests_give_no_reward() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.json");
    let mut policy = Scripted::new(vec![say(finish())]);
    let mut env = FakeEnv::new();
    env.tests_pass = false;
    let t = run_episode(&task(), &mut env, &mut policy, &prompt(), &Limits::default(), &path).unwrap();
    assert_eq!((t.reward, t.regression_passed), (Some(0.0), Some(true)));
}
