//! A loss behind the C ABI gives the same numbers, bit for bit, as the same
//! code linked in: nothing is lost in the crossing.

mod common;

use entropo_core::Loss;
use entropo_core::loss::{LossBatch, PairStats, SeqStats};
use entropo_example_simpo::{SimPo, SimPoParams};

#[test]
fn loaded_plugin_matches_the_linked_code_exactly() {
    let mut registry = entropo_core::Registry::new();
    entropo_sdk::load_library(common::simpo_lib(), &mut registry).unwrap();
    let params = serde_json::from_str(r#"{"beta": 2.5, "gamma": 0.3}"#).unwrap();
    let loaded = registry.create::<dyn Loss>("simpo", &params).unwrap();
    let linked = SimPo::new(SimPoParams { beta: 2.5, gamma: 0.3, ..Default::default() }).unwrap();
    // Awkward values: long mantissas that a lossy float printer or parser would perturb.
    let mut x = 0.123_456_789_012_345_67_f64;
    let mut next = || {
        x = (x * 7919.0 + 0.314_159_265_358_979_3).fract();
        x
    };
    for n in [1, 7, 64] {
        let seq = |v: f64, t: u64| SeqStats { logp: -1000.0 * v - 1e-9, ref_logp: None, tokens: Some(t) };
        let batch = LossBatch {
            pairs: (0..n)
                .map(|i| PairStats {
                    chosen: seq(next(), 10 + i as u64),
                    rejected: seq(next(), 17 + i as u64),
                })
                .collect(),
            ..Default::default()
        };
        assert_eq!(loaded.compute(&batch).unwrap(), linked.compute(&batch).unwrap(), "{n} pairs");
    }
}
