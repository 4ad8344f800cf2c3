//! GGUF metadata values.

use std::fmt::{self, Write as _};

/// The type tag of a GGUF metadata value (`gguf_type`).
///
/// ```
/// use entropo_gguf::ValueType;
/// assert_eq!(ValueType::from_id(8), Some(ValueType::String));
/// assert_eq!(ValueType::String.id(), 8);
/// assert_eq!(ValueType::from_id(13), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum ValueType {
    /// `uint8`.
    U8 = 0,
    /// `int8`.
    I8 = 1,
    /// `uint16`.
    U16 = 2,
    /// `int16`.
    I16 = 3,
    /// `uint32`.
    U32 = 4,
    /// `int32`.
    I32 = 5,
    /// `float32`.
    F32 = 6,
    /// `bool` (one byte, 0 or 1).
    Bool = 7,
    /// UTF-8 string with a `u64` length.
    String = 8,
    /// Array: element type, `u64` count, elements.
    Array = 9,
    /// `uint64`.
    U64 = 10,
    /// `int64`.
    I64 = 11,
    /// `float64`.
    F64 = 12,
}

impl ValueType {
    /// Every type, in id order (the id is the index).
    const ALL: [ValueType; 13] = [
        ValueType::U8,
        ValueType::I8,
        ValueType::U16,
        ValueType::I16,
        ValueType::U32,
        ValueType::I32,
        ValueType::F32,
        ValueType::Bool,
        ValueType::String,
        ValueType::Array,
        ValueType::U64,
        ValueType::I64,
        ValueType::F64,
    ];

    /// The type with this id, if GGUF defines one.
    pub fn from_id(id: u32) -> Option<ValueType> {
        Self::ALL.get(usize::try_from(id).ok()?).copied()
    }

    /// The id stored in GGUF files.
    pub fn id(self) -> u32 {
        self as u32
    }

    /// Size in bytes of a value of this type, for fixed-size types.
    pub fn fixed_size(self) -> Option<u64> {
        match self {
            ValueType::U8 | ValueType::I8 | ValueType::Bool => Some(1),
            ValueType::U16 | ValueType::I16 => Some(2),
            ValueType::U32 | ValueType::I32 | ValueType::F32 => Some(4),
            ValueType::U64 | ValueType::I64 | ValueType::F64 => Some(8),
            ValueType::String | ValueType::Array => None,
        }
    }

    /// The fewest bytes a value of this type can take in a file (a string's
    /// length field, an array's type and count).
    pub(crate) fn min_size(self) -> u64 {
        match self {
            ValueType::String => 8,
            ValueType::Array => 12,
            fixed => fixed.fixed_size().unwrap_or(1),
        }
    }

    /// The name GGUF's documentation uses, e.g. `uint32`.
    pub fn name(self) -> &'static str {
        match self {
            ValueType::U8 => "uint8",
            ValueType::I8 => "int8",
            ValueType::U16 => "uint16",
            ValueType::I16 => "int16",
            ValueType::U32 => "uint32",
            ValueType::I32 => "int32",
            ValueType::F32 => "float32",
            ValueType::Bool => "bool",
            ValueType::String => "string",
            ValueType::Array => "array",
            ValueType::U64 => "uint64",
            ValueType::I64 => "int64",
            ValueType::F64 => "float64",
        }
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One metadata value.
///
/// ```
/// use entropo_gguf::{MetadataValue, ValueType};
/// let v = MetadataValue::Array(ValueType::U32, (0..100).map(MetadataValue::U32).collect());
/// assert_eq!(v.summary(3), "[100 × uint32] [0, 1, 2, …]");
/// assert_eq!(MetadataValue::U32(7).as_u64(), Some(7));
/// assert_eq!(MetadataValue::I32(-1).as_u64(), None);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum MetadataValue {
    /// `uint8`.
    U8(u8),
    /// `int8`.
    I8(i8),
    /// `uint16`.
    U16(u16),
    /// `int16`.
    I16(i16),
    /// `uint32`.
    U32(u32),
    /// `int32`.
    I32(i32),
    /// `float32`.
    F32(f32),
    /// `bool`.
    Bool(bool),
    /// `string`.
    String(String),
    /// An array: its element type (meaningful even when empty) and elements,
    /// which may themselves be arrays.
    Array(ValueType, Vec<MetadataValue>),
    /// `uint64`.
    U64(u64),
    /// `int64`.
    I64(i64),
    /// `float64`.
    F64(f64),
}

impl MetadataValue {
    /// The value's type.
    pub fn value_type(&self) -> ValueType {
        match self {
            MetadataValue::U8(_) => ValueType::U8,
            MetadataValue::I8(_) => ValueType::I8,
            MetadataValue::U16(_) => ValueType::U16,
            MetadataValue::I16(_) => ValueType::I16,
            MetadataValue::U32(_) => ValueType::U32,
            MetadataValue::I32(_) => ValueType::I32,
            MetadataValue::F32(_) => ValueType::F32,
            MetadataValue::Bool(_) => ValueType::Bool,
            MetadataValue::String(_) => ValueType::String,
            MetadataValue::Array(..) => ValueType::Array,
            MetadataValue::U64(_) => ValueType::U64,
            MetadataValue::I64(_) => ValueType::I64,
            MetadataValue::F64(_) => ValueType::F64,
        }
    }

    /// Any integer type holding a non-negative value.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            MetadataValue::U8(v) => Some(v.into()),
            MetadataValue::U16(v) => Some(v.into()),
            MetadataValue::U32(v) => Some(v.into()),
            MetadataValue::U64(v) => Some(v),
            MetadataValue::I8(v) => u64::try_from(v).ok(),
            MetadataValue::I16(v) => u64::try_from(v).ok(),
            MetadataValue::I32(v) => u64::try_from(v).ok(),
            MetadataValue::I64(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    /// Any integer type, as `i64` (a `u64` above `i64::MAX` gives `None`).
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            MetadataValue::U8(v) => Some(v.into()),
            MetadataValue::U16(v) => Some(v.into()),
            MetadataValue::U32(v) => Some(v.into()),
            MetadataValue::U64(v) => i64::try_from(v).ok(),
            MetadataValue::I8(v) => Some(v.into()),
            MetadataValue::I16(v) => Some(v.into()),
            MetadataValue::I32(v) => Some(v.into()),
            MetadataValue::I64(v) => Some(v),
            _ => None,
        }
    }

    /// A float. An `f32` is widened through its shortest decimal form, so
    /// `1e-5f32` gives `1e-5`, not `9.999999747378752e-6`.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            MetadataValue::F32(v) => v.to_string().parse().ok(),
            MetadataValue::F64(v) => Some(v),
            _ => None,
        }
    }

    /// A bool.
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            MetadataValue::Bool(v) => Some(v),
            _ => None,
        }
    }

    /// A string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            MetadataValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// An array's elements.
    pub fn as_array(&self) -> Option<&[MetadataValue]> {
        match self {
            MetadataValue::Array(_, items) => Some(items),
            _ => None,
        }
    }

    /// One line describing the value, arrays shortened to their first
    /// `max_items` elements and strings to 60 characters.
    pub fn summary(&self, max_items: usize) -> String {
        let mut out = String::new();
        self.write_summary(&mut out, max_items);
        out
    }

    fn write_summary(&self, out: &mut String, max_items: usize) {
        // Writing to a String cannot fail.
        let _ = match self {
            MetadataValue::U8(v) => write!(out, "{v}"),
            MetadataValue::I8(v) => write!(out, "{v}"),
            MetadataValue::U16(v) => write!(out, "{v}"),
            MetadataValue::I16(v) => write!(out, "{v}"),
            MetadataValue::U32(v) => write!(out, "{v}"),
            MetadataValue::I32(v) => write!(out, "{v}"),
            MetadataValue::F32(v) => write!(out, "{v}"),
            MetadataValue::Bool(v) => write!(out, "{v}"),
            MetadataValue::U64(v) => write!(out, "{v}"),
            MetadataValue::I64(v) => write!(out, "{v}"),
            MetadataValue::F64(v) => write!(out, "{v}"),
            MetadataValue::String(s) => {
                const MAX: usize = 60;
                match s.char_indices().nth(MAX) {
                    Some((cut, _)) => write!(out, "{:?}… ({} chars)", &s[..cut], s.chars().count()),
                    None => write!(out, "{s:?}"),
                }
            }
            MetadataValue::Array(ty, items) => {
                let _ = write!(out, "[{} × {ty}] [", items.len());
                for (i, item) in items.iter().take(max_items).enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.write_summary(out, max_items);
                }
                if items.len() > max_items {
                    out.push_str(if max_items > 0 { ", …" } else { "…" });
                }
                write!(out, "]")
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_ids_round_trip() {
        for (i, t) in ValueType::ALL.iter().enumerate() {
            assert_eq!(t.id(), i as u32);
            assert_eq!(ValueType::from_id(i as u32), Some(*t));
        }
        assert_eq!(ValueType::from_id(13), None);
        assert_eq!(ValueType::from_id(u32::MAX), None);
    }

    #[test]
    fn f32_widens_through_its_shortest_decimal() {
        assert_eq!(MetadataValue::F32(1e-5).as_f64(), Some(1e-5));
        assert_eq!(MetadataValue::F32(100000.0).as_f64(), Some(100000.0));
        assert_eq!(MetadataValue::F64(0.1).as_f64(), Some(0.1));
        assert_eq!(MetadataValue::U8(1).as_f64(), None);
    }

    #[test]
    fn integers_convert_when_they_fit() {
        assert_eq!(MetadataValue::I64(-3).as_i64(), Some(-3));
        assert_eq!(MetadataValue::I64(-3).as_u64(), None);
        assert_eq!(MetadataValue::U64(u64::MAX).as_i64(), None);
        assert_eq!(MetadataValue::U64(u64::MAX).as_u64(), Some(u64::MAX));
        assert_eq!(MetadataValue::Bool(true).as_u64(), None);
    }

    #[test]
    fn summaries_abbreviate_long_strings_and_nested_arrays() {
        let long = "x".repeat(100);
        assert_eq!(
            MetadataValue::String(long).summary(3),
            format!("\"{}\"… (100 chars)", "x".repeat(60))
        );
        let nested = MetadataValue::Array(
            ValueType::Array,
            vec![
                MetadataValue::Array(
                    ValueType::I8,
                    vec![MetadataValue::I8(-1), MetadataValue::I8(2)],
                ),
                MetadataValue::Array(ValueType::String, vec![]),
            ],
        );
        assert_eq!(nested.summary(1), "[2 × array] [[2 × int8] [-1, …], …]");
        assert_eq!(
            MetadataValue::Array(ValueType::Bool, vec![]).summary(0),
            "[0 × bool] []"
        );
    }
}
