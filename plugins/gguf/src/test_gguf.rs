//! A GGUF writer for tests: builds files with chosen metadata and tensors.

use std::path::{Path, PathBuf};

use crate::{GgmlType, MetadataValue};

/// A GGUF file under construction.
pub(crate) struct GgufBuilder {
    pub version: u32,
    pub metadata: Vec<(String, MetadataValue)>,
    pub tensors: Vec<(String, Vec<u64>, GgmlType, Vec<u8>)>,
}

impl GgufBuilder {
    pub fn new() -> Self {
        GgufBuilder {
            version: 3,
            metadata: Vec::new(),
            tensors: Vec::new(),
        }
    }

    pub fn kv(mut self, key: &str, value: MetadataValue) -> Self {
        self.metadata.push((key.to_string(), value));
        self
    }

    /// A tensor with raw data (`dims` innermost first).
    pub fn tensor(mut self, name: &str, dims: &[u64], dtype: GgmlType, data: Vec<u8>) -> Self {
        self.tensors
            .push((name.to_string(), dims.to_vec(), dtype, data));
        self
    }

    /// An F32 tensor (`dims` innermost first).
    pub fn f32_tensor(self, name: &str, dims: &[u64], values: &[f32]) -> Self {
        assert_eq!(dims.iter().product::<u64>(), values.len() as u64, "{name}");
        let data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.tensor(name, dims, GgmlType::F32, data)
    }

    fn alignment(&self) -> u64 {
        self.metadata
            .iter()
            .find(|(k, _)| k == crate::reader::ALIGNMENT_KEY)
            .and_then(|(_, v)| v.as_u64())
            .unwrap_or(crate::reader::DEFAULT_ALIGNMENT)
    }

    /// The file's bytes, each tensor's data at the next aligned offset.
    pub fn bytes(&self) -> Vec<u8> {
        let alignment = self.alignment();
        let mut out = b"GGUF".to_vec();
        out.extend(self.version.to_le_bytes());
        out.extend((self.tensors.len() as u64).to_le_bytes());
        out.extend((self.metadata.len() as u64).to_le_bytes());
        for (key, value) in &self.metadata {
            write_string(&mut out, key);
            out.extend(value.value_type().id().to_le_bytes());
            write_value(&mut out, value);
        }
        let mut offset = 0u64;
        let mut offsets = Vec::new();
        for (name, dims, dtype, data) in &self.tensors {
            write_string(&mut out, name);
            out.extend((dims.len() as u32).to_le_bytes());
            for d in dims {
                out.extend(d.to_le_bytes());
            }
            out.extend(dtype.id().to_le_bytes());
            out.extend(offset.to_le_bytes());
            offsets.push(offset);
            offset = (offset + data.len() as u64).next_multiple_of(alignment);
        }
        let data_start = (out.len() as u64).next_multiple_of(alignment);
        for ((_, _, _, data), offset) in self.tensors.iter().zip(offsets) {
            out.resize((data_start + offset) as usize, 0);
            out.extend(data);
        }
        out
    }

    /// Writes the file as `dir/name` and returns its path.
    pub fn write(&self, dir: &Path, name: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, self.bytes()).unwrap();
        path
    }
}

pub fn write_string(out: &mut Vec<u8>, s: &str) {
    out.extend((s.len() as u64).to_le_bytes());
    out.extend(s.as_bytes());
}

fn write_value(out: &mut Vec<u8>, value: &MetadataValue) {
    match value {
        MetadataValue::U8(v) => out.push(*v),
        MetadataValue::I8(v) => out.extend(v.to_le_bytes()),
        MetadataValue::U16(v) => out.extend(v.to_le_bytes()),
        MetadataValue::I16(v) => out.extend(v.to_le_bytes()),
        MetadataValue::U32(v) => out.extend(v.to_le_bytes()),
        MetadataValue::I32(v) => out.extend(v.to_le_bytes()),
        MetadataValue::F32(v) => out.extend(v.to_le_bytes()),
        MetadataValue::Bool(v) => out.push(u8::from(*v)),
        MetadataValue::String(s) => write_string(out, s),
        MetadataValue::Array(ty, items) => {
            out.extend(ty.id().to_le_bytes());
            out.extend((items.len() as u64).to_le_bytes());
            for item in items {
                write_value(out, item);
            }
        }
        MetadataValue::U64(v) => out.extend(v.to_le_bytes()),
        MetadataValue::I64(v) => out.extend(v.to_le_bytes()),
        MetadataValue::F64(v) => out.extend(v.to_le_bytes()),
    }
}

/// A string value.
pub fn s(v: &str) -> MetadataValue {
    MetadataValue::String(v.to_string())
}

/// An array of strings.
pub fn strings<'a>(items: impl IntoIterator<Item = &'a str>) -> MetadataValue {
    MetadataValue::Array(crate::ValueType::String, items.into_iter().map(s).collect())
}

/// GPT-2's byte-to-symbol map (bytes_to_unicode): printable bytes stand
/// for themselves, the others for U+0100 onwards.
pub fn byte_symbols() -> Vec<String> {
    let mut bytes: Vec<u32> = (0x21..=0x7E)
        .chain(0xA1..=0xAC)
        .chain(0xAE..=0xFF)
        .collect();
    let mut chars = bytes.clone();
    let mut next = 256;
    for b in 0..256 {
        if !bytes.contains(&b) {
            bytes.push(b);
            chars.push(next);
            next += 1;
        }
    }
    let mut out = vec![String::new(); 256];
    for (b, c) in bytes.iter().zip(&chars) {
        out[*b as usize] = char::from_u32(*c).unwrap().to_string();
    }
    out
}

/// Control tokens 0..3, then a user-defined one.
pub const SPECIALS: [&str; 4] = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<tool>"];
/// Merges giving "12", "34", "123", "45", "hi", "Ġhi".
pub const MERGES: [&str; 6] = ["1 2", "3 4", "12 3", "4 5", "h i", "Ġ hi"];

/// The specials, the 256 byte symbols, then the merged tokens (266 in all).
pub fn vocab() -> Vec<String> {
    let mut tokens: Vec<String> = SPECIALS.iter().map(|t| t.to_string()).collect();
    tokens.extend(byte_symbols());
    tokens.extend(MERGES.iter().map(|m| m.replace(' ', "")));
    tokens
}

/// A GGUF holding only tokenizer metadata, like SmolLM2's.
pub fn tokenizer_gguf(pre: &str) -> GgufBuilder {
    let tokens = vocab();
    let types: Vec<MetadataValue> = (0..tokens.len())
        .map(|i| {
            MetadataValue::I32(match i {
                0..3 => 3,
                3 => 4,
                _ => 1,
            })
        })
        .collect();
    GgufBuilder::new()
        .kv("tokenizer.ggml.model", s("gpt2"))
        .kv("tokenizer.ggml.pre", s(pre))
        .kv(
            "tokenizer.ggml.tokens",
            strings(tokens.iter().map(String::as_str)),
        )
        .kv(
            "tokenizer.ggml.token_type",
            MetadataValue::Array(crate::ValueType::I32, types),
        )
        .kv("tokenizer.ggml.merges", strings(MERGES))
        .kv("tokenizer.ggml.bos_token_id", MetadataValue::U32(1))
        .kv("tokenizer.ggml.eos_token_id", MetadataValue::U32(2))
        .kv("tokenizer.chat_template", s("{{ messages }}"))
}
