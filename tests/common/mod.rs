//! Helpers shared by the CLI integration tests.

// Each test binary uses some of these helpers, not all.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The `entropo` binary built for these tests, run from the repository root
/// with no `ENTROPO_…` variables leaking in from the caller.
pub fn entropo() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_entropo"));
    cmd.current_dir(repo_root());
    for (key, _) in std::env::vars() {
        if key.starts_with("ENTROPO_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// Standard output of a successful run, as text.
pub fn stdout_of(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(assert.get_output().stdout.clone()).expect("utf-8 stdout")
}

/// Standard error of a run, as text.
pub fn stderr_of(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(assert.get_output().stderr.clone()).expect("utf-8 stderr")
}

/// The example SimPO plugin as a shared library, built once per test binary.
pub fn simpo_lib() -> &'static Path {
    static LIB: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    LIB.get_or_init(|| entropo_sdk::build::cdylib("entropo-example-simpo", &repo_root(), &[]).unwrap())
}

/// Text the tiny models' tokenizer is trained on.
pub const CORPUS: &[&str] = &[
    "def add(a, b):\n    return a + b\n",
    "Fix the off-by-one error in range(len(xs) - 1).",
    "<function=execute_bash>\n<parameter=cmd>python -m unittest</parameter>\n</function>",
    "The tests pass now. I will submit the fix.",
];

/// A model folder with a trained tokenizer and random weights.
pub fn tiny_model(dir: &Path) {
    let tokenizer = entropo_text::train_bpe(CORPUS, 400, &[]).unwrap();
    tokenizer.save(dir).unwrap();
    let config = entropo_burn::config::ModelConfig::from_json(
        &serde_json::json!({
            "model_type": "llama", "hidden_size": 32, "intermediate_size": 64,
            "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
            "vocab_size": tokenizer.vocab_size(), "tie_word_embeddings": true
        }),
        Path::new("tiny"),
    )
    .unwrap();
    entropo_burn::model::Decoder::<entropo_burn::burn::backend::NdArray>::random(config, 1, &Default::default()).save(dir).unwrap();
}
