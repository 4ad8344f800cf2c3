//! The pairwise logistic loss shared by `dpo` and `entropo-dpo`.
//!
//! Both score a sequence by the linear reward `s = a·logp − b·ref_logp` and
//! minimise `−log σ(s⁺ − s⁻)` averaged over the pairs:
//!
//! * `dpo`: `a = b = β`, so `s⁺ − s⁻ = β·((logp⁺ − logp⁻) − (ref⁺ − ref⁻))`;
//! * `entropo-dpo` (paper eq. 6): `a = α`, `b = β`, so
//!   `s⁺ − s⁻ = α·(r⁺ − r⁻)` with `r = logp − (β/α)·ref_logp`.

use entropo_core::loss::{LossBatch, LossError, LossGrads, LossOutput, PairGrad};

use crate::input::{reject_list, require_nonempty};
use crate::math::{sigmoid, softplus};
use crate::metrics::{Metrics, finish};

/// `−log σ((a·logp⁺ − b·ref⁺) − (a·logp⁻ − b·ref⁻))`, mean over pairs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PairwiseLogistic {
    /// The registered name of the loss, for error messages.
    pub loss: &'static str,
    /// `a`: the coefficient of `logp` in the reward.
    pub policy_coef: f64,
    /// `b`: the coefficient of `ref_logp` in the reward.
    pub ref_coef: f64,
}

impl PairwiseLogistic {
    pub(crate) fn compute(&self, batch: &LossBatch) -> Result<LossOutput, LossError> {
        batch.check_finite()?;
        let uses = "preference pairs (`pairs`) only";
        reject_list(self.loss, "samples", batch.samples.len(), uses)?;
        reject_list(self.loss, "kl", batch.kl.len(), uses)?;
        require_nonempty(self.loss, "pairs", batch.pairs.len())?;

        let (a, b) = (self.policy_coef, self.ref_coef);
        let n = batch.pairs.len() as f64;
        let mut loss = 0.0;
        let mut grads = LossGrads::zeros_like(batch);
        let (mut chosen, mut rejected, mut margins, mut wins) = (vec![], vec![], vec![], vec![]);
        for (i, (p, g)) in batch.pairs.iter().zip(&mut grads.pairs).enumerate() {
            let ref_c = p.chosen.require_ref(&format!("pairs[{i}].chosen"))?;
            let ref_r = p.rejected.require_ref(&format!("pairs[{i}].rejected"))?;
            let logits = a * (p.chosen.logp - p.rejected.logp) - b * (ref_c - ref_r);
            loss += softplus(-logits);
            // d softplus(−x)/dx = −σ(−x); dx/dlogp⁺ = a, dx/dlogp⁻ = −a.
            let slope = sigmoid(-logits) * a / n;
            *g = PairGrad {
                chosen: -slope,
                rejected: slope,
            };
            let (rc, rr) = (
                a * p.chosen.logp - b * ref_c,
                a * p.rejected.logp - b * ref_r,
            );
            chosen.push(rc);
            rejected.push(rr);
            margins.push(rc - rr);
            wins.push(if rc > rr { 1.0 } else { 0.0 });
        }
        let mut metrics = Metrics::default();
        metrics.set_mean("rewards/chosen", chosen);
        metrics.set_mean("rewards/rejected", rejected);
        metrics.set_mean("rewards/margins", margins);
        metrics.set_mean("rewards/accuracies", wins);
        metrics.set_mean("logps/chosen", batch.pairs.iter().map(|p| p.chosen.logp));
        metrics.set_mean(
            "logps/rejected",
            batch.pairs.iter().map(|p| p.rejected.logp),
        );
        finish(loss / n, grads, metrics)
    }
}
