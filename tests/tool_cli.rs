//! `entropo tool`: one function call per process on a folder used in place
//! (edits and file_editor's undo history persist between calls), the
//! agent's error observations for malformed calls, `--mount-at`, and the
//! tool schemas.

mod common;

use std::path::Path;

use common::{entropo, stderr_of, stdout_of};

/// Runs `entropo tool call` on `ws` with `call` on stdin; returns stdout.
fn call(ws: &Path, extra: &[&str], call: &str) -> String {
    let a = entropo().args(["tool", "call", "--workspace"]).arg(ws).args(extra).write_stdin(call).assert().success();
    stdout_of(&a)
}

fn editor(params: &[(&str, &str)]) -> String {
    let mut s = String::from("I will edit the file.\n<function=file_editor>\n");
    for (k, v) in params {
        s.push_str(&format!("<parameter={k}>{v}</parameter>\n"));
    }
    s + "</function>"
}

#[test]
fn create_view_replace_and_undo_across_separate_processes() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path();
    let file = ws.join("calc.py");

    let out = call(
        ws,
        &[],
        &editor(&[
            ("command", "create"),
            ("path", "/testbed/calc.py"),
            ("file_text", "def add(a, b):\n    return a - b\n"),
        ]),
    );
    assert!(out.starts_with("Execution output of [file_editor]:\nFile created at /testbed/calc.py."), "{out}");
    // R2E strips parameter values: no trailing newline in the created file.
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "def add(a, b):\n    return a - b");

    let out = call(ws, &[], &editor(&[("command", "view"), ("path", "/testbed/calc.py")]));
    assert!(out.contains("def add(a, b):") && out.contains("return a - b"), "{out}");

    // The JSON form goes through the same parser.
    let json = r#"<tool_call>
{"name": "file_editor", "arguments": {"command": "str_replace", "path": "/testbed/calc.py", "old_str": "return a - b", "new_str": "return a + b"}}
</tool_call>"#;
    let out = call(ws, &[], json);
    assert!(out.contains("The file /testbed/calc.py has been edited."), "{out}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "def add(a, b):\n    return a + b");

    // A fourth process undoes the third one's edit: the history lives in the folder.
    assert!(ws.join(".entropo/editor_history.json").is_file());
    let out = call(ws, &[], &editor(&[("command", "undo_edit"), ("path", "/testbed/calc.py")]));
    assert!(out.contains("Last edit to /testbed/calc.py undone successfully."), "{out}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "def add(a, b):\n    return a - b");
    // Then undoing the create leaves an empty file, as R2E does.
    call(ws, &[], &editor(&[("command", "undo_edit"), ("path", "/testbed/calc.py")]));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "");
    let out = call(ws, &[], &editor(&[("command", "undo_edit"), ("path", "/testbed/calc.py")]));
    assert!(out.contains("No previous edits found for /testbed/calc.py to undo."), "{out}");
}

#[test]
fn malformed_calls_print_the_agents_error_observation() {
    let dir = tempfile::tempdir().unwrap();
    let out = call(dir.path(), &[], "<function=file_editor>\n<parameter=command>view</parameter>\n</function>");
    assert!(out.starts_with("ERROR: Missing required parameter 'path' for function 'file_editor'.\n"), "{out}");
    assert!(out.contains("<function=file_editor>\n<parameter=command>view</parameter>\n<parameter=path>VALUE</parameter>\n</function>"), "{out}");

    let out = call(dir.path(), &[], "I think we are done here.");
    assert!(out.starts_with("ERROR: Your response contains no function call."), "{out}");
    assert!(out.contains("Available functions: file_editor, execute_bash, search, finish."), "{out}");

    let out = call(dir.path(), &[], "<function=search>\n<parameter=search_term>add</parameter>\n");
    assert!(out.starts_with("ERROR: The call to 'search' is not closed with </function>."), "{out}");

    let out = call(
        dir.path(),
        &[],
        "<function=finish>\n<parameter=command>submit</parameter>\n</function>\n<function=finish>\n<parameter=command>submit</parameter>\n</function>",
    );
    assert_eq!(
        out,
        "<<< Finished >>>\n\nNOTE: Your response contained 2 function calls; only the first one (finish) was executed. Call one function at a time.\n"
    );
}

#[test]
fn mount_at_changes_where_the_tools_see_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("pkg")).unwrap();
    std::fs::write(dir.path().join("pkg/ops.py"), "def add(a, b):\n    return a - b\n").unwrap();
    let mount = ["--mount-at", "/app"];

    let out = call(dir.path(), &mount, &editor(&[("command", "view"), ("path", "/app/pkg/ops.py")]));
    assert!(out.contains("return a - b"), "{out}");
    let out = call(
        dir.path(),
        &mount,
        "<function=search>\n<parameter=search_term>def add</parameter>\n<parameter=path>/app</parameter>\n</function>",
    );
    assert!(out.contains("./pkg/ops.py (1 matches)"), "{out}");
    let out = call(
        dir.path(),
        &mount,
        "<function=execute_bash>\n<parameter=cmd>pwd && cat pkg/ops.py</parameter>\n</function>",
    );
    assert!(out.starts_with("Exit code: 0\nExecution output of [execute_bash]:\n/app\ndef add(a, b):"), "{out}");
    // The default mount is not there any more.
    let out = call(dir.path(), &mount, &editor(&[("command", "view"), ("path", "/testbed/pkg/ops.py")]));
    assert!(out.contains("ERROR"), "{out}");
}

#[test]
fn real_failures_exit_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let a = entropo().args(["tool", "call", "--workspace"]).arg(&missing).write_stdin("x").assert().failure();
    assert!(stderr_of(&a).contains("--workspace"), "{}", stderr_of(&a));
    let file = dir.path().join("f.txt");
    std::fs::write(&file, "").unwrap();
    let a = entropo().args(["tool", "call", "--workspace"]).arg(&file).write_stdin("x").assert().failure();
    assert!(stderr_of(&a).contains("not a folder"), "{}", stderr_of(&a));
    let a = entropo()
        .args(["tool", "call", "--workspace"])
        .arg(dir.path())
        .write_stdin(vec![0xff, 0xfe, b'<'])
        .assert()
        .failure();
    assert!(stderr_of(&a).contains("cannot read the function call from standard input"), "{}", stderr_of(&a));
    let a = entropo()
        .args(["tool", "call", "--workspace"])
        .arg(dir.path())
        .args(["--mount-at", "relative"])
        .write_stdin("x")
        .assert()
        .failure();
    assert!(stderr_of(&a).contains("mount_at"), "{}", stderr_of(&a));
}

#[test]
fn list_prints_the_schemas() {
    let a = entropo().args(["tool", "list", "--openai"]).assert().success();
    let tools: serde_json::Value = serde_json::from_str(&stdout_of(&a)).unwrap();
    let names: Vec<&str> = tools.as_array().unwrap().iter().map(|t| t["function"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["file_editor", "execute_bash", "search", "finish"]);
    assert!(tools.as_array().unwrap().iter().all(|t| t["type"] == "function"));
    let editor = &tools[0]["function"]["parameters"];
    assert_eq!(editor["required"], serde_json::json!(["command", "path"]));
    assert_eq!(editor["properties"]["command"]["enum"][2], "str_replace");

    let a = entropo().args(["tool", "list", "--json"]).assert().success();
    let specs: Vec<entropo_core::environment::ToolSpec> = serde_json::from_str(&stdout_of(&a)).unwrap();
    assert_eq!(specs.len(), 4);
    assert_eq!(specs[1].params[0].name, "cmd");

    let a = entropo().args(["tool", "list"]).assert().success();
    let table = stdout_of(&a);
    assert!(
        table.starts_with("file_editor  Custom editing tool for viewing, creating and editing files.\n"),
        "{table}"
    );
    assert!(table.contains("  cmd          string   required\n"), "{table}");

    let a = entropo().args(["tool", "call", "--help"]).assert().success();
    assert!(stdout_of(&a).contains("Examples:"), "{}", stdout_of(&a));
}

#[test]
fn bench_tools_reports_every_row_with_its_peer() {
    let run = entropo().args(["bench", "tools", "--scale", "0.02", "--json"]).assert().success();
    let report: serde_json::Value = serde_json::from_str(&stdout_of(&run)).unwrap();
    let rows = report["rows"].as_array().unwrap();
    let calls: Vec<&str> = rows.iter().map(|r| r["call"].as_str().unwrap()).collect();
    assert!(calls.starts_with(&["file_editor view, 50 lines", "search, 21 files", "execute_bash `true`"]), "{calls:?}");
    for r in rows {
        assert!(r["entropo_us"].as_f64().unwrap() > 0.0 && r["peer_us"].as_f64().unwrap() > 0.0, "{r}");
    }
    // With the test engine up (scripts/test.sh starts one), the Docker rows are there too.
    if std::env::var_os("DOCKER_HOST").is_some() {
        assert_eq!(rows.len(), 7, "{}", report["docker_missing"]);
    }
}
