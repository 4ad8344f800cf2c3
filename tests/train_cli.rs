//! `entropo train` and `entropo generate` on a tiny model folder made here:
//! a byte-level BPE tokenizer trained on a few lines and a random-weight
//! Llama-shaped decoder.

mod common;

use std::path::Path;

use common::{entropo, stderr_of, stdout_of, tiny_model};
use entropo_burn::config::ModelConfig;
use entropo_burn::lora::LoraWeights;
use entropo_core::types::{KtoSample, Message, PreferencePair, Role, SftSample};

fn conversation(answer: &str) -> Vec<Message> {
    vec![
        Message::new(Role::System, "You fix bugs."),
        Message::new(Role::User, "Fix the off-by-one error."),
        Message::new(Role::Assistant, answer),
    ]
}

fn write_jsonl<T: serde::Serialize>(path: &Path, rows: &[T]) {
    entropo_core::io::write_jsonl(path, rows).unwrap();
}

fn config(dir: &Path, data: &Path, loss: &str) -> std::path::PathBuf {
    let path = dir.join("exp.toml");
    let text = format!(
        "name = \"tiny\"\noutput_dir = \"{out}\"\nseed = 3\n\
         [loss]\nname = \"{loss}\"\n\
         [model]\npath = \"{model}\"\n\
         [train]\ndata = \"{data}\"\nlearning_rate = 1e-3\nbatch_size = 2\nepochs = 3\nmax_steps = 3\nsave_every = 1\n\
         lora = {{ r = 4, alpha = 8.0 }}\n",
        out = dir.join("run").display(),
        model = dir.join("model").display(),
        data = data.display(),
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn sft_then_preference_training_write_adapters_metrics_and_resume() {
    let dir = tempfile::tempdir().unwrap();
    tiny_model(&dir.path().join("model"));
    let sft = dir.path().join("sft.jsonl");
    let sample = |answer: &str| SftSample { task_id: "t".into(), messages: conversation(answer) };
    write_jsonl(&sft, &[sample("def add(a, b):\n    return a + b"), sample("The tests pass now.")]);
    let cfg = config(dir.path(), &sft, "dpo");

    let run = entropo().args(["train", "sft", "--config"]).arg(&cfg).assert().success();
    let out = stdout_of(&run);
    assert!(out.contains("trained sft (3 steps"), "{out}");
    assert!(stderr_of(&run).contains("2 rows → 2 examples"), "{}", stderr_of(&run));
    let sft_dir = dir.path().join("run/train/sft");
    let metrics = std::fs::read_to_string(sft_dir.join("metrics.jsonl")).unwrap();
    assert_eq!(metrics.lines().count(), 3);
    let model_config = ModelConfig::from_dir(&dir.path().join("model")).unwrap();
    let adapter = LoraWeights::load_peft(&sft_dir.join("adapter"), &model_config).unwrap();
    assert_eq!(adapter.config.r, 4);

    // Running again finds the finished checkpoint and does no more steps.
    let again = entropo().args(["train", "sft", "--config"]).arg(&cfg).assert().success();
    assert!(stderr_of(&again).contains("resumed from step 3"), "{}", stderr_of(&again));
    assert_eq!(std::fs::read_to_string(sft_dir.join("metrics.jsonl")).unwrap(), metrics);

    // The SFT adapter merged into the weights: a new model folder that
    // generates like the base model with the adapter applied.
    let merged = dir.path().join("merged");
    entropo()
        .args(["model", "merge", "--model"])
        .arg(dir.path().join("model"))
        .arg("--adapter")
        .arg(sft_dir.join("adapter"))
        .arg("--out")
        .arg(&merged)
        .assert()
        .success();
    let greedy = |model: &Path, adapter: Option<&Path>| {
        let mut cmd = entropo();
        cmd.args(["generate", "--temperature", "0", "--max-tokens", "6", "--prompt", "Fix the", "--model"]).arg(model);
        if let Some(a) = adapter {
            cmd.arg("--adapter").arg(a);
        }
        stdout_of(&cmd.assert().success())
    };
    assert_eq!(greedy(&merged, None), greedy(&dir.path().join("model"), Some(&sft_dir.join("adapter"))));
    let again = entropo()
        .args(["model", "merge", "--model"])
        .arg(dir.path().join("model"))
        .arg("--adapter")
        .arg(sft_dir.join("adapter"))
        .arg("--out")
        .arg(&merged)
        .assert()
        .failure();
    assert!(stderr_of(&again).contains("already exists"), "{}", stderr_of(&again));

    // Preference training from the SFT policy (merged), with DPO pairs.
    let pairs = dir.path().join("pairs.jsonl");
    let pair = PreferencePair {
        task_id: "t".into(),
        prompt: conversation("")[..2].to_vec(),
        chosen: vec![Message::new(Role::Assistant, "The tests pass now.")],
        rejected: vec![Message::new(Role::Assistant, "def add(a, b):")],
    };
    write_jsonl(&pairs, &[pair.clone(), pair]);
    let run = entropo()
        .args(["train", "preference", "--config"])
        .arg(&cfg)
        .arg("--set")
        .arg(format!("train.data=\"{}\"", pairs.display()))
        .arg("--set")
        .arg(format!("model.merge_adapters=[\"{}\"]", sft_dir.join("adapter").display()))
        .assert()
        .success();
    assert!(stdout_of(&run).contains("trained dpo (3 steps"), "{}", stdout_of(&run));
    let line: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(dir.path().join("run/train/dpo/metrics.jsonl")).unwrap().lines().next().unwrap(),
    )
    .unwrap();
    assert!(line.get("rewards/margins").is_some() && line.get("entropy").is_some(), "{line}");

    // KTO samples with the paper's loss.
    let kto = dir.path().join("kto.jsonl");
    let k = |label, answer: &str| KtoSample {
        task_id: "t".into(),
        prompt: conversation("")[..2].to_vec(),
        completion: vec![Message::new(Role::Assistant, answer)],
        label,
    };
    write_jsonl(&kto, &[k(true, "The tests pass now."), k(false, "def add(a, b):")]);
    let run = entropo()
        .args(["train", "preference", "--config"])
        .arg(&cfg)
        .args(["--set", "loss.name=entropo-kto", "--set"])
        .arg(format!("train.data=\"{}\"", kto.display()))
        .assert()
        .success();
    assert!(stdout_of(&run).contains("trained entropo-kto"), "{}", stdout_of(&run));
}

#[test]
fn wrong_data_for_the_trainer_is_refused_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    tiny_model(&dir.path().join("model"));
    let sft = dir.path().join("sft.jsonl");
    write_jsonl(&sft, &[SftSample { task_id: "t".into(), messages: conversation("ok") }]);
    let cfg = config(dir.path(), &sft, "dpo");
    let run = entropo().args(["train", "preference", "--config"]).arg(&cfg).assert().failure();
    let err = stderr_of(&run);
    assert!(err.contains("sft.jsonl") && err.contains("`train preference` needs pairs or KTO samples"), "{err}");
}

#[test]
fn generate_samples_from_a_model_folder() {
    let dir = tempfile::tempdir().unwrap();
    tiny_model(dir.path());
    let run = entropo()
        .args(["generate", "--model"])
        .arg(dir.path())
        .args(["--prompt", "def add(", "--temperature", "0", "--max-tokens", "5"])
        .assert()
        .success();
    let greedy = stdout_of(&run);
    // Greedy decoding is deterministic.
    let again = entropo()
        .args(["generate", "--model"])
        .arg(dir.path())
        .args(["--prompt", "def add(", "--temperature", "0", "--max-tokens", "5"])
        .assert()
        .success();
    assert_eq!(stdout_of(&again), greedy);
    let chat = entropo()
        .args(["generate", "--chat", "--model"])
        .arg(dir.path())
        .args(["--prompt", "hello", "--max-tokens", "4", "--seed", "1"])
        .assert()
        .success();
    assert!(!stdout_of(&chat).is_empty());
    let bad = entropo().args(["generate", "--model"]).arg(dir.path().join("nope")).args(["--prompt", "x"]).assert().failure();
    assert!(stderr_of(&bad).contains("nope"), "{}", stderr_of(&bad));
}

#[test]
fn bench_preference_times_an_epoch_and_runs_the_peer_on_the_same_pairs() {
    let dir = tempfile::tempdir().unwrap();
    tiny_model(&dir.path().join("model"));
    let pairs = dir.path().join("pairs.jsonl");
    let pair = |good: &str, bad: &str| PreferencePair {
        task_id: "t".into(),
        prompt: conversation("")[..2].to_vec(),
        chosen: vec![Message::new(Role::Assistant, good)],
        rejected: vec![Message::new(Role::Assistant, bad)],
    };
    write_jsonl(&pairs, &[pair("The tests pass now.", "def add(a, b):"), pair("Fixed.", "No."), pair("Done.", "?")]);
    // A stand-in for the peer's Python: it answers only when handed the
    // pairs in TRL's format (argument 3: model, TRL file, batch, length, device).
    let peer = dir.path().join("peer.sh");
    std::fs::write(
        &peer,
        "#!/bin/sh\ngrep -q '\"chosen\":\\[{\"role\":\"assistant\"' \"$3\" && [ \"$4 $5 $6\" = \"2 512 cpu\" ] && echo '{\"seconds\": 1000.0}'\n",
    )
    .unwrap();
    std::fs::set_permissions(&peer, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let bench = |python: &Path| {
        entropo()
            .args(["bench", "preference", "--batch-size", "2", "--max-length", "512", "--model"])
            .arg(dir.path().join("model"))
            .arg("--pairs")
            .arg(&pairs)
            .arg("--python")
            .arg(python)
            .assert()
            .success()
    };
    let run = bench(&peer);
    let out = stdout_of(&run);
    let row: Vec<&str> = out.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(&row[..2], ["3", "2"], "3 pairs in 2 steps of 2: {out}");
    let record: serde_json::Value = serde_json::from_str(stderr_of(&run).lines().last().unwrap()).unwrap();
    let ours = record["entropo"]["seconds"].as_f64().unwrap();
    let ratio: f64 = row[6].parse().unwrap();
    assert!(ours > 0.0 && (ratio - 1000.0 / ours).abs() / ratio < 1e-3, "{out}");
    assert_eq!(record["entropo"]["steps"], 2);

    let run = bench(Path::new("false"));
    assert!(stdout_of(&run).contains("n/a"), "{}", stdout_of(&run));
    assert!(stderr_of(&run).contains("peer unavailable"), "{}", stderr_of(&run));

    // A peer the kernel kills (as its out-of-memory killer does) is named so.
    let killed = dir.path().join("killed.sh");
    std::fs::write(&killed, "#!/bin/sh\nkill -9 $$\n").unwrap();
    std::fs::set_permissions(&killed, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let run = bench(&killed);
    assert!(stderr_of(&run).contains("peer unavailable: killed by SIGKILL"), "{}", stderr_of(&run));
}
