//! SimPO against the conformance suite and its closed form.

use entropo_example_simpo::{SimPo, SimPoParams};
use entropo_sdk::{Loss, LossBatch, LossError, PairStats, PluginError, SeqStats};

entropo_sdk::loss_conformance!(conformance, || Box::new(SimPo::default()) as Box<dyn Loss>);

entropo_sdk::loss_conformance!(conformance_other_params, || {
    Box::new(SimPo::new(SimPoParams { beta: 0.7, gamma: -1.3, debug_panic: false }).unwrap()) as Box<dyn Loss>
});

fn seq(logp: f64, tokens: u64) -> SeqStats {
    SeqStats { logp, ref_logp: None, tokens: Some(tokens) }
}

#[test]
fn matches_closed_form() {
    let batch = LossBatch {
        pairs: vec![
            PairStats { chosen: seq(-10.0, 10), rejected: seq(-30.0, 20) },
            PairStats { chosen: seq(-50.0, 25), rejected: seq(-12.0, 12) },
        ],
        ..Default::default()
    };
    let out = SimPo::default().compute(&batch).unwrap();
    // Pair 0: z = 2·(−1 + 1.5) − 0.5 = 0.5.  Pair 1: z = 2·(−2 + 1) − 0.5 = −2.5.
    let sig = |x: f64| 1.0 / (1.0 + (-x).exp());
    let expected = (-(sig(0.5)).ln() - (sig(-2.5)).ln()) / 2.0;
    assert!((out.loss - expected).abs() < 1e-12, "{} vs {expected}", out.loss);
    assert!((out.loss - 1.526_483_359_236_328).abs() < 1e-12);
    let g = &out.grads.pairs;
    assert!((g[0].chosen - (-sig(-0.5) / 2.0 * 2.0 / 10.0)).abs() < 1e-12);
    assert!((g[0].rejected - (sig(-0.5) / 2.0 * 2.0 / 20.0)).abs() < 1e-12);
    assert!((g[1].chosen - (-sig(2.5) / 2.0 * 2.0 / 25.0)).abs() < 1e-12);
    assert!((g[1].rejected - (sig(2.5) / 2.0 * 2.0 / 12.0)).abs() < 1e-12);
    assert_eq!(out.metrics["rewards/accuracies"], 0.5);
    assert!((out.metrics["rewards/margins"] - ((-2.0 + 3.0) + (-4.0 + 2.0)) / 2.0).abs() < 1e-12);
}

#[test]
fn requires_tokens_and_pairs() {
    let mut batch = LossBatch {
        pairs: vec![PairStats {
            chosen: seq(-1.0, 1),
            rejected: SeqStats { logp: -2.0, ref_logp: None, tokens: None },
        }],
        ..Default::default()
    };
    assert_eq!(
        SimPo::default().compute(&batch).unwrap_err(),
        LossError::MissingField { entry: "pairs[0].rejected.tokens".into() }
    );
    batch.pairs.clear();
    assert!(matches!(SimPo::default().compute(&batch), Err(LossError::Empty(_))));
}

#[test]
fn rejects_bad_params() {
    let err = SimPo::new(SimPoParams { beta: 0.0, ..Default::default() }).unwrap_err();
    assert!(matches!(err, PluginError::InvalidParam { ref param, .. } if param == "beta"), "{err}");
    let params = entropo_sdk::serde_json::from_str(r#"{"betta": 1.0}"#).unwrap();
    let err = entropo_sdk::parse_params::<SimPoParams>(&params).unwrap_err();
    assert!(err.to_string().contains("betta"), "{err}");
}
