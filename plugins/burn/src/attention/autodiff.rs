//! Attention as one node of burn's autodiff graph: the forward pass runs the
//! inner backend's [`AttentionBackend::attention_forward`] and keeps its
//! inputs, output and log-sum-exp; the backward pass hands them to the
//! inner backend's [`AttentionBackend::attention_backward`].

use burn::backend::Autodiff;
use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::ops::FloatTensor;

use super::{AttentionBackend, Causal, Saved};

#[derive(Debug)]
struct CausalAttention;

impl<B: AttentionBackend> Backward<B, 3> for CausalAttention {
    /// The checkpointed `q`, `k`, `v`, then the forward's output and log-sum-exp.
    type State = (NodeId, NodeId, NodeId, FloatTensor<B>, FloatTensor<B>, Causal);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let dout = grads.consume::<B>(&ops.node);
        let (q, k, v, out, lse, causal) = ops.state;
        let [q, k, v] = [q, k, v].map(|id| checkpointer.retrieve_node_output::<FloatTensor<B>>(id));
        let grads_qkv = B::attention_backward(Saved { q, k, v, out, lse }, dout, causal);
        for (parent, grad) in ops.parents.into_iter().zip(grads_qkv) {
            if let Some(node) = parent {
                grads.register::<B>(node.id, grad);
            }
        }
    }
}

impl<B: AttentionBackend, C: CheckpointStrategy> AttentionBackend for Autodiff<B, C> {
    fn attention_forward(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        causal: Causal,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let prep = CausalAttention.prepare::<C>([q.node.clone(), k.node.clone(), v.node.clone()]).compute_bound().stateful();
        let (out, lse) = B::attention_forward(q.primitive.clone(), k.primitive.clone(), v.primitive.clone(), causal);
        let tracked = match prep {
            OpsKind::Tracked(mut prep) => {
                let state = (prep.checkpoint(&q), prep.checkpoint(&k), prep.checkpoint(&v), out.clone(), lse.clone(), causal);
                prep.finish(state, out)
            }
            OpsKind::UnTracked(prep) => prep.finish(out),
        };
        (tracked, Self::from_inner(lse))
    }
}
