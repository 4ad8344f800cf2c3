//! `kto`: Kahneman–Tversky optimisation, as TRL computes it.

use entropo_core::loss::{Loss, LossBatch, LossError, LossOutput};
use entropo_core::registry::PluginError;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::prospect::Prospect;

/// Parameters of [`Kto`].
///
/// ```
/// use entropo_core::registry::{Params, parse_params};
/// use entropo_losses::KtoParams;
/// let p: KtoParams = parse_params(&Params::new()).unwrap();
/// assert_eq!((p.beta, p.lambda_desirable, p.lambda_undesirable), (0.1, 1.0, 1.0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct KtoParams {
    /// Inverse temperature β (> 0).
    pub beta: f64,
    /// Weight λ_D of desirable samples (≥ 0).
    pub lambda_desirable: f64,
    /// Weight λ_U of undesirable samples (≥ 0).
    pub lambda_undesirable: f64,
}

impl Default for KtoParams {
    fn default() -> Self {
        KtoParams {
            beta: 0.1,
            lambda_desirable: 1.0,
            lambda_undesirable: 1.0,
        }
    }
}

/// KTO over labelled `samples`: with the detached reference point
/// `KL = max(0, mean over kl of (logp − ref_logp))` (0 without `kl` samples),
/// a desirable sample costs `λ_D·(1 − σ(β·(logp − ref − KL)))`, an
/// undesirable one `λ_U·(1 − σ(β·(KL − (logp − ref))))`; the loss is the mean
/// over all samples. `kl` samples get no gradient.
///
/// Metrics: `kl`, `count/desirable`, `count/undesirable`, and, where the
/// class has samples, `rewards/chosen`, `rewards/rejected` (reward
/// `β·(logp − ref_logp)`), `rewards/margins`, `logps/chosen`, `logps/rejected`.
///
/// ```
/// use entropo_core::loss::{LabelledStats, Loss, LossBatch, SeqStats};
/// use entropo_losses::Kto;
/// let s = |label, logp, r| LabelledStats { label, seq: SeqStats { logp, ref_logp: Some(r), tokens: None } };
/// let batch = LossBatch { samples: vec![s(true, -5.0, -5.0), s(false, -7.0, -7.0)], ..Default::default() };
/// let out = Kto::default().compute(&batch).unwrap();
/// assert_eq!(out.loss, 0.5); // every sample at its reference: 1 − σ(0)
/// assert_eq!(out.metrics["kl"], 0.0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Kto {
    params: KtoParams,
}

impl Kto {
    /// The registered name.
    pub const NAME: &'static str = "kto";
    /// One line for `entropo plugins list`.
    pub const DESCRIPTION: &'static str = "Kahneman-Tversky optimisation (TRL) over desirable/undesirable samples with a KL reference point";

    /// The loss with `params`; `beta` must be > 0 and the lambdas ≥ 0 (all finite).
    ///
    /// ```
    /// use entropo_losses::{Kto, KtoParams};
    /// let err = Kto::new(KtoParams { lambda_undesirable: -1.0, ..Default::default() }).unwrap_err();
    /// assert!(err.to_string().starts_with("params.lambda_undesirable"));
    /// ```
    pub fn new(params: KtoParams) -> Result<Self, PluginError> {
        crate::params::positive("beta", params.beta)?;
        crate::params::non_negative("lambda_desirable", params.lambda_desirable)?;
        crate::params::non_negative("lambda_undesirable", params.lambda_undesirable)?;
        Ok(Kto { params })
    }

    /// The parameters it was created with.
    ///
    /// ```
    /// assert_eq!(entropo_losses::Kto::default().params().beta, 0.1);
    /// ```
    pub fn params(&self) -> &KtoParams {
        &self.params
    }
}

impl Loss for Kto {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn compute(&self, batch: &LossBatch) -> Result<LossOutput, LossError> {
        let p = self.params;
        Prospect {
            loss: Self::NAME,
            ref_coef: 1.0,
            kl_policy_coef: 1.0,
            kl_ref_coef: 1.0,
            scale: p.beta,
            lambda_desirable: p.lambda_desirable,
            lambda_undesirable: p.lambda_undesirable,
        }
        .compute(batch)
    }
}
