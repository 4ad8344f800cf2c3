//! The Q/K row order of llama.cpp versus HuggingFace.
//!
//! HF's llama applies RoPE with `rotate_half`: within each head of
//! `head_dim = 2·half` rows, row `j` is rotated together with row `half + j`.
//! llama.cpp rotates adjacent rows `2j` and `2j + 1`, so its converter
//! (`permute` in convert_hf_to_gguf.py) reorders the rows of `q_proj` (with
//! `n_head`) and `k_proj` (with `n_head_kv`):
//!
//! ```text
//! w.reshape(n_head, 2, half, cols).swapaxes(1, 2).reshape(rows, cols)
//! GGUF row  h·head_dim + 2j + i   =   HF row  h·head_dim + i·half + j     (i ∈ {0, 1}, j < half)
//! ```
//!
//! [`unpermute_rows`] is the inverse: it puts every GGUF row back at its HF
//! position. Other weights are stored in HF order already.

/// HF-ordered rows from llama.cpp-ordered ones: `data` is `rows × cols`
/// row-major with `rows = n_head · head_dim`, `head_dim` even. `None` when
/// `data` cannot be split so.
pub(crate) fn unpermute_rows(data: &[f32], n_head: usize, cols: usize) -> Option<Vec<f32>> {
    let rows = data.len().checked_div(cols)?;
    if n_head == 0 || rows % (2 * n_head) != 0 || rows * cols != data.len() {
        return None;
    }
    let head_dim = rows / n_head;
    let half = head_dim / 2;
    let mut out = vec![0f32; data.len()];
    for h in 0..n_head {
        for i in 0..2 {
            for j in 0..half {
                let hf = h * head_dim + i * half + j;
                let gguf = h * head_dim + 2 * j + i;
                out[hf * cols..(hf + 1) * cols]
                    .copy_from_slice(&data[gguf * cols..(gguf + 1) * cols]);
            }
        }
    }
    Some(out)
}

/// llama.cpp's `permute`, transcribed index by index from its numpy form
/// (tests only: the import never needs it).
#[cfg(test)]
pub(crate) fn permute_rows(data: &[f32], n_head: usize, cols: usize) -> Vec<f32> {
    let rows = data.len() / cols;
    let half = rows / n_head / 2;
    // reshape(n_head, 2, half, cols): element [h][i][j][c] is row (h·2 + i)·half + j.
    // swapaxes(1, 2) gives [h][j][i][c]; reshape(rows, cols) makes row (h·half + j)·2 + i.
    let mut out = vec![0f32; data.len()];
    for h in 0..n_head {
        for i in 0..2 {
            for j in 0..half {
                let src = (h * 2 + i) * half + j;
                let dst = (h * half + j) * 2 + i;
                out[dst * cols..(dst + 1) * cols]
                    .copy_from_slice(&data[src * cols..(src + 1) * cols]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (SplitMix64) for test data.
    fn random(n: usize, seed: u64) -> Vec<f32> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = state;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                ((z ^ (z >> 31)) >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect()
    }

    #[test]
    fn unpermute_inverts_permute_on_random_weights() {
        // SmolLM2's Q (9 heads of 64 × 576) and K (3 heads), and odd shapes.
        for (n_head, head_dim, cols, seed) in
            [(9, 64, 576, 1), (3, 64, 576, 2), (1, 2, 1, 3), (4, 6, 5, 4)]
        {
            let w = random(n_head * head_dim * cols, seed);
            let permuted = permute_rows(&w, n_head, cols);
            if head_dim > 2 {
                assert_ne!(
                    permuted, w,
                    "permute moves rows ({n_head} heads of {head_dim})"
                );
            }
            assert_eq!(unpermute_rows(&permuted, n_head, cols).unwrap(), w);
            assert_eq!(
                permute_rows(&unpermute_rows(&w, n_head, cols).unwrap(), n_head, cols),
                w
            );
        }
    }

    #[test]
    fn permute_interleaves_the_two_halves_of_each_head() {
        // Two heads of four rows, one column holding the HF row index:
        // head 0 = [0 1 | 2 3] becomes [0 2 1 3]; head 1 likewise.
        let hf: Vec<f32> = (0..8).map(|r| r as f32).collect();
        let gguf = permute_rows(&hf, 2, 1);
        assert_eq!(gguf, [0.0, 2.0, 1.0, 3.0, 4.0, 6.0, 5.0, 7.0]);
        assert_eq!(unpermute_rows(&gguf, 2, 1).unwrap(), hf);
        // One head of six rows: [0 1 2 | 3 4 5] becomes [0 3 1 4 2 5].
        let hf: Vec<f32> = (0..6).map(|r| r as f32).collect();
        assert_eq!(permute_rows(&hf, 1, 1), [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
    }

    #[test]
    fn shapes_that_do_not_split_into_head_pairs_are_refused() {
        assert_eq!(unpermute_rows(&[0.0; 6], 2, 1), None); // 3 rows per head
        assert_eq!(unpermute_rows(&[0.0; 7], 1, 2), None); // not whole rows
        assert_eq!(unpermute_rows(&[0.0; 4], 0, 1), None);
        assert_eq!(unpermute_rows(&[0.0; 4], 1, 0), None);
    }

    #[test]
    fn whole_rows_move_together() {
        // 1 head, head_dim 4, 3 columns: row r holds [10r, 10r + 1, 10r + 2].
        let hf: Vec<f32> = (0..4)
            .flat_map(|r| (0..3).map(move |c| (10 * r + c) as f32))
            .collect();
        let gguf = permute_rows(&hf, 1, 3);
        assert_eq!(
            gguf,
            [
                0.0, 1.0, 2.0, 20.0, 21.0, 22.0, 10.0, 11.0, 12.0, 30.0, 31.0, 32.0
            ]
        );
        assert_eq!(unpermute_rows(&gguf, 1, 3).unwrap(), hf);
    }
}
