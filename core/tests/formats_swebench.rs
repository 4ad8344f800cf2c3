//! SWE-bench Lite, real data: the 300 tasks written by
//! `python3 scripts/fixtures/swebench_lite.py`.

use std::collections::HashSet;
use std::path::PathBuf;

use entropo_core::formats::swebench;
use serde_json::Value;

fn fixture() -> PathBuf {
    let dir = match std::env::var_os("ENTROPO_FIXTURES") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/fixtures"),
    };
    let path = dir.join("swebench_lite.jsonl");
    assert!(
        path.exists(),
        "{} is missing: run `python3 scripts/fixtures/swebench_lite.py` (from the workspace root) to create it",
        path.display()
    );
    path
}

/// A test list decoded straight from the fixture's JSON, without entropo.
fn decode_list(row: &Value, column: &str) -> Vec<String> {
    let encoded = row[column].as_str().unwrap_or_else(|| panic!("{column} is not a string"));
    serde_json::from_str(encoded).unwrap()
}

#[test]
fn reads_all_300_lite_tasks() {
    let path = fixture();
    let tasks = swebench::read_tasks(&path).unwrap();
    assert_eq!(tasks.len(), 300);
    let ids: HashSet<&str> = tasks.iter().map(|t| t.instance_id.as_str()).collect();
    assert_eq!(ids.len(), 300, "instance ids are unique");

    let text = std::fs::read_to_string(&path).unwrap();
    let rows: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 300);
    for (task, row) in tasks.iter().zip(&rows) {
        assert_eq!(task.instance_id, row["instance_id"].as_str().unwrap());
        assert!(!task.fail_to_pass.is_empty(), "{}: empty FAIL_TO_PASS", task.instance_id);
        assert_eq!(task.fail_to_pass, decode_list(row, "FAIL_TO_PASS"), "{}", task.instance_id);
        assert_eq!(task.pass_to_pass, decode_list(row, "PASS_TO_PASS"), "{}", task.instance_id);
        assert_eq!(task.repo, row["repo"].as_str().unwrap());
        assert_eq!(task.base_commit.as_deref(), row["base_commit"].as_str());
        assert_eq!(task.patch.as_deref(), row["patch"].as_str());
        assert_eq!(task.test_patch.as_deref(), row["test_patch"].as_str());
        assert_eq!(task.problem_statement, row["problem_statement"].as_str().unwrap());
    }
    assert!(tasks.iter().any(|t| t.instance_id == "django__django-11099"));
}

#[test]
fn writes_native_tasks_that_read_back() {
    let tasks = swebench::read_tasks(&fixture()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tasks.jsonl");
    swebench::write_tasks(&out, &tasks).unwrap();
    let back: Vec<entropo_core::types::Task> = entropo_core::io::read_jsonl(&out).unwrap();
    assert_eq!(back, tasks);
}

#[test]
fn a_row_without_a_field_is_an_error_naming_it() {
    let text = std::fs::read_to_string(fixture()).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let target = 41; // 0-based: line 42
    let mut row: Value = serde_json::from_str(&lines[target]).unwrap();
    let id = row["instance_id"].as_str().unwrap().to_string();
    for field in ["FAIL_TO_PASS", "base_commit", "test_patch"] {
        let mut broken = row.clone();
        broken.as_object_mut().unwrap().remove(field);
        lines[target] = broken.to_string();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lite.jsonl");
        std::fs::write(&path, lines.join("\n")).unwrap();
        let err = swebench::read_tasks(&path).unwrap_err().to_string();
        assert_eq!(err, format!("{}:42 ({id}): {field}: missing field", path.display()));
    }
    // The same row as a JSON array element is named by its index.
    row["PASS_TO_PASS"] = Value::from(7);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lite.json");
    std::fs::write(&path, Value::Array(vec![row]).to_string()).unwrap();
    let err = swebench::read_tasks(&path).unwrap_err().to_string();
    assert!(err.starts_with(&format!("{}[0] ({id}): PASS_TO_PASS: expected a list", path.display())), "{err}");
}
