//! Reading rows with their positions, shared by every importer.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{FormatError, RowRef};
use crate::io::{self, IoError};

/// Reads a file whole.
pub(crate) fn read_text(path: &Path) -> Result<String, FormatError> {
    std::fs::read_to_string(path)
        .map_err(|source| FormatError::Io(IoError::Os { file: path.to_path_buf(), source }))
}

/// 1-based numbers of the lines [`io::parse_jsonl`] reads (it skips blank
/// ones), in order, so its rows can be matched to their lines.
fn nonblank_lines(text: &str) -> impl Iterator<Item = usize> + '_ {
    text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()).map(|(i, _)| i + 1)
}

/// Parses JSON Lines of `T` with [`io::parse_jsonl`], keeping each row's line.
pub(crate) fn parse_jsonl_rows<T: DeserializeOwned>(
    text: &str,
    file: &Path,
) -> Result<Vec<(RowRef, T)>, FormatError> {
    let rows: Vec<T> = io::parse_jsonl(text, file)?;
    Ok(nonblank_lines(text).map(RowRef::Line).zip(rows).collect())
}

/// Parses JSON Lines or a JSON array (told apart by the first non-blank
/// character) into untyped rows with their positions.
pub(crate) fn parse_value_rows(text: &str, file: &Path) -> Result<Vec<(RowRef, Value)>, FormatError> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    if body.trim_start().starts_with('[') {
        let rows: Vec<Value> = serde_json::from_str(body).map_err(|e| FormatError::Syntax {
            file: file.to_path_buf(),
            message: format!("not a JSON array of rows: {e}"),
        })?;
        Ok(rows.into_iter().enumerate().map(|(i, v)| (RowRef::Index(i), v)).collect())
    } else {
        parse_jsonl_rows(body, file)
    }
}

/// Deserialises one row, naming the field path on failure
/// (`conversations[2].from: unknown variant …`, `label: unknown field …`).
pub(crate) fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, FormatError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        // serde_path_to_error's path already ends with the key of an unknown
        // field, but not with that of a missing one; "." is the row itself.
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        let missing = message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next());
        let field = match (path.as_str(), missing) {
            (".", Some(name)) => name.to_string(),
            (".", None) => String::new(),
            (p, Some(name)) => format!("{p}.{name}"),
            (p, None) => p.to_string(),
        };
        FormatError::Invalid { field, message }
    })
}

/// The task id for an imported row: its own `task_id` column when it has a
/// string one, else `<file stem>:<line>` (or `<file stem>[<index>]`).
pub(crate) fn task_id_for(value: &Value, file: &Path, row: RowRef) -> String {
    if let Some(id) = value.get("task_id").and_then(Value::as_str) {
        return id.to_string();
    }
    let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    match row {
        RowRef::Line(n) => format!("{stem}:{n}"),
        RowRef::Index(i) => format!("{stem}[{i}]"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonl_rows_keep_their_lines_across_blank_lines() {
        let rows = parse_value_rows("{\"a\":1}\n\n  \n{\"a\":2}\n", Path::new("x.jsonl")).unwrap();
        assert_eq!(rows[0].0, RowRef::Line(1));
        assert_eq!(rows[1].0, RowRef::Line(4));
        assert_eq!(rows[1].1["a"], 2);
    }

    #[test]
    fn arrays_are_detected_by_their_first_character() {
        let rows = parse_value_rows("\n  [{\"a\":1},{\"a\":2}]", Path::new("x.json")).unwrap();
        assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), [RowRef::Index(0), RowRef::Index(1)]);
        let e = parse_value_rows("[{\"a\":1},", Path::new("x.json")).unwrap_err();
        assert!(e.to_string().starts_with("x.json: not a JSON array"), "{e}");
    }

    #[test]
    fn bad_jsonl_names_file_and_line() {
        let e = parse_value_rows("{}\n{oops\n", Path::new("x.jsonl")).unwrap_err();
        assert!(e.to_string().starts_with("x.jsonl:2:"), "{e}");
    }

    #[test]
    fn task_ids_come_from_the_row_or_its_position() {
        let f = Path::new("/d/pairs.jsonl");
        assert_eq!(task_id_for(&serde_json::json!({"task_id": "t9"}), f, RowRef::Line(2)), "t9");
        assert_eq!(task_id_for(&serde_json::json!({}), f, RowRef::Line(2)), "pairs:2");
        assert_eq!(task_id_for(&serde_json::json!({}), f, RowRef::Index(0)), "pairs[0]");
    }
}
