//! `entropo data import` and `entropo data export` on real-looking data.

mod common;

use common::{entropo, repo_root, stderr_of, stdout_of};

/// SWE-bench Lite in standard columns, made by scripts/fixtures/swebench_lite.py.
fn swebench_lite() -> std::path::PathBuf {
    let path = repo_root().join("target/fixtures/swebench_lite.jsonl");
    assert!(path.exists(), "{} missing: run `python3 scripts/fixtures/swebench_lite.py`", path.display());
    path
}

#[test]
fn import_swebench_lite_yields_300_tasks_with_their_tests() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tasks.jsonl");
    let a = entropo()
        .args(["data", "import", "swebench"])
        .arg(swebench_lite())
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    assert!(stdout_of(&a).starts_with("imported 300 tasks"), "{}", stdout_of(&a));

    // Compare every task's tests with the source rows, decoded independently.
    let source = std::fs::read_to_string(swebench_lite()).unwrap();
    let written = std::fs::read_to_string(&out).unwrap();
    let rows: Vec<serde_json::Value> = source.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let tasks: Vec<serde_json::Value> = written.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(tasks.len(), 300);
    for (row, task) in rows.iter().zip(&tasks) {
        assert_eq!(row["instance_id"], task["instance_id"]);
        let f2p: serde_json::Value = serde_json::from_str(row["FAIL_TO_PASS"].as_str().unwrap()).unwrap();
        assert_eq!(f2p, task["fail_to_pass"], "{}", row["instance_id"]);
        assert!(!task["fail_to_pass"].as_array().unwrap().is_empty());
    }
}

#[test]
fn a_row_missing_a_field_is_reported_by_instance_id_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let source = std::fs::read_to_string(swebench_lite()).unwrap();
    let mut lines: Vec<String> = source.lines().take(5).map(str::to_string).collect();
    let mut row: serde_json::Value = serde_json::from_str(&lines[3]).unwrap();
    let id = row["instance_id"].as_str().unwrap().to_string();
    row.as_object_mut().unwrap().remove("PASS_TO_PASS");
    lines[3] = row.to_string();
    let input = dir.path().join("broken.jsonl");
    std::fs::write(&input, lines.join("\n")).unwrap();
    let out = dir.path().join("tasks.jsonl");
    let a = entropo()
        .args(["data", "import", "swebench"])
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .assert()
        .failure();
    let err = stderr_of(&a);
    assert!(err.contains("broken.jsonl:4") && err.contains(&id) && err.contains("PASS_TO_PASS"), "{err}");
    assert!(!out.exists(), "nothing is written on error");
}

#[test]
fn export_then_reverse_gives_back_the_native_rows() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = repo_root().join("core/tests/fixtures");
    for (format, native) in [
        ("trl-dpo", "pairs.jsonl"),
        ("llamafactory-dpo", "pairs.jsonl"),
        ("trl-kto", "kto.jsonl"),
        ("llamafactory-kto", "kto.jsonl"),
        ("sharegpt", "sft.jsonl"),
    ] {
        let exported = dir.path().join(format!("{format}.jsonl"));
        let a = entropo()
            .args(["data", "export", "--format", format, "--input"])
            .arg(fixtures.join(native))
            .arg("--output")
            .arg(&exported)
            .assert()
            .success();
        assert!(stdout_of(&a).starts_with("converted "), "{}", stdout_of(&a));
        let back = dir.path().join(format!("{format}.native.jsonl"));
        entropo()
            .args(["data", "export", "--reverse", "--format", format, "--input"])
            .arg(&exported)
            .arg("--output")
            .arg(&back)
            .assert()
            .success();
        // Messages survive the round trip (task ids may not: see the format docs).
        let strip = |text: String| -> Vec<serde_json::Value> {
            text.lines()
                .map(|l| {
                    let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                    v.as_object_mut().unwrap().remove("task_id");
                    v
                })
                .collect()
        };
        let original = strip(std::fs::read_to_string(fixtures.join(native)).unwrap());
        let returned = strip(std::fs::read_to_string(&back).unwrap());
        assert_eq!(original.len(), returned.len(), "{format}");
        if format.starts_with("trl") {
            assert_eq!(original, returned, "{format}");
        }
    }
}

#[test]
fn unknown_export_format_lists_the_known_ones() {
    let a = entropo()
        .args(["data", "export", "--format", "alpaca", "--input", "x", "--output", "y"])
        .assert()
        .failure();
    let err = stderr_of(&a);
    assert!(err.contains("trl-dpo") && err.contains("llamafactory-kto"), "{err}");
}
