//! `entropo select` on a synthetic pool whose right answers are known.

mod common;

use common::{entropo, stderr_of, stdout_of};

/// Three tasks. `a`: the only resolved rollout is the only one that survives
/// the hybrid filters; `b`: the verifier removes the unresolved one; `c`: a
/// single truncated rollout the hybrid must fall back to.
const POOL: &str = r#"
{"task_id":"a","rollout_id":0,"exit_reason":"agent","steps":10,"tokens":900,"reward":1.0,"regression_passed":true,"patch_hash":"p1","verifier_prob":0.9,"trajectory":"a/0.json"}
{"task_id":"a","rollout_id":1,"exit_reason":"max_step_limit","steps":50,"tokens":9000,"reward":0.0,"regression_passed":null,"patch_hash":null,"verifier_prob":0.4,"trajectory":"a/1.json"}
{"task_id":"a","rollout_id":2,"exit_reason":"agent","steps":30,"tokens":3000,"reward":0.0,"regression_passed":false,"patch_hash":"p2","verifier_prob":0.5,"trajectory":"a/2.json"}
{"task_id":"b","rollout_id":0,"exit_reason":"agent","steps":5,"tokens":500,"reward":0.0,"regression_passed":true,"patch_hash":"p3","verifier_prob":0.005,"trajectory":"b/0.json"}
{"task_id":"b","rollout_id":1,"exit_reason":"agent","steps":8,"tokens":800,"reward":1.0,"regression_passed":true,"patch_hash":"p4","verifier_prob":0.3,"trajectory":"b/1.json"}
{"task_id":"c","rollout_id":0,"exit_reason":"token_limit","steps":20,"tokens":131072,"reward":0.0,"regression_passed":null,"patch_hash":null,"verifier_prob":0.2,"trajectory":"c/0.json"}
"#;

fn pool(dir: &tempfile::TempDir) -> std::path::PathBuf {
    let path = dir.path().join("index.jsonl");
    std::fs::write(&path, POOL.trim_start()).unwrap();
    path
}

#[test]
fn hybrid_writes_one_choice_per_task_and_prints_the_rate() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("choices.jsonl");
    let a = entropo()
        .args(["select", "--selector", "hybrid", "--input"])
        .arg(pool(&dir))
        .arg("--output")
        .arg(&out)
        .assert()
        .success();
    assert!(stdout_of(&a).starts_with("hybrid: resolved 66.7% of 3 tasks (6 rollouts)"), "{}", stdout_of(&a));
    let rows: Vec<serde_json::Value> =
        std::fs::read_to_string(&out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let picks: Vec<(String, u64)> = rows
        .iter()
        .map(|r| (r["task_id"].as_str().unwrap().to_string(), r["rollout_id"].as_u64().unwrap()))
        .collect();
    assert_eq!(picks, vec![("a".into(), 0), ("b".into(), 1), ("c".into(), 0)]);
    assert!(rows.iter().all(|r| r["reason"].as_str().is_some_and(|s| !s.is_empty())));
}

#[test]
fn parameters_follow_the_name() {
    let dir = tempfile::tempdir().unwrap();
    // Without the verifier stage, fewest steps in task b picks the unresolved rollout 0.
    let a = entropo()
        .args(["select", "--selector", "hybrid,use_verifier=false,final=fewest-steps", "--input"])
        .arg(pool(&dir))
        .assert()
        .success();
    assert!(stdout_of(&a).contains("resolved 33.3%"), "{}", stdout_of(&a));
    let a = entropo()
        .args(["select", "--selector", "hybrid,treshold=0.1", "--input"])
        .arg(pool(&dir))
        .assert()
        .failure();
    assert!(stderr_of(&a).contains("params.treshold"), "{}", stderr_of(&a));
}

#[test]
fn compare_applies_every_selector_to_the_same_pool() {
    let dir = tempfile::tempdir().unwrap();
    let a = entropo().args(["select", "--compare", "--input"]).arg(pool(&dir)).assert().success();
    let out = stdout_of(&a);
    let rate = |name: &str| -> String {
        let line = out.lines().find(|l| l.split_whitespace().next() == Some(name)).expect(&out);
        line.split_whitespace().nth(1).unwrap().to_string()
    };
    assert_eq!(rate("hybrid"), "66.7%");
    assert_eq!(rate("verifier-max"), "66.7%");
    assert_eq!(rate("first"), "33.3%");
    assert_eq!(rate("most-steps"), "33.3%");
    assert_eq!(rate("fewest-steps"), "33.3%");
}

#[test]
fn a_bad_index_row_is_named_by_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index.jsonl");
    std::fs::write(&path, POOL.trim_start().replace(r#""steps":8,"#, "")).unwrap();
    let a = entropo().args(["select", "--compare", "--input"]).arg(&path).assert().failure();
    let err = stderr_of(&a);
    assert!(err.contains("index.jsonl:5") && err.contains("steps"), "{err}");
}
