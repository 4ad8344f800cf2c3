//! Every attention implementation against attention written out as matmul,
//! mask and softmax, whose gradients burn's autodiff takes; the host kernel's
//! gradient also against finite differences. The autodiff node is checked on
//! every CPU backend built in by one generic suite.

use burn::backend::{Autodiff, NdArray};
use burn::tensor::activation::softmax;
use burn::tensor::{Bool, Distribution, ElementConversion, Tensor};

use super::*;

/// `(batch, heads, queries, cached positions, head_dim, queries per block)`:
/// one block, uneven blocks, blocks of one query, and cached positions.
const CASES: [(usize, usize, usize, usize, usize, usize); 4] =
    [(1, 2, 7, 0, 4, 16), (2, 3, 9, 0, 5, 4), (1, 1, 5, 0, 3, 1), (1, 2, 4, 6, 4, 3)];

fn inputs<B: Backend>(case: (usize, usize, usize, usize, usize, usize), device: &B::Device) -> [Tensor<B, 4>; 4] {
    let (batch, heads, len, start, d, _) = case;
    let q = Tensor::random([batch, heads, len, d], Distribution::Normal(0.0, 1.0), device);
    let kv = || Tensor::random([batch, heads, start + len, d], Distribution::Normal(0.0, 1.0), device);
    // The weights of a loss Σ w ⊙ out, so every output element matters.
    let w = Tensor::random([batch, heads, len, d], Distribution::Normal(0.0, 1.0), device);
    [q, kv(), kv(), w]
}

fn causal(case: (usize, usize, usize, usize, usize, usize)) -> Causal {
    Causal { start: case.3, scale: 1.0 / (case.4 as f64).sqrt(), block: case.5 }
}

/// Attention and log-sum-exp written out, on the whole score matrix.
fn plain<B: Backend>(q: Tensor<B, 4>, k: Tensor<B, 4>, v: Tensor<B, 4>, c: Causal) -> (Tensor<B, 4>, Tensor<B, 4>) {
    let [b, h, len, _] = q.dims();
    let keys = k.dims()[2];
    let mask = Tensor::<B, 2, Bool>::tril_mask([len, keys], c.start as i64, &q.device()).unsqueeze::<4>().expand([b, h, len, keys]);
    let scores = q.matmul(k.swap_dims(2, 3)).mul_scalar(c.scale).mask_fill(mask, f32::NEG_INFINITY);
    let max = scores.clone().max_dim(3);
    let lse = max.clone() + (scores.clone() - max).exp().sum_dim(3).log();
    (softmax(scores, 3).matmul(v), lse)
}

fn max_diff<B: Backend>(a: Tensor<B, 4>, b: Tensor<B, 4>) -> f32 {
    a.sub(b).abs().max().into_scalar().elem::<f32>()
}

/// The gradients of Σ w ⊙ attention(q, k, v) that burn's autodiff takes
/// through `attend`.
fn autodiff_grads<B: AttentionBackend>(
    [q, k, v, w]: [Tensor<B, 4>; 4],
    attend: impl Fn(Tensor<Autodiff<B>, 4>, Tensor<Autodiff<B>, 4>, Tensor<Autodiff<B>, 4>) -> Tensor<Autodiff<B>, 4>,
) -> [Tensor<B, 4>; 3] {
    let [q, k, v] = [q, k, v].map(|t| Tensor::<Autodiff<B>, 4>::from_inner(t).require_grad());
    let loss = (attend(q.clone(), k.clone(), v.clone()) * Tensor::from_inner(w)).sum();
    let grads = loss.backward();
    [q, k, v].map(|t| t.grad(&grads).expect("a gradient"))
}

/// `B`'s attention and the gradients its autodiff node gives equal attention
/// written out on the same backend, and its autodiff, for every case.
fn node_equals_attention_written_out<B: AttentionBackend>() {
    let device = Default::default();
    for case in CASES {
        let [q, k, v, w] = inputs::<B>(case, &device);
        let c = causal(case);
        let diff = max_diff(causal_attention(q.clone(), k.clone(), v.clone(), c), plain(q.clone(), k.clone(), v.clone(), c).0);
        assert!(diff < 1e-5, "out {case:?}: {diff}");
        let want = autodiff_grads([q.clone(), k.clone(), v.clone(), w.clone()], |q, k, v| plain(q, k, v, c).0);
        let got = autodiff_grads([q, k, v, w], |q, k, v| causal_attention(q, k, v, c));
        for ((g, w), which) in got.into_iter().zip(want).zip(["dq", "dk", "dv"]) {
            let diff = max_diff(g, w);
            assert!(diff < 1e-4, "{which} {case:?}: {diff}");
        }
    }
}

/// One test of [`node_equals_attention_written_out`] per backend.
macro_rules! node_suite {
    ($($(#[$cfg:meta])* $name:ident: $backend:ty),* $(,)?) => {$(
        $(#[$cfg])*
        #[test]
        fn $name() {
            node_equals_attention_written_out::<$backend>();
        }
    )*};
}

node_suite! {
    node_on_ndarray: NdArray,
    #[cfg(feature = "tch")]
    node_on_libtorch: burn::backend::LibTorch<f32>,
}

#[test]
fn forward_of_every_implementation_equals_attention_written_out() {
    let device = Default::default();
    for case in CASES {
        let [q, k, v, _] = inputs::<NdArray>(case, &device);
        let c = causal(case);
        let (out, lse) = plain(q.clone(), k.clone(), v.clone(), c);
        let (b_out, b_lse) = blocked::forward(q.clone(), k.clone(), v.clone(), c);
        let (h_out, h_lse) = host::forward_tensors(q.clone(), k.clone(), v.clone(), c);
        for (got, want, what) in [(b_out, &out, "blocked out"), (b_lse, &lse, "blocked lse"), (h_out, &out, "host out"), (h_lse, &lse, "host lse")] {
            let diff = max_diff(got, want.clone());
            assert!(diff < 1e-5, "{what} {case:?}: {diff}");
        }
    }
}

#[test]
fn backward_of_blocked_and_host_equals_autodiff_of_attention_written_out() {
    let device = Default::default();
    for case in CASES {
        let [q, k, v, w] = inputs::<NdArray>(case, &device);
        let c = causal(case);
        let want = autodiff_grads([q.clone(), k.clone(), v.clone(), w.clone()], |q, k, v| plain(q, k, v, c).0);
        let (out, lse) = blocked::forward(q.clone(), k.clone(), v.clone(), c);
        let saved = Saved { q, k, v, out, lse };
        let blocked = blocked::backward(saved.clone(), w.clone(), c);
        let host = host::backward_tensors(saved, w, c);
        for (name, got) in [("blocked", blocked), ("host", host)] {
            for ((g, w), which) in got.into_iter().zip(want.clone()).zip(["dq", "dk", "dv"]) {
                let diff = max_diff(g, w);
                assert!(diff < 1e-4, "{name} {which} {case:?}: {diff}");
            }
        }
    }
}

#[test]
fn host_gradient_matches_finite_differences() {
    let case = (1, 2, 5, 2, 3, 2);
    let c = causal(case);
    let dims = host::Dims { heads: 2, len: 5, head_dim: 3 };
    let host_of = |t: Tensor<NdArray, 4>| t.into_data().into_vec::<f32>().unwrap();
    let [q, k, v, w] = inputs::<NdArray>(case, &Default::default()).map(host_of);
    let loss = |q: &[f32], k: &[f32], v: &[f32]| -> f64 {
        let (out, _) = host::forward(q, k, v, dims, c);
        out.iter().zip(&w).map(|(o, w)| f64::from(o * w)).sum()
    };
    let (out, lse) = host::forward(&q, &k, &v, dims, c);
    let grads = host::backward(Saved { q: &q, k: &k, v: &v, out: &out, lse: &lse }, &w, dims, c);
    let eps = 1e-2;
    for (which, grad) in grads.iter().enumerate() {
        for i in 0..grad.len() {
            let mut inputs = [q.clone(), k.clone(), v.clone()];
            inputs[which][i] += eps;
            let up = loss(&inputs[0], &inputs[1], &inputs[2]);
            inputs[which][i] -= 2.0 * eps;
            let down = loss(&inputs[0], &inputs[1], &inputs[2]);
            let numeric = (up - down) / (2.0 * f64::from(eps));
            assert!((numeric - f64::from(grad[i])).abs() < 2e-3, "input {which}, element {i}: {numeric} vs {}", grad[i]);
        }
    }
}
