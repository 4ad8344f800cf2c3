//! Dequantisation of ggml blocks to `f32`.
//!
//! Block layouts (ggml-common.h), 32 elements per block, little-endian:
//!
//! | type | bytes | layout | element `j` |
//! | --- | --- | --- | --- |
//! | Q8_0 | 34 | `d: f16, q: [i8; 32]` | `d · q[j]` |
//! | Q4_0 | 18 | `d: f16, q: [u8; 16]` | `d · (nib(j) − 8)` |
//! | Q4_1 | 20 | `d: f16, m: f16, q: [u8; 16]` | `d · nib(j) + m` |
//!
//! where `nib(j)` is the low nibble of `q[j]` for `j < 16` and the high
//! nibble of `q[j − 16]` for `j ≥ 16` (the first half of the block in the
//! low nibbles, the second half in the high ones).

use half::{bf16, f16};

use crate::GgmlType;

/// `n` elements of `dtype` from `bytes`, which the caller has sized from the
/// tensor table (`n / block_size · type_size` bytes). `None` when the type
/// cannot be dequantised.
pub(crate) fn to_f32(dtype: GgmlType, bytes: &[u8], n: usize) -> Option<Vec<f32>> {
    let mut out = vec![0f32; n];
    match dtype {
        GgmlType::F32 => {
            for (o, b) in out.iter_mut().zip(bytes.chunks_exact(4)) {
                *o = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            }
        }
        GgmlType::F16 => {
            for (o, b) in out.iter_mut().zip(bytes.chunks_exact(2)) {
                *o = f16::from_le_bytes([b[0], b[1]]).to_f32();
            }
        }
        GgmlType::BF16 => {
            for (o, b) in out.iter_mut().zip(bytes.chunks_exact(2)) {
                *o = bf16::from_le_bytes([b[0], b[1]]).to_f32();
            }
        }
        GgmlType::Q8_0 => {
            for (block, o) in bytes.chunks_exact(34).zip(out.chunks_exact_mut(32)) {
                let d = half_at(block, 0);
                for (o, &q) in o.iter_mut().zip(&block[2..]) {
                    *o = d * f32::from(q as i8);
                }
            }
        }
        GgmlType::Q4_0 => {
            for (block, o) in bytes.chunks_exact(18).zip(out.chunks_exact_mut(32)) {
                let d = half_at(block, 0);
                let (lo, hi) = o.split_at_mut(16);
                for ((l, h), &q) in lo.iter_mut().zip(hi).zip(&block[2..]) {
                    *l = d * f32::from(i16::from(q & 0x0F) - 8);
                    *h = d * f32::from(i16::from(q >> 4) - 8);
                }
            }
        }
        GgmlType::Q4_1 => {
            for (block, o) in bytes.chunks_exact(20).zip(out.chunks_exact_mut(32)) {
                let d = half_at(block, 0);
                let m = half_at(block, 2);
                let (lo, hi) = o.split_at_mut(16);
                for ((l, h), &q) in lo.iter_mut().zip(hi).zip(&block[4..]) {
                    *l = d * f32::from(q & 0x0F) + m;
                    *h = d * f32::from(q >> 4) + m;
                }
            }
        }
        _ => return None,
    }
    Some(out)
}

/// The f16 at `block[at..at + 2]` as f32.
fn half_at(block: &[u8], at: usize) -> f32 {
    f16::from_le_bytes([block[at], block[at + 1]]).to_f32()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(x: f32) -> [u8; 2] {
        f16::from_f32(x).to_le_bytes()
    }

    #[test]
    fn q4_1_block_is_d_times_nibble_plus_m() {
        // d = 0.5, m = -3, nibbles: low = j % 16, high = 15 - j % 16.
        let mut block = Vec::from(h(0.5));
        block.extend(h(-3.0));
        block.extend((0u8..16).map(|j| j | ((15 - j) << 4)));
        let out = to_f32(GgmlType::Q4_1, &block, 32).unwrap();
        for j in 0..16 {
            assert_eq!(out[j], 0.5 * j as f32 - 3.0, "element {j}");
            assert_eq!(
                out[16 + j],
                0.5 * (15 - j) as f32 - 3.0,
                "element {}",
                16 + j
            );
        }
    }

    #[test]
    fn q4_0_block_is_d_times_nibble_minus_8() {
        // Two blocks with different scales: 0.25 and -2.
        let mut bytes = Vec::new();
        for d in [0.25f32, -2.0] {
            bytes.extend(h(d));
            bytes.extend((0u8..16).map(|j| j | ((15 - j) << 4)));
        }
        let out = to_f32(GgmlType::Q4_0, &bytes, 64).unwrap();
        for (b, d) in [0.25f32, -2.0].into_iter().enumerate() {
            for j in 0..16 {
                assert_eq!(out[32 * b + j], d * (j as f32 - 8.0));
                assert_eq!(out[32 * b + 16 + j], d * (7.0 - j as f32));
            }
        }
        assert_eq!(out[0], -2.0); // 0.25 · (0 − 8)
        assert_eq!(out[32 + 16], -14.0); // −2 · (15 − 8)
    }

    #[test]
    fn q8_0_block_is_d_times_signed_byte() {
        let mut block = Vec::from(h(0.125));
        let qs: Vec<i8> = (0..32).map(|j| (j * 8 - 128) as i8).collect();
        block.extend(qs.iter().map(|&q| q as u8));
        let out = to_f32(GgmlType::Q8_0, &block, 32).unwrap();
        for j in 0..32 {
            assert_eq!(out[j], 0.125 * f32::from(qs[j]));
        }
        assert_eq!((out[0], out[31]), (-16.0, 15.0));
    }

    #[test]
    fn plain_float_types_decode_exactly() {
        let values = [0.0f32, 1.0, -2.5, 65504.0, 1.0 / 1024.0];
        let f32_bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(to_f32(GgmlType::F32, &f32_bytes, 5).unwrap(), values);
        // All of these are exact in f16.
        let f16_bytes: Vec<u8> = values.iter().flat_map(|v| h(*v)).collect();
        assert_eq!(to_f32(GgmlType::F16, &f16_bytes, 5).unwrap(), values);
        // bf16 is the top half of an f32: 0x3FC0 = 1.5, 0xC020 = -2.5.
        let bf16_bytes = [0xC0, 0x3F, 0x20, 0xC0];
        assert_eq!(to_f32(GgmlType::BF16, &bf16_bytes, 2).unwrap(), [1.5, -2.5]);
    }

    #[test]
    fn other_types_are_not_dequantised() {
        assert_eq!(to_f32(GgmlType::Q4_K, &[0; 144], 256), None);
        assert_eq!(to_f32(GgmlType::I32, &[0; 4], 1), None);
    }
}
