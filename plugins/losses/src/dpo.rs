//! `dpo`: direct preference optimisation, TRL's sigmoid loss.

use entropo_core::loss::{Loss, LossBatch, LossError, LossOutput};
use entropo_core::registry::PluginError;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::pairwise::PairwiseLogistic;

/// Parameters of [`Dpo`].
///
/// ```
/// use entropo_core::registry::{Params, parse_params};
/// use entropo_losses::DpoParams;
/// assert_eq!(parse_params::<DpoParams>(&Params::new()).unwrap().beta, 0.1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct DpoParams {
    /// Inverse temperature β of the KL penalty (> 0).
    pub beta: f64,
}

impl Default for DpoParams {
    fn default() -> Self {
        DpoParams { beta: 0.1 }
    }
}

/// DPO: with `h = (logp⁺ − logp⁻) − (ref⁺ − ref⁻)`, `loss = mean −log σ(β·h)`
/// over `pairs`.
///
/// Metrics: `rewards/chosen`, `rewards/rejected`, `rewards/margins`,
/// `rewards/accuracies` (reward = `β·(logp − ref_logp)`), `logps/chosen`,
/// `logps/rejected`.
///
/// ```
/// use entropo_core::loss::{Loss, LossBatch, PairStats, SeqStats};
/// use entropo_losses::{Dpo, DpoParams};
/// let dpo = Dpo::new(DpoParams { beta: 0.1 }).unwrap();
/// let seq = |logp, r| SeqStats { logp, ref_logp: Some(r), tokens: None };
/// let pair = PairStats { chosen: seq(-10.0, -10.0), rejected: seq(-12.0, -12.0) };
/// let out = dpo.compute(&LossBatch { pairs: vec![pair], ..Default::default() }).unwrap();
/// // h = 0: loss = ln 2, gradient ∓β/2.
/// assert!((out.loss - std::f64::consts::LN_2).abs() < 1e-15);
/// assert!((out.grads.pairs[0].chosen + 0.05).abs() < 1e-15);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Dpo {
    params: DpoParams,
}

impl Dpo {
    /// The registered name.
    pub const NAME: &'static str = "dpo";
    /// One line for `entropo plugins list`.
    pub const DESCRIPTION: &'static str =
        "Direct preference optimisation (TRL sigmoid loss) over preference pairs";

    /// The loss with `params`; `beta` must be finite and > 0.
    ///
    /// ```
    /// use entropo_losses::{Dpo, DpoParams};
    /// assert!(Dpo::new(DpoParams { beta: 0.5 }).is_ok());
    /// assert!(Dpo::new(DpoParams { beta: 0.0 }).unwrap_err().to_string().starts_with("params.beta"));
    /// ```
    pub fn new(params: DpoParams) -> Result<Self, PluginError> {
        crate::params::positive("beta", params.beta)?;
        Ok(Dpo { params })
    }

    /// The parameters it was created with.
    ///
    /// ```
    /// assert_eq!(entropo_losses::Dpo::default().params().beta, 0.1);
    /// ```
    pub fn params(&self) -> &DpoParams {
        &self.params
    }
}

impl Loss for Dpo {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn compute(&self, batch: &LossBatch) -> Result<LossOutput, LossError> {
        let beta = self.params.beta;
        PairwiseLogistic {
            loss: Self::NAME,
            policy_coef: beta,
            ref_coef: beta,
        }
        .compute(batch)
    }
}
