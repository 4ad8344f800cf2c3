//! R2E-Gym's `file_editor`: view, create, str_replace, insert, undo_edit.
//!
//! Output matches R2E's script byte for byte where it can: the result is
//! printed with a trailing newline; an `EditorResult` error prints an empty
//! line then `ERROR: <error>`; an `EditorError` prints `ERROR: <message>`.
//! Edit history is per file (keyed by the path as given) and persisted in
//! `<mount>/.entropo/editor_history.json`, hidden from views and search.

use std::collections::BTreeMap;
use std::fs;

use crate::Call;
use crate::concise::elided_lines;
use crate::paths::{ToolPath, is_capability_error, os_error, resolve};
use crate::pytext::{count, decode_utf8, expandtabs, maybe_truncate, splitlines};

/// Lines of context around an edit in the snippet shown after it.
const SNIPPET_LINES: usize = 4;

/// Where the edit history lives, relative to the mount.
pub const HISTORY_FILE: &str = ".entropo/editor_history.json";

/// Python files longer than this are shown concisely unless a range is given.
const CONCISE_THRESHOLD: usize = 110;

type History = BTreeMap<String, Vec<String>>;

/// What a command produced, printed the way R2E's `main` prints it.
enum Outcome {
    /// `EditorResult(output)`.
    Output(String),
    /// `EditorResult(output="", error=...)`: an empty line, then the error.
    ResultError(String),
    /// `raise EditorError(...)`.
    Error(String),
}

impl Outcome {
    fn render(self) -> String {
        match self {
            Outcome::Output(o) => format!("{o}\n"),
            Outcome::ResultError(e) => format!("\nERROR: {e}\n"),
            Outcome::Error(e) => format!("ERROR: {e}\n"),
        }
    }
}

/// Runs one `file_editor` call and returns what it prints.
pub fn file_editor(call: &Call) -> String {
    let history_path = format!("{}/{HISTORY_FILE}", call.mount.trim_end_matches('/'));
    let mut warnings = String::new();
    let mut history: History = match fs::read(&history_path) {
        Ok(bytes) => serde_json::from_slice::<History>(&bytes).unwrap_or_else(|e| {
            warnings.push_str(&format!("Warning: Could not load editor history from {history_path}: {e}\n"));
            History::new()
        }),
        Err(_) => History::new(),
    };
    let before = history.clone();
    let outcome = run(call, &mut history);
    let mut out = warnings;
    out.push_str(&outcome.render());
    if history != before {
        let saved = fs::create_dir_all(format!("{}/.entropo", call.mount.trim_end_matches('/')))
            .and_then(|_| fs::write(&history_path, serde_json::to_vec(&history).unwrap_or_default()));
        if let Err(e) = saved {
            out.push_str(&format!("Warning: Could not write editor history to {history_path}: {e}\n"));
        }
    }
    out
}

fn run(call: &Call, history: &mut History) -> Outcome {
    let Some(command) = call.get("command") else {
        return Outcome::Error(
            "Missing required parameter 'command'. Allowed commands: view, create, str_replace, insert, undo_edit."
                .into(),
        );
    };
    let Some(path_arg) = call.get("path") else {
        return Outcome::Error(format!("Missing required parameter 'path' for '{command}'."));
    };
    let path = match resolve(path_arg, &call.mount) {
        Ok(p) => p,
        Err(outside) => return Outcome::Error(outside.message()),
    };
    if let Err(e) = validate_path(command, &path) {
        return Outcome::Error(e);
    }
    match command {
        "view" => {
            let view_range = match call.get("view_range").map(parse_view_range).transpose() {
                Ok(v) => v,
                Err(e) => return Outcome::Error(e),
            };
            let concise = call.get("concise").is_some_and(|c| c.to_lowercase() == "true");
            view(&path, view_range, concise)
        }
        "create" => create(&path, call.get("file_text"), history),
        "str_replace" => str_replace(&path, call.get("old_str"), call.get("new_str"), history),
        "insert" => {
            let line = match call.get("insert_line").map(|s| {
                s.parse::<i64>().map_err(|_| format!("argument --insert_line: invalid int value: '{s}'"))
            }) {
                None => None,
                Some(Ok(n)) => Some(n),
                Some(Err(e)) => return Outcome::Error(e),
            };
            insert(&path, line, call.get("new_str"), history)
        }
        "undo_edit" => undo_edit(&path, history),
        other => Outcome::Error(format!(
            "Unrecognized command '{other}'. Allowed commands: view, create, str_replace, insert, undo_edit."
        )),
    }
}

/// `Path.exists()` / `is_dir()`, with escapes out of the workspace reported.
fn stat(path: &ToolPath) -> Result<Option<fs::Metadata>, String> {
    match fs::metadata(&path.abs) {
        Ok(m) => Ok(Some(m)),
        Err(e) if is_capability_error(&e) => Err(os_error(&e, &path.display)),
        Err(_) => Ok(None),
    }
}

fn validate_path(command: &str, path: &ToolPath) -> Result<(), String> {
    let meta = stat(path)?;
    if command == "create" {
        if meta.is_some() {
            return Err(format!("File already exists at: {}. Cannot overwrite with 'create'.", path.display));
        }
    } else if meta.is_none() {
        return Err(format!("The path '{}' does not exist.", path.display));
    }
    if meta.is_some_and(|m| m.is_dir()) && command != "view" {
        return Err(format!(
            "The path '{}' is a directory. Only 'view' can be used on directories.",
            path.display
        ));
    }
    Ok(())
}

/// R2E's `parse_view_range`: `[a, b]`, `(a b)`, `a,b`…
fn parse_view_range(s: &str) -> Result<[i64; 2], String> {
    let inner = s.trim().trim_matches(|c| "[]()".contains(c));
    let replaced = inner.replace(',', " ");
    let parts: Vec<&str> = replaced.split_whitespace().collect();
    if parts.len() != 2 {
        return Err(format!("argument --view_range: Expected two numbers, got: {inner}"));
    }
    match (parts[0].parse(), parts[1].parse()) {
        (Ok(a), Ok(b)) => Ok([a, b]),
        _ => Err(format!("argument --view_range: Could not convert {parts:?} to integers.").replace('"', "'")),
    }
}

fn read_text(path: &ToolPath) -> Result<String, String> {
    let bytes = fs::read(&path.abs).map_err(|e| os_error(&e, &path.display))?;
    decode_utf8(bytes)
}

fn view(path: &ToolPath, view_range: Option<[i64; 2]>, mut concise: bool) -> Outcome {
    match stat(path) {
        Ok(Some(m)) if m.is_dir() => return view_dir(path),
        Ok(_) => {}
        Err(e) => return Outcome::Error(e),
    }
    if !path.is_py() {
        return Outcome::ResultError(format!(
            "ERROR: Viewing non-Python files is disallowed for saving context. File '{}' is not a .py file.",
            path.name()
        ));
    }
    let text = match read_text(path) {
        Ok(t) => t,
        Err(e) => return Outcome::Error(format!("Unhandled exception: {e}")),
    };
    if view_range.is_none() && !concise && splitlines(&text).len() > CONCISE_THRESHOLD {
        concise = true;
    }
    let entries: Vec<(usize, String)> = if concise {
        elided_lines(&text)
    } else {
        splitlines(&text).into_iter().map(str::to_string).enumerate().collect()
    };
    let total = entries.len() as i64;
    let sliced: Vec<&(usize, String)> = match view_range {
        Some([start, end]) => {
            if !(1 <= start && start <= total) {
                return Outcome::ResultError(format!(
                    "Invalid view_range [{start}, {end}]: start line must be in [1, {total}]"
                ));
            }
            if end != -1 && (end < start || end > total) {
                return Outcome::ResultError(format!(
                    "Invalid view_range [{start}, {end}]: end must be >= start and <= {total}, or -1 to view until end."
                ));
            }
            entries
                .iter()
                .filter(|(i, _)| {
                    let one = *i as i64 + 1;
                    one >= start && (end == -1 || one <= end)
                })
                .collect()
        }
        None => entries.iter().collect(),
    };
    let mut out = if concise {
        format!(
            "Here is a condensed view for file: {}; [Note: Useful for understanding file structure in a concise manner. Please use specific view_range without concise cmd if you want to explore further into the relevant parts.]\n",
            path.display
        )
    } else {
        format!("Here's the result of running `cat -n` on the file: {}:\n", path.display)
    };
    let body: Vec<String> = sliced.iter().map(|(i, t)| format!("{:6} {t}", i + 1)).collect();
    out.push_str(&body.join("\n"));
    Outcome::Output(maybe_truncate(&out))
}

/// `find -L PATH -maxdepth 2 -not -path '*/.*' \( -type d -o -name '*.py' \)`,
/// in name order.
fn view_dir(path: &ToolPath) -> Outcome {
    fn walk(abs: &str, disp: &str, depth: usize, out: &mut Vec<String>, unreadable: &mut Vec<String>) {
        let rd = match fs::read_dir(abs) {
            Ok(rd) => rd,
            Err(e) => return unreadable.push(format!("{disp} ({e})")),
        };
        let mut names: Vec<String> = crate::paths::entries(rd, disp, unreadable)
            .into_iter()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names {
            if name.starts_with('.') {
                continue;
            }
            let child_abs = format!("{}/{name}", abs.trim_end_matches('/'));
            let child_disp = format!("{}/{name}", disp.trim_end_matches('/'));
            let is_dir = fs::metadata(&child_abs).is_ok_and(|m| m.is_dir());
            if is_dir || name.ends_with(".py") {
                out.push(child_disp.clone());
            }
            if is_dir && depth < 2 {
                walk(&child_abs, &child_disp, depth + 1, out, unreadable);
            }
        }
    }
    let mut listing = Vec::new();
    let mut unreadable = Vec::new();
    if !path.display.contains("/.") {
        listing.push(path.display.clone());
        walk(&path.abs, &path.display, 1, &mut listing, &mut unreadable);
    }
    let mut stdout = listing.join("\n");
    if !stdout.is_empty() {
        stdout.push('\n');
    }
    let msg = format!(
        "Here's the files and directories up to 2 levels deep in {}, excluding hidden:\n{stdout}{}",
        path.display,
        crate::paths::unreadable_note(&unreadable)
    );
    Outcome::Output(maybe_truncate(&msg))
}

/// R2E's `_make_output`: `cat -n` numbering with a tab, from `init_line`.
fn make_output(content: &str, descriptor: &str, init_line: usize) -> String {
    let content = expandtabs(&maybe_truncate(content));
    let numbered: Vec<String> =
        content.split('\n').enumerate().map(|(i, l)| format!("{:6}\t{l}", i + init_line)).collect();
    format!("Here's the result of running `cat -n` on {descriptor}:\n{}\n", numbered.join("\n"))
}

fn write(path: &ToolPath, text: &str) -> Result<(), String> {
    fs::write(&path.abs, text).map_err(|e| format!("Failed to write file {}: {}", path.display, os_error(&e, &path.display)))
}

fn create(path: &ToolPath, file_text: Option<&str>, history: &mut History) -> Outcome {
    let Some(text) = file_text else {
        return Outcome::Error("Cannot create file without 'file_text' parameter.".into());
    };
    if let Err(e) = fs::write(&path.abs, text) {
        return Outcome::Error(format!("Error creating file at {}: {}", path.display, os_error(&e, &path.display)));
    }
    history.entry(path.display.clone()).or_default().push(String::new());
    Outcome::Output(format!(
        "File created at {}. {}Review the file and make sure that it is as expected. Edit the file if necessary.",
        path.display,
        make_output(text, &path.display, 1)
    ))
}

fn str_replace(path: &ToolPath, old_str: Option<&str>, new_str: Option<&str>, history: &mut History) -> Outcome {
    let Some(old_str) = old_str else {
        return Outcome::Error("Missing required parameter 'old_str' for 'str_replace'.".into());
    };
    let content = match read_text(path) {
        Ok(t) => expandtabs(&t),
        Err(e) => return Outcome::Error(format!("Failed to read file {}: {e}", path.display)),
    };
    let old = expandtabs(old_str);
    let new = expandtabs(new_str.unwrap_or(""));
    match count(&content, &old) {
        0 => {
            return Outcome::Error(format!("No occurrences of '{old}' found in {} for replacement.", path.display));
        }
        1 => {}
        _ => {
            return Outcome::Error(format!(
                "Multiple occurrences of '{old}' found in {}. Please ensure it is unique before using str_replace.",
                path.display
            ));
        }
    }
    let updated = content.replace(&old, &new);
    history.entry(path.display.clone()).or_default().push(content.clone());
    if let Err(e) = write(path, &updated) {
        return Outcome::Error(e);
    }
    let before = if old.is_empty() { "" } else { content.split(old.as_str()).next().unwrap_or("") };
    let replacement_line = before.matches('\n').count();
    let start = replacement_line.saturating_sub(SNIPPET_LINES);
    let end = replacement_line + SNIPPET_LINES + new.matches('\n').count();
    let lines: Vec<&str> = updated.split('\n').collect();
    let snippet = lines[start.min(lines.len())..(end + 1).min(lines.len())].join("\n");
    Outcome::Output(format!(
        "The file {} has been edited. {}Review the changes and make sure they are as expected. Edit the file again if necessary.",
        path.display,
        make_output(&snippet, &format!("a snippet of {}", path.display), start + 1)
    ))
}

fn insert(path: &ToolPath, insert_line: Option<i64>, new_str: Option<&str>, history: &mut History) -> Outcome {
    let Some(new_str) = new_str else {
        return Outcome::Error("Missing required parameter 'new_str' for 'insert'.".into());
    };
    let Some(line) = insert_line else {
        return Outcome::Error("Missing required parameter 'insert_line' for 'insert'.".into());
    };
    let old_text = match read_text(path) {
        Ok(t) => expandtabs(&t),
        Err(e) => return Outcome::Error(format!("Failed to read file {}: {e}", path.display)),
    };
    let new_text = expandtabs(new_str);
    let lines: Vec<&str> = old_text.split('\n').collect();
    if line < 0 || line as usize > lines.len() {
        return Outcome::Error(format!("Invalid insert_line {line}. Must be in [0, {}].", lines.len()));
    }
    let at = line as usize;
    let new_lines: Vec<&str> = new_text.split('\n').collect();
    let mut updated_lines = lines[..at].to_vec();
    updated_lines.extend(&new_lines);
    updated_lines.extend(&lines[at..]);
    let updated = updated_lines.join("\n");
    history.entry(path.display.clone()).or_default().push(old_text.clone());
    if let Err(e) = write(path, &updated) {
        return Outcome::Error(e);
    }
    let mut snippet_lines = lines[at.saturating_sub(SNIPPET_LINES)..at].to_vec();
    snippet_lines.extend(&new_lines);
    snippet_lines.extend(&lines[at..(at + SNIPPET_LINES).min(lines.len())]);
    let init = (at as i64 - SNIPPET_LINES as i64 + 1).max(1) as usize;
    Outcome::Output(format!(
        "The file {} has been edited. {}Review the changes and make sure they are as expected (correct indentation, no duplicate lines, etc). Edit the file again if necessary.",
        path.display,
        make_output(&snippet_lines.join("\n"), "a snippet of the edited file", init)
    ))
}

fn undo_edit(path: &ToolPath, history: &mut History) -> Outcome {
    let Some(old_text) = history.get_mut(&path.display).and_then(Vec::pop) else {
        return Outcome::Error(format!("No previous edits found for {} to undo.", path.display));
    };
    if history.get(&path.display).is_some_and(Vec::is_empty) {
        history.remove(&path.display);
    }
    if let Err(e) = write(path, &old_text) {
        return Outcome::Error(e);
    }
    Outcome::Output(format!(
        "Last edit to {} undone successfully. {}",
        path.display,
        make_output(&old_text, &path.display, 1)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_range_forms() {
        assert_eq!(parse_view_range("[3, 7]").unwrap(), [3, 7]);
        assert_eq!(parse_view_range("(1 -1)").unwrap(), [1, -1]);
        assert!(parse_view_range("[1]").is_err());
    }

    #[test]
    fn numbered_snippet() {
        assert_eq!(
            make_output("a\n\tb", "x", 9),
            "Here's the result of running `cat -n` on x:\n     9\ta\n    10\t        b\n"
        );
    }
}
