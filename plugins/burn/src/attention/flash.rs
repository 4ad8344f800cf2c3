//! Inference attention through burn's fused `module::attention`: on CubeCL
//! backends (`cuda`) a flash kernel when there is no bias, no softcap and
//! the default scale, which is what a decoder uses. Inference only: the
//! kernel keeps no log-sum-exp for a backward pass, and burn never runs it
//! under autodiff.
//!
//! The kernel aligns its causal mask at the first key, which is right only
//! when there are as many queries as keys; with cached positions (decoding,
//! a chunk of a prompt after a cached prefix) an explicit mask says which
//! keys each query sees. Grouped key/value heads must already be repeated.

use burn::tensor::backend::Backend;
use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;
use burn::tensor::{Bool, Tensor};

use super::{Causal, blocked};

/// `softmax(QKᵀ·scale + causal mask)·V` by the backend's fused attention,
/// or by [`blocked::forward`] for a scale other than `1/√head_dim`.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::{Distribution, Tensor};
/// use entropo_burn::attention::{blocked, flash, Causal};
/// let device = Default::default();
/// let q = Tensor::<NdArray, 4>::random([1, 2, 3, 4], Distribution::Default, &device);
/// let [k, v] = [0, 1].map(|_| Tensor::<NdArray, 4>::random([1, 2, 7, 4], Distribution::Default, &device));
/// // Three queries after four cached positions.
/// let causal = Causal { start: 4, scale: 0.5, block: 2 };
/// let fused = flash::forward(q.clone(), k.clone(), v.clone(), causal);
/// let (reference, _) = blocked::forward(q, k, v, causal);
/// assert!(fused.sub(reference).abs().max().into_scalar() < 1e-5);
/// ```
pub fn forward<B: Backend>(q: Tensor<B, 4>, k: Tensor<B, 4>, v: Tensor<B, 4>, causal: Causal) -> Tensor<B, 4> {
    let [batch, heads, len, d] = q.dims();
    let total = k.dims()[2];
    let default_scale = 1.0 / (d as f64).sqrt();
    if (causal.scale - default_scale).abs() > 1e-9 * default_scale {
        return blocked::forward(q, k, v, causal).0;
    }
    let options = AttentionModuleOptions { scale: None, softcap: None, is_causal: causal.start == 0 };
    let mask = (causal.start > 0).then(|| {
        // Query i sits at position start + i and sees keys 0..=start + i.
        Tensor::<B, 2, Bool>::tril_mask([len, total], causal.start as i64, &q.device())
            .unsqueeze::<4>()
            .expand([batch, heads, len, total])
    });
    attention(q, k, v, mask, None, options)
}
