//! `entropo-dpo`: the paper's entropy-regularised DPO (eq. 6).

use entropo_core::loss::{Loss, LossBatch, LossError, LossOutput};
use entropo_core::registry::PluginError;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::pairwise::PairwiseLogistic;

/// Parameters of [`EntropoDpo`] (`alpha = lambda + beta`, the paper's code
/// uses alpha 0.11, beta 0.1).
///
/// ```
/// use entropo_core::registry::{Params, parse_params};
/// use entropo_losses::EntropoDpoParams;
/// let p: EntropoDpoParams = parse_params(&serde_json::from_str(r#"{"alpha": 0.15}"#).unwrap()).unwrap();
/// assert_eq!((p.alpha, p.beta), (0.15, 0.1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct EntropoDpoParams {
    /// α = λ + β: the scale of the implicit reward (> 0).
    pub alpha: f64,
    /// β: the weight of the reference policy (> 0).
    pub beta: f64,
}

impl Default for EntropoDpoParams {
    fn default() -> Self {
        EntropoDpoParams {
            alpha: 0.11,
            beta: 0.1,
        }
    }
}

/// EntroPO-DPO (paper eq. 6): with the implicit reward
/// `r = logp − (β/α)·ref_logp`, `loss = mean −log σ(α·(r⁺ − r⁻))` over `pairs`.
/// Its optimum is `π ∝ π_ref^(β/α)·exp(u/α)`; with `α = β` it is [`Dpo`](crate::Dpo).
///
/// Metrics as `dpo`, with reward `α·logp − β·ref_logp` (= `α·r`).
///
/// ```
/// use entropo_core::loss::{Loss, LossBatch, PairStats, SeqStats};
/// use entropo_losses::{EntropoDpo, EntropoDpoParams};
/// let loss = EntropoDpo::new(EntropoDpoParams { alpha: 0.2, beta: 0.1 }).unwrap();
/// let seq = |logp, r| SeqStats { logp, ref_logp: Some(r), tokens: None };
/// // r⁺ = −1 − 0.5·(−4) = 1, r⁻ = −3 − 0.5·(−2) = −2: loss = −log σ(0.2·3).
/// let pair = PairStats { chosen: seq(-1.0, -4.0), rejected: seq(-3.0, -2.0) };
/// let out = loss.compute(&LossBatch { pairs: vec![pair], ..Default::default() }).unwrap();
/// assert!((out.loss - (1.0 + (-0.6f64).exp()).ln()).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct EntropoDpo {
    params: EntropoDpoParams,
}

impl EntropoDpo {
    /// The registered name.
    pub const NAME: &'static str = "entropo-dpo";
    /// One line for `entropo plugins list`.
    pub const DESCRIPTION: &'static str = "EntroPO-DPO (paper eq. 6): entropy-regularised DPO with implicit reward logp - (beta/alpha) ref_logp";

    /// The loss with `params`; `alpha` and `beta` must be finite and > 0.
    ///
    /// ```
    /// use entropo_losses::{EntropoDpo, EntropoDpoParams};
    /// assert!(EntropoDpo::new(EntropoDpoParams::default()).is_ok());
    /// let err = EntropoDpo::new(EntropoDpoParams { alpha: -1.0, beta: 0.1 }).unwrap_err();
    /// assert!(err.to_string().starts_with("params.alpha"));
    /// ```
    pub fn new(params: EntropoDpoParams) -> Result<Self, PluginError> {
        crate::params::positive("alpha", params.alpha)?;
        crate::params::positive("beta", params.beta)?;
        Ok(EntropoDpo { params })
    }

    /// The parameters it was created with.
    ///
    /// ```
    /// assert_eq!(entropo_losses::EntropoDpo::default().params().alpha, 0.11);
    /// ```
    pub fn params(&self) -> &EntropoDpoParams {
        &self.params
    }
}

impl Loss for EntropoDpo {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn compute(&self, batch: &LossBatch) -> Result<LossOutput, LossError> {
        // α·(r⁺ − r⁻) = α·(logp⁺ − logp⁻) − β·(ref⁺ − ref⁻).
        let EntropoDpoParams { alpha, beta } = self.params;
        PairwiseLogistic {
            loss: Self::NAME,
            policy_coef: alpha,
            ref_coef: beta,
        }
        .compute(batch)
    }
}
