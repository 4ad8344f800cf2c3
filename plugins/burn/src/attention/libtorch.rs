//! LibTorch's own flash attention for the `tch` backend on the CPU, forward
//! and backward (the kernels behind PyTorch's `scaled_dot_product_attention`
//! there). With cached positions (`start > 0`, sampling) or on a GPU, the
//! blocked default runs instead.

use burn::backend::libtorch::{LibTorch, TchTensor};
use burn::tensor::ops::FloatTensor;

use super::{AttentionBackend, Causal, Saved, blocked_backward, blocked_forward};

/// Whether LibTorch's CPU kernels apply: they align the causal mask at the
/// first key, which is right only without cached positions.
fn flash_on_cpu(q: &TchTensor, causal: Causal) -> bool {
    causal.start == 0 && q.tensor.device() == tch::Device::Cpu
}

impl AttentionBackend for LibTorch<f32> {
    fn attention_forward(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        causal: Causal,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        if !flash_on_cpu(&q, causal) {
            return blocked_forward::<Self>(q, k, v, causal);
        }
        let (out, lse) = tch::Tensor::internal_scaled_dot_product_flash_attention_for_cpu(
            &q.tensor,
            &k.tensor,
            &v.tensor,
            0.0,
            true,
            None::<tch::Tensor>,
            causal.scale,
        );
        (TchTensor::new(out), TchTensor::new(lse))
    }

    fn attention_backward(saved: Saved<FloatTensor<Self>>, dout: FloatTensor<Self>, causal: Causal) -> [FloatTensor<Self>; 3] {
        if !flash_on_cpu(&saved.q, causal) {
            return blocked_backward::<Self>(saved, dout, causal);
        }
        let (dq, dk, dv) = tch::Tensor::internal_scaled_dot_product_flash_attention_for_cpu_backward(
            &dout.tensor,
            &saved.q.tensor,
            &saved.k.tensor,
            &saved.v.tensor,
            &saved.out.tensor,
            &saved.lse.tensor,
            0.0,
            true,
            None::<tch::Tensor>,
            causal.scale,
        );
        [dq, dk, dv].map(TchTensor::new)
    }
}
