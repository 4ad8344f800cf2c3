//! Errors of model loading, adapters and training.

use std::path::PathBuf;

/// Why a model, adapter or training run could not be used.
///
/// Every variant names the file and, where it applies, the tensor or the
/// config field at fault.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A JSON file does not parse or misses a field.
    #[error("{path}: {reason}")]
    Json {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the field's path.
        reason: String,
    },
    /// A config value is present but unusable.
    #[error("{path}: {field}: {reason}")]
    Config {
        /// The file.
        path: PathBuf,
        /// The field.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A safetensors file is malformed.
    #[error("{path}: not a readable safetensors file: {reason}")]
    Safetensors {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        reason: String,
    },
    /// A tensor the architecture needs is absent.
    #[error("{path}: missing tensor {name}")]
    MissingTensor {
        /// The file (or folder) searched.
        path: PathBuf,
        /// The HuggingFace tensor name.
        name: String,
    },
    /// A tensor has the wrong shape.
    #[error("{path}: tensor {name} has shape {found:?}, expected {expected:?}")]
    Shape {
        /// The file holding it.
        path: PathBuf,
        /// The tensor name.
        name: String,
        /// The shape the config implies.
        expected: Vec<usize>,
        /// The shape stored.
        found: Vec<usize>,
    },
    /// A tensor's element type is not supported.
    #[error("{path}: tensor {name} has unsupported dtype {dtype}")]
    Dtype {
        /// The file holding it.
        path: PathBuf,
        /// The tensor name.
        name: String,
        /// The dtype found.
        dtype: String,
    },
    /// A file could not be written (or a JSONL file read).
    #[error(transparent)]
    File(#[from] entropo_core::io::IoError),
    /// The tokenizer or chat template failed.
    #[error("tokenizer: {0}")]
    Text(#[from] entropo_text::TextError),
    /// A training or sampling input is invalid.
    #[error("{0}")]
    Invalid(String),
    /// The sampling engine stopped or failed (see [`crate::engine`]).
    #[error("engine: {0}")]
    Engine(String),
    /// The loss plugin rejected a batch.
    #[error("loss {loss}: {source}")]
    Loss {
        /// The loss plugin's name.
        loss: String,
        /// Its error.
        source: entropo_core::loss::LossError,
    },
}

impl ModelError {
    /// An I/O error on `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ModelError::Io { path: path.into(), source }
    }
}
