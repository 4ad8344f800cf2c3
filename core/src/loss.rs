//! The [`Loss`] trait and the per-sequence statistics it works on.
//!
//! A loss never sees tensors. The trainer reduces each sequence to the summed
//! log-probability of its assistant tokens under the policy (`logp`) and under
//! the reference policy (`ref_logp`), plus its token count. The loss returns a
//! scalar, the gradient of that scalar with respect to every `logp`, and named
//! metrics; the trainer turns the gradients into a backward pass
//! (`d loss / d θ = Σ_i grad_i · d logp_i / d θ`). Because only numbers cross
//! this boundary, a loss can live behind a C ABI (see `entropo-sdk`).
//!
//! The JSON form of [`LossBatch`] is the input of `entropo loss eval`:
//!
//! ```json
//! {"pairs":   [{"chosen": {"logp": -12.0, "ref_logp": -12.5, "tokens": 40},
//!               "rejected": {"logp": -15.0, "ref_logp": -14.0, "tokens": 38}}],
//!  "samples": [{"label": true, "logp": -9.0, "ref_logp": -9.2, "tokens": 30}],
//!  "kl":      [{"logp": -20.0, "ref_logp": -19.0}]}
//! ```

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Statistics of one sequence (a whole multi-turn trajectory) over its
/// assistant tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SeqStats {
    /// Σ log π_θ(token) over the assistant tokens.
    pub logp: f64,
    /// Σ log π_ref(token) over the same tokens; losses that need no reference
    /// (`sft`) accept its absence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ref_logp: Option<f64>,
    /// Number of assistant tokens summed over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<u64>,
}

/// A preference pair: two trajectories of the same task, `chosen` preferred.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PairStats {
    /// The preferred (e.g. resolved) trajectory.
    pub chosen: SeqStats,
    /// The dispreferred (e.g. unresolved) trajectory.
    pub rejected: SeqStats,
}

/// A trajectory labelled desirable (`true`) or undesirable (`false`), as KTO uses.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelledStats {
    /// Desirable (`true`) or undesirable (`false`).
    pub label: bool,
    /// The sequence's statistics.
    #[serde(flatten)]
    pub seq: SeqStats,
}

/// A mismatched (prompt, completion) sample used only to estimate KTO's
/// reference point; it receives no gradient.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KlStats {
    /// Σ log π_θ over the completion's assistant tokens.
    pub logp: f64,
    /// Σ log π_ref over the same tokens.
    pub ref_logp: f64,
}

/// One batch handed to a [`Loss`]. Every list is optional; a loss rejects the
/// lists it cannot use with [`LossError::Unsupported`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LossBatch {
    /// Preference pairs (DPO family).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pairs: Vec<PairStats>,
    /// Labelled samples (KTO family, SFT).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub samples: Vec<LabelledStats>,
    /// Mismatched samples for KTO's KL / z0 estimate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kl: Vec<KlStats>,
}

impl LossBatch {
    /// Checks that every number is finite, naming the first bad entry
    /// (`pairs[3].rejected.logp`).
    ///
    /// ```
    /// use entropo_core::loss::{LossBatch, KlStats};
    /// let batch = LossBatch { kl: vec![KlStats { logp: f64::NAN, ref_logp: 0.0 }], ..Default::default() };
    /// assert_eq!(batch.check_finite().unwrap_err().to_string(), "kl[0].logp: not a finite number (NaN)");
    /// ```
    pub fn check_finite(&self) -> Result<(), LossError> {
        fn seq(path: String, s: &SeqStats) -> Result<(), LossError> {
            finite(format!("{path}.logp"), s.logp)?;
            if let Some(r) = s.ref_logp {
                finite(format!("{path}.ref_logp"), r)?;
            }
            Ok(())
        }
        for (i, p) in self.pairs.iter().enumerate() {
            seq(format!("pairs[{i}].chosen"), &p.chosen)?;
            seq(format!("pairs[{i}].rejected"), &p.rejected)?;
        }
        for (i, s) in self.samples.iter().enumerate() {
            seq(format!("samples[{i}]"), &s.seq)?;
        }
        for (i, k) in self.kl.iter().enumerate() {
            finite(format!("kl[{i}].logp"), k.logp)?;
            finite(format!("kl[{i}].ref_logp"), k.ref_logp)?;
        }
        Ok(())
    }
}

fn finite(entry: String, v: f64) -> Result<(), LossError> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(LossError::NotFinite { entry, value: v })
    }
}

impl SeqStats {
    /// The reference log-prob, or an error naming `entry` when it is absent.
    ///
    /// ```
    /// use entropo_core::loss::SeqStats;
    /// let s = SeqStats { logp: -1.0, ref_logp: None, tokens: Some(3) };
    /// assert!(s.require_ref("pairs[0].chosen").unwrap_err().to_string().contains("pairs[0].chosen.ref_logp"));
    /// ```
    pub fn require_ref(&self, entry: &str) -> Result<f64, LossError> {
        self.ref_logp
            .ok_or_else(|| LossError::MissingField { entry: format!("{entry}.ref_logp") })
    }

    /// The token count, or an error naming `entry` when it is absent or zero.
    pub fn require_tokens(&self, entry: &str) -> Result<u64, LossError> {
        match self.tokens {
            Some(t) if t > 0 => Ok(t),
            Some(_) => Err(LossError::Invalid {
                entry: format!("{entry}.tokens"),
                reason: "must be at least 1".into(),
            }),
            None => Err(LossError::MissingField { entry: format!("{entry}.tokens") }),
        }
    }
}

/// d loss / d logp for one pair.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PairGrad {
    /// Gradient with respect to the chosen sequence's `logp`.
    pub chosen: f64,
    /// Gradient with respect to the rejected sequence's `logp`.
    pub rejected: f64,
}

/// Gradients that mirror the layout of a [`LossBatch`] (KL samples are
/// detached and get none).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LossGrads {
    /// One entry per input pair.
    pub pairs: Vec<PairGrad>,
    /// One entry per input sample.
    pub samples: Vec<f64>,
}

impl LossGrads {
    /// All-zero gradients shaped like `batch`.
    ///
    /// ```
    /// use entropo_core::loss::{LossBatch, LossGrads};
    /// let g = LossGrads::zeros_like(&LossBatch::default());
    /// assert!(g.pairs.is_empty() && g.samples.is_empty());
    /// ```
    pub fn zeros_like(batch: &LossBatch) -> Self {
        LossGrads {
            pairs: vec![PairGrad::default(); batch.pairs.len()],
            samples: vec![0.0; batch.samples.len()],
        }
    }
}

/// What a [`Loss`] returns.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LossOutput {
    /// The scalar loss (a mean over the batch).
    pub loss: f64,
    /// d loss / d logp for every chosen, rejected and sample entry.
    pub grads: LossGrads,
    /// Named metrics (`rewards/chosen`, `rewards/margins`, `kl`, …).
    pub metrics: BTreeMap<String, f64>,
}

/// Why a loss could not be computed for a batch.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LossError {
    /// The batch holds nothing this loss can use.
    #[error("empty batch: {0}")]
    Empty(String),
    /// The batch holds a list this loss does not accept.
    #[error("{entry}: {reason}")]
    Unsupported {
        /// The offending list or entry (`pairs`, `samples[2]`).
        entry: String,
        /// What the loss expected instead.
        reason: String,
    },
    /// A field the loss needs is absent.
    #[error("{entry}: missing field")]
    MissingField {
        /// The full path of the missing field.
        entry: String,
    },
    /// A number is NaN or infinite.
    #[error("{entry}: not a finite number ({value})")]
    NotFinite {
        /// The full path of the field.
        entry: String,
        /// The value found.
        value: f64,
    },
    /// Any other invalid value.
    #[error("{entry}: {reason}")]
    Invalid {
        /// The full path of the field.
        entry: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The loss failed for a reason of its own (e.g. a dynamic plugin panicked).
    #[error("{0}")]
    Plugin(String),
}

/// A training objective over per-sequence statistics.
///
/// Implementations are pure functions of the batch: the same batch gives the
/// same output. The loss is a mean over the batch, so duplicating every entry
/// leaves it unchanged.
///
/// ```
/// use entropo_core::loss::{Loss, LossBatch, LossError, LossGrads, LossOutput};
///
/// /// Mean negative log-likelihood of the labelled samples.
/// struct MeanNll;
///
/// impl Loss for MeanNll {
///     fn name(&self) -> &str { "mean-nll" }
///     fn compute(&self, batch: &LossBatch) -> Result<LossOutput, LossError> {
///         batch.check_finite()?;
///         let n = batch.samples.len();
///         if n == 0 { return Err(LossError::Empty("no samples".into())); }
///         let loss = -batch.samples.iter().map(|s| s.seq.logp).sum::<f64>() / n as f64;
///         let mut grads = LossGrads::zeros_like(batch);
///         grads.samples.iter_mut().for_each(|g| *g = -1.0 / n as f64);
///         Ok(LossOutput { loss, grads, metrics: Default::default() })
///     }
/// }
///
/// let batch: LossBatch = serde_json::from_str(r#"{"samples":[{"label":true,"logp":-2.0}]}"#).unwrap();
/// assert_eq!(MeanNll.compute(&batch).unwrap().loss, 2.0);
/// ```
pub trait Loss: Send + Sync {
    /// The plugin name this loss was registered under.
    fn name(&self) -> &str;
    /// Loss, gradients with respect to every `logp`, and metrics for `batch`.
    fn compute(&self, batch: &LossBatch) -> Result<LossOutput, LossError>;
}
