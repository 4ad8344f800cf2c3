//! Per-sequence log-probabilities and token entropy over masked (assistant)
//! tokens — the statistics every [`Loss`](entropo_core::Loss) plugin consumes.

use burn::tensor::activation::log_softmax;
use crate::attention::AttentionBackend;
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
pub struct Scored<B: AttentionBackend> {
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
pub fn score<B: AttentionBackend>(
    model: &Decoder<B>,
    adapters: Option<&Adapters<B>>,
    seqs: &[&Sequence],
    with_entropy: bool,
) -> Result<Scored<B>, ModelError> {
    let batch = Batch::new(model, seqs)?;
    let logits = model.forward(batch.ids.clone(), adapters, None);
    let logps = log_softmax(logits.narrow(1, 0, batch.len - 1), 2);
    let token_logp: Tensor<B, 2> = logps.clone().gather(2, batch.targets()).squeeze_dim(2);
    let mask = batch.mask.clone().squeeze_dim::<2>(2);
    let logp = (token_logp * mask.clone()).sum_dim(1).reshape([batch.n]);
    let entropy = if with_entropy {
        let lp = logps.detach();
        let h: Tensor<B, 2> = (lp.clone().exp() * lp).sum_dim(2).squeeze_dim::<2>(2).neg();
        Some(to_host((h * mask).sum_dim(1).reshape([batch.n])))
    } else {
        None
    };
    Ok(Scored { logp, entropy, tokens: batch.tokens })
}

/// A batch of sequences as one right-padded id tensor and its mask.
struct Batch<B: AttentionBackend> {
    /// `[n, len]`.
    ids: Tensor<B, 2, Int>,
    /// `[n, len - 1, 1]`: 1 where position `t` predicts a masked token `t + 1`.
    mask: Tensor<B, 3>,
    n: usize,
    len: usize,
    tokens: Vec<u64>,
}

impl<B: AttentionBackend> Batch<B> {
    fn new(model: &Decoder<B>, seqs: &[&Sequence]) -> Result<Batch<B>, ModelError> {
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
        let mask = Tensor::from_data(TensorData::new(mask, [n, len - 1, 1]), model.device());
        let tokens = seqs.iter().map(|s| s.masked_tokens() as u64).collect();
        Ok(Batch { ids: model.ids(&rows)?, mask, n, len, tokens })
    }

    /// `[n, len - 1, 1]`: the token each position predicts.
    fn targets(&self) -> Tensor<B, 3, Int> {
        self.ids.clone().narrow(1, 1, self.len - 1).unsqueeze_dim(2)
    }
}

/// Log-probabilities for a training step: their values, the policy's
/// entropy, and what [`TrainScore::objective`] needs to differentiate them.
///
/// With a frozen output head (LoRA), the gradient of `logpᵢ` with respect to
/// the final hidden state at position `t` has a closed form,
/// `maskₜ · (w[yₜ₊₁] − Σᵥ pₜ(v)·w[v])` with `w` the head's rows and `p` the
/// softmax. It is computed here, on logits that autodiff never sees, so the
/// backward pass starts at the hidden states instead of running through
/// log-softmax over the vocabulary. When the head trains too (full
/// fine-tuning), the log-probs stay differentiable as in [`score`].
///
/// ```
/// use burn::backend::{Autodiff, NdArray};
/// use entropo_burn::{logprob::{score, score_for_training, Sequence}, model::Decoder};
/// type B = Autodiff<NdArray>;
/// let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smollm2");
/// let model = Decoder::<B>::load(&dir, &Default::default()).unwrap();
/// let seq = Sequence { ids: vec![5, 6, 7, 8], mask: vec![0, 0, 1, 1] };
/// let fast = score_for_training(&model, None, &[&seq]).unwrap();
/// let plain = score(&model, None, &[&seq], true).unwrap();
/// assert!((fast.logp[0] - f64::from(plain.logp.into_scalar())).abs() < 1e-4);
/// assert!((fast.entropy[0] - plain.entropy.unwrap()[0]).abs() < 1e-3);
/// ```
pub struct TrainScore<B: AttentionBackend> {
    /// Σ log π(token) over each sequence's masked tokens.
    pub logp: Vec<f64>,
    /// Σ of the policy's token entropy over each sequence's masked tokens.
    pub entropy: Vec<f64>,
    /// Masked token count per sequence.
    pub tokens: Vec<u64>,
    grad: GradPath<B>,
}

enum GradPath<B: AttentionBackend> {
    /// Frozen head: hidden states `[n, len - 1, hidden]` and `∂logpᵢ/∂hidden`.
    Hidden { hidden: Tensor<B, 3>, dlogp: Tensor<B, 3> },
    /// Trainable head: the differentiable log-probs `[n]`.
    Logp(Tensor<B, 1>),
}

/// Scores `seqs` for training with `model` and `adapters` (see [`TrainScore`]).
pub fn score_for_training<B: AttentionBackend>(
    model: &Decoder<B>,
    adapters: Option<&Adapters<B>>,
    seqs: &[&Sequence],
) -> Result<TrainScore<B>, ModelError> {
    if model.weights_train() {
        let scored = score(model, adapters, seqs, true)?;
        return Ok(TrainScore {
            logp: to_host(scored.logp.clone().detach()),
            entropy: scored.entropy.unwrap_or_default(),
            tokens: scored.tokens,
            grad: GradPath::Logp(scored.logp),
        });
    }
    let batch = Batch::new(model, seqs)?;
    let (n, m) = (batch.n, batch.len - 1);
    let hidden = model.hidden(batch.ids.clone(), adapters, None).narrow(1, 0, m);
    let logits = model.logits(hidden.clone().detach());
    let max = logits.clone().max_dim(2);
    let exp = (logits.clone() - max.clone()).exp();
    let sum = exp.clone().sum_dim(2);
    let lse = max + sum.clone().log();
    let p = exp / sum;
    let targets = batch.targets();
    let token_logp = logits.clone().gather(2, targets.clone()) - lse.clone();
    let entropy = lse - (p.clone() * logits).sum_dim(2);
    let per_seq = |t: Tensor<B, 3>| to_host((t * batch.mask.clone()).sum_dim(1).reshape([n]));
    let rows = model.head_rows().clone();
    let target_rows = rows.clone().select(0, targets.reshape([n * m])).reshape([n, m, rows.dims()[1]]);
    let dlogp = (target_rows - p.matmul(rows.unsqueeze::<3>())) * batch.mask.clone();
    Ok(TrainScore {
        logp: per_seq(token_logp),
        entropy: per_seq(entropy),
        tokens: batch.tokens,
        grad: GradPath::Hidden { hidden, dlogp },
    })
}

impl<B: AttentionBackend> TrainScore<B> {
    /// A scalar whose gradient is `scale · Σᵢ weights[i] · ∇logpᵢ`: backward
    /// of it with `weights = ∂L/∂logp` from a loss plugin is the gradient of
    /// that loss.
    pub fn objective(self, weights: &[f64], scale: f64) -> Tensor<B, 1> {
        let w: Vec<f32> = weights.iter().map(|g| (*g * scale) as f32).collect();
        let n = w.len();
        match self.grad {
            GradPath::Hidden { hidden, dlogp } => {
                let w = Tensor::<B, 1>::from_data(TensorData::new(w, [n]), &hidden.device());
                (hidden * (dlogp * w.reshape([n, 1, 1]))).sum()
            }
            GradPath::Logp(logp) => {
                let w = Tensor::<B, 1>::from_data(TensorData::new(w, [n]), &logp.device());
                (logp * w).sum()
            }
        }
    }
}

/// A 1-D float tensor's values on the host.
pub fn to_host<B: AttentionBackend>(t: Tensor<B, 1>) -> Vec<f64> {
    host_values(t).into_iter().map(f64::from).collect()
}
