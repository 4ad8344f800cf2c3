//! File helpers every stage uses: atomic writes and JSON Lines with errors
//! that name the file and line.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Why a file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    /// The operating system refused.
    #[error("{file}: {source}")]
    Os {
        /// The file.
        file: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A line is not the JSON expected.
    #[error("{file}:{line}: {message}")]
    Parse {
        /// The file.
        file: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong, with the field path when known.
        message: String,
    },
    /// A value could not be serialised.
    #[error("{file}: cannot serialise: {message}")]
    Serialise {
        /// The file.
        file: PathBuf,
        /// What serde said.
        message: String,
    },
}

fn os(file: &Path) -> impl FnOnce(std::io::Error) -> IoError + '_ {
    move |source| IoError::Os { file: file.to_path_buf(), source }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder,
/// flushed, then renamed over `path`. A crash leaves the old file or the new
/// one, never half of one. Parent folders are created.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("a/b.txt");
/// entropo_core::io::write_atomic(&p, b"hello").unwrap();
/// assert_eq!(std::fs::read(&p).unwrap(), b"hello");
/// ```
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), IoError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(os(dir))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(os(path))
}

/// Serialises `rows` as JSON Lines and writes them atomically.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("rows.jsonl");
/// entropo_core::io::write_jsonl(&p, &[1, 2, 3]).unwrap();
/// let back: Vec<u32> = entropo_core::io::read_jsonl(&p).unwrap();
/// assert_eq!(back, vec![1, 2, 3]);
/// ```
pub fn write_jsonl<T: Serialize>(path: &Path, rows: &[T]) -> Result<(), IoError> {
    let mut out = Vec::new();
    for row in rows {
        serde_json::to_writer(&mut out, row)
            .map_err(|e| IoError::Serialise { file: path.to_path_buf(), message: e.to_string() })?;
        out.push(b'\n');
    }
    write_atomic(path, &out)
}

/// Reads JSON Lines, skipping blank lines. An error names the file, the line
/// and the field (`tasks.jsonl:3: fail_to_pass: invalid type…`).
pub fn read_jsonl<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>, IoError> {
    let text = std::fs::read_to_string(path).map_err(os(path))?;
    parse_jsonl(&text, path)
}

/// Parses JSON Lines already in memory; `file` is named in errors.
pub fn parse_jsonl<T: DeserializeOwned>(text: &str, file: &Path) -> Result<Vec<T>, IoError> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let mut de = serde_json::Deserializer::from_str(line);
        let row = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let message = e.into_inner().to_string();
            let key = crate::registry::error_key(&path, &message);
            IoError::Parse {
                file: file.to_path_buf(),
                line: i + 1,
                message: if key == "<root>" { message } else { format!("{key}: {message}") },
            }
        })?;
        rows.push(row);
    }
    Ok(rows)
}
