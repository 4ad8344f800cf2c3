//! Causal attention as one operation with its own backward pass.
//!
//! Written as matmul, mask and softmax, attention makes autodiff keep every
//! layer's `[heads, len, len]` scores and probabilities until the backward
//! pass: 14 GB for SmolLM2-135M at 2 048 tokens. [`AttentionBackend`]
//! instead computes `softmax(QKᵀ·scale + causal mask)·V` in blocks of
//! queries and keeps only the output and each row's log-sum-exp; the
//! backward pass recomputes the probabilities of one block at a time from
//! them (the scheme of FlashAttention).
//!
//! Every backend gets that scheme from tensor ops ([`blocked`]); the CPU
//! backends replace it with kernels: `ndarray` with a host kernel on
//! `matrixmultiply` ([`host`]), `tch` on the CPU with LibTorch's own flash
//! attention. [`burn::backend::Autodiff`] wraps whichever the inner backend
//! has in one graph node.

mod autodiff;
pub mod blocked;
pub mod flash;
#[cfg(feature = "ndarray")]
pub mod host;
#[cfg(feature = "tch")]
mod libtorch;

use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::ops::FloatTensor;
use burn::tensor::{Tensor, TensorPrimitive};

/// Which keys each query sees, and how scores are scaled and split.
///
/// Query `i` (of `0..len`) sits at position `start + i` and sees the keys
/// at positions `0..=start + i`; `start` is the number of cached positions
/// before the queries (0 when training).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Causal {
    /// Cached positions before the first query.
    pub start: usize,
    /// Factor on `QKᵀ`, usually `1/√head_dim`.
    pub scale: f64,
    /// Queries per block where an implementation splits them (at least 1).
    pub block: usize,
}

impl Causal {
    /// Queries in the largest block of `len` queries (at least 1).
    fn block_rows(self, len: usize) -> usize {
        self.block.min(len).max(1)
    }

    /// `(first query, queries, keys)` of each block of `len` queries.
    fn blocks(self, len: usize) -> impl Iterator<Item = (usize, usize, usize)> {
        let step = self.block_rows(len);
        (0..len).step_by(step).map(move |a| {
            let b = (a + step).min(len);
            (a, b - a, self.start + b)
        })
    }
}

/// What the forward pass leaves for the backward pass: its inputs, its
/// output and each query's log-sum-exp, as tensors, primitives or host
/// slices.
///
/// ```
/// use entropo_burn::attention::Saved;
/// let saved = Saved { q: vec![1.0], k: vec![2.0], v: vec![3.0], out: vec![3.0], lse: vec![2.0] };
/// let lens = saved.as_ref().map(Vec::len);
/// assert_eq!((lens.q, lens.lse), (1, 1));
/// assert_eq!(saved.map(|t| t[0] * 2.0).v, 6.0);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Saved<T> {
    /// Queries.
    pub q: T,
    /// Keys.
    pub k: T,
    /// Values.
    pub v: T,
    /// The attention output.
    pub out: T,
    /// Each query's log-sum-exp, in the layout its forward pass chose.
    pub lse: T,
}

impl<T> Saved<T> {
    /// The same five with `f` applied to each.
    pub fn map<U>(self, mut f: impl FnMut(T) -> U) -> Saved<U> {
        Saved { q: f(self.q), k: f(self.k), v: f(self.v), out: f(self.out), lse: f(self.lse) }
    }

    /// The same five, borrowed.
    pub fn as_ref(&self) -> Saved<&T> {
        Saved { q: &self.q, k: &self.k, v: &self.v, out: &self.out, lse: &self.lse }
    }
}

/// A backend that computes [`causal_attention`] forward and backward.
///
/// Tensors are `[batch, heads, len, head_dim]` for queries and
/// `[batch, heads, start + len, head_dim]` for keys and values (grouped-query
/// heads already repeated). The defaults are [`blocked`]'s, which every
/// backend can run.
pub trait AttentionBackend: Backend {
    /// The attention output `[batch, heads, len, head_dim]` and the
    /// log-sum-exp of each query's scaled, masked scores, in whatever shape
    /// [`AttentionBackend::attention_backward`] of the same backend reads.
    fn attention_forward(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        causal: Causal,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        blocked_forward::<Self>(q, k, v, causal)
    }

    /// The gradients of `q`, `k` and `v` given the output's gradient `dout`,
    /// from the inputs and what [`AttentionBackend::attention_forward`]
    /// returned for them.
    fn attention_backward(saved: Saved<FloatTensor<Self>>, dout: FloatTensor<Self>, causal: Causal) -> [FloatTensor<Self>; 3] {
        blocked_backward::<Self>(saved, dout, causal)
    }

    /// The attention output alone, where no gradient will be asked for
    /// (sampling, the verifier, reference log-probabilities): backends with
    /// a faster kernel that keeps no log-sum-exp use it here. The default is
    /// [`AttentionBackend::attention_forward`]'s output, which on an
    /// autodiff backend is still one graph node.
    fn attention_inference(q: FloatTensor<Self>, k: FloatTensor<Self>, v: FloatTensor<Self>, causal: Causal) -> FloatTensor<Self> {
        Self::attention_forward(q, k, v, causal).0
    }

    /// Whether sampling caches keep keys and values in host buffers and
    /// attend with the [`host`] kernel where they lie (`ndarray`), rather
    /// than as tensors extended by concatenation ([`crate::cache`]).
    fn keeps_kv_on_host() -> bool {
        false
    }
}

/// [`blocked::forward`] on primitives.
fn blocked_forward<B: Backend>(q: FloatTensor<B>, k: FloatTensor<B>, v: FloatTensor<B>, causal: Causal) -> (FloatTensor<B>, FloatTensor<B>) {
    let (out, lse) = blocked::forward::<B>(float(q), float(k), float(v), causal);
    (prim(out), prim(lse))
}

/// [`blocked::backward`] on primitives.
fn blocked_backward<B: Backend>(saved: Saved<FloatTensor<B>>, dout: FloatTensor<B>, causal: Causal) -> [FloatTensor<B>; 3] {
    blocked::backward::<B>(saved.map(float), float(dout), causal).map(prim)
}

/// `softmax(QKᵀ·scale + causal mask)·V`, differentiable on autodiff backends.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::{Distribution, Tensor};
/// use burn::tensor::activation::softmax;
/// use entropo_burn::attention::{causal_attention, Causal};
/// let device = Default::default();
/// let [q, k, v] = [0, 1, 2].map(|_| Tensor::<NdArray, 4>::random([1, 2, 5, 4], Distribution::Default, &device));
/// let fused = causal_attention(q.clone(), k.clone(), v.clone(), Causal { start: 0, scale: 0.5, block: 2 });
/// // Written out: query i sees keys 0..=i.
/// let mask = Tensor::<NdArray, 2, burn::tensor::Bool>::tril_mask([5, 5], 0, &device).unsqueeze::<4>().expand([1, 2, 5, 5]);
/// let scores = q.matmul(k.swap_dims(2, 3)).mul_scalar(0.5).mask_fill(mask, f32::NEG_INFINITY);
/// let plain = softmax(scores, 3).matmul(v);
/// assert!(fused.sub(plain).abs().max().into_scalar() < 1e-6);
/// ```
pub fn causal_attention<B: AttentionBackend>(q: Tensor<B, 4>, k: Tensor<B, 4>, v: Tensor<B, 4>, causal: Causal) -> Tensor<B, 4> {
    let (out, _lse) = B::attention_forward(prim(q), prim(k), prim(v), causal);
    float(out)
}

/// [`causal_attention`] where no gradient will be asked for: the backend's
/// [`AttentionBackend::attention_inference`] (a fused kernel on `cuda`).
pub fn causal_attention_inference<B: AttentionBackend>(q: Tensor<B, 4>, k: Tensor<B, 4>, v: Tensor<B, 4>, causal: Causal) -> Tensor<B, 4> {
    float(B::attention_inference(prim(q), prim(k), prim(v), causal))
}

/// An autodiff backend whose inner backend computes attention too, as
/// training needs: the graph runs on `Self`, reference log-probs on the
/// inner backend.
pub trait TrainBackend: AutodiffBackend<InnerBackend: AttentionBackend> + AttentionBackend {}

impl<B> TrainBackend for B where B: AutodiffBackend<InnerBackend: AttentionBackend> + AttentionBackend {}

#[cfg(feature = "ndarray")]
impl AttentionBackend for burn::backend::NdArray<f32> {
    fn attention_forward(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        causal: Causal,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let (out, lse) = host::forward_tensors::<Self>(float(q), float(k), float(v), causal);
        (prim(out), prim(lse))
    }

    fn attention_backward(saved: Saved<FloatTensor<Self>>, dout: FloatTensor<Self>, causal: Causal) -> [FloatTensor<Self>; 3] {
        host::backward_tensors::<Self>(saved.map(float), float(dout), causal).map(prim)
    }

    fn keeps_kv_on_host() -> bool {
        true
    }
}

/// Training attention is the blocked default; inference attention is burn's
/// flash kernel ([`flash`]).
#[cfg(feature = "cuda")]
impl AttentionBackend for burn::backend::Cuda<f32, i32> {
    fn attention_inference(q: FloatTensor<Self>, k: FloatTensor<Self>, v: FloatTensor<Self>, causal: Causal) -> FloatTensor<Self> {
        prim(flash::forward::<Self>(float(q), float(k), float(v), causal))
    }
}

fn float<B: Backend, const D: usize>(t: FloatTensor<B>) -> Tensor<B, D> {
    Tensor::from_primitive(TensorPrimitive::Float(t))
}

fn prim<B: Backend, const D: usize>(t: Tensor<B, D>) -> FloatTensor<B> {
    t.into_primitive().tensor()
}

#[cfg(all(test, feature = "ndarray"))]
mod tests;
