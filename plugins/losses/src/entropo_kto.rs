//! `entropo-kto`: the paper's entropy-regularised KTO (eq. 7–8), plus the
//! variant the paper's authors implemented.

use entropo_core::loss::{Loss, LossBatch, LossError, LossOutput};
use entropo_core::registry::PluginError;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::prospect::Prospect;

/// Which formula [`EntropoKto`] computes.
///
/// ```
/// use entropo_losses::EntropoKtoVariant;
/// let v: EntropoKtoVariant = serde_json::from_str(r#""authors-code""#).unwrap();
/// assert_eq!(v, EntropoKtoVariant::AuthorsCode);
/// assert_eq!(EntropoKtoVariant::default(), EntropoKtoVariant::Paper);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum EntropoKtoVariant {
    /// Paper eq. 7–8: implicit reward `r = logp − (β/α)·ref_logp`, reference
    /// point `z0 = max(0, mean of r over the kl samples)`, sigmoid scale α.
    #[default]
    Paper,
    /// The authors' code (`entropo_kto_loss` in their LLaMA-Factory fork):
    /// `z0 = max(0, mean(α·logp_kl − β·ref_kl))`, reward `logp − ref_logp`,
    /// sigmoid scale β. With `α = β` this is not KTO: z0 is scaled by β.
    AuthorsCode,
}

/// Parameters of [`EntropoKto`].
///
/// ```
/// use entropo_core::registry::{Params, parse_params};
/// use entropo_losses::{EntropoKtoParams, EntropoKtoVariant};
/// let p: EntropoKtoParams = parse_params(&Params::new()).unwrap();
/// assert_eq!((p.alpha, p.beta, p.variant), (0.11, 0.1, EntropoKtoVariant::Paper));
/// let bad: Params = serde_json::from_str(r#"{"variant": "code"}"#).unwrap();
/// assert!(parse_params::<EntropoKtoParams>(&bad).unwrap_err().to_string().starts_with("params.variant"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct EntropoKtoParams {
    /// α = λ + β: the scale of the implicit reward (> 0).
    pub alpha: f64,
    /// β: the weight of the reference policy (> 0).
    pub beta: f64,
    /// Weight λ_D of desirable samples (≥ 0).
    pub lambda_desirable: f64,
    /// Weight λ_U of undesirable samples (≥ 0).
    pub lambda_undesirable: f64,
    /// `paper` (default) or `authors-code`.
    pub variant: EntropoKtoVariant,
}

impl Default for EntropoKtoParams {
    fn default() -> Self {
        EntropoKtoParams {
            alpha: 0.11,
            beta: 0.1,
            lambda_desirable: 1.0,
            lambda_undesirable: 1.0,
            variant: EntropoKtoVariant::Paper,
        }
    }
}

/// EntroPO-KTO over labelled `samples` (with optional `kl` samples for the
/// reference point; they get no gradient).
///
/// * `paper`: `r = logp − (β/α)·ref_logp`, `z0 = max(0, mean over kl of r)`
///   (detached, 0 without `kl` samples); desirable `λ_D·(1 − σ(α·(r − z0)))`,
///   undesirable `λ_U·(1 − σ(α·(z0 − r)))`; mean over all samples. With
///   `α = β` this is [`Kto`](crate::Kto).
/// * `authors-code`: `z0 = max(0, mean over kl of (α·logp − β·ref_logp))`;
///   desirable `λ_D·(1 − σ(β·((logp − ref) − z0)))`, undesirable
///   `λ_U·(1 − σ(β·(z0 − (logp − ref))))`; mean.
///
/// Metrics as `kto`, with `kl` = z0 and rewards `α·r` (paper) or
/// `β·(logp − ref_logp)` (authors-code).
///
/// ```
/// use entropo_core::loss::{KlStats, LabelledStats, Loss, LossBatch, SeqStats};
/// use entropo_losses::{EntropoKto, EntropoKtoParams};
/// let loss = EntropoKto::new(EntropoKtoParams { alpha: 0.2, beta: 0.1, ..Default::default() }).unwrap();
/// let batch = LossBatch {
///     samples: vec![LabelledStats { label: true, seq: SeqStats { logp: -1.0, ref_logp: Some(-4.0), tokens: None } }],
///     kl: vec![KlStats { logp: -2.0, ref_logp: -6.0 }],
///     ..Default::default()
/// };
/// // r = −1 + 0.5·4 = 1; z0 = −2 + 0.5·6 = 1: loss = 1 − σ(0).
/// let out = loss.compute(&batch).unwrap();
/// assert!((out.loss - 0.5).abs() < 1e-15);
/// assert!((out.metrics["kl"] - 1.0).abs() < 1e-15);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct EntropoKto {
    params: EntropoKtoParams,
}

impl EntropoKto {
    /// The registered name.
    pub const NAME: &'static str = "entropo-kto";
    /// One line for `entropo plugins list`.
    pub const DESCRIPTION: &'static str = "EntroPO-KTO (paper eq. 7-8): entropy-regularised KTO; variant paper (default) or authors-code";

    /// The loss with `params`; `alpha`, `beta` must be > 0 and the lambdas
    /// ≥ 0 (all finite).
    ///
    /// ```
    /// use entropo_losses::{EntropoKto, EntropoKtoParams};
    /// let err = EntropoKto::new(EntropoKtoParams { beta: 0.0, ..Default::default() }).unwrap_err();
    /// assert!(err.to_string().starts_with("params.beta"));
    /// ```
    pub fn new(params: EntropoKtoParams) -> Result<Self, PluginError> {
        crate::params::positive("alpha", params.alpha)?;
        crate::params::positive("beta", params.beta)?;
        crate::params::non_negative("lambda_desirable", params.lambda_desirable)?;
        crate::params::non_negative("lambda_undesirable", params.lambda_undesirable)?;
        Ok(EntropoKto { params })
    }

    /// The parameters it was created with.
    ///
    /// ```
    /// use entropo_losses::{EntropoKto, EntropoKtoVariant};
    /// assert_eq!(EntropoKto::default().params().variant, EntropoKtoVariant::Paper);
    /// ```
    pub fn params(&self) -> &EntropoKtoParams {
        &self.params
    }
}

impl Loss for EntropoKto {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn compute(&self, batch: &LossBatch) -> Result<LossOutput, LossError> {
        let p = self.params;
        let (ref_coef, kl_policy_coef, kl_ref_coef, scale) = match p.variant {
            EntropoKtoVariant::Paper => {
                let c = p.beta / p.alpha;
                (c, 1.0, c, p.alpha)
            }
            EntropoKtoVariant::AuthorsCode => (1.0, p.alpha, p.beta, p.beta),
        };
        Prospect {
            loss: Self::NAME,
            ref_coef,
            kl_policy_coef,
            kl_ref_coef,
            scale,
            lambda_desirable: p.lambda_desirable,
            lambda_undesirable: p.lambda_undesirable,
        }
        .compute(batch)
    }
}
