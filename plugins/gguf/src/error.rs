//! The one error type of this crate.

use std::path::PathBuf;

use crate::GgmlType;

/// Everything that can go wrong reading a GGUF file or converting it.
///
/// Every variant names the file, and where it applies the metadata key or
/// the tensor involved, so the message alone locates the problem.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GgufError {
    /// The file could not be opened, read or written.
    #[error("{}: {what}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What was being done, e.g. `reading tensor blk.0.attn_q.weight`.
        what: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file does not start with the `GGUF` magic.
    #[error("{}: not a GGUF file (starts with {magic:02x?}, expected \"GGUF\")", path.display())]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// Its first bytes.
        magic: Vec<u8>,
    },
    /// A GGUF version other than 2 or 3.
    #[error("{}: GGUF version {version} is not supported (only 2 and 3)", path.display())]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// The version in the header.
        version: u32,
    },
    /// The file ends before the header, metadata or tensor table does.
    #[error("{}: truncated: the file ends at byte {file_len} while reading {what} (needs {needed} bytes at byte {offset})", path.display())]
    Truncated {
        /// The file.
        path: PathBuf,
        /// What was being read, e.g. ``the value of `general.name` ``.
        what: String,
        /// Where the read started.
        offset: u64,
        /// How many bytes it needed.
        needed: u64,
        /// The length of the file.
        file_len: u64,
    },
    /// A header field, metadata key or value is not well formed (an absurd
    /// count, invalid UTF-8, an unknown value type, …).
    #[error("{}: {what}: {reason}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is malformed, e.g. ``the value of `tokenizer.ggml.tokens` ``.
        what: String,
        /// Why.
        reason: String,
    },
    /// A metadata key appears twice.
    #[error("{}: metadata key `{key}` appears twice", path.display())]
    DuplicateKey {
        /// The file.
        path: PathBuf,
        /// The key.
        key: String,
    },
    /// A needed metadata key is absent.
    #[error("{}: metadata key `{key}` is missing", path.display())]
    MissingKey {
        /// The file.
        path: PathBuf,
        /// The key.
        key: String,
    },
    /// A metadata value has the wrong type or an out-of-range value.
    #[error("{}: metadata key `{key}`: expected {expected}, found {found}", path.display())]
    BadValue {
        /// The file.
        path: PathBuf,
        /// The key.
        key: String,
        /// What the key should hold.
        expected: String,
        /// What it holds (abbreviated).
        found: String,
    },
    /// A tensor's entry in the tensor table is unusable: unknown type,
    /// bad dimensions, a misaligned offset or data outside the file.
    #[error("{}: tensor `{tensor}`: {reason}", path.display())]
    BadTensor {
        /// The file.
        path: PathBuf,
        /// The tensor.
        tensor: String,
        /// Why.
        reason: String,
    },
    /// Dequantising this tensor's type is not implemented.
    #[error("{}: tensor `{tensor}` has type {dtype}, which cannot be dequantised (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1)", path.display())]
    UnsupportedType {
        /// The file.
        path: PathBuf,
        /// The tensor.
        tensor: String,
        /// Its type.
        dtype: GgmlType,
    },
    /// A tensor the conversion needs is absent.
    #[error("{}: tensor `{tensor}` is missing", path.display())]
    MissingTensor {
        /// The file.
        path: PathBuf,
        /// The tensor.
        tensor: String,
    },
    /// A tensor has a shape other than the one the metadata implies.
    #[error("{}: tensor `{tensor}` has GGUF dimensions {found:?}, expected {expected:?}", path.display())]
    BadShape {
        /// The file.
        path: PathBuf,
        /// The tensor.
        tensor: String,
        /// The dimensions the metadata implies (innermost first).
        expected: Vec<u64>,
        /// The dimensions in the file (innermost first).
        found: Vec<u64>,
    },
    /// The conversion does not know what to do with this tensor.
    #[error("{}: tensor `{tensor}` is not supported by the conversion: {reason}", path.display())]
    UnsupportedTensor {
        /// The file.
        path: PathBuf,
        /// The tensor.
        tensor: String,
        /// Why.
        reason: String,
    },
    /// The model's `general.architecture` is not one the conversion handles.
    #[error("{}: `general.architecture` is `{architecture}`, only `llama` can be imported", path.display())]
    UnsupportedArchitecture {
        /// The file.
        path: PathBuf,
        /// The architecture it names.
        architecture: String,
    },
    /// The tokenizer metadata describes a tokenizer the conversion cannot
    /// express as a HuggingFace tokenizer.
    #[error("{}: metadata key `{key}` = `{value}` is not supported: {reason}", path.display())]
    UnsupportedTokenizer {
        /// The file.
        path: PathBuf,
        /// The key, e.g. `tokenizer.ggml.model`.
        key: String,
        /// Its value.
        value: String,
        /// What is supported instead.
        reason: String,
    },
    /// The output folder already exists and is not empty.
    #[error("{}: output folder exists and is not empty", path.display())]
    OutputExists {
        /// The folder.
        path: PathBuf,
    },
    /// Writing `model.safetensors` failed.
    #[error("{}: writing safetensors: {message}", path.display())]
    Safetensors {
        /// The file being written.
        path: PathBuf,
        /// The safetensors crate's message.
        message: String,
    },
}
