//! R2E-Gym trajectory JSON read and written by [`Trajectory`].
//!
//! `fixtures/r2e_trajectory.json` is a 3-step episode built from the field
//! list of R2E-Gym's pydantic models (`src/r2egym/agenthub/trajectory/trajectory.py`
//! at R2E-Gym commit 69bc953: `TrajectoryStep` and `Trajectory`, dumped with
//! `model_dump_json` by `src/r2egym/agenthub/run/edit.py`), plus the
//! `verifier_prob` the ENTROPO pipeline adds.

use entropo_core::types::{ExitReason, Trajectory};
use serde_json::Value;

const FIXTURE: &str = include_str!("fixtures/r2e_trajectory.json");

/// R2E-Gym `TrajectoryStep` fields.
const STEP_FIELDS: [&str; 14] = [
    "step_idx",
    "thought",
    "action",
    "observation",
    "done",
    "info",
    "token_usage_prompt",
    "token_usage_completion",
    "token_usage_total",
    "llm_exec_time",
    "env_exec_time",
    "total_step_time",
    "total_time_traj",
    "step_count",
];

/// R2E-Gym `Trajectory` fields, then ENTROPO's `verifier_prob`.
const TRAJECTORY_FIELDS: [&str; 20] = [
    "trajectory_steps",
    "problem_statement",
    "docker_image",
    "exp_name",
    "env_args",
    "agent_args",
    "ds",
    "max_steps",
    "max_steps_absolute",
    "max_token_limit",
    "max_llm_time",
    "max_exec_time",
    "max_total_time",
    "exit_reason",
    "output_patch",
    "reward",
    "test_output",
    "custom_test_outputs",
    "regression_test_output",
    "verifier_prob",
];

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

#[test]
fn fixture_has_r2e_gym_field_list() {
    let v: Value = serde_json::from_str(FIXTURE).unwrap();
    let mut want = TRAJECTORY_FIELDS.to_vec();
    want.sort_unstable();
    assert_eq!(keys(&v), want);
    let mut want = STEP_FIELDS.to_vec();
    want.sort_unstable();
    for step in v["trajectory_steps"].as_array().unwrap() {
        assert_eq!(keys(step), want);
    }
}

#[test]
fn loads_an_r2e_trajectory() {
    let t: Trajectory = serde_json::from_str(FIXTURE).unwrap();
    assert_eq!(t.steps(), 3);
    assert_eq!(t.exit_reason, Some(ExitReason::Agent));
    assert!(t.resolved());
    assert_eq!(t.total_tokens(), 3508 + 3985 + 4363);
    assert_eq!(t.verifier_prob, Some(0.9312));
    assert!(t.output_patch.starts_with("diff --git a/requests/models.py"));
    assert!(t.regression_test_output.contains("1 passed"));
    let last = &t.trajectory_steps[2];
    assert!(last.done && last.action.starts_with("<function=finish>"));
    assert_eq!(t.trajectory_steps[1].step_idx, 1);
    assert!(t.trajectory_steps[0].observation.starts_with("Execution output of [file_editor]:\n"));
    for key in ["exp_name", "env_args", "agent_args", "ds", "max_steps", "max_exec_time", "custom_test_outputs"] {
        assert!(t.extra.contains_key(key), "{key} kept in extra");
    }
    assert_eq!(t.extra["ds"]["instance_id"], "psf__requests-863");
    assert_eq!(last.extra["step_count"], 3);
    assert_eq!(last.extra["info"]["total_time"], 0.0012);
}

#[test]
fn round_trips_to_equal_json() {
    let original: Value = serde_json::from_str(FIXTURE).unwrap();
    let t: Trajectory = serde_json::from_str(FIXTURE).unwrap();
    assert_eq!(serde_json::to_value(&t).unwrap(), original);
    let again: Trajectory = serde_json::from_str(&serde_json::to_string_pretty(&t).unwrap()).unwrap();
    assert_eq!(again, t);
}

#[test]
fn unknown_fields_survive() {
    let mut v: Value = serde_json::from_str(FIXTURE).unwrap();
    v["scaffold"] = serde_json::json!({"name": "openhands", "version": [0, 9]});
    v["trajectory_steps"][1]["tool_call_id"] = Value::from("call_7");
    let t: Trajectory = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(t.extra["scaffold"]["version"][1], 9);
    assert_eq!(t.trajectory_steps[1].extra["tool_call_id"], "call_7");
    assert_eq!(serde_json::to_value(&t).unwrap(), v);
}

#[test]
fn reads_unevaluated_r2e_output_with_null_test_outputs() {
    // R2E-Gym's edit.py sets test_output but never regression_test_output;
    // before evaluation both are null.
    let mut v: Value = serde_json::from_str(FIXTURE).unwrap();
    v["reward"] = Value::Null;
    v["test_output"] = Value::Null;
    v["regression_test_output"] = Value::Null;
    v.as_object_mut().unwrap().remove("verifier_prob");
    let t: Trajectory = serde_json::from_value(v).unwrap();
    assert_eq!(t.reward, None);
    assert_eq!(t.test_output, "");
    assert_eq!(t.regression_test_output, "");
    assert!(!t.resolved());
}
