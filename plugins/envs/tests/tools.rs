//! Faithfulness: the WASM tools print what R2E-Gym's scripts print.

mod common;

use common::*;
use entropo_envs::wasm::Tool;

fn ws() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    calc_repo(dir.path());
    dir
}

#[test]
fn view_numbers_lines_like_cat_n() {
    let d = ws();
    let out = editor(d.path(), &[("command", "view"), ("path", "/testbed/calc/ops.py")]);
    assert_eq!(
        out,
        "Here's the result of running `cat -n` on the file: /testbed/calc/ops.py:\n     1 def add(a, b):\n     2     return a - b\n     3 \n     4 \n     5 def sub(a, b):\n     6     return a - b\n"
    );
    // Relative paths resolve against the mount and keep their spelling.
    let rel = editor(d.path(), &[("command", "view"), ("path", " calc/ops.py\n")]);
    assert!(rel.starts_with("Here's the result of running `cat -n` on the file: calc/ops.py:\n     1 def add"));
}

#[test]
fn view_range_and_its_errors() {
    let d = ws();
    let out = editor(d.path(), &[("command", "view"), ("path", "/testbed/calc/ops.py"), ("view_range", "[5, -1]")]);
    assert_eq!(
        out,
        "Here's the result of running `cat -n` on the file: /testbed/calc/ops.py:\n     5 def sub(a, b):\n     6     return a - b\n"
    );
    let bad = editor(d.path(), &[("command", "view"), ("path", "/testbed/calc/ops.py"), ("view_range", "[7, 8]")]);
    assert_eq!(bad, "\nERROR: Invalid view_range [7, 8]: start line must be in [1, 6]\n");
    let bad = editor(d.path(), &[("command", "view"), ("path", "/testbed/calc/ops.py"), ("view_range", "[2, 1]")]);
    assert_eq!(bad, "\nERROR: Invalid view_range [2, 1]: end must be >= start and <= 6, or -1 to view until end.\n");
}

#[test]
fn non_python_files_are_refused() {
    let d = ws();
    let out = editor(d.path(), &[("command", "view"), ("path", "/testbed/README.md")]);
    assert_eq!(
        out,
        "\nERROR: ERROR: Viewing non-Python files is disallowed for saving context. File 'README.md' is not a .py file.\n"
    );
    let missing = editor(d.path(), &[("command", "view"), ("path", "/testbed/nope.py")]);
    assert_eq!(missing, "ERROR: The path '/testbed/nope.py' does not exist.\n");
}

#[test]
fn directory_view_two_levels_python_only_no_hidden() {
    let d = ws();
    write_files(d.path(), &[("calc/sub/deep/x.py", ""), (".hidden/y.py", ""), ("calc/.secret.py", ""), ("setup.py", "")]);
    let out = editor(d.path(), &[("command", "view"), ("path", "/testbed")]);
    assert_eq!(
        out,
        "Here's the files and directories up to 2 levels deep in /testbed, excluding hidden:\n/testbed\n/testbed/calc\n/testbed/calc/__init__.py\n/testbed/calc/ops.py\n/testbed/calc/sub\n/testbed/setup.py\n/testbed/tests\n/testbed/tests/__init__.py\n/testbed/tests/test_ops.py\n\n"
    );
    let dir_edit = editor(d.path(), &[("command", "create"), ("path", "/testbed/calc"), ("file_text", "x")]);
    assert_eq!(dir_edit, "ERROR: File already exists at: /testbed/calc. Cannot overwrite with 'create'.\n");
    let dir_replace = editor(d.path(), &[("command", "str_replace"), ("path", "/testbed/calc"), ("old_str", "x")]);
    assert_eq!(dir_replace, "ERROR: The path '/testbed/calc' is a directory. Only 'view' can be used on directories.\n");
}

fn long_module() -> String {
    let mut s = String::from("import os\n\n\nclass Big:\n    \"\"\"Docstring\n\n    line a\n    line b\n    line c\n    \"\"\"\n\n");
    for i in 0..20 {
        s.push_str(&format!("    def m{i}(self):\n        a = {i}\n        b = a + 1\n        c = b * 2\n        return c\n\n"));
    }
    s
}

#[test]
fn long_python_files_get_the_concise_view() {
    let d = ws();
    write_files(d.path(), &[("big.py", &long_module())]);
    let out = editor(d.path(), &[("command", "view"), ("path", "/testbed/big.py")]);
    assert!(out.starts_with("Here is a condensed view for file: /testbed/big.py; [Note: Useful for understanding file structure in a concise manner. Please use specific view_range without concise cmd if you want to explore further into the relevant parts.]\n"));
    assert!(out.contains("\n     5     \"\"\"Docstring\n     6 ... eliding lines 6-9 ...\n    10     \"\"\"\n"), "{out}");
    assert!(out.contains("\n    12     def m0(self):\n    13 ... eliding lines 13-16 ...\n    17 \n"), "{out}");
    // With a range, the full text is shown.
    let ranged = editor(d.path(), &[("command", "view"), ("path", "/testbed/big.py"), ("view_range", "[12, 14]")]);
    assert!(ranged.ends_with("    12     def m0(self):\n    13         a = 0\n    14         b = a + 1\n"), "{ranged}");
}

#[test]
fn long_output_is_clipped() {
    let d = ws();
    let text: String = (0..3000).map(|i| format!("x_{i} = {i}\n")).collect();
    write_files(d.path(), &[("many.py", &text)]);
    let out = editor(d.path(), &[("command", "view"), ("path", "/testbed/many.py"), ("view_range", "[1, -1]")]);
    let note = "<response clipped><NOTE>To save on context only part of this file has been shown to you. You should retry this tool after you have searched inside the file with `grep -n` in order to find the line numbers of what you are looking for.</NOTE>\n";
    assert!(out.ends_with(note));
    assert_eq!(out.chars().count(), 10_000 + note.chars().count());
}

#[test]
fn create_refuses_existing_and_strips_text() {
    let d = ws();
    let out = editor(d.path(), &[("command", "create"), ("path", "/testbed/calc/ops.py"), ("file_text", "x")]);
    assert_eq!(out, "ERROR: File already exists at: /testbed/calc/ops.py. Cannot overwrite with 'create'.\n");
    let out = editor(d.path(), &[("command", "create"), ("path", "/testbed/new.py"), ("file_text", "\nprint(1)\n\tx = 2\n")]);
    assert_eq!(
        out,
        "File created at /testbed/new.py. Here's the result of running `cat -n` on /testbed/new.py:\n     1\tprint(1)\n     2\t        x = 2\nReview the file and make sure that it is as expected. Edit the file if necessary.\n"
    );
    assert_eq!(std::fs::read_to_string(d.path().join("new.py")).unwrap(), "print(1)\n\tx = 2");
    let out = editor(d.path(), &[("command", "create"), ("path", "/testbed/nodir/new.py"), ("file_text", "x")]);
    assert_eq!(out, "ERROR: Error creating file at /testbed/nodir/new.py: [Errno 2] No such file or directory: '/testbed/nodir/new.py'\n");
}

#[test]
fn str_replace_unique_rule_and_snippet() {
    let d = ws();
    let none = editor(d.path(), &[("command", "str_replace"), ("path", "/testbed/calc/ops.py"), ("old_str", "return a * b")]);
    assert_eq!(none, "ERROR: No occurrences of 'return a * b' found in /testbed/calc/ops.py for replacement.\n");
    let many = editor(d.path(), &[("command", "str_replace"), ("path", "/testbed/calc/ops.py"), ("old_str", "return a - b")]);
    assert_eq!(
        many,
        "ERROR: Multiple occurrences of 'return a - b' found in /testbed/calc/ops.py. Please ensure it is unique before using str_replace.\n"
    );
    // Leading indentation of old_str is stripped like R2E strips parameters.
    let ok = editor(
        d.path(),
        &[("command", "str_replace"), ("path", "/testbed/calc/ops.py"), ("old_str", "    def add(a, b):\n    return a - b"), ("new_str", "def add(a, b):\n    return a + b")],
    );
    assert_eq!(
        ok,
        "The file /testbed/calc/ops.py has been edited. Here's the result of running `cat -n` on a snippet of /testbed/calc/ops.py:\n     1\tdef add(a, b):\n     2\t    return a + b\n     3\t\n     4\t\n     5\tdef sub(a, b):\n     6\t    return a - b\nReview the changes and make sure they are as expected. Edit the file again if necessary.\n"
    );
    assert!(std::fs::read_to_string(d.path().join("calc/ops.py")).unwrap().starts_with("def add(a, b):\n    return a + b\n"));
}

#[test]
fn insert_and_undo_history_survive_between_calls() {
    let d = ws();
    let ins = editor(d.path(), &[("command", "insert"), ("path", "/testbed/calc/ops.py"), ("insert_line", "2"), ("new_str", "# end of add")]);
    assert_eq!(
        ins,
        "The file /testbed/calc/ops.py has been edited. Here's the result of running `cat -n` on a snippet of the edited file:\n     1\tdef add(a, b):\n     2\t    return a - b\n     3\t# end of add\n     4\t\n     5\t\n     6\tdef sub(a, b):\n     7\t    return a - b\nReview the changes and make sure they are as expected (correct indentation, no duplicate lines, etc). Edit the file again if necessary.\n"
    );
    let bad = editor(d.path(), &[("command", "insert"), ("path", "/testbed/calc/ops.py"), ("insert_line", "99"), ("new_str", "x")]);
    assert_eq!(bad, "ERROR: Invalid insert_line 99. Must be in [0, 8].\n");
    editor(d.path(), &[("command", "str_replace"), ("path", "/testbed/calc/ops.py"), ("old_str", "# end of add"), ("new_str", "# END")]);
    // Each call is a fresh module instance: the history lives in the workspace.
    let undo = editor(d.path(), &[("command", "undo_edit"), ("path", "/testbed/calc/ops.py")]);
    assert!(undo.starts_with("Last edit to /testbed/calc/ops.py undone successfully. Here's the result of running `cat -n` on /testbed/calc/ops.py:\n     1\tdef add(a, b):\n"));
    assert!(undo.contains("     3\t# end of add\n"));
    editor(d.path(), &[("command", "undo_edit"), ("path", "/testbed/calc/ops.py")]);
    let orig = "def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a - b\n";
    assert_eq!(std::fs::read_to_string(d.path().join("calc/ops.py")).unwrap(), orig);
    let none = editor(d.path(), &[("command", "undo_edit"), ("path", "/testbed/calc/ops.py")]);
    assert_eq!(none, "ERROR: No previous edits found for /testbed/calc/ops.py to undo.\n");
    // Undoing a create leaves an empty file.
    editor(d.path(), &[("command", "create"), ("path", "/testbed/n.py"), ("file_text", "x = 1")]);
    editor(d.path(), &[("command", "undo_edit"), ("path", "/testbed/n.py")]);
    assert_eq!(std::fs::read_to_string(d.path().join("n.py")).unwrap(), "");
    // The history is hidden from views and search.
    assert!(d.path().join(".entropo/editor_history.json").exists());
    assert!(!editor(d.path(), &[("command", "view"), ("path", "/testbed")]).contains(".entropo"));
}

#[test]
fn unknown_command_and_missing_params() {
    let d = ws();
    assert_eq!(
        editor(d.path(), &[("command", "delete"), ("path", "/testbed/calc/ops.py")]),
        "ERROR: Unrecognized command 'delete'. Allowed commands: view, create, str_replace, insert, undo_edit.\n"
    );
    assert!(editor(d.path(), &[("command", "view")]).starts_with("ERROR: Missing required parameter 'path'"));
    assert_eq!(
        editor(d.path(), &[("command", "create"), ("path", "/testbed/z.py")]),
        "ERROR: Cannot create file without 'file_text' parameter.\n"
    );
}

#[test]
fn search_directory_and_file() {
    let d = ws();
    write_files(d.path(), &[(".hidden/h.py", "def add"), ("notes.txt", "def add"), ("calc/.h.py", "def add")]);
    // The term is stripped like every R2E parameter.
    let out = search(d.path(), &[("search_term", "def "), ("path", "/testbed")]);
    assert_eq!(
        out,
        "Found 4 matches for \"def\" in /testbed:\n./calc/ops.py (2 matches)\n./tests/test_ops.py (2 matches)\nEnd of matches for \"def\" in /testbed\n"
    );
    let out = search(d.path(), &[("search_term", "add")]);
    assert_eq!(
        out,
        "Found 4 matches for \"add\" in /testbed:\n./calc/ops.py (1 matches)\n./tests/test_ops.py (3 matches)\nEnd of matches for \"add\" in /testbed\n"
    );
    let none = search(d.path(), &[("search_term", "zzz"), ("path", "calc")]);
    assert_eq!(none, "No matches found for \"zzz\" in /testbed/calc\n");
    let file = search(d.path(), &[("search_term", "return a"), ("path", "calc/ops.py")]);
    assert_eq!(file, "Matches for \"return a\" in /testbed/calc/ops.py:\n2:    return a - b\n6:    return a - b\n");
    let missing = search(d.path(), &[("search_term", "x"), ("path", "/testbed/nope")]);
    assert_eq!(missing, "Directory '/testbed/nope' not found or not a directory.\n");
}

#[test]
fn search_over_100_files_asks_to_narrow() {
    let d = ws();
    let files: Vec<(String, &str)> = (0..101).map(|i| (format!("pkg/m{i}.py"), "TARGET = 1\n")).collect();
    let refs: Vec<(&str, &str)> = files.iter().map(|(p, c)| (p.as_str(), *c)).collect();
    write_files(d.path(), &refs);
    let out = search(d.path(), &[("search_term", "TARGET"), ("path", "/testbed")]);
    assert_eq!(out, "More than 101 files matched for \"TARGET\" in /testbed. Please narrow your search.\n");
    let out = run(Tool::Search, d.path(), &[("search_term", "TARGET"), ("path", "/testbed/pkg/m7.py")]);
    assert_eq!(out, "Matches for \"TARGET\" in /testbed/pkg/m7.py:\n1:TARGET = 1\n");
}
