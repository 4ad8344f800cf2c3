use std::fmt;
use std::path::{Path, PathBuf};

use crate::io::IoError;

/// Where a row sits in its file: a 1-based line of a JSON Lines file, or a
/// 0-based index into a JSON array.
///
/// ```
/// use entropo_core::formats::RowRef;
/// assert_eq!(RowRef::Line(3).to_string(), "line 3");
/// assert_eq!(RowRef::Index(0).to_string(), "index 0");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RowRef {
    /// 1-based line number (JSON Lines).
    Line(usize),
    /// 0-based position in a top-level JSON array.
    Index(usize),
}

impl fmt::Display for RowRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RowRef::Line(n) => write!(f, "line {n}"),
            RowRef::Index(i) => write!(f, "index {i}"),
        }
    }
}

/// Why an import or export failed.
///
/// Row errors print like compiler messages: `tasks.jsonl:4 (astropy__astropy-12907):
/// FAIL_TO_PASS: missing field` for JSON Lines, `tasks.json[3] (…): …` for a
/// JSON array.
///
/// ```
/// use entropo_core::formats::{FormatError, RowRef};
/// let e = FormatError::invalid("chosen", "empty continuation")
///     .at("pairs.jsonl".as_ref(), RowRef::Line(2), None);
/// assert_eq!(e.to_string(), "pairs.jsonl:2: chosen: empty continuation");
/// ```
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// Reading or writing a file failed, or a JSON Lines row is not the JSON
    /// expected (the message names file, line and field).
    #[error(transparent)]
    Io(#[from] IoError),
    /// The file is neither JSON Lines nor a JSON array.
    #[error("{}: {message}", file.display())]
    Syntax {
        /// The file.
        file: PathBuf,
        /// What the JSON parser said (with line and column).
        message: String,
    },
    /// One row is missing a field or holds a malformed one.
    #[error("{}", row_message(file, *row, instance_id.as_deref(), field, message))]
    Row {
        /// The file.
        file: PathBuf,
        /// Where the row is.
        row: RowRef,
        /// The row's id (`instance_id` for SWE-bench rows) when readable.
        instance_id: Option<String>,
        /// The field at fault (a path such as `conversations[3].from`); empty
        /// when the row as a whole is wrong.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A value cannot be converted (no file involved yet).
    #[error("{}", if field.is_empty() { message.clone() } else { format!("{field}: {message}") })]
    Invalid {
        /// The field at fault, as a path.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A format name that [`ExportFormat`](super::ExportFormat) does not know.
    #[error("unknown format `{name}`; expected one of: {expected}")]
    UnknownFormat {
        /// The name given.
        name: String,
        /// The names known, comma-separated.
        expected: String,
    },
}

fn row_message(file: &Path, row: RowRef, id: Option<&str>, field: &str, message: &str) -> String {
    let mut s = file.display().to_string();
    match row {
        RowRef::Line(n) => s.push_str(&format!(":{n}")),
        RowRef::Index(i) => s.push_str(&format!("[{i}]")),
    }
    if let Some(id) = id {
        s.push_str(&format!(" ({id})"));
    }
    s.push_str(": ");
    if !field.is_empty() {
        s.push_str(field);
        s.push_str(": ");
    }
    s.push_str(message);
    s
}

impl FormatError {
    /// An [`Invalid`](FormatError::Invalid) error for `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        FormatError::Invalid { field: field.into(), message: message.into() }
    }

    /// Places an [`Invalid`](FormatError::Invalid) error at a row of a file;
    /// other errors are returned unchanged.
    pub fn at(self, file: &Path, row: RowRef, instance_id: Option<&str>) -> Self {
        match self {
            FormatError::Invalid { field, message } => FormatError::Row {
                file: file.to_path_buf(),
                row,
                instance_id: instance_id.map(str::to_string),
                field,
                message,
            },
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_errors_name_file_row_id_and_field() {
        let e = FormatError::invalid("FAIL_TO_PASS", "missing field").at(
            Path::new("lite.jsonl"),
            RowRef::Line(4),
            Some("psf__requests-863"),
        );
        assert_eq!(e.to_string(), "lite.jsonl:4 (psf__requests-863): FAIL_TO_PASS: missing field");
        let e = FormatError::invalid("", "not an object").at(Path::new("a.json"), RowRef::Index(7), None);
        assert_eq!(e.to_string(), "a.json[7]: not an object");
    }
}
