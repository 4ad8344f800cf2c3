//! `sft`: supervised fine-tuning on desirable trajectories.

use entropo_core::loss::{Loss, LossBatch, LossError, LossGrads, LossOutput};
use entropo_core::registry::PluginError;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::input::{reject_list, require_nonempty};
use crate::metrics::{Metrics, finish};

/// Parameters of [`Sft`]: none; an empty table (any key is an error).
///
/// ```
/// use entropo_core::registry::{Params, parse_params};
/// use entropo_losses::SftParams;
/// assert!(parse_params::<SftParams>(&Params::new()).is_ok());
/// let bad: Params = serde_json::from_str(r#"{"beta": 0.1}"#).unwrap();
/// assert!(parse_params::<SftParams>(&bad).unwrap_err().to_string().starts_with("params.beta"));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SftParams {}

/// Token-mean negative log-likelihood over `samples`:
/// `loss = −Σ logp / Σ tokens`, so `d loss / d logp_i = −1 / Σ tokens`.
///
/// Every sample must be labelled desirable (`label: true`) and carry its
/// token count; `ref_logp` is not needed. Metrics: `nll/token`, `num_tokens`.
///
/// ```
/// use entropo_core::loss::{LabelledStats, Loss, LossBatch, SeqStats};
/// use entropo_losses::{Sft, SftParams};
/// let sft = Sft::new(SftParams {}).unwrap();
/// let sample = |logp, tokens| LabelledStats { label: true, seq: SeqStats { logp, ref_logp: None, tokens: Some(tokens) } };
/// let batch = LossBatch { samples: vec![sample(-3.0, 2), sample(-5.0, 6)], ..Default::default() };
/// let out = sft.compute(&batch).unwrap();
/// assert_eq!(out.loss, 1.0); // (3 + 5) / (2 + 6)
/// assert_eq!(out.grads.samples, vec![-0.125, -0.125]);
/// assert_eq!(out.metrics["num_tokens"], 8.0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sft {
    params: SftParams,
}

impl Sft {
    /// The registered name.
    pub const NAME: &'static str = "sft";
    /// One line for `entropo plugins list`.
    pub const DESCRIPTION: &'static str =
        "Supervised fine-tuning: token-mean negative log-likelihood of desirable samples";

    /// The loss with `params` (SFT has none, so this never fails).
    ///
    /// ```
    /// use entropo_core::loss::Loss;
    /// assert_eq!(entropo_losses::Sft::new(Default::default()).unwrap().name(), "sft");
    /// ```
    pub fn new(params: SftParams) -> Result<Self, PluginError> {
        Ok(Sft { params })
    }

    /// The parameters it was created with.
    ///
    /// ```
    /// let sft = entropo_losses::Sft::default();
    /// assert_eq!(*sft.params(), entropo_losses::SftParams {});
    /// ```
    pub fn params(&self) -> &SftParams {
        &self.params
    }
}

impl Loss for Sft {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn compute(&self, batch: &LossBatch) -> Result<LossOutput, LossError> {
        batch.check_finite()?;
        let uses = "desirable labelled `samples` only";
        reject_list(Self::NAME, "pairs", batch.pairs.len(), uses)?;
        reject_list(Self::NAME, "kl", batch.kl.len(), uses)?;
        require_nonempty(Self::NAME, "samples", batch.samples.len())?;

        let mut nll = 0.0;
        let mut tokens = 0.0;
        for (i, s) in batch.samples.iter().enumerate() {
            if !s.label {
                return Err(LossError::Invalid {
                    entry: format!("samples[{i}].label"),
                    reason: "sft trains on desirable trajectories only; got an undesirable (false) label".into(),
                });
            }
            tokens += s.seq.require_tokens(&format!("samples[{i}]"))? as f64;
            nll -= s.seq.logp;
        }
        let mut grads = LossGrads::zeros_like(batch);
        grads.samples.iter_mut().for_each(|g| *g = -1.0 / tokens);
        let loss = nll / tokens;
        let mut metrics = Metrics::default();
        metrics.set("nll/token", loss);
        metrics.set("num_tokens", tokens);
        finish(loss, grads, metrics)
    }
}
