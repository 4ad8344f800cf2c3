//! The real Qwen3 and Llama-3 tokenizers and chat templates, checked against
//! what HuggingFace `transformers` 5.24 (`apply_chat_template`, tokenizers
//! 0.23.3) gives for the same folders.

use std::path::PathBuf;
use std::sync::OnceLock;

use entropo_core::types::{Message, Role};
use entropo_text::{
    ApplyCutoff, Cutoff, CutoffCounts, EncodedChat, Overflow, RenderOptions, Tokenizer, encode_chat,
};

/// The folder of a fixture tokenizer made by `scripts/fixtures/tokenizers.sh`;
/// fails the test when it is missing.
fn fixture_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/fixtures/tokenizers")
        .join(name);
    assert!(
        dir.join("tokenizer.json").is_file() && dir.join("tokenizer_config.json").is_file(),
        "missing test fixture {}: run scripts/setup.sh (or scripts/fixtures/tokenizers.sh) first",
        dir.display()
    );
    dir
}

/// Loads a fixture tokenizer.
fn fixture(name: &str) -> Tokenizer {
    Tokenizer::from_dir(fixture_dir(name)).unwrap()
}

const SYSTEM: &str = "You are a programming agent. Call one tool per reply.";
const ISSUE: &str = "Fix the bug in calc.py: add() subtracts.";
const OBSERVATION_1: &str =
    "Execution output of [file_editor]:\n     1\tdef add(a, b):\n     2\t    return a - b\n";
const OBSERVATION_2: &str =
    "Execution output of [file_editor]:\nThe file /testbed/calc.py has been edited.";
const REPLY_1: &str = "<think>\nThe add function looks wrong.\n</think>\n\nLet me look at the file.\n\
<function=file_editor>\n<parameter=command>view</parameter>\n<parameter=path>/testbed/calc.py</parameter>\n</function>";
const REPLY_2: &str = "Line 2 subtracts; it should add.\n<function=file_editor>\n\
<parameter=command>str_replace</parameter>\n<parameter=old_str>return a - b</parameter>\n\
<parameter=new_str>return a + b</parameter>\n</function>";
const REPLY_3: &str = "<think>The edit is done, so I submit.</think>\n\n<function=finish>\n<parameter=command>submit</parameter>\n</function>";

/// An R2E-style agent conversation: tool observations come back as user
/// messages.
fn agent_conversation() -> Vec<Message> {
    vec![
        Message::new(Role::System, SYSTEM),
        Message::new(Role::User, ISSUE),
        Message::new(Role::Assistant, REPLY_1),
        Message::new(Role::User, OBSERVATION_1),
        Message::new(Role::Assistant, REPLY_2),
        Message::new(Role::User, OBSERVATION_2),
        Message::new(Role::Assistant, REPLY_3),
    ]
}

/// The decoded text of each maximal run of masked-in tokens.
fn masked_runs(tok: &Tokenizer, chat: &EncodedChat) -> Vec<String> {
    runs(tok, chat, true)
}

/// The decoded text of each maximal run of masked-out tokens.
fn unmasked_runs(tok: &Tokenizer, chat: &EncodedChat) -> Vec<String> {
    runs(tok, chat, false)
}

fn runs(tok: &Tokenizer, chat: &EncodedChat, wanted: bool) -> Vec<String> {
    assert_eq!(chat.ids.len(), chat.mask.len());
    let mut out = Vec::new();
    let mut run = Vec::new();
    for (&id, &m) in chat.ids.iter().zip(&chat.mask) {
        if m == wanted {
            run.push(id);
        } else if !run.is_empty() {
            out.push(tok.decode(&run, false).unwrap());
            run.clear();
        }
    }
    if !run.is_empty() {
        out.push(tok.decode(&run, false).unwrap());
    }
    out
}

fn qwen3() -> &'static Tokenizer {
    static TOK: OnceLock<Tokenizer> = OnceLock::new();
    TOK.get_or_init(|| fixture("qwen3"))
}

fn llama3() -> &'static Tokenizer {
    static TOK: OnceLock<Tokenizer> = OnceLock::new();
    TOK.get_or_init(|| fixture("llama3"))
}

fn no_options() -> RenderOptions {
    RenderOptions::default()
}

/// A conversation with a separate tool role, for Qwen3's `<tool_response>`.
fn tool_conversation() -> Vec<Message> {
    vec![
        Message::new(Role::System, "Use the tools."),
        Message::new(Role::User, "Run the tests."),
        Message::new(Role::Assistant, "  I will run them.\n"),
        Message::new(Role::Tool, "2 passed"),
        Message::new(Role::Tool, "0 failed"),
        Message::new(Role::Assistant, "All tests pass."),
    ]
}

fn bash_tool() -> serde_json::Value {
    serde_json::json!({
        "type": "function",
        "function": {
            "name": "execute_bash",
            "description": "Run a shell command.",
            "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}, "required": ["cmd"]},
        },
    })
}

// --- loading -----------------------------------------------------------------

#[test]
fn qwen3_special_tokens_and_sizes() {
    let tok = qwen3();
    assert_eq!(tok.bos_token(), None);
    assert_eq!(tok.eos_token(), Some("<|im_end|>"));
    assert_eq!(tok.eos_token_ids(), [151645]);
    assert_eq!(tok.token_to_id("<|endoftext|>"), Some(151643));
    assert_eq!(tok.vocab_size(), 151669);
    assert!(
        tok.chat_template()
            .unwrap()
            .source()
            .contains("reasoning_content")
    );
}

#[test]
fn llama3_special_tokens_and_sizes() {
    let tok = llama3();
    assert_eq!(tok.bos_token(), Some("<|begin_of_text|>"));
    assert_eq!(tok.eos_token(), Some("<|end_of_text|>"));
    assert_eq!(tok.eos_token_ids(), [128001]);
    assert_eq!(tok.token_to_id("<|eot_id|>"), Some(128009));
    assert_eq!(tok.vocab_size(), 128256);
}

// --- tokenization ---------------------------------------------------------------

/// Ids from HuggingFace `tokenizers` 0.23.3 (Python) for the same files; they
/// check that the fancy-regex pre-tokenizers split as Oniguruma does.
#[test]
fn tokenization_matches_huggingface() {
    let cases: [(&Tokenizer, &str, &[u32]); 8] = [
        (qwen3(), "Hello world", &[9707, 1879]),
        (
            qwen3(),
            "def f(x):\n    return  x**2  # ü 你好\n\n\n",
            &[
                750, 282, 2075, 982, 262, 470, 220, 856, 334, 17, 220, 671, 10489, 220, 108386,
                1406,
            ],
        ),
        (qwen3(), "   leading", &[256, 6388]),
        (qwen3(), "trailing   \n", &[376, 14277, 5872]),
        (llama3(), "Hello world", &[9906, 1917]),
        (
            llama3(),
            "def f(x):\n    return  x**2  # ü 你好\n\n\n",
            &[
                755, 282, 2120, 997, 262, 471, 220, 865, 334, 17, 220, 674, 10709, 118195, 53901,
                1432,
            ],
        ),
        (llama3(), "   leading", &[256, 6522]),
        (llama3(), "trailing   \n", &[376, 14612, 5996]),
    ];
    for (tok, text, ids) in cases {
        assert_eq!(tok.encode(text, false).unwrap(), ids, "{text:?}");
        assert_eq!(tok.decode(ids, false).unwrap(), text);
    }
}

#[test]
fn offsets_point_at_each_tokens_text() {
    for tok in [qwen3(), llama3()] {
        let text = "x = 'ü'  # 你好<|endoftext|>\n";
        let enc = tok.encode_with_offsets(text, false).unwrap();
        assert_eq!(enc.ids.len(), enc.offsets.len());
        for (id, range) in enc.ids.iter().zip(&enc.offsets) {
            let piece = tok.decode(&[*id], false).unwrap();
            // A token holding part of a multi-byte character decodes to U+FFFD
            // on its own, so there is no text to compare.
            if !piece.contains('\u{FFFD}') {
                assert_eq!(&text[range.clone()], piece, "token {id}");
            }
        }
    }
}

// --- rendering ------------------------------------------------------------------
// The snapshots equal what `transformers`' apply_chat_template renders for the
// same conversations (checked when they were written).

#[test]
fn qwen3_renders_the_agent_conversation_like_transformers() {
    let text = qwen3()
        .render_chat(&agent_conversation(), false, &no_options())
        .unwrap();
    insta::assert_snapshot!(text);
}

#[test]
fn qwen3_renders_tools_and_tool_responses_like_transformers() {
    let options = RenderOptions {
        tools: Some(vec![bash_tool()]),
        ..no_options()
    };
    let text = qwen3()
        .render_chat(&tool_conversation(), false, &options)
        .unwrap();
    insta::assert_snapshot!(text);
}

#[test]
fn llama3_renders_the_agent_conversation_like_transformers() {
    let text = llama3()
        .render_chat(&agent_conversation(), false, &no_options())
        .unwrap();
    insta::assert_snapshot!(text);
    // This Llama 3 template opens an assistant turn even without
    // add_generation_prompt (the snapshot ignores trailing newlines).
    assert!(
        text.ends_with("<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"),
        "{text}"
    );
}

#[test]
fn generation_prompts_end_with_the_assistant_header() {
    let chat = &agent_conversation()[..2];
    let qwen = qwen3().render_chat(chat, true, &no_options()).unwrap();
    assert!(
        qwen.ends_with(&format!("{ISSUE}<|im_end|>\n<|im_start|>assistant\n")),
        "{qwen}"
    );
    let mut options = no_options();
    options.extra.insert("enable_thinking".into(), false.into());
    let no_think = qwen3().render_chat(chat, true, &options).unwrap();
    assert!(
        no_think.ends_with("<|im_start|>assistant\n<think>\n\n</think>\n\n"),
        "{no_think}"
    );
    let llama = llama3().render_chat(chat, true, &no_options()).unwrap();
    assert!(
        llama.ends_with(&format!(
            "{ISSUE}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
        )),
        "{llama}"
    );
    assert!(llama.starts_with("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"));
}

// --- masks ------------------------------------------------------------------------

/// Checks `encode_chat` against the expected assistant spans, and that the
/// ids are those of the whole rendering tokenized at once.
fn check_masks(
    tok: &Tokenizer,
    chat: &[Message],
    options: &RenderOptions,
    expected: &[String],
    hf_len: usize,
) {
    let enc = encode_chat(tok, chat, options).unwrap();
    let rendered = tok.render_chat(chat, false, options).unwrap();
    assert_eq!(enc.ids, tok.encode(&rendered, false).unwrap());
    assert_eq!(enc.ids.len(), hf_len, "token count per transformers");
    assert_eq!(masked_runs(tok, &enc), expected);
    let masked = masked_runs(tok, &enc).concat();
    let unmasked = unmasked_runs(tok, &enc).concat();
    for m in chat.iter().filter(|m| m.role != Role::Assistant) {
        let text = m.content.trim();
        assert!(
            !masked.contains(text),
            "{:?} text is masked in: {masked}",
            m.role
        );
        assert!(
            unmasked.contains(text),
            "{:?} text missing from {unmasked}",
            m.role
        );
    }
}

#[test]
fn qwen3_masks_exactly_the_assistant_turns() {
    // Qwen3 drops the reasoning of turns before the last user message and
    // rewrites the last turn's `<think>` block.
    let expected = [
        format!(
            "{}<|im_end|>",
            REPLY_1.split("</think>\n\n").nth(1).unwrap()
        ),
        format!("{REPLY_2}<|im_end|>"),
        "<think>\nThe edit is done, so I submit.\n</think>\n\n\
         <function=finish>\n<parameter=command>submit</parameter>\n</function><|im_end|>"
            .to_owned(),
    ];
    check_masks(
        qwen3(),
        &agent_conversation(),
        &no_options(),
        &expected,
        222,
    );
}

#[test]
fn qwen3_masks_with_tool_messages_and_its_empty_think_block() {
    let options = RenderOptions {
        tools: Some(vec![bash_tool()]),
        ..no_options()
    };
    let chat = tool_conversation();
    let expected = [
        "  I will run them.\n<|im_end|>".to_owned(),
        "All tests pass.<|im_end|>".to_owned(),
    ];
    let enc = encode_chat(qwen3(), &chat, &options).unwrap();
    assert_eq!(masked_runs(qwen3(), &enc), expected);
    // The template's `<think>\n\n</think>\n\n` before the last answer is not
    // the assistant's text.
    let unmasked = unmasked_runs(qwen3(), &enc);
    assert!(
        unmasked[1].ends_with("<|im_start|>assistant\n<think>\n\n</think>\n\n"),
        "{unmasked:?}"
    );
}

#[test]
fn llama3_masks_exactly_the_assistant_turns() {
    // Llama 3 strips every content and closes turns with <|eot_id|>; its
    // reasoning tags are plain text it keeps.
    let expected: Vec<String> = [REPLY_1, REPLY_2, REPLY_3]
        .iter()
        .map(|r| format!("{}<|eot_id|>", r.trim()))
        .collect();
    check_masks(
        llama3(),
        &agent_conversation(),
        &no_options(),
        &expected,
        238,
    );
    let chat = tool_conversation();
    let expected = [
        "I will run them.<|eot_id|>".to_owned(),
        "All tests pass.<|eot_id|>".to_owned(),
    ];
    let enc = encode_chat(llama3(), &chat, &no_options()).unwrap();
    assert_eq!(masked_runs(llama3(), &enc), expected);
}

#[test]
fn cutoff_keeps_the_head_of_a_real_encoding() {
    let enc = encode_chat(qwen3(), &agent_conversation(), &no_options()).unwrap();
    let mut counts = CutoffCounts::default();
    let first_trained = enc.mask.iter().position(|&m| m).unwrap();
    let cut = Cutoff {
        max_tokens: first_trained + 1,
        on_overflow: Overflow::Truncate,
    };
    let kept = cut.apply(enc.clone(), &mut counts).unwrap();
    assert_eq!(kept.ids, enc.ids[..first_trained + 1]);
    assert_eq!(kept.trained_tokens(), 1);
    let too_short = Cutoff {
        max_tokens: first_trained,
        on_overflow: Overflow::Truncate,
    };
    assert_eq!(too_short.apply(enc.clone(), &mut counts), None);
    assert_eq!(Cutoff::default().apply(enc.clone(), &mut counts), Some(enc));
    assert_eq!(
        counts,
        CutoffCounts {
            kept: 1,
            truncated: 1,
            dropped: 1
        }
    );
}

// --- saving -----------------------------------------------------------------------

#[test]
fn qwen3_saves_and_loads_back() {
    let dir = tempfile::tempdir().unwrap();
    qwen3().save(dir.path()).unwrap();
    let again = Tokenizer::from_dir(dir.path()).unwrap();
    assert_eq!(again.eos_token_ids(), qwen3().eos_token_ids());
    assert_eq!(again.vocab_size(), qwen3().vocab_size());
    assert_eq!(
        again.chat_template().unwrap().source(),
        qwen3().chat_template().unwrap().source()
    );
    let chat = agent_conversation();
    assert_eq!(
        encode_chat(&again, &chat, &no_options()).unwrap(),
        encode_chat(qwen3(), &chat, &no_options()).unwrap()
    );
    // Fields entropo-text does not use are kept.
    let config: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("tokenizer_config.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(config["model_max_length"], 131072);
}
