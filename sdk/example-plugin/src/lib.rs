//! An example third-party loss plugin: SimPO, built as a shared library and
//! loaded at run time.
//!
//! SimPO (Meng et al., 2024) needs no reference model: its implicit reward is
//! the policy's length-normalised log-probability, `β · logp / tokens`, and it
//! asks the chosen reward to beat the rejected one by a margin `γ`:
//!
//! ```text
//! loss = mean over pairs of −log σ(β · (logp⁺/tokens⁺ − logp⁻/tokens⁻) − γ)
//! ```
//!
//! Every sequence must carry `tokens`; `ref_logp` is ignored. The whole plugin
//! is this file plus `crate-type = ["cdylib", "rlib"]` in `Cargo.toml`:
//! `cargo build -p entropo-example-simpo` gives
//! `target/debug/libentropo_example_simpo.so`, which
//! `entropo loss eval --plugin-lib target/debug/libentropo_example_simpo.so --plugin simpo --input batch.json`
//! loads.
//!
//! ```
//! use entropo_example_simpo::{SimPo, SimPoParams};
//! use entropo_sdk::{Loss, LossBatch};
//!
//! let loss = SimPo::new(SimPoParams::default()).unwrap();
//! let batch: LossBatch = entropo_sdk::serde_json::from_str(
//!     r#"{"pairs": [{"chosen":   {"logp": -10.0, "tokens": 10},
//!                    "rejected": {"logp": -30.0, "tokens": 20}}]}"#,
//! ).unwrap();
//! let out = loss.compute(&batch).unwrap();
//! // z = 2·(−1 + 1.5) − 0.5 = 0.5; loss = ln(1 + e^−0.5)
//! assert!((out.loss - (1.0 + (-0.5f64).exp()).ln()).abs() < 1e-12);
//! ```

use std::collections::BTreeMap;

use entropo_sdk::{
    Loss, LossBatch, LossError, LossGrads, LossOutput, PairGrad, PluginError, schemars, serde,
};

/// Parameters of `simpo`.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, schemars::JsonSchema)]
#[serde(crate = "entropo_sdk::serde", deny_unknown_fields)]
#[schemars(crate = "entropo_sdk::schemars")]
pub struct SimPoParams {
    /// Reward scale β (> 0).
    #[serde(default = "default_beta")]
    pub beta: f64,
    /// Target reward margin γ between chosen and rejected.
    #[serde(default = "default_gamma")]
    pub gamma: f64,
    /// Testing aid for hosts: when true, `compute` panics, so that a host can
    /// check a panicking plugin is reported as an error. Never set it to train.
    #[serde(default)]
    pub debug_panic: bool,
}

fn default_beta() -> f64 {
    2.0
}

fn default_gamma() -> f64 {
    0.5
}

impl Default for SimPoParams {
    fn default() -> Self {
        SimPoParams { beta: default_beta(), gamma: default_gamma(), debug_panic: false }
    }
}

/// The SimPO loss (with default parameters: `SimPo::default()`).
#[derive(Debug, Clone, Default)]
pub struct SimPo {
    params: SimPoParams,
}

impl SimPo {
    /// A SimPO loss; `beta` must be positive and both numbers finite.
    pub fn new(params: SimPoParams) -> Result<Self, PluginError> {
        if !(params.beta.is_finite() && params.beta > 0.0) {
            return Err(PluginError::InvalidParam {
                param: "beta".into(),
                message: format!("must be a positive number, got {}", params.beta),
            });
        }
        if !params.gamma.is_finite() {
            return Err(PluginError::InvalidParam {
                param: "gamma".into(),
                message: format!("must be a finite number, got {}", params.gamma),
            });
        }
        Ok(SimPo { params })
    }
}

/// log(1 + e^x) without overflow.
fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// σ(x) without overflow.
fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

impl Loss for SimPo {
    fn name(&self) -> &str {
        "simpo"
    }

    fn compute(&self, batch: &LossBatch) -> Result<LossOutput, LossError> {
        if self.params.debug_panic {
            panic!("simpo: debug_panic is set");
        }
        batch.check_finite()?;
        if !batch.samples.is_empty() {
            return Err(LossError::Unsupported {
                entry: "samples".into(),
                reason: "simpo trains on preference pairs only".into(),
            });
        }
        if !batch.kl.is_empty() {
            return Err(LossError::Unsupported {
                entry: "kl".into(),
                reason: "simpo uses no KL samples".into(),
            });
        }
        if batch.pairs.is_empty() {
            return Err(LossError::Empty("simpo needs at least one preference pair".into()));
        }
        let SimPoParams { beta, gamma, .. } = self.params;
        let n = batch.pairs.len() as f64;
        let mut grads = LossGrads::zeros_like(batch);
        let (mut loss, mut chosen, mut rejected, mut correct) = (0.0, 0.0, 0.0, 0.0);
        for (i, pair) in batch.pairs.iter().enumerate() {
            let tc = pair.chosen.require_tokens(&format!("pairs[{i}].chosen"))? as f64;
            let tr = pair.rejected.require_tokens(&format!("pairs[{i}].rejected"))? as f64;
            let rc = beta * pair.chosen.logp / tc;
            let rr = beta * pair.rejected.logp / tr;
            let z = rc - rr - gamma;
            loss += softplus(-z) / n;
            // d/dz −log σ(z) = −σ(−z)
            let dz = -sigmoid(-z) / n;
            grads.pairs[i] = PairGrad { chosen: dz * beta / tc, rejected: -dz * beta / tr };
            chosen += rc / n;
            rejected += rr / n;
            if rc > rr {
                correct += 1.0 / n;
            }
        }
        let metrics = BTreeMap::from([
            ("rewards/chosen".to_string(), chosen),
            ("rewards/rejected".to_string(), rejected),
            ("rewards/margins".to_string(), chosen - rejected),
            ("rewards/accuracies".to_string(), correct),
        ]);
        Ok(LossOutput { loss, grads, metrics })
    }
}

entropo_sdk::export_loss! {
    name: "simpo",
    description: "SimPO: reference-free, length-normalised preference loss −log σ(β·Δ(logp/tokens) − γ).",
    params: SimPoParams,
    create: SimPo::new,
}
