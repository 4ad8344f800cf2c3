//! Per-sequence log-probabilities and token entropy over masked (assistant)
//! tokens — the statistics every [`Loss`](entropo_core::Loss) plugin consumes.

use burn::tensor::activation::log_softmax;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};

use crate::error::ModelError;
use crate::lora::Adapters;
use crate::model::{Decoder, host_values};

/// A token sequence and its loss mask (1 on tokens that are trained on).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Sequence {
    /// Token ids.
    pub ids: Vec<u32>,
    /// 1 where the token counts (assistant tokens), else 0; same length as `ids`.
    pub mask: Vec<u8>,
}

impl Sequence {
    /// Number of tokens that count. The first token never does: nothing predicts it.
    pub fn masked_tokens(&self) -> usize {
        self.mask.iter().skip(1).filter(|m| **m != 0).count()
    }
}

/// Log-probabilities of a batch of sequences under one model.
#[derive(Debug, Clone)]
pub struct Scored<B: Backend> {
    /// `[n]`: Σ log π(token) over each sequence's masked tokens (differentiable).
    pub logp: Tensor<B, 1>,
    /// Σ of the policy's token entropy over the masked tokens, per sequence
    /// (detached; only when asked for).
    pub entropy: Option<Vec<f64>>,
    /// Masked token count per sequence.
    pub tokens: Vec<u64>,
}

/// Scores `seqs` (right-padded into one batch) with `model` and `adapters`.
///
/// ```
/// use burn::backend::NdArray;
/// use entropo_burn::{logprob::{score, Sequence}, model::Decoder};
/// let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smollm2");
/// let model = Decoder::<NdArray>::load(&dir, &Default::default()).unwrap();
/// let seq = Sequence { ids: vec![5, 6, 7], mask: vec![0, 0, 1] };
/// let s = score(&model, None, &[&seq], true).unwrap();
/// assert!(s.logp.into_scalar() < 0.0);
/// assert_eq!(s.tokens, vec![1]);
/// ```
pub fn score<B: Backend>(
    model: &Decoder<B>,
    adapters: Option<&Adapters<B>>,
    seqs: &[&Sequence],
    with_entropy: bool,
) -> Result<Scored<B>, ModelError> {
    let n = seqs.len();
    let len = seqs.iter().map(|s| s.ids.len()).max().unwrap_or(0);
    if n == 0 || len < 2 {
        return Err(ModelError::Invalid("scoring needs at least one sequence of two or more tokens".into()));
    }
    let mut rows = Vec::with_capacity(n);
    let mut mask = Vec::with_capacity(n * (len - 1));
    for (i, s) in seqs.iter().enumerate() {
        if s.mask.len() != s.ids.len() {
            return Err(ModelError::Invalid(format!(
                "sequence {i}: {} ids but {} mask entries",
                s.ids.len(),
                s.mask.len()
            )));
        }
        let mut row = s.ids.clone();
        row.resize(len, 0);
        rows.push(row);
        mask.extend((1..len).map(|k| if s.mask.get(k).copied().unwrap_or(0) != 0 { 1.0f32 } else { 0.0 }));
    }
    let device = model.device().clone();
    let ids = model.ids(&rows)?;
    let logits = model.forward(ids.clone(), adapters, None);
    let logps = log_softmax(logits.narrow(1, 0, len - 1), 2);
    let targets: Tensor<B, 3, Int> = ids.narrow(1, 1, len - 1).unsqueeze_dim(2);
    let token_logp: Tensor<B, 2> = logps.clone().gather(2, targets).squeeze_dim(2);
    let mask: Tensor<B, 2> = Tensor::from_data(TensorData::new(mask, [n, len - 1]), &device);
    let logp = (token_logp * mask.clone()).sum_dim(1).reshape([n]);
    let entropy = if with_entropy {
        let lp = logps.detach();
        let h: Tensor<B, 2> = (lp.clone().exp() * lp).sum_dim(2).reshape([n, len - 1]).neg();
        Some(to_host((h * mask).sum_dim(1).reshape([n])))
    } else {
        None
    };
    let tokens = seqs.iter().map(|s| s.masked_tokens() as u64).collect();
    Ok(Scored { logp, entropy, tokens })
}

/// A 1-D float tensor's values on the host.
pub fn to_host<B: Backend>(t: Tensor<B, 1>) -> Vec<f64> {
    host_values(t).into_iter().map(f64::from).collect()
}
