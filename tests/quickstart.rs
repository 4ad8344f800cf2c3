//! The quickstart end to end, reduced (a few tasks, a tiny model, short
//! episodes): every stage leaves its files, and the report's numbers are
//! recomputed here from the saved rollouts.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{entropo, stdout_of};
use entropo_core::eval::{Report, pass_at_k};
use entropo_core::rollout::read_index;
use entropo_core::types::RolloutRecord;

const REDUCED: &[&str] = &[
    "tasks.suite.train=2",
    "tasks.suite.test=1",
    "teacher.rollouts_per_task=2",
    "teacher.imperfect_share=0.5",
    "init.vocab_size=400",
    "init.hidden_size=32",
    "init.intermediate_size=64",
    "sft.epochs=2",
    "sft.batch_size=2",
    "sft.micro_batch_size=1",
    "sft.cutoff.max_tokens=768",
    "preference.train.cutoff.max_tokens=768",
    "rollout.n=3",
    "rollout.concurrency=2",
    "rollout.max_new_tokens=24",
    "rollout.limits.max_steps=3",
    "preference.rollouts_per_task=1",
    "preference.train.max_steps=1",
    "preference.train.batch_size=2",
    "verifier_training.max_steps=1",
    "verifier_training.batch_size=2",
    "verifier_training.micro_batch_size=1",
    "eval.ns=[1,2,3]",
    "eval.subsamples=5",
];

fn exists(dir: &Path, rel: &str) {
    assert!(dir.join(rel).exists(), "missing {rel} under {}", dir.display());
}

/// Rows of a pool grouped by task.
fn by_task(rows: &[RolloutRecord]) -> BTreeMap<&str, Vec<&RolloutRecord>> {
    let mut out: BTreeMap<&str, Vec<&RolloutRecord>> = BTreeMap::new();
    for r in rows {
        out.entry(r.task_id.as_str()).or_default().push(r);
    }
    out
}

#[test]
fn reduced_quickstart_runs_every_stage_and_its_report_adds_up() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let mut cmd = entropo();
    cmd.args(["run", "configs/quickstart.toml", "--set", &format!("output_dir={}", out.display())]);
    for s in REDUCED {
        cmd.args(["--set", s]);
    }
    let done = cmd.assert().success();
    let stdout = stdout_of(&done);
    assert!(stdout.contains("report.html"), "{stdout}");

    for rel in [
        "tasks/train.jsonl",
        "tasks/test.jsonl",
        "rollouts/teacher/index.jsonl",
        "model/init/tokenizer.json",
        "model/init/config.json",
        "data/sft/sft.jsonl",
        "train/sft/model/model.safetensors",
        "train/sft/metrics.jsonl",
        "model/sft/model.safetensors",
        "model/sft/tokenizer.json",
        "rollouts/student/index.jsonl",
        "data/preference/pairs.jsonl",
        "data/preference/kto.jsonl",
        "data/preference/trl-dpo.jsonl",
        "data/preference/llamafactory-kto.jsonl",
        "data/verifier/sft.jsonl",
        "train/verifier/adapter/adapter_config.json",
        "eval/sft/index.jsonl",
        "report/report.json",
        "report/report.md",
        "report/report.html",
        "report/entropy.png",
    ] {
        exists(&out, rel);
    }

    let report: Report = serde_json::from_slice(&std::fs::read(out.join("report/report.json")).unwrap()).unwrap();
    let names: Vec<&str> = report.methods.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names[0], "sft");
    for name in &names[1..] {
        assert!(["dpo", "kto", "entropo-dpo", "entropo-kto"].contains(name), "{name}");
        exists(&out, &format!("train/{name}/adapter/adapter_model.safetensors"));
    }
    assert!(names.contains(&"entropo-kto"), "KTO-family methods always have samples: {names:?}");

    for method in &report.methods {
        let rows = read_index(&out.join(format!("eval/{}/index.jsonl", method.name))).unwrap();
        assert_eq!(rows.len(), 3, "{}: N = 3 rollouts of the one held-out task", method.name);
        assert!(rows.iter().all(|r| r.verifier_prob.is_some_and(|p| (0.0..=1.0).contains(&p))), "{}: scored", method.name);
        // Resolved at N = 1: per rollout index, the share of tasks resolved; then the mean.
        let tasks = by_task(&rows);
        let per_seed: Vec<f64> = (0..3)
            .map(|r| {
                tasks.values().filter(|v| v.iter().any(|x| x.rollout_id == r && x.resolved())).count() as f64
                    / tasks.len() as f64
            })
            .collect();
        let mean = per_seed.iter().sum::<f64>() / per_seed.len() as f64;
        assert!((method.resolved_at_1.mean - mean).abs() < 1e-12, "{}: resolved@1", method.name);
        // pass@k from the closed form, averaged over tasks.
        for point in &method.pass_at_k {
            let expected = tasks
                .values()
                .map(|v| pass_at_k(v.len(), v.iter().filter(|x| x.resolved()).count(), point.n))
                .sum::<f64>()
                / tasks.len() as f64;
            assert!((point.value - expected).abs() < 1e-12, "{}: pass@{}", method.name, point.n);
        }
        // Best@N at the full pool size is the selector's choice on the whole pool.
        let hybrid = method.curve("hybrid").expect("hybrid curve");
        assert!(hybrid.at(3).is_some_and(|v| (0.0..=1.0).contains(&v)));
    }
    let html = std::fs::read_to_string(out.join("report/report.html")).unwrap();
    assert!(names.iter().all(|n| html.contains(n)));

    // A second run finds every stage done and rebuilds the same report.
    let mut again = entropo();
    again.args(["run", "configs/quickstart.toml", "--set", &format!("output_dir={}", out.display())]);
    for s in REDUCED {
        again.args(["--set", s]);
    }
    again.assert().success();
    let second: Report = serde_json::from_slice(&std::fs::read(out.join("report/report.json")).unwrap()).unwrap();
    assert_eq!(second, report);
}
