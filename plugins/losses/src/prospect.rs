//! The prospect-theoretic loss shared by `kto` and both `entropo-kto` variants.
//!
//! A sample's reward is `r = logp − c·ref_logp`; the reference point is
//! `z0 = max(0, mean over the KL samples of (p·logp − q·ref_logp))`, detached,
//! and 0 when the batch has no KL samples. With scale `k`:
//!
//! * desirable: `λ_D·(1 − σ(k·(r − z0)))`;
//! * undesirable: `λ_U·(1 − σ(k·(z0 − r)))`;
//!
//! averaged over all samples. The losses choose:
//!
//! | loss                       | c   | p | q   | k |
//! |----------------------------|-----|---|-----|---|
//! | `kto` (TRL)                | 1   | 1 | 1   | β |
//! | `entropo-kto` paper        | β/α | 1 | β/α | α |
//! | `entropo-kto` authors-code | 1   | α | β   | β |

use entropo_core::loss::{LossBatch, LossError, LossGrads, LossOutput};

use crate::input::{reject_list, require_nonempty};
use crate::math::{mean, sigmoid, sigmoid_slope};
use crate::metrics::{Metrics, finish};

/// See the module documentation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Prospect {
    /// The registered name of the loss, for error messages.
    pub loss: &'static str,
    /// `c`: the coefficient of `ref_logp` in a sample's reward.
    pub ref_coef: f64,
    /// `p`: the coefficient of `logp` in the reference point's mean.
    pub kl_policy_coef: f64,
    /// `q`: the coefficient of `ref_logp` in the reference point's mean.
    pub kl_ref_coef: f64,
    /// `k`: the scale inside the sigmoid.
    pub scale: f64,
    /// `λ_D`.
    pub lambda_desirable: f64,
    /// `λ_U`.
    pub lambda_undesirable: f64,
}

impl Prospect {
    pub(crate) fn compute(&self, batch: &LossBatch) -> Result<LossOutput, LossError> {
        batch.check_finite()?;
        reject_list(
            self.loss,
            "pairs",
            batch.pairs.len(),
            "labelled `samples` (and optional `kl` samples)",
        )?;
        require_nonempty(self.loss, "samples", batch.samples.len())?;

        let z0 = mean(
            batch
                .kl
                .iter()
                .map(|k| self.kl_policy_coef * k.logp - self.kl_ref_coef * k.ref_logp),
        )
        .map_or(0.0, |m| m.max(0.0));
        let k = self.scale;
        let n = batch.samples.len() as f64;
        let mut loss = 0.0;
        let mut grads = LossGrads::zeros_like(batch);
        let (mut chosen, mut rejected) = (vec![], vec![]);
        for (i, (s, g)) in batch.samples.iter().zip(&mut grads.samples).enumerate() {
            let reference = s.seq.require_ref(&format!("samples[{i}]"))?;
            let r = s.seq.logp - self.ref_coef * reference;
            // x is the sigmoid's argument; the sample's loss is λ·σ(−x) = λ(1 − σ(x)).
            let (x, lambda, dx_dlogp) = if s.label {
                chosen.push(k * r);
                (k * (r - z0), self.lambda_desirable, k)
            } else {
                rejected.push(k * r);
                (k * (z0 - r), self.lambda_undesirable, -k)
            };
            loss += lambda * sigmoid(-x);
            *g = -lambda * sigmoid_slope(x) * dx_dlogp / n;
        }
        let mut metrics = Metrics::default();
        metrics.set("kl", z0);
        metrics.set("count/desirable", chosen.len() as f64);
        metrics.set("count/undesirable", rejected.len() as f64);
        let mean_chosen = metrics.set_mean("rewards/chosen", chosen);
        let mean_rejected = metrics.set_mean("rewards/rejected", rejected);
        if let (Some(c), Some(r)) = (mean_chosen, mean_rejected) {
            metrics.set("rewards/margins", c - r);
        }
        let logps = |label: bool| {
            batch
                .samples
                .iter()
                .filter(move |s| s.label == label)
                .map(|s| s.seq.logp)
        };
        metrics.set_mean("logps/chosen", logps(true));
        metrics.set_mean("logps/rejected", logps(false));
        finish(loss / n, grads, metrics)
    }
}
