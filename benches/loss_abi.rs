//! What crossing the plugin C ABI costs: the example SimPO loss computed
//! in-process (linked as an rlib) beside the same code loaded from its shared
//! library through `entropo-sdk`'s loader (JSON across the boundary), on
//! batches of 16 and 1024 pairs.
//!
//!     cargo bench --bench loss_abi

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use entropo_core::Loss;
use entropo_core::loss::{LossBatch, PairStats, SeqStats};
use entropo_example_simpo::{SimPo, SimPoParams};

fn batch(pairs: usize) -> LossBatch {
    let seq = |i: usize, shift: f64| SeqStats {
        logp: -100.0 - (i % 37) as f64 - shift,
        ref_logp: None,
        tokens: Some(50 + (i % 13) as u64),
    };
    LossBatch {
        pairs: (0..pairs).map(|i| PairStats { chosen: seq(i, 0.0), rejected: seq(i, 7.5) }).collect(),
        ..Default::default()
    }
}

fn bench(c: &mut Criterion) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let lib = entropo_sdk::build::cdylib("entropo-example-simpo", root, &["--release"]).expect("build the example plugin");
    let mut registry = entropo_core::Registry::new();
    entropo_sdk::load_library(&lib, &mut registry).expect("load the example plugin");
    let dynamic = registry.create::<dyn Loss>("simpo", &Default::default()).unwrap();
    let linked = SimPo::new(SimPoParams::default()).unwrap();

    let mut group = c.benchmark_group("simpo");
    for n in [16, 1024] {
        let b = batch(n);
        assert_eq!(linked.compute(&b).unwrap(), dynamic.compute(&b).unwrap(), "same result both ways");
        group.bench_with_input(BenchmarkId::new("in-process", n), &b, |bench, b| {
            bench.iter(|| linked.compute(b).unwrap())
        });
        group.bench_with_input(BenchmarkId::new("through-abi", n), &b, |bench, b| {
            bench.iter(|| dynamic.compute(b).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
