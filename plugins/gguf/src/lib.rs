//! GGUF reading and conversion to HuggingFace model folders.
//!
//! - [`GgufFile`] reads a GGUF file (format versions 2 and 3): the header,
//!   every metadata value (all thirteen types, nested arrays included), the
//!   tensor table and the data offsets (`general.alignment`, default 32).
//!   Every count, length and offset is checked against the file before it is
//!   used, so a truncated or corrupt file is an error naming the file and the
//!   key or tensor involved, never a panic or a huge allocation.
//! - [`GgufFile::tensor_f32`] dequantises F32, F16, BF16, Q8_0, Q4_0 and
//!   Q4_1 tensors (ggml's block layouts, see the `dequant` module source).
//! - [`import_llama`] turns a `llama` GGUF into a folder transformers loads
//!   as `LlamaForCausalLM`: `config.json`, f32 `model.safetensors`,
//!   `tokenizer.json`, `tokenizer_config.json` and `generation_config.json`.
//!
//! # Tensor layout
//!
//! GGUF lists dimensions innermost first: a PyTorch `[out, in]` weight has
//! ggml `ne = [in, out]` and the same bytes, so most tensors only change
//! name. The exception is attention Q and K: llama.cpp's converter reorders
//! their rows for its RoPE kernel, which rotates adjacent pairs where HF
//! rotates the two halves of each head. Within each head of `head_dim = 2·half`
//! rows, GGUF row `2j + i` is HF row `i·half + j` (`i ∈ {0, 1}`); the import
//! undoes this, with the query head count for Q and the key/value head count
//! for K.
//!
//! ```no_run
//! use entropo_gguf::GgufFile;
//! let gguf = GgufFile::open("SmolLM2-135M-Instruct.Q4_1.gguf")?;
//! assert_eq!(gguf.architecture(), Some("llama"));
//! let layers = gguf.get("llama.block_count").and_then(|v| v.as_u64());
//! let summary = entropo_gguf::import_llama(gguf.path(), "models/smollm2")?;
//! println!("{summary}");
//! # Ok::<(), entropo_gguf::GgufError>(())
//! ```

#![warn(missing_docs)]

mod dequant;
mod error;
mod llama;
mod output;
mod reader;
#[cfg(test)]
mod test_gguf;
mod tokenizer;
mod types;
mod value;

pub use error::GgufError;
pub use llama::{ImportSummary, import_llama, import_llama_with_progress};
pub use reader::{ALIGNMENT_KEY, DEFAULT_ALIGNMENT, GgufFile, TensorInfo};
pub use types::GgmlType;
pub use value::{MetadataValue, ValueType};
