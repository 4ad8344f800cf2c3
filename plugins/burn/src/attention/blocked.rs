//! Causal attention from plain tensor ops, one block of queries at a time,
//! for any backend: the default of [`super::AttentionBackend`].
//!
//! Block `a..b` of queries sees keys `0..start + b`; the scores of one block
//! are the largest tensor alive, and none of them outlives its block.

use burn::tensor::backend::Backend;
use burn::tensor::{Bool, Tensor};

use super::{Causal, Saved};

/// The output `[batch, heads, len, head_dim]` and the log-sum-exp
/// `[batch, heads, len, 1]` of each query's scaled, masked scores.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::{Distribution, Tensor};
/// use entropo_burn::attention::{blocked, Causal};
/// let device = Default::default();
/// let [q, k, v] = [0, 1, 2].map(|_| Tensor::<NdArray, 4>::random([1, 1, 3, 2], Distribution::Default, &device));
/// let (out, lse) = blocked::forward(q.clone(), k.clone(), v.clone(), Causal { start: 0, scale: 1.0, block: 2 });
/// // The first query sees only the first key: its output is that value,
/// // its log-sum-exp that one score.
/// assert!(out.narrow(2, 0, 1).sub(v.narrow(2, 0, 1)).abs().max().into_scalar() < 1e-6);
/// let score = q.narrow(2, 0, 1).mul(k.narrow(2, 0, 1)).sum().into_scalar();
/// assert!((lse.narrow(2, 0, 1).into_scalar() - score).abs() < 1e-6);
/// ```
pub fn forward<B: Backend>(q: Tensor<B, 4>, k: Tensor<B, 4>, v: Tensor<B, 4>, causal: Causal) -> (Tensor<B, 4>, Tensor<B, 4>) {
    let mut outs = Vec::new();
    let mut lses = Vec::new();
    for (a, rows, keys) in causal.blocks(q.dims()[2]) {
        let scores = scores(q.clone().narrow(2, a, rows), k.clone().narrow(2, 0, keys), a, causal);
        let max = scores.clone().max_dim(3);
        let p = (scores - max.clone()).exp();
        let sum = p.clone().sum_dim(3);
        outs.push(p.matmul(v.clone().narrow(2, 0, keys)) / sum.clone());
        lses.push(max + sum.log());
    }
    (cat(outs), cat(lses))
}

/// The gradients `[dq, dk, dv]` given the output's gradient `dout`, from the
/// inputs, the output and the log-sum-exp of [`forward`].
pub fn backward<B: Backend>(saved: Saved<Tensor<B, 4>>, dout: Tensor<B, 4>, causal: Causal) -> [Tensor<B, 4>; 3] {
    let Saved { q, k, v, out, lse } = saved;
    // softmax'(s)·g = p ⊙ (g − Σⱼ pⱼgⱼ), and Σⱼ pⱼ(dout·vⱼ) = dout·out.
    let delta = (dout.clone() * out).sum_dim(3);
    let mut dk = k.zeros_like();
    let mut dv = v.zeros_like();
    let mut dqs = Vec::new();
    for (a, rows, keys) in causal.blocks(q.dims()[2]) {
        let qb = q.clone().narrow(2, a, rows);
        let dob = dout.clone().narrow(2, a, rows);
        let kk = k.clone().narrow(2, 0, keys);
        let p = (scores(qb.clone(), kk.clone(), a, causal) - lse.clone().narrow(2, a, rows)).exp();
        let dp = dob.clone().matmul(v.clone().narrow(2, 0, keys).swap_dims(2, 3));
        dv = add_prefix(dv, p.clone().swap_dims(2, 3).matmul(dob));
        let ds = (p * (dp - delta.clone().narrow(2, a, rows))).mul_scalar(causal.scale);
        dqs.push(ds.clone().matmul(kk));
        dk = add_prefix(dk, ds.swap_dims(2, 3).matmul(qb));
    }
    [cat(dqs), dk, dv]
}

/// Scaled scores of the queries `a..` of a block against their keys, with
/// -∞ where a key lies after the query (every row keeps its diagonal, so no
/// row is all -∞). The mask is made on the device: nothing of size
/// rows × keys crosses from the host.
fn scores<B: Backend>(qb: Tensor<B, 4>, keys: Tensor<B, 4>, a: usize, causal: Causal) -> Tensor<B, 4> {
    let scores = qb.matmul(keys.swap_dims(2, 3)).mul_scalar(causal.scale);
    let [_, _, rows, cols] = scores.dims();
    let masked = Tensor::<B, 2, Bool>::tril_mask([rows, cols], (causal.start + a) as i64, &scores.device())
        .unsqueeze::<4>()
        .expand(scores.dims());
    scores.mask_fill(masked, f32::NEG_INFINITY)
}

/// `acc` with `part` added to its first `part.dims()[2]` positions.
fn add_prefix<B: Backend>(acc: Tensor<B, 4>, part: Tensor<B, 4>) -> Tensor<B, 4> {
    let [b, h, n, d] = part.dims();
    if n == acc.dims()[2] {
        return acc + part;
    }
    let ranges = [0..b, 0..h, 0..n, 0..d];
    let sum = acc.clone().slice(ranges.clone()) + part;
    acc.slice_assign(ranges, sum)
}

fn cat<B: Backend>(parts: Vec<Tensor<B, 4>>) -> Tensor<B, 4> {
    if parts.len() == 1 { parts.into_iter().next().expect("one part") } else { Tensor::cat(parts, 2) }
}
