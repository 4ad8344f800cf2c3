//! ggml tensor types: their ids in GGUF files and their block layouts.

use std::fmt;

/// The element type of a GGUF tensor (`ggml_type`).
///
/// Quantised types store elements in blocks: [`GgmlType::block_size`]
/// elements take [`GgmlType::type_size`] bytes. Every type llama.cpp still
/// writes is known here, so any file's tensor table can be checked; only some
/// can be dequantised (see [`GgmlType::can_dequantize`]).
///
/// ```
/// use entropo_gguf::GgmlType;
/// let q = GgmlType::from_id(3).unwrap();
/// assert_eq!(q, GgmlType::Q4_1);
/// assert_eq!((q.block_size(), q.type_size()), (32, 20));
/// assert_eq!(q.to_string(), "Q4_1");
/// ```
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum GgmlType {
    /// 32-bit float.
    F32,
    /// IEEE half.
    F16,
    /// 4-bit, one f16 scale per 32 elements.
    Q4_0,
    /// 4-bit, an f16 scale and an f16 minimum per 32 elements.
    Q4_1,
    /// 5-bit, one scale per 32 elements.
    Q5_0,
    /// 5-bit, scale and minimum per 32 elements.
    Q5_1,
    /// 8-bit, one f16 scale per 32 elements.
    Q8_0,
    /// 8-bit with a precomputed block sum.
    Q8_1,
    /// k-quant, 2-bit.
    Q2_K,
    /// k-quant, 3-bit.
    Q3_K,
    /// k-quant, 4-bit.
    Q4_K,
    /// k-quant, 5-bit.
    Q5_K,
    /// k-quant, 6-bit.
    Q6_K,
    /// k-quant, 8-bit.
    Q8_K,
    /// i-quant.
    IQ2_XXS,
    /// i-quant.
    IQ2_XS,
    /// i-quant.
    IQ3_XXS,
    /// i-quant.
    IQ1_S,
    /// i-quant, non-linear 4-bit.
    IQ4_NL,
    /// i-quant.
    IQ3_S,
    /// i-quant.
    IQ2_S,
    /// i-quant.
    IQ4_XS,
    /// 8-bit integer.
    I8,
    /// 16-bit integer.
    I16,
    /// 32-bit integer.
    I32,
    /// 64-bit integer.
    I64,
    /// 64-bit float.
    F64,
    /// i-quant.
    IQ1_M,
    /// bfloat16.
    BF16,
    /// Ternary.
    TQ1_0,
    /// Ternary.
    TQ2_0,
    /// Microscaling FP4.
    MXFP4,
}

impl GgmlType {
    /// Every type, in id order.
    pub const ALL: [GgmlType; 32] = [
        GgmlType::F32,
        GgmlType::F16,
        GgmlType::Q4_0,
        GgmlType::Q4_1,
        GgmlType::Q5_0,
        GgmlType::Q5_1,
        GgmlType::Q8_0,
        GgmlType::Q8_1,
        GgmlType::Q2_K,
        GgmlType::Q3_K,
        GgmlType::Q4_K,
        GgmlType::Q5_K,
        GgmlType::Q6_K,
        GgmlType::Q8_K,
        GgmlType::IQ2_XXS,
        GgmlType::IQ2_XS,
        GgmlType::IQ3_XXS,
        GgmlType::IQ1_S,
        GgmlType::IQ4_NL,
        GgmlType::IQ3_S,
        GgmlType::IQ2_S,
        GgmlType::IQ4_XS,
        GgmlType::I8,
        GgmlType::I16,
        GgmlType::I32,
        GgmlType::I64,
        GgmlType::F64,
        GgmlType::IQ1_M,
        GgmlType::BF16,
        GgmlType::TQ1_0,
        GgmlType::TQ2_0,
        GgmlType::MXFP4,
    ];

    /// (id, name, elements per block, bytes per block), from ggml.
    fn layout(self) -> (u32, &'static str, u64, u64) {
        match self {
            GgmlType::F32 => (0, "F32", 1, 4),
            GgmlType::F16 => (1, "F16", 1, 2),
            GgmlType::Q4_0 => (2, "Q4_0", 32, 18),
            GgmlType::Q4_1 => (3, "Q4_1", 32, 20),
            GgmlType::Q5_0 => (6, "Q5_0", 32, 22),
            GgmlType::Q5_1 => (7, "Q5_1", 32, 24),
            GgmlType::Q8_0 => (8, "Q8_0", 32, 34),
            GgmlType::Q8_1 => (9, "Q8_1", 32, 36),
            GgmlType::Q2_K => (10, "Q2_K", 256, 84),
            GgmlType::Q3_K => (11, "Q3_K", 256, 110),
            GgmlType::Q4_K => (12, "Q4_K", 256, 144),
            GgmlType::Q5_K => (13, "Q5_K", 256, 176),
            GgmlType::Q6_K => (14, "Q6_K", 256, 210),
            GgmlType::Q8_K => (15, "Q8_K", 256, 292),
            GgmlType::IQ2_XXS => (16, "IQ2_XXS", 256, 66),
            GgmlType::IQ2_XS => (17, "IQ2_XS", 256, 74),
            GgmlType::IQ3_XXS => (18, "IQ3_XXS", 256, 98),
            GgmlType::IQ1_S => (19, "IQ1_S", 256, 50),
            GgmlType::IQ4_NL => (20, "IQ4_NL", 32, 18),
            GgmlType::IQ3_S => (21, "IQ3_S", 256, 110),
            GgmlType::IQ2_S => (22, "IQ2_S", 256, 82),
            GgmlType::IQ4_XS => (23, "IQ4_XS", 256, 136),
            GgmlType::I8 => (24, "I8", 1, 1),
            GgmlType::I16 => (25, "I16", 1, 2),
            GgmlType::I32 => (26, "I32", 1, 4),
            GgmlType::I64 => (27, "I64", 1, 8),
            GgmlType::F64 => (28, "F64", 1, 8),
            GgmlType::IQ1_M => (29, "IQ1_M", 256, 56),
            GgmlType::BF16 => (30, "BF16", 1, 2),
            GgmlType::TQ1_0 => (34, "TQ1_0", 256, 54),
            GgmlType::TQ2_0 => (35, "TQ2_0", 256, 66),
            GgmlType::MXFP4 => (39, "MXFP4", 32, 17),
        }
    }

    /// The type with this `ggml_type` id, if it is one ggml defines.
    pub fn from_id(id: u32) -> Option<GgmlType> {
        Self::ALL.into_iter().find(|t| t.id() == id)
    }

    /// The `ggml_type` id stored in GGUF files.
    pub fn id(self) -> u32 {
        self.layout().0
    }

    /// ggml's name for the type, e.g. `Q4_1`.
    pub fn name(self) -> &'static str {
        self.layout().1
    }

    /// Elements per block (1 for plain types).
    pub fn block_size(self) -> u64 {
        self.layout().2
    }

    /// Bytes per block.
    pub fn type_size(self) -> u64 {
        self.layout().3
    }

    /// Whether [`crate::GgufFile::tensor_f32`] can dequantise this type.
    ///
    /// ```
    /// use entropo_gguf::GgmlType;
    /// assert!(GgmlType::Q8_0.can_dequantize());
    /// assert!(!GgmlType::Q4_K.can_dequantize());
    /// ```
    pub fn can_dequantize(self) -> bool {
        matches!(
            self,
            GgmlType::F32
                | GgmlType::F16
                | GgmlType::BF16
                | GgmlType::Q8_0
                | GgmlType::Q4_0
                | GgmlType::Q4_1
        )
    }
}

impl fmt::Display for GgmlType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_names_are_unique_and_round_trip() {
        for (i, t) in GgmlType::ALL.iter().enumerate() {
            assert_eq!(GgmlType::from_id(t.id()), Some(*t));
            assert_eq!(format!("{t:?}"), t.name());
            for other in &GgmlType::ALL[i + 1..] {
                assert!(
                    t.id() < other.id() && t.name() != other.name(),
                    "{t} / {other}"
                );
            }
        }
        // Ids of types ggml removed are unknown.
        for gone in [4, 5, 31, 32, 33, 36, 37, 38, 40, 1000] {
            assert_eq!(GgmlType::from_id(gone), None, "{gone}");
        }
        assert_eq!(GgmlType::BF16.id(), 30);
        assert_eq!(GgmlType::Q8_0.id(), 8);
    }

    #[test]
    fn block_layouts_match_the_ggml_structs() {
        // d (f16) + 16 bytes of nibbles; d + m + nibbles; d + 32 int8.
        assert_eq!(GgmlType::Q4_0.type_size(), 2 + 16);
        assert_eq!(GgmlType::Q4_1.type_size(), 2 + 2 + 16);
        assert_eq!(GgmlType::Q8_0.type_size(), 2 + 32);
        // Q4_K: d, dmin, 12 bytes of scales, 128 bytes of nibbles per 256.
        assert_eq!(GgmlType::Q4_K.type_size(), 2 + 2 + 12 + 128);
        // Q6_K: ql 128 + qh 64 + 16 scales + d.
        assert_eq!(GgmlType::Q6_K.type_size(), 128 + 64 + 16 + 2);
        assert_eq!(GgmlType::BF16.type_size(), 2);
    }
}
