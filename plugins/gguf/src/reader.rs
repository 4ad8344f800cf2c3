//! Parsing a GGUF file: header, metadata, tensor table, data offsets.
//!
//! Layout (little-endian, versions 2 and 3):
//!
//! ```text
//! "GGUF" | version u32 | n_tensors u64 | n_kv u64
//! n_kv ×      key (u64 length + UTF-8) | value type u32 | value
//! n_tensors × name | n_dims u32 | dims u64 × n_dims (innermost first) | ggml type u32 | offset u64
//! padding to `general.alignment` (default 32)
//! tensor data; each tensor at data start + its offset (a multiple of the alignment)
//! ```
//!
//! Every count and length is checked against the bytes left in the file
//! before anything is allocated, so a corrupt file gives an error, never a
//! huge allocation or a panic.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::dequant;
use crate::{GgmlType, GgufError, MetadataValue, ValueType};

/// The alignment of tensor data when `general.alignment` is absent.
pub const DEFAULT_ALIGNMENT: u64 = 32;

/// The metadata key that sets the alignment.
pub const ALIGNMENT_KEY: &str = "general.alignment";

/// Arrays nested deeper than this are rejected (no real file nests at all
/// beyond one level; the limit keeps a hostile file from exhausting the stack).
const MAX_ARRAY_DEPTH: usize = 8;

/// ggml tensors have at most four dimensions.
const MAX_DIMS: u32 = 4;

/// One entry of the tensor table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    name: String,
    dims: Vec<u64>,
    dtype: GgmlType,
    offset: u64,
    n_elements: u64,
    byte_len: u64,
}

impl TensorInfo {
    /// The tensor's name, e.g. `blk.0.attn_q.weight`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The dimensions as GGUF stores them, innermost first (ggml's `ne`): a
    /// PyTorch `[out, in]` weight has `dims() == [in, out]`.
    pub fn dims(&self) -> &[u64] {
        &self.dims
    }

    /// The dimensions outermost first, as PyTorch and safetensors write them.
    pub fn shape(&self) -> Vec<u64> {
        self.dims.iter().rev().copied().collect()
    }

    /// The element type.
    pub fn dtype(&self) -> GgmlType {
        self.dtype
    }

    /// Where the data starts, relative to the start of the data section.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The number of elements.
    pub fn n_elements(&self) -> u64 {
        self.n_elements
    }

    /// The number of bytes of data.
    pub fn byte_len(&self) -> u64 {
        self.byte_len
    }
}

/// An open GGUF file: its metadata and tensor table, read and checked, and a
/// handle to read tensor data on demand.
///
/// ```no_run
/// let gguf = entropo_gguf::GgufFile::open("model.gguf")?;
/// println!("{:?}", gguf.architecture());
/// for t in gguf.tensors() {
///     println!("{} {} {:?}", t.name(), t.dtype(), t.shape());
/// }
/// let embeddings = gguf.tensor_f32(gguf.tensor("token_embd.weight").unwrap())?;
/// # Ok::<(), entropo_gguf::GgufError>(())
/// ```
#[derive(Debug)]
pub struct GgufFile {
    path: PathBuf,
    file: Mutex<File>,
    file_len: u64,
    version: u32,
    metadata: Vec<(String, MetadataValue)>,
    keys: HashMap<String, usize>,
    tensors: Vec<TensorInfo>,
    names: HashMap<String, usize>,
    alignment: u64,
    data_offset: u64,
}

impl GgufFile {
    /// Opens and parses `path`, checking the header, every metadata value,
    /// and that every tensor's data lies inside the file at an aligned offset.
    pub fn open(path: impl AsRef<Path>) -> Result<GgufFile, GgufError> {
        let path = path.as_ref().to_path_buf();
        let io = |what: &str| {
            let path = path.clone();
            let what = what.to_string();
            move |source| GgufError::Io { path, what, source }
        };
        let file = File::open(&path).map_err(io("opening"))?;
        let file_len = file.metadata().map_err(io("reading the length"))?.len();
        let mut parser = Parser {
            input: BufReader::with_capacity(1 << 16, &file),
            pos: 0,
            len: file_len,
            path: &path,
        };
        let header = parser.parse()?;
        Ok(GgufFile {
            file: Mutex::new(file),
            file_len,
            version: header.version,
            keys: header
                .metadata
                .iter()
                .enumerate()
                .map(|(i, (k, _))| (k.clone(), i))
                .collect(),
            metadata: header.metadata,
            names: header
                .tensors
                .iter()
                .enumerate()
                .map(|(i, t)| (t.name.clone(), i))
                .collect(),
            tensors: header.tensors,
            alignment: header.alignment,
            data_offset: header.data_offset,
            path,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The GGUF version (2 or 3).
    pub fn version(&self) -> u32 {
        self.version
    }

    /// Every metadata entry, in file order.
    pub fn metadata(&self) -> &[(String, MetadataValue)] {
        &self.metadata
    }

    /// The value of a metadata key.
    pub fn get(&self, key: &str) -> Option<&MetadataValue> {
        self.keys.get(key).map(|&i| &self.metadata[i].1)
    }

    /// `general.architecture`, e.g. `llama`, when present and a string.
    pub fn architecture(&self) -> Option<&str> {
        self.get("general.architecture")
            .and_then(MetadataValue::as_str)
    }

    /// The alignment of tensor data (`general.alignment`, default 32).
    pub fn alignment(&self) -> u64 {
        self.alignment
    }

    /// Where the data section starts, in bytes from the start of the file.
    pub fn data_offset(&self) -> u64 {
        self.data_offset
    }

    /// The tensor table, in file order.
    pub fn tensors(&self) -> &[TensorInfo] {
        &self.tensors
    }

    /// The tensor with this name.
    pub fn tensor(&self, name: &str) -> Option<&TensorInfo> {
        self.names.get(name).map(|&i| &self.tensors[i])
    }

    /// The raw bytes of a tensor of this file.
    pub fn tensor_bytes(&self, info: &TensorInfo) -> Result<Vec<u8>, GgufError> {
        let io = |source| GgufError::Io {
            path: self.path.clone(),
            what: format!("reading tensor `{}`", info.name),
            source,
        };
        let start = self.data_offset.checked_add(info.offset);
        let Some(start) = start.filter(|s| {
            s.checked_add(info.byte_len)
                .is_some_and(|end| end <= self.file_len)
        }) else {
            return Err(self.bad_tensor(&info.name, "its data lies outside the file"));
        };
        let len = usize::try_from(info.byte_len)
            .map_err(|_| self.bad_tensor(&info.name, "too large for memory"))?;
        let mut bytes = vec![0u8; len];
        // A poisoned lock only means another reader panicked; the handle is still usable.
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        file.seek(SeekFrom::Start(start)).map_err(io)?;
        file.read_exact(&mut bytes).map_err(io)?;
        Ok(bytes)
    }

    /// A tensor of this file as `f32`, in its storage order (innermost
    /// dimension fastest). Dequantises F32, F16, BF16, Q8_0, Q4_0 and Q4_1;
    /// any other type is [`GgufError::UnsupportedType`].
    pub fn tensor_f32(&self, info: &TensorInfo) -> Result<Vec<f32>, GgufError> {
        let unsupported = || GgufError::UnsupportedType {
            path: self.path.clone(),
            tensor: info.name.clone(),
            dtype: info.dtype,
        };
        if !info.dtype.can_dequantize() {
            return Err(unsupported());
        }
        let n = usize::try_from(info.n_elements)
            .map_err(|_| self.bad_tensor(&info.name, "too large for memory"))?;
        let bytes = self.tensor_bytes(info)?;
        dequant::to_f32(info.dtype, &bytes, n).ok_or_else(unsupported)
    }

    pub(crate) fn bad_tensor(&self, tensor: &str, reason: impl Into<String>) -> GgufError {
        GgufError::BadTensor {
            path: self.path.clone(),
            tensor: tensor.to_string(),
            reason: reason.into(),
        }
    }
}

/// A capacity to reserve for `count` items read from the file: the count
/// is already known to fit in the file, but a file's claim is not trusted
/// with a large allocation up front.
fn capacity(count: u64) -> usize {
    count.min(1 << 16) as usize
}

/// What [`Parser::parse`] finds.
struct Header {
    version: u32,
    metadata: Vec<(String, MetadataValue)>,
    tensors: Vec<TensorInfo>,
    alignment: u64,
    data_offset: u64,
}

/// A failure below the level that knows which key or tensor is being read.
enum Raw {
    /// The file ends first: `needed` bytes at `offset`.
    Short {
        offset: u64,
        needed: u64,
    },
    Io(std::io::Error),
    Invalid(String),
}

impl From<std::io::Error> for Raw {
    fn from(e: std::io::Error) -> Self {
        Raw::Io(e)
    }
}

/// Reads the header part of a file, tracking the position and refusing to
/// read past the end.
struct Parser<'a, R> {
    input: R,
    pos: u64,
    len: u64,
    path: &'a Path,
}

impl<R: Read> Parser<'_, R> {
    fn parse(&mut self) -> Result<Header, GgufError> {
        let magic = self.take(4).map_err(|e| self.fail(e, "the magic"))?;
        if magic != b"GGUF" {
            return Err(GgufError::BadMagic {
                path: self.path.to_path_buf(),
                magic,
            });
        }
        let version = self.u32().map_err(|e| self.fail(e, "the version"))?;
        if version != 2 && version != 3 {
            return Err(GgufError::UnsupportedVersion {
                path: self.path.to_path_buf(),
                version,
            });
        }
        let n_tensors = self.u64().map_err(|e| self.fail(e, "the tensor count"))?;
        let n_kv = self.u64().map_err(|e| self.fail(e, "the metadata count"))?;
        // A key-value pair takes at least 8 (key length) + 4 (type) + 1 bytes,
        // a tensor entry at least 8 (name length) + 4 + 4 + 8.
        self.check_count(n_kv, 13, "the metadata count")?;
        self.check_count(n_tensors, 24, "the tensor count")?;

        let mut metadata = Vec::with_capacity(capacity(n_kv));
        let mut seen = HashMap::new();
        for i in 0..n_kv {
            let key = self
                .string()
                .map_err(|e| self.fail(e, &format!("metadata key #{i}")))?;
            let value = self
                .typed_value(0)
                .map_err(|e| self.fail(e, &format!("the value of `{key}`")))?;
            if seen.insert(key.clone(), ()).is_some() {
                return Err(GgufError::DuplicateKey {
                    path: self.path.to_path_buf(),
                    key,
                });
            }
            metadata.push((key, value));
        }
        let alignment = self.alignment(&metadata)?;

        let mut tensors = Vec::with_capacity(capacity(n_tensors));
        let mut names = HashMap::new();
        for i in 0..n_tensors {
            let info = self.tensor_info(i, alignment)?;
            if names.insert(info.name.clone(), ()).is_some() {
                return Err(self.bad_tensor(&info.name, "appears twice in the tensor table"));
            }
            tensors.push(info);
        }

        let data_offset = self.pos.next_multiple_of(alignment);
        for t in &tensors {
            let start = data_offset.checked_add(t.offset);
            let end = start.and_then(|s| s.checked_add(t.byte_len));
            match end {
                Some(end) if end <= self.len => {}
                _ => {
                    return Err(self.bad_tensor(
                        &t.name,
                        format!(
                            "offset {} + {} bytes of data goes past the end of the file ({} bytes, data section at {data_offset})",
                            t.offset, t.byte_len, self.len
                        ),
                    ));
                }
            }
        }
        Ok(Header {
            version,
            metadata,
            tensors,
            alignment,
            data_offset,
        })
    }

    fn alignment(&self, metadata: &[(String, MetadataValue)]) -> Result<u64, GgufError> {
        let Some((_, value)) = metadata.iter().find(|(k, _)| k == ALIGNMENT_KEY) else {
            return Ok(DEFAULT_ALIGNMENT);
        };
        match value.as_u64() {
            Some(a) if a.is_power_of_two() => Ok(a),
            _ => Err(GgufError::BadValue {
                path: self.path.to_path_buf(),
                key: ALIGNMENT_KEY.to_string(),
                expected: "a power of two".to_string(),
                found: value.summary(4),
            }),
        }
    }

    fn tensor_info(&mut self, index: u64, alignment: u64) -> Result<TensorInfo, GgufError> {
        let name = self
            .string()
            .map_err(|e| self.fail(e, &format!("the name of tensor #{index}")))?;
        let what = format!("the entry of tensor `{name}`");
        let n_dims = self.u32().map_err(|e| self.fail(e, &what))?;
        if n_dims > MAX_DIMS {
            return Err(self.bad_tensor(
                &name,
                format!("has {n_dims} dimensions, at most {MAX_DIMS} are allowed"),
            ));
        }
        let mut dims = Vec::with_capacity(n_dims as usize);
        for _ in 0..n_dims {
            dims.push(self.u64().map_err(|e| self.fail(e, &what))?);
        }
        let type_id = self.u32().map_err(|e| self.fail(e, &what))?;
        let offset = self.u64().map_err(|e| self.fail(e, &what))?;
        let Some(dtype) = GgmlType::from_id(type_id) else {
            return Err(self.bad_tensor(&name, format!("unknown ggml type id {type_id}")));
        };
        let Some(n_elements) = dims.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d)) else {
            return Err(self.bad_tensor(&name, format!("dimensions {dims:?} overflow")));
        };
        let inner = dims.first().copied().unwrap_or(1);
        if inner % dtype.block_size() != 0 {
            return Err(self.bad_tensor(
                &name,
                format!(
                    "first dimension {inner} is not a multiple of the {dtype} block size {}",
                    dtype.block_size()
                ),
            ));
        }
        let Some(byte_len) = (n_elements / dtype.block_size()).checked_mul(dtype.type_size())
        else {
            return Err(self.bad_tensor(&name, format!("dimensions {dims:?} overflow")));
        };
        if offset % alignment != 0 {
            return Err(self.bad_tensor(
                &name,
                format!("offset {offset} is not a multiple of the alignment {alignment}"),
            ));
        }
        Ok(TensorInfo {
            name,
            dims,
            dtype,
            offset,
            n_elements,
            byte_len,
        })
    }

    /// A value type tag followed by a value of that type.
    fn typed_value(&mut self, depth: usize) -> Result<MetadataValue, Raw> {
        let id = self.u32()?;
        let ty = ValueType::from_id(id)
            .ok_or_else(|| Raw::Invalid(format!("unknown value type {id}")))?;
        self.value(ty, depth)
    }

    fn value(&mut self, ty: ValueType, depth: usize) -> Result<MetadataValue, Raw> {
        Ok(match ty {
            ValueType::U8 => MetadataValue::U8(self.array::<1>()?[0]),
            ValueType::I8 => MetadataValue::I8(i8::from_le_bytes(self.array()?)),
            ValueType::U16 => MetadataValue::U16(u16::from_le_bytes(self.array()?)),
            ValueType::I16 => MetadataValue::I16(i16::from_le_bytes(self.array()?)),
            ValueType::U32 => MetadataValue::U32(self.u32()?),
            ValueType::I32 => MetadataValue::I32(i32::from_le_bytes(self.array()?)),
            ValueType::F32 => MetadataValue::F32(f32::from_le_bytes(self.array()?)),
            ValueType::U64 => MetadataValue::U64(self.u64()?),
            ValueType::I64 => MetadataValue::I64(i64::from_le_bytes(self.array()?)),
            ValueType::F64 => MetadataValue::F64(f64::from_le_bytes(self.array()?)),
            ValueType::Bool => match self.array::<1>()?[0] {
                0 => MetadataValue::Bool(false),
                1 => MetadataValue::Bool(true),
                b => return Err(Raw::Invalid(format!("bool byte is {b}, not 0 or 1"))),
            },
            ValueType::String => MetadataValue::String(self.string()?),
            ValueType::Array => {
                let id = self.u32()?;
                let elem = ValueType::from_id(id)
                    .ok_or_else(|| Raw::Invalid(format!("unknown array element type {id}")))?;
                let count = self.u64()?;
                let needed = count.saturating_mul(elem.min_size());
                if needed > self.len - self.pos {
                    return Err(Raw::Short {
                        offset: self.pos,
                        needed,
                    });
                }
                if elem == ValueType::Array && depth + 1 >= MAX_ARRAY_DEPTH {
                    return Err(Raw::Invalid(format!(
                        "arrays nested more than {MAX_ARRAY_DEPTH} deep"
                    )));
                }
                let mut items = Vec::with_capacity(capacity(count));
                for _ in 0..count {
                    items.push(self.value(elem, depth + 1)?);
                }
                MetadataValue::Array(elem, items)
            }
        })
    }

    fn string(&mut self) -> Result<String, Raw> {
        let len = self.u64()?;
        let bytes = self.take(len)?;
        String::from_utf8(bytes).map_err(|e| {
            Raw::Invalid(format!(
                "invalid UTF-8 at byte {} of a string",
                e.utf8_error().valid_up_to()
            ))
        })
    }

    fn u32(&mut self) -> Result<u32, Raw> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, Raw> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Raw> {
        self.ensure(N as u64)?;
        let mut buf = [0u8; N];
        self.input.read_exact(&mut buf)?;
        self.pos += N as u64;
        Ok(buf)
    }

    /// `n` bytes, after checking that the file holds them.
    fn take(&mut self, n: u64) -> Result<Vec<u8>, Raw> {
        self.ensure(n)?;
        // Bounded by the file's length (checked above).
        let mut buf = vec![0u8; n as usize];
        self.input.read_exact(&mut buf)?;
        self.pos += n;
        Ok(buf)
    }

    fn ensure(&self, n: u64) -> Result<(), Raw> {
        if n > self.len - self.pos {
            return Err(Raw::Short {
                offset: self.pos,
                needed: n,
            });
        }
        Ok(())
    }

    fn check_count(&self, count: u64, min_size: u64, what: &str) -> Result<(), GgufError> {
        if count
            .checked_mul(min_size)
            .is_none_or(|n| n > self.len - self.pos)
        {
            return Err(GgufError::Malformed {
                path: self.path.to_path_buf(),
                what: what.to_string(),
                reason: format!(
                    "{count} entries cannot fit in the {} bytes left in the file",
                    self.len - self.pos
                ),
            });
        }
        Ok(())
    }

    fn fail(&self, raw: Raw, what: &str) -> GgufError {
        let path = self.path.to_path_buf();
        let what = what.to_string();
        match raw {
            Raw::Short { offset, needed } => GgufError::Truncated {
                path,
                what,
                offset,
                needed,
                file_len: self.len,
            },
            Raw::Io(source) => GgufError::Io {
                path,
                what: format!("reading {what}"),
                source,
            },
            Raw::Invalid(reason) => GgufError::Malformed { path, what, reason },
        }
    }

    fn bad_tensor(&self, tensor: &str, reason: impl Into<String>) -> GgufError {
        GgufError::BadTensor {
            path: self.path.to_path_buf(),
            tensor: tensor.to_string(),
            reason: reason.into(),
        }
    }
}

/// Typed metadata look-ups whose errors name the file and the key.
impl GgufFile {
    /// The value of `key` converted by `get`, `None` when absent, an error
    /// when present but of another type (`expected` says which).
    pub(crate) fn opt<'a, T>(
        &'a self,
        key: &str,
        expected: &str,
        get: impl FnOnce(&'a MetadataValue) -> Option<T>,
    ) -> Result<Option<T>, GgufError> {
        match self.get(key) {
            None => Ok(None),
            Some(value) => get(value)
                .map(Some)
                .ok_or_else(|| self.bad_value(key, expected, value.summary(4))),
        }
    }

    /// Like [`GgufFile::opt`], with an absent key an error too.
    pub(crate) fn req<'a, T>(
        &'a self,
        key: &str,
        expected: &str,
        get: impl FnOnce(&'a MetadataValue) -> Option<T>,
    ) -> Result<T, GgufError> {
        self.opt(key, expected, get)?
            .ok_or_else(|| GgufError::MissingKey {
                path: self.path.clone(),
                key: key.to_string(),
            })
    }

    /// An array of strings.
    pub(crate) fn opt_strings(&self, key: &str) -> Result<Option<Vec<&str>>, GgufError> {
        self.opt(key, "an array of strings", |v| {
            v.as_array()?.iter().map(MetadataValue::as_str).collect()
        })
    }

    pub(crate) fn bad_value(
        &self,
        key: &str,
        expected: &str,
        found: impl Into<String>,
    ) -> GgufError {
        GgufError::BadValue {
            path: self.path.clone(),
            key: key.to_string(),
            expected: expected.to_string(),
            found: found.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_gguf::{GgufBuilder, s, write_string};

    fn open_bytes(bytes: &[u8]) -> (tempfile::TempDir, Result<GgufFile, GgufError>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.gguf");
        std::fs::write(&path, bytes).unwrap();
        let result = GgufFile::open(&path);
        (dir, result)
    }

    fn error_of(bytes: &[u8]) -> String {
        match open_bytes(bytes) {
            (_, Ok(_)) => panic!("parsed"),
            (_, Err(e)) => {
                let text = e.to_string();
                assert!(
                    text.contains("model.gguf"),
                    "error does not name the file: {text}"
                );
                text
            }
        }
    }

    /// Header bytes with the given counts, then whatever the test appends.
    fn header(version: u32, n_tensors: u64, n_kv: u64) -> Vec<u8> {
        let mut out = b"GGUF".to_vec();
        out.extend(version.to_le_bytes());
        out.extend(n_tensors.to_le_bytes());
        out.extend(n_kv.to_le_bytes());
        out
    }

    fn every_type() -> Vec<(&'static str, MetadataValue)> {
        use MetadataValue as V;
        vec![
            ("t.u8", V::U8(250)),
            ("t.i8", V::I8(-7)),
            ("t.u16", V::U16(65_000)),
            ("t.i16", V::I16(-30_000)),
            ("t.u32", V::U32(4_000_000_000)),
            ("t.i32", V::I32(-2_000_000_000)),
            ("t.f32", V::F32(1e-5)),
            ("t.bool", V::Bool(true)),
            ("t.string", s("héllo, wörld")),
            ("t.u64", V::U64(u64::MAX)),
            ("t.i64", V::I64(i64::MIN)),
            ("t.f64", V::F64(-0.1)),
            (
                "t.array",
                V::Array(ValueType::I16, vec![V::I16(1), V::I16(-2), V::I16(3)]),
            ),
            ("t.empty", V::Array(ValueType::F64, vec![])),
            (
                "t.nested",
                V::Array(
                    ValueType::Array,
                    vec![
                        V::Array(ValueType::String, vec![s("a"), s("")]),
                        V::Array(ValueType::Bool, vec![V::Bool(false)]),
                        V::Array(
                            ValueType::Array,
                            vec![V::Array(ValueType::U8, vec![V::U8(9)])],
                        ),
                    ],
                ),
            ),
        ]
    }

    #[test]
    fn every_value_type_round_trips_in_versions_2_and_3() {
        for version in [2, 3] {
            let mut builder = GgufBuilder::new();
            builder.version = version;
            for (key, value) in every_type() {
                builder = builder.kv(key, value);
            }
            let (_dir, gguf) = open_bytes(&builder.bytes());
            let gguf = gguf.unwrap();
            assert_eq!(gguf.version(), version);
            let expected: Vec<(String, MetadataValue)> = every_type()
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
            assert_eq!(gguf.metadata(), expected.as_slice());
            assert_eq!(
                gguf.get("t.string").and_then(MetadataValue::as_str),
                Some("héllo, wörld")
            );
            assert_eq!(
                gguf.get("t.u32").and_then(MetadataValue::as_u64),
                Some(4_000_000_000)
            );
            assert_eq!(
                gguf.get("t.f32").and_then(MetadataValue::as_f64),
                Some(1e-5)
            );
            assert_eq!(gguf.get("missing"), None);
            assert!(gguf.tensors().is_empty());
        }
    }

    #[test]
    fn tensors_sit_at_aligned_offsets_after_the_header() {
        for alignment in [None, Some(64u32), Some(1)] {
            let mut builder = GgufBuilder::new().kv("general.architecture", s("llama"));
            if let Some(a) = alignment {
                builder = builder.kv(ALIGNMENT_KEY, MetadataValue::U32(a));
            }
            let a: Vec<f32> = (0..6).map(|i| i as f32 * 0.5).collect();
            let b = [-1.0f32, 2.0, -3.0];
            builder = builder
                .f32_tensor("a", &[3, 2], &a)
                .f32_tensor("b", &[3], &b);
            let (_dir, gguf) = open_bytes(&builder.bytes());
            let gguf = gguf.unwrap();
            let expected = u64::from(alignment.unwrap_or(32));
            assert_eq!(gguf.alignment(), expected);
            assert_eq!(gguf.data_offset() % expected, 0);
            assert_eq!(gguf.architecture(), Some("llama"));
            let ta = gguf.tensor("a").unwrap();
            assert_eq!(
                (ta.dims(), ta.shape(), ta.n_elements(), ta.byte_len()),
                (&[3u64, 2][..], vec![2, 3], 6, 24)
            );
            assert_eq!(ta.offset(), 0);
            let tb = gguf.tensor("b").unwrap();
            assert_eq!(tb.offset(), 24u64.next_multiple_of(expected));
            assert_eq!(gguf.tensor_f32(ta).unwrap(), a);
            assert_eq!(gguf.tensor_f32(tb).unwrap(), b);
            assert_eq!(
                gguf.tensors()
                    .iter()
                    .map(TensorInfo::name)
                    .collect::<Vec<_>>(),
                ["a", "b"]
            );
        }
    }

    #[test]
    fn quantised_tensors_dequantise_through_the_file() {
        // One Q8_0 block: d = 0.5, q = -16..16.
        let mut block = half::f16::from_f32(0.5).to_le_bytes().to_vec();
        block.extend((-16i8..16).map(|q| q as u8));
        let builder = GgufBuilder::new().tensor("q", &[32], GgmlType::Q8_0, block);
        let (_dir, gguf) = open_bytes(&builder.bytes());
        let gguf = gguf.unwrap();
        let values = gguf.tensor_f32(gguf.tensor("q").unwrap()).unwrap();
        assert_eq!(
            values,
            (-16..16).map(|q| q as f32 * 0.5).collect::<Vec<_>>()
        );
    }

    #[test]
    fn an_unsupported_type_is_an_error_naming_the_tensor_and_type() {
        let builder =
            GgufBuilder::new().tensor("blk.3.ffn_up.weight", &[256], GgmlType::Q4_K, vec![0; 144]);
        let (_dir, gguf) = open_bytes(&builder.bytes());
        let gguf = gguf.unwrap();
        let info = gguf.tensor("blk.3.ffn_up.weight").unwrap();
        assert_eq!(gguf.tensor_bytes(info).unwrap().len(), 144);
        let err = gguf.tensor_f32(info).unwrap_err();
        assert!(matches!(
            err,
            GgufError::UnsupportedType {
                dtype: GgmlType::Q4_K,
                ..
            }
        ));
        let text = err.to_string();
        assert!(
            text.contains("blk.3.ffn_up.weight")
                && text.contains("Q4_K")
                && text.contains("model.gguf"),
            "{text}"
        );
    }

    #[test]
    fn bad_magic_and_versions_are_refused() {
        let mut bytes = GgufBuilder::new().bytes();
        bytes[..4].copy_from_slice(b"GGML");
        assert!(error_of(&bytes).contains("not a GGUF file"));
        for version in [1, 4, 0x0300_0000] {
            let text = error_of(&header(version, 0, 0));
            assert!(text.contains(&format!("version {version}")), "{text}");
        }
        assert!(error_of(b"").contains("truncated"));
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let builder = GgufBuilder::new()
            .kv("general.name", s("tiny"))
            .kv("t.nested", every_type().pop().unwrap().1)
            .f32_tensor("w", &[4, 2], &[1.0; 8]);
        let bytes = builder.bytes();
        let data_start = bytes.len() - 32;
        for len in 0..data_start {
            error_of(&bytes[..len]);
        }
        // Cut inside the tensor data: the tensor table is fine, the data is not.
        let text = error_of(&bytes[..bytes.len() - 1]);
        assert!(
            text.contains("tensor `w`") && text.contains("past the end of the file"),
            "{text}"
        );
        // Cut inside a value: the message names the key.
        let cut = bytes.windows(4).position(|w| w == b"tiny").unwrap() + 2;
        let text = error_of(&bytes[..cut]);
        assert!(
            text.contains("the value of `general.name`") && text.contains("truncated"),
            "{text}"
        );
    }

    #[test]
    fn bad_offsets_are_errors_naming_the_tensor() {
        // Offset 32 past a single tensor's data (the file ends after 32 bytes of data).
        let mut bytes = GgufBuilder::new()
            .f32_tensor("blk.0.attn_q.weight", &[8], &[0.5; 8])
            .bytes();
        // The offset is the last u64 of the entry: name, n_dims u32, one dim u64, type u32.
        let entry_end = bytes
            .windows(19)
            .position(|w| w == b"blk.0.attn_q.weight")
            .unwrap()
            + 19
            + 4
            + 8
            + 4;
        assert_eq!(bytes[entry_end..entry_end + 8], 0u64.to_le_bytes());
        bytes[entry_end..entry_end + 8].copy_from_slice(&32u64.to_le_bytes());
        let text = error_of(&bytes);
        assert!(
            text.contains("`blk.0.attn_q.weight`") && text.contains("past the end"),
            "{text}"
        );
        // A misaligned offset.
        bytes[entry_end..entry_end + 8].copy_from_slice(&4u64.to_le_bytes());
        let text = error_of(&bytes);
        assert!(
            text.contains("`blk.0.attn_q.weight`")
                && text.contains("not a multiple of the alignment 32"),
            "{text}"
        );
        // An offset so large that adding it overflows.
        bytes[entry_end..entry_end + 8].copy_from_slice(&(u64::MAX - 31).to_le_bytes());
        assert!(error_of(&bytes).contains("`blk.0.attn_q.weight`"));
    }

    #[test]
    fn unknown_types_are_errors_naming_the_key_or_tensor() {
        let mut bytes = header(3, 0, 1);
        write_string(&mut bytes, "general.odd");
        bytes.extend(13u32.to_le_bytes());
        bytes.extend([0; 8]);
        let text = error_of(&bytes);
        assert!(
            text.contains("`general.odd`") && text.contains("unknown value type 13"),
            "{text}"
        );

        let mut bytes = header(3, 0, 1);
        write_string(&mut bytes, "general.list");
        bytes.extend(ValueType::Array.id().to_le_bytes());
        bytes.extend(99u32.to_le_bytes());
        bytes.extend(1u64.to_le_bytes());
        bytes.extend([0; 8]);
        let text = error_of(&bytes);
        assert!(
            text.contains("`general.list`") && text.contains("unknown array element type 99"),
            "{text}"
        );

        let mut bytes = header(3, 1, 0);
        write_string(&mut bytes, "token_embd.weight");
        bytes.extend(1u32.to_le_bytes());
        bytes.extend(32u64.to_le_bytes());
        bytes.extend(4u32.to_le_bytes()); // Q4_2, removed from ggml
        bytes.extend(0u64.to_le_bytes());
        bytes.extend([0; 64]);
        let text = error_of(&bytes);
        assert!(
            text.contains("`token_embd.weight`") && text.contains("unknown ggml type id 4"),
            "{text}"
        );
    }

    #[test]
    fn absurd_counts_and_lengths_are_refused_before_allocating() {
        let text = error_of(&header(3, 0, u64::MAX));
        assert!(
            text.contains("metadata count") && text.contains("cannot fit"),
            "{text}"
        );
        let text = error_of(&header(3, u64::MAX / 2, 0));
        assert!(text.contains("tensor count"), "{text}");

        let mut bytes = header(3, 0, 1);
        bytes.extend(u64::MAX.to_le_bytes()); // key length
        bytes.extend([0; 64]);
        let text = error_of(&bytes);
        assert!(
            text.contains("metadata key #0") && text.contains("truncated"),
            "{text}"
        );

        let mut bytes = header(3, 0, 1);
        write_string(&mut bytes, "tokenizer.ggml.tokens");
        bytes.extend(ValueType::Array.id().to_le_bytes());
        bytes.extend(ValueType::String.id().to_le_bytes());
        bytes.extend((u64::MAX / 4).to_le_bytes());
        let text = error_of(&bytes);
        assert!(
            text.contains("`tokenizer.ggml.tokens`") && text.contains("truncated"),
            "{text}"
        );

        let mut bytes = header(3, 1, 0);
        write_string(&mut bytes, "huge");
        bytes.extend(4u32.to_le_bytes());
        for _ in 0..4 {
            bytes.extend((1u64 << 20).to_le_bytes());
        }
        bytes.extend(0u32.to_le_bytes());
        bytes.extend(0u64.to_le_bytes());
        let text = error_of(&bytes);
        assert!(
            text.contains("`huge`") && text.contains("overflow"),
            "{text}"
        );
    }

    #[test]
    fn malformed_values_are_errors_naming_the_key() {
        let mut bytes = header(3, 0, 1);
        write_string(&mut bytes, "flag");
        bytes.extend(ValueType::Bool.id().to_le_bytes());
        bytes.push(2);
        assert!(error_of(&bytes).contains("`flag`: bool byte is 2"));

        let mut bytes = header(3, 0, 1);
        bytes.extend(2u64.to_le_bytes());
        bytes.extend([0xC3, 0x28]); // invalid UTF-8
        bytes.extend(ValueType::U8.id().to_le_bytes());
        bytes.push(0);
        let text = error_of(&bytes);
        assert!(
            text.contains("metadata key #0") && text.contains("UTF-8"),
            "{text}"
        );

        let dup = GgufBuilder::new()
            .kv("a", MetadataValue::U8(1))
            .kv("a", MetadataValue::U8(2));
        assert!(error_of(&dup.bytes()).contains("`a` appears twice"));

        let align = GgufBuilder::new().kv(ALIGNMENT_KEY, MetadataValue::U32(48));
        assert!(
            error_of(&align.bytes())
                .contains("`general.alignment`: expected a power of two, found 48")
        );

        // Arrays nested 9 deep.
        let mut value = MetadataValue::Array(ValueType::U8, vec![]);
        for _ in 0..8 {
            value = MetadataValue::Array(ValueType::Array, vec![value]);
        }
        let deep = GgufBuilder::new().kv("deep", value);
        assert!(error_of(&deep.bytes()).contains("nested more than 8 deep"));
    }

    #[test]
    fn bad_tensor_entries_are_errors_naming_the_tensor() {
        let five = GgufBuilder::new().tensor("t5", &[1, 1, 1, 1, 1], GgmlType::F32, vec![0; 4]);
        assert!(error_of(&five.bytes()).contains("`t5`: has 5 dimensions"));
        let ragged = GgufBuilder::new().tensor("q", &[48], GgmlType::Q8_0, vec![0; 51]);
        let text = error_of(&ragged.bytes());
        assert!(
            text.contains("`q`") && text.contains("not a multiple of the Q8_0 block size 32"),
            "{text}"
        );
        let twice = GgufBuilder::new()
            .f32_tensor("w", &[1], &[1.0])
            .f32_tensor("w", &[1], &[2.0]);
        assert!(error_of(&twice.bytes()).contains("`w`: appears twice"));
    }
}
