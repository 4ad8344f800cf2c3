//! Causal attention on host memory, for the `ndarray` backend: per head, one
//! block of queries at a time, the block's scores in a scratch buffer that
//! is reused, products by `matrixmultiply`'s `sgemm` (transposes are only
//! strides), heads in parallel on rayon's threads.
//!
//! Buffers are row-major: queries, outputs and their gradients
//! `[heads, len, head_dim]`, keys and values `[heads, start + len, head_dim]`,
//! log-sum-exps `[heads, len]`.

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use rayon::prelude::*;

use super::{Causal, Saved};
use crate::model::host_values;

/// The sizes of a call: `heads` is batch × heads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dims {
    /// Batch × attention heads.
    pub heads: usize,
    /// Queries per head.
    pub len: usize,
    /// Width of each query, key and value.
    pub head_dim: usize,
}

/// The output and log-sum-exps of causal attention (see [`super::blocked::forward`]).
///
/// ```
/// use entropo_burn::attention::{host, Causal};
/// // One head, two queries of width 1; the second sees both keys.
/// let dims = host::Dims { heads: 1, len: 2, head_dim: 1 };
/// let causal = Causal { start: 0, scale: 1.0, block: 1 };
/// let (out, lse) = host::forward(&[0.0, 1.0], &[1.0, 2.0], &[10.0, 20.0], dims, causal);
/// let (e1, e2) = (1f32.exp(), 2f32.exp());
/// assert_eq!(out[0], 10.0);
/// assert!((out[1] - (10.0 * e1 + 20.0 * e2) / (e1 + e2)).abs() < 1e-4);
/// assert!((lse[1] - (e1 + e2).ln()).abs() < 1e-6);
/// ```
pub fn forward(q: &[f32], k: &[f32], v: &[f32], dims: Dims, causal: Causal) -> (Vec<f32>, Vec<f32>) {
    let Dims { heads, len, head_dim: d } = dims;
    let total = causal.start + len;
    check(k, heads * total * d, "k");
    check(v, heads * total * d, "v");
    forward_with(q, |h| (part(k, h, total * d), part(v, h, total * d)), dims, causal)
}

/// [`forward`] where head `h`'s keys and values come from `kv(h)`, each at
/// least `[start + len, head_dim]` row-major: grouped query heads share
/// their key/value head's rows where a sampling cache keeps them, without
/// copying them per query head.
///
/// ```
/// use entropo_burn::attention::{host, Causal};
/// // Two query heads share one key/value head: the same as repeating it.
/// let dims = host::Dims { heads: 2, len: 1, head_dim: 1 };
/// let causal = Causal { start: 1, scale: 1.0, block: 1 };
/// let (k, v) = ([1.0, 2.0], [10.0, 20.0]);
/// let shared = host::forward_with(&[0.5, -0.5], |_| (&k[..], &v[..]), dims, causal);
/// let repeated = host::forward(&[0.5, -0.5], &[1.0, 2.0, 1.0, 2.0], &[10.0, 20.0, 10.0, 20.0], dims, causal);
/// assert_eq!(shared, repeated);
/// ```
pub fn forward_with<'a>(
    q: &[f32],
    kv: impl Fn(usize) -> (&'a [f32], &'a [f32]) + Sync,
    dims: Dims,
    causal: Causal,
) -> (Vec<f32>, Vec<f32>) {
    let Dims { heads, len, head_dim: d } = dims;
    let total = causal.start + len;
    check(q, heads * len * d, "q");
    let mut out = vec![0.0; heads * len * d];
    let mut lse = vec![0.0; heads * len];
    out.par_chunks_mut(len * d).zip(lse.par_chunks_mut(len)).enumerate().for_each(|(h, (out, lse))| {
        let q = part(q, h, len * d);
        let (k, v) = kv(h);
        let mut scratch = vec![0.0; causal.block_rows(len) * total];
        for (a, rows, keys) in causal.blocks(len) {
            let p = &mut scratch[..rows * keys];
            gemm(causal.scale as f32, Mat::new(&q[a * d..], rows, d), Mat::new(k, keys, d).t(), 0.0, p, keys);
            let mut sums = Vec::with_capacity(rows);
            for (i, row) in p.chunks_exact_mut(keys).enumerate() {
                let (seen, hidden) = row.split_at_mut(causal.start + a + i + 1);
                hidden.fill(0.0);
                let max = seen.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let mut sum = 0.0;
                for s in seen.iter_mut() {
                    *s = (*s - max).exp();
                    sum += *s;
                }
                lse[a + i] = max + sum.ln();
                sums.push(sum);
            }
            let out = &mut out[a * d..][..rows * d];
            gemm(1.0, Mat::new(p, rows, keys), Mat::new(v, keys, d), 0.0, out, d);
            for (row, sum) in out.chunks_exact_mut(d).zip(sums) {
                row.iter_mut().for_each(|x| *x /= sum);
            }
        }
    });
    (out, lse)
}

/// The gradients `[dq, dk, dv]` given the output's gradient `dout`, from the
/// inputs, the output and the log-sum-exps of [`forward`].
pub fn backward(saved: Saved<&[f32]>, dout: &[f32], dims: Dims, causal: Causal) -> [Vec<f32>; 3] {
    let Saved { q, k, v, out, lse } = saved;
    let Dims { heads, len, head_dim: d } = dims;
    let total = causal.start + len;
    for (t, name) in [(q, "q"), (out, "out"), (dout, "dout")] {
        check(t, heads * len * d, name);
    }
    check(k, heads * total * d, "k");
    check(v, heads * total * d, "v");
    check(lse, heads * len, "lse");
    let mut dq = vec![0.0; heads * len * d];
    let mut dk = vec![0.0; heads * total * d];
    let mut dv = vec![0.0; heads * total * d];
    let scale = causal.scale as f32;
    dq.par_chunks_mut(len * d)
        .zip(dk.par_chunks_mut(total * d))
        .zip(dv.par_chunks_mut(total * d))
        .enumerate()
        .for_each(|(h, ((dq, dk), dv))| {
            let (q, out, dout) = (part(q, h, len * d), part(out, h, len * d), part(dout, h, len * d));
            let (k, v) = (part(k, h, total * d), part(v, h, total * d));
            let lse = part(lse, h, len);
            let mut p_buf = vec![0.0; causal.block_rows(len) * total];
            let mut ds_buf = vec![0.0; causal.block_rows(len) * total];
            for (a, rows, keys) in causal.blocks(len) {
                let (p, ds) = (&mut p_buf[..rows * keys], &mut ds_buf[..rows * keys]);
                let (qb, dob, ob) = (&q[a * d..][..rows * d], &dout[a * d..][..rows * d], &out[a * d..][..rows * d]);
                gemm(scale, Mat::new(qb, rows, d), Mat::new(k, keys, d).t(), 0.0, p, keys);
                for (i, row) in p.chunks_exact_mut(keys).enumerate() {
                    let (seen, hidden) = row.split_at_mut(causal.start + a + i + 1);
                    hidden.fill(0.0);
                    seen.iter_mut().for_each(|s| *s = (*s - lse[a + i]).exp());
                }
                gemm(1.0, Mat::new(p, rows, keys).t(), Mat::new(dob, rows, d), 1.0, &mut dv[..keys * d], d);
                gemm(1.0, Mat::new(dob, rows, d), Mat::new(v, keys, d).t(), 0.0, ds, keys);
                // softmax'(s)·g = p ⊙ (g − Σⱼ pⱼgⱼ), and Σⱼ pⱼ(dout·vⱼ) = dout·out.
                for (i, (ds_row, p_row)) in ds.chunks_exact_mut(keys).zip(p.chunks_exact(keys)).enumerate() {
                    let delta: f32 = dob[i * d..][..d].iter().zip(&ob[i * d..][..d]).map(|(g, o)| g * o).sum();
                    ds_row.iter_mut().zip(p_row).for_each(|(g, p)| *g = p * (*g - delta) * scale);
                }
                gemm(1.0, Mat::new(ds, rows, keys), Mat::new(k, keys, d), 0.0, &mut dq[a * d..][..rows * d], d);
                gemm(1.0, Mat::new(ds, rows, keys).t(), Mat::new(qb, rows, d), 1.0, &mut dk[..keys * d], d);
            }
        });
    [dq, dk, dv]
}

/// [`forward`] on tensors of any backend, through host memory.
pub fn forward_tensors<B: Backend>(q: Tensor<B, 4>, k: Tensor<B, 4>, v: Tensor<B, 4>, causal: Causal) -> (Tensor<B, 4>, Tensor<B, 4>) {
    let [batch, heads, len, d] = q.dims();
    let device = q.device();
    let dims = Dims { heads: batch * heads, len, head_dim: d };
    let (out, lse) = forward(&host_values(q), &host_values(k), &host_values(v), dims, causal);
    (
        Tensor::from_data(TensorData::new(out, [batch, heads, len, d]), &device),
        Tensor::from_data(TensorData::new(lse, [batch, heads, len, 1]), &device),
    )
}

/// [`backward`] on tensors of any backend, through host memory.
pub fn backward_tensors<B: Backend>(saved: Saved<Tensor<B, 4>>, dout: Tensor<B, 4>, causal: Causal) -> [Tensor<B, 4>; 3] {
    let ([batch, heads, len, d], kv_shape) = (saved.q.dims(), saved.k.dims());
    let device = saved.q.device();
    let dims = Dims { heads: batch * heads, len, head_dim: d };
    let saved = saved.map(host_values);
    let [dq, dk, dv] = backward(saved.as_ref().map(Vec::as_slice), &host_values(dout), dims, causal);
    [(dq, [batch, heads, len, d]), (dk, kv_shape), (dv, kv_shape)]
        .map(|(data, shape)| Tensor::from_data(TensorData::new(data, shape), &device))
}

/// Chunk `i` of `t` cut into chunks of `n`.
fn part(t: &[f32], i: usize, n: usize) -> &[f32] {
    &t[i * n..][..n]
}

fn check(t: &[f32], expected: usize, name: &str) {
    assert_eq!(t.len(), expected, "attention: `{name}` has {} values, expected {expected}", t.len());
}

/// A read-only matrix view: element `(i, j)` is `data[i·rs + j·cs]`.
#[derive(Clone, Copy)]
struct Mat<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
}

impl<'a> Mat<'a> {
    /// The first `rows × cols` values of `data`, row-major.
    fn new(data: &'a [f32], rows: usize, cols: usize) -> Self {
        assert!(data.len() >= rows * cols, "matrix view past its buffer");
        Mat { data, rows, cols, rs: cols, cs: 1 }
    }

    fn t(self) -> Self {
        Mat { rows: self.cols, cols: self.rows, rs: self.cs, cs: self.rs, ..self }
    }
}

/// `c = alpha·a·b + beta·c`, with `c` row-major `a.rows × b.cols` of row
/// stride `ldc`.
fn gemm(alpha: f32, a: Mat, b: Mat, beta: f32, c: &mut [f32], ldc: usize) {
    assert_eq!(a.cols, b.rows, "inner dimensions differ");
    let (m, k, n) = (a.rows, a.cols, b.cols);
    if m == 0 || n == 0 {
        return;
    }
    assert!(ldc >= n && c.len() >= (m - 1) * ldc + n, "output view past its buffer");
    // SAFETY: `Mat::new` checked that every element of `a` and `b` lies in
    // its slice (a transpose only swaps the strides), and the assertion above
    // does so for `c`, which is exclusively borrowed.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            alpha,
            a.data.as_ptr(),
            a.rs as isize,
            a.cs as isize,
            b.data.as_ptr(),
            b.rs as isize,
            b.cs as isize,
            beta,
            c.as_mut_ptr(),
            ldc as isize,
            1,
        );
    }
}
