//! Tokenizers trained with `train_bpe`, and loading and saving model folders.

use std::fs;
use std::path::Path;

use entropo_core::types::{Message, Role};
use entropo_text::{
    CHATML_SPECIAL_TOKENS, CHATML_TEMPLATE, RenderOptions, TextError, Tokenizer, encode_chat,
    train_bpe,
};

/// Python-like source text, as the bundled task suite generates.
fn corpus(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let op = ["+", "-", "*", "//", "%"][i % 5];
            format!(
                "def func_{i}(x, y):\n    \"\"\"Return x {op} y, scaled.\"\"\"\n    if x is None:\n        \
                 raise ValueError(\"x is None\")\n    return (x {op} y) * {i}\n\n\nclass Thing{i}:\n    \
                 value = {i}\n\n    def get(self):\n        return self.value\n"
            )
        })
        .collect()
}

fn trained() -> Tokenizer {
    train_bpe(&corpus(300), 1000, &[]).unwrap()
}

fn chat() -> Vec<Message> {
    vec![
        Message::new(Role::System, "You fix Python bugs."),
        Message::new(Role::User, "func_3 raises on None."),
        Message::new(
            Role::Assistant,
            "def func_3(x, y):\n    return (x * y) * 3\n",
        ),
        Message::new(Role::User, "Tests pass."),
        Message::new(Role::Assistant, "Done."),
    ]
}

fn no_options() -> RenderOptions {
    RenderOptions::default()
}

// --- train_bpe -----------------------------------------------------------------

#[test]
fn decoding_an_encoding_gives_the_text_back() {
    let tok = trained();
    let texts = [
        corpus(310)[305].clone(),
        "\tdef   weird (a,b) :  # trailing spaces   \n\n\n  return a\r\n".to_owned(),
        "unicode: é, 你好, 🦀, \u{0}\u{7f}".to_owned(),
        String::new(),
    ];
    for text in &texts {
        let ids = tok.encode(text, false).unwrap();
        assert_eq!(&tok.decode(&ids, false).unwrap(), text);
    }
    // Training compresses the code it saw.
    let seen = &corpus(1)[0];
    assert!(
        tok.encode(seen, false).unwrap().len() * 3 < seen.len(),
        "too few merges"
    );
}

#[test]
fn chatml_special_tokens_are_single_ids() {
    let tok = trained();
    for (id, token) in CHATML_SPECIAL_TOKENS.iter().enumerate() {
        assert_eq!(tok.token_to_id(token), Some(id as u32));
    }
    let ids = tok.encode("<|im_start|>user\nhi<|im_end|>", false).unwrap();
    assert_eq!(ids.first(), Some(&1));
    assert_eq!(ids.last(), Some(&2));
    assert_eq!(tok.decode(&ids, true).unwrap(), "user\nhi");
    assert_eq!(tok.eos_token(), Some("<|im_end|>"));
    assert_eq!(tok.eos_token_ids(), [2]);
    // At most the asked size: this small corpus runs out of pairs to merge first.
    assert!(
        (300..=1000).contains(&tok.vocab_size()),
        "{}",
        tok.vocab_size()
    );
    assert_eq!(tok.chat_template().unwrap().source(), CHATML_TEMPLATE);
}

#[test]
fn training_is_deterministic() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    trained().save(a.path()).unwrap();
    trained().save(b.path()).unwrap();
    for file in ["tokenizer.json", "tokenizer_config.json"] {
        assert_eq!(
            fs::read(a.path().join(file)).unwrap(),
            fs::read(b.path().join(file)).unwrap(),
            "{file}"
        );
    }
}

#[test]
fn masks_of_a_chatml_conversation() {
    let tok = trained();
    let enc = encode_chat(&tok, &chat(), &no_options()).unwrap();
    let rendered = tok.render_chat(&chat(), false, &no_options()).unwrap();
    assert_eq!(enc.ids, tok.encode(&rendered, false).unwrap());
    let mut runs = Vec::new();
    let mut run = Vec::new();
    for (&id, &m) in enc.ids.iter().zip(&enc.mask) {
        if m {
            run.push(id);
        } else if !run.is_empty() {
            runs.push(tok.decode(&std::mem::take(&mut run), false).unwrap());
        }
    }
    assert_eq!(
        runs,
        [
            "def func_3(x, y):\n    return (x * y) * 3\n<|im_end|>",
            "Done.<|im_end|>"
        ]
    );
}

// --- folders --------------------------------------------------------------------

#[test]
fn save_and_from_dir_round_trip() {
    let tok = trained();
    let dir = tempfile::tempdir().unwrap();
    tok.save(dir.path()).unwrap();
    let again = Tokenizer::from_dir(dir.path()).unwrap();
    let text = &corpus(2)[1];
    assert_eq!(
        again.encode(text, false).unwrap(),
        tok.encode(text, false).unwrap()
    );
    assert_eq!(again.eos_token_ids(), tok.eos_token_ids());
    assert_eq!(again.vocab_size(), tok.vocab_size());
    assert_eq!(again.bos_token(), None);
    assert_eq!(
        again.render_chat(&chat(), true, &no_options()).unwrap(),
        tok.render_chat(&chat(), true, &no_options()).unwrap()
    );
    assert_eq!(
        encode_chat(&again, &chat(), &no_options()).unwrap(),
        encode_chat(&tok, &chat(), &no_options()).unwrap()
    );
}

/// A saved trained tokenizer whose `tokenizer_config.json` is replaced.
fn folder_with_config(config: serde_json::Value) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    trained().save(dir.path()).unwrap();
    fs::write(dir.path().join("tokenizer_config.json"), config.to_string()).unwrap();
    dir
}

fn load_error(dir: &Path) -> String {
    Tokenizer::from_dir(dir).unwrap_err().to_string()
}

#[test]
fn missing_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let err = load_error(dir.path());
    assert!(err.contains("tokenizer.json"), "{err}");
    trained().save(dir.path()).unwrap();
    fs::remove_file(dir.path().join("tokenizer_config.json")).unwrap();
    let err = load_error(dir.path());
    assert!(err.contains("tokenizer_config.json"), "{err}");
}

#[test]
fn a_bad_tokenizer_json_is_named() {
    let dir = tempfile::tempdir().unwrap();
    trained().save(dir.path()).unwrap();
    for bad in [
        "{not json",
        r#"{"version": "1.0", "model": {"type": "Nonsense"}}"#,
    ] {
        fs::write(dir.path().join("tokenizer.json"), bad).unwrap();
        let err = Tokenizer::from_dir(dir.path()).unwrap_err();
        assert!(matches!(err, TextError::TokenizerFile { .. }), "{err}");
        assert!(err.to_string().contains("tokenizer.json"), "{err}");
    }
}

#[test]
fn bad_config_files_are_named_with_the_field() {
    let dir = folder_with_config(serde_json::json!({"eos_token": 5}));
    let err = load_error(dir.path());
    assert!(
        err.contains("tokenizer_config.json") && err.contains("`eos_token`"),
        "{err}"
    );

    let dir = folder_with_config(serde_json::json!({"eos_token": {"content": "<|nope|>"}}));
    let err = load_error(dir.path());
    assert!(
        err.contains("\"<|nope|>\" is not in the vocabulary"),
        "{err}"
    );

    let dir = folder_with_config(serde_json::json!({"chat_template": "{% if %}"}));
    assert!(matches!(
        Tokenizer::from_dir(dir.path()).unwrap_err(),
        TextError::Template(_)
    ));

    fs::write(dir.path().join("tokenizer_config.json"), "{\"eos_token\": ").unwrap();
    let err = load_error(dir.path());
    assert!(
        err.contains("tokenizer_config.json: not valid JSON"),
        "{err}"
    );

    let dir = folder_with_config(serde_json::json!({}));
    fs::write(
        dir.path().join("generation_config.json"),
        r#"{"eos_token_id": "two"}"#,
    )
    .unwrap();
    let err = load_error(dir.path());
    assert!(
        err.contains("generation_config.json") && err.contains("`eos_token_id`"),
        "{err}"
    );
}

#[test]
fn generation_config_adds_end_of_generation_ids() {
    let dir = folder_with_config(
        serde_json::json!({"eos_token": "<|im_end|>", "chat_template": CHATML_TEMPLATE}),
    );
    fs::write(
        dir.path().join("generation_config.json"),
        r#"{"eos_token_id": [2, 0], "temperature": 0.7}"#,
    )
    .unwrap();
    let tok = Tokenizer::from_dir(dir.path()).unwrap();
    assert_eq!(tok.eos_token_ids(), [2, 0]);
    // Saved back with the fields entropo-text does not use.
    let out = tempfile::tempdir().unwrap();
    tok.save(out.path()).unwrap();
    let saved = fs::read_to_string(out.path().join("generation_config.json")).unwrap();
    assert!(saved.contains("temperature"), "{saved}");
    assert_eq!(
        Tokenizer::from_dir(out.path()).unwrap().eos_token_ids(),
        [2, 0]
    );
}

#[test]
fn chat_template_jinja_wins_and_is_kept_in_step_on_save() {
    let dir = folder_with_config(serde_json::json!({
        "eos_token": "<|im_end|>",
        "chat_template": [{"name": "default", "template": "config"}, {"name": "rag", "template": "rag"}],
    }));
    assert_eq!(
        Tokenizer::from_dir(dir.path())
            .unwrap()
            .render_chat(&[], false, &no_options())
            .unwrap(),
        "config"
    );
    fs::write(dir.path().join("chat_template.jinja"), "file").unwrap();
    let mut tok = Tokenizer::from_dir(dir.path()).unwrap();
    assert_eq!(tok.render_chat(&[], false, &no_options()).unwrap(), "file");
    tok.set_chat_template("{{ eos_token }}").unwrap();
    tok.save(dir.path()).unwrap();
    let again = Tokenizer::from_dir(dir.path()).unwrap();
    assert_eq!(
        again.render_chat(&[], false, &no_options()).unwrap(),
        "<|im_end|>"
    );
}

#[test]
fn chats_need_a_template_that_keeps_the_assistant_turns() {
    let dir = folder_with_config(serde_json::json!({"eos_token": "<|im_end|>"}));
    let mut tok = Tokenizer::from_dir(dir.path()).unwrap();
    assert!(tok.chat_template().is_none());
    assert!(matches!(
        encode_chat(&tok, &chat(), &no_options()),
        Err(TextError::NoChatTemplate)
    ));

    tok.set_chat_template("{{ raise_exception('roles must alternate') }}")
        .unwrap();
    match encode_chat(&tok, &chat(), &no_options()) {
        Err(TextError::TemplateException { message }) => {
            assert_eq!(message, "roles must alternate")
        }
        other => panic!("expected the template's exception, got {other:?}"),
    }

    // A template that writes only user turns leaves nothing to train on.
    tok.set_chat_template(
        "{% for m in messages if m.role == 'user' %}{{ m.content }}<|im_end|>{% endfor %}",
    )
    .unwrap();
    let err = encode_chat(&tok, &chat(), &no_options()).unwrap_err();
    assert!(
        matches!(err, TextError::AssistantNotFound { index: 2, .. }),
        "{err}"
    );
}
