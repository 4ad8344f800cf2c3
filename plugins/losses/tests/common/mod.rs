//! Builders and reference formulas shared by the integration tests.
//!
//! The reference formulas are written straight from the definitions
//! (`σ(x) = 1/(1 + e^(−x))`), independently of the crate's stable versions.

#![allow(dead_code)]

use entropo_core::loss::{KlStats, LabelledStats, Loss, LossBatch, PairStats, SeqStats};
use entropo_core::registry::{Params, Registry};

/// A sequence with a reference log-prob.
pub fn seq(logp: f64, ref_logp: f64) -> SeqStats {
    SeqStats {
        logp,
        ref_logp: Some(ref_logp),
        tokens: None,
    }
}

/// A pair `(logp⁺, ref⁺)`, `(logp⁻, ref⁻)`.
pub fn pair(lc: f64, rc: f64, lr: f64, rr: f64) -> PairStats {
    PairStats {
        chosen: seq(lc, rc),
        rejected: seq(lr, rr),
    }
}

/// A labelled sample with a reference log-prob.
pub fn sample(label: bool, logp: f64, ref_logp: f64) -> LabelledStats {
    LabelledStats {
        label,
        seq: seq(logp, ref_logp),
    }
}

/// An SFT sample: desirable, no reference, `tokens` tokens.
pub fn sft_sample(logp: f64, tokens: u64) -> LabelledStats {
    LabelledStats {
        label: true,
        seq: SeqStats {
            logp,
            ref_logp: None,
            tokens: Some(tokens),
        },
    }
}

/// A KL sample.
pub fn kl(logp: f64, ref_logp: f64) -> KlStats {
    KlStats { logp, ref_logp }
}

pub fn pairs(pairs: Vec<PairStats>) -> LossBatch {
    LossBatch {
        pairs,
        ..Default::default()
    }
}

pub fn samples(samples: Vec<LabelledStats>, kl: Vec<KlStats>) -> LossBatch {
    LossBatch {
        samples,
        kl,
        ..Default::default()
    }
}

/// σ(x) from its definition.
pub fn sig(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// −log σ(x) from its definition.
pub fn neg_log_sig(x: f64) -> f64 {
    -sig(x).ln()
}

/// A registry holding the built-in losses.
pub fn registry() -> Registry {
    let mut r = Registry::new();
    entropo_losses::register(&mut r).unwrap();
    r
}

/// Parameters from a JSON object literal.
pub fn params(json: &str) -> Params {
    serde_json::from_str(json).expect("test params are a JSON object")
}

/// The built-in loss `name` with parameters `json`, through the registry.
pub fn create(name: &str, json: &str) -> Box<dyn Loss> {
    registry()
        .create::<dyn Loss>(name, &params(json))
        .unwrap_or_else(|e| panic!("{name} {json}: {e}"))
}

/// `|a − b| ≤ tol·max(1, |a|, |b|)`.
pub fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * 1f64.max(a.abs()).max(b.abs())
}

#[track_caller]
pub fn assert_close(actual: f64, expected: f64, tol: f64, what: &str) {
    assert!(
        close(actual, expected, tol),
        "{what}: got {actual}, expected {expected} (tol {tol})"
    );
}
