//! `entropo model import-gguf` and `entropo model inspect` on the real
//! SmolLM2-135M-Instruct GGUF (made by scripts/fixtures/smollm2.py) and on
//! corrupt files.

mod common;

use common::{entropo, repo_root, stderr_of, stdout_of};

fn smollm2() -> std::path::PathBuf {
    let path = repo_root().join("target/fixtures/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf");
    assert!(
        path.exists(),
        "{} missing: run scripts/setup.sh (or python3 scripts/fixtures/smollm2.py)",
        path.display()
    );
    path
}

#[test]
fn import_gguf_writes_a_hf_folder_and_prints_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("smollm2");
    let a = entropo()
        .args(["model", "import-gguf"])
        .arg(smollm2())
        .arg(&out)
        .assert()
        .success();
    let text = stdout_of(&a);
    assert!(
        text.starts_with("imported ") && text.contains("272 tensors"),
        "{text}"
    );
    assert!(
        text.contains("30 layers, vocabulary 49152, tied embeddings"),
        "{text}"
    );
    for file in [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "generation_config.json",
    ] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("config.json")).unwrap()).unwrap();
    assert_eq!(
        (
            config["num_hidden_layers"].as_u64(),
            config["hidden_size"].as_u64()
        ),
        (Some(30), Some(576))
    );

    // A second import into the same folder is refused and leaves it alone.
    let a = entropo()
        .args(["model", "import-gguf"])
        .arg(smollm2())
        .arg(&out)
        .assert()
        .failure();
    assert!(
        stderr_of(&a).contains("output folder exists and is not empty"),
        "{}",
        stderr_of(&a)
    );
    assert!(out.join("model.safetensors").is_file());
}

#[test]
fn import_gguf_of_a_corrupt_file_fails_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    // The first 64 KiB of the real file: the metadata is cut off mid-way.
    let bytes = std::fs::read(smollm2()).unwrap();
    let truncated = dir.path().join("truncated.gguf");
    std::fs::write(&truncated, &bytes[..64 * 1024]).unwrap();
    let garbage = dir.path().join("garbage.gguf");
    std::fs::write(&garbage, b"this is not a model file at all").unwrap();
    for (file, why) in [(&truncated, "truncated"), (&garbage, "not a GGUF file")] {
        let out = dir.path().join("out");
        let a = entropo()
            .args(["model", "import-gguf"])
            .arg(file)
            .arg(&out)
            .assert()
            .failure();
        let err = stderr_of(&a);
        assert!(
            err.contains(&file.display().to_string()) && err.contains(why),
            "{err}"
        );
        assert!(!out.exists());
    }
}

#[test]
fn inspect_prints_architecture_metadata_and_tensors() {
    let a = entropo()
        .args(["model", "inspect"])
        .arg(smollm2())
        .assert()
        .success();
    let text = stdout_of(&a);
    assert!(
        text.contains("GGUF v3, architecture llama, 33 metadata keys, 272 tensors"),
        "{text}"
    );
    assert!(text.contains("  llama.block_count = 30\n"), "{text}");
    assert!(text.contains("  tokenizer.ggml.tokens = [49152 × string] [\"<|endoftext|>\", \"<|im_start|>\", \"<|im_end|>\", \"<repo_name>\", …]\n"), "{text}");
    assert!(
        text.lines().any(|l| l.split_whitespace().eq([
            "token_embd.weight",
            "Q8_0",
            "[49152,",
            "576]",
            "0"
        ])),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("  blk.29.attn_q.weight") && l.contains("Q4_1")),
        "{text}"
    );
}

#[test]
fn help_shows_an_example() {
    let a = entropo()
        .args(["model", "import-gguf", "--help"])
        .assert()
        .success();
    let text = stdout_of(&a);
    assert!(
        text.contains("entropo model import-gguf ") && text.contains("LlamaForCausalLM"),
        "{text}"
    );
}
