//! A GGUF `gpt2` (byte-level BPE) tokenizer as a HuggingFace `tokenizer.json`
//! and `tokenizer_config.json`.
//!
//! The vocabulary, merges and token types come from `tokenizer.ggml.*`. The
//! pre-tokenizer comes from `tokenizer.ggml.pre`, which names a llama.cpp
//! pre-tokenizer (the regexes it splits text with before BPE); each supported
//! value maps to the HF pre-tokenizer that splits the same way:
//!
//! | `tokenizer.ggml.pre` | llama.cpp splits on | HF pre-tokenizer |
//! | --- | --- | --- |
//! | `smollm`, `starcoder`, `refact`, `command-r`, `codeshell`, `exaone` | `\p{N}`, then the GPT-2 regex | `Sequence[Digits(individual_digits), ByteLevel(use_regex)]` |
//! | `gpt-2`, `mpt`, `olmo`, `jais` | the GPT-2 regex | `ByteLevel(use_regex)` |
//! | `llama3`, `llama-v3`, `llama-bpe`, `falcon3`, `pixtral` | the Llama-3 regex (digits in runs of ≤ 3) | `Sequence[Split(regex, Isolated), ByteLevel(no regex)]`, `ignore_merges` |
//!
//! Control and unknown tokens (`token_type` 3 and 2), and the tokens the
//! `*_token_id` keys name, become special added tokens; user-defined ones
//! (4) become non-special added tokens. `add_bos_token` / `add_eos_token`
//! (llama.cpp's defaults when absent: true for the Llama-3 group, else
//! false) become a `TemplateProcessing` post-processor, which is how HF fast
//! tokenizers add them.

use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::{Value, json};

use crate::{GgufError, GgufFile, MetadataValue};

/// The Llama-3 pre-tokenizer regex, as in Meta's tokenizer.json.
const LLAMA3_REGEX: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

const MODEL_KEY: &str = "tokenizer.ggml.model";
const PRE_KEY: &str = "tokenizer.ggml.pre";
const TOKENS_KEY: &str = "tokenizer.ggml.tokens";
const MERGES_KEY: &str = "tokenizer.ggml.merges";
const TYPES_KEY: &str = "tokenizer.ggml.token_type";

/// How llama.cpp splits text before BPE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Split {
    /// Every digit alone, then the GPT-2 regex.
    DigitsThenGpt2,
    /// The GPT-2 regex.
    Gpt2,
    /// The Llama-3 regex.
    Llama3,
}

/// (value, split, llama.cpp's `clean_spaces`), from llama-vocab.cpp.
const PRE_TOKENIZERS: &[(&str, Split, bool)] = &[
    ("smollm", Split::DigitsThenGpt2, false),
    ("command-r", Split::DigitsThenGpt2, false),
    ("starcoder", Split::DigitsThenGpt2, true),
    ("refact", Split::DigitsThenGpt2, true),
    ("codeshell", Split::DigitsThenGpt2, true),
    ("exaone", Split::DigitsThenGpt2, true),
    ("gpt-2", Split::Gpt2, true),
    ("mpt", Split::Gpt2, true),
    ("olmo", Split::Gpt2, true),
    ("jais", Split::Gpt2, true),
    ("llama3", Split::Llama3, true),
    ("llama-v3", Split::Llama3, true),
    ("llama-bpe", Split::Llama3, true),
    ("falcon3", Split::Llama3, true),
    ("pixtral", Split::Llama3, true),
];

/// llama.cpp's token types.
const TYPE_UNKNOWN: i64 = 2;
const TYPE_CONTROL: i64 = 3;
const TYPE_USER_DEFINED: i64 = 4;

/// The special token ids a GGUF names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SpecialIds {
    pub bos: Option<u32>,
    pub eos: Option<u32>,
    pub unk: Option<u32>,
    pub pad: Option<u32>,
    /// End of turn / end of message, when the file names them.
    pub eot: Option<u32>,
    pub eom: Option<u32>,
}

/// The converted tokenizer, borrowing the vocabulary from the file.
pub(crate) struct HfTokenizer<'a> {
    /// `tokenizer.json`.
    pub tokenizer_json: TokenizerJson<'a>,
    /// `tokenizer_config.json`.
    pub tokenizer_config: Value,
    pub special: SpecialIds,
    /// Tokens in the vocabulary.
    pub n_tokens: usize,
}

/// Converts the `tokenizer.ggml.*` metadata of `gguf`; `max_length` is the
/// model's context length.
pub(crate) fn convert(gguf: &GgufFile, max_length: u64) -> Result<HfTokenizer<'_>, GgufError> {
    let unsupported = |key: &str, value: &str, reason: &str| GgufError::UnsupportedTokenizer {
        path: gguf.path().to_path_buf(),
        key: key.into(),
        value: value.into(),
        reason: reason.into(),
    };
    let model = gguf.req(MODEL_KEY, "a string", MetadataValue::as_str)?;
    if model != "gpt2" {
        return Err(unsupported(
            MODEL_KEY,
            model,
            "only `gpt2` (byte-level BPE) tokenizers can be converted",
        ));
    }
    let pre = gguf.req(PRE_KEY, "a string", MetadataValue::as_str)?;
    let Some(&(_, split, clean_spaces)) = PRE_TOKENIZERS.iter().find(|(name, ..)| *name == pre)
    else {
        let known: Vec<&str> = PRE_TOKENIZERS.iter().map(|(name, ..)| *name).collect();
        return Err(unsupported(
            PRE_KEY,
            pre,
            &format!("known values: {}", known.join(", ")),
        ));
    };

    let tokens = gguf
        .opt_strings(TOKENS_KEY)?
        .ok_or_else(|| missing(gguf, TOKENS_KEY))?;
    let merges = gguf
        .opt_strings(MERGES_KEY)?
        .ok_or_else(|| missing(gguf, MERGES_KEY))?;
    check_tokens(gguf, &tokens)?;
    check_merges(gguf, &merges)?;
    let types: Vec<i64> = gguf
        .opt(TYPES_KEY, "an array of integers", |v| {
            v.as_array()?.iter().map(MetadataValue::as_i64).collect()
        })?
        .unwrap_or_default();
    if !types.is_empty() && types.len() != tokens.len() {
        return Err(gguf.bad_value(
            TYPES_KEY,
            &format!("{} entries, one per token", tokens.len()),
            format!("{} entries", types.len()),
        ));
    }

    let id = |key: &str| -> Result<Option<u32>, GgufError> {
        let Some(v) = gguf.opt(key, "an unsigned integer", MetadataValue::as_u64)? else {
            return Ok(None);
        };
        match u32::try_from(v) {
            Ok(v) if (v as usize) < tokens.len() => Ok(Some(v)),
            _ => Err(gguf.bad_value(
                key,
                &format!("a token id below {}", tokens.len()),
                v.to_string(),
            )),
        }
    };
    let special = SpecialIds {
        bos: id("tokenizer.ggml.bos_token_id")?,
        eos: id("tokenizer.ggml.eos_token_id")?,
        unk: id("tokenizer.ggml.unknown_token_id")?,
        pad: id("tokenizer.ggml.padding_token_id")?,
        eot: id("tokenizer.ggml.eot_token_id")?,
        eom: id("tokenizer.ggml.eom_token_id")?,
    };
    let flag = |key: &str| gguf.opt(key, "a bool", MetadataValue::as_bool);
    let add_bos = flag("tokenizer.ggml.add_bos_token")?.unwrap_or(split == Split::Llama3);
    let add_eos = flag("tokenizer.ggml.add_eos_token")?.unwrap_or(false);
    let add_prefix_space = flag("tokenizer.ggml.add_space_prefix")?.unwrap_or(false);
    if add_bos && special.bos.is_none() {
        return Err(missing(gguf, "tokenizer.ggml.bos_token_id"));
    }
    if add_eos && special.eos.is_none() {
        return Err(missing(gguf, "tokenizer.ggml.eos_token_id"));
    }

    let named = [
        special.bos,
        special.eos,
        special.unk,
        special.pad,
        special.eot,
        special.eom,
    ];
    let added_tokens: Vec<AddedToken<'_>> = tokens
        .iter()
        .copied()
        .enumerate()
        .filter_map(|(i, content)| {
            let kind = types.get(i).copied();
            let special = matches!(kind, Some(TYPE_CONTROL | TYPE_UNKNOWN))
                || named.contains(&Some(i as u32));
            (special || kind == Some(TYPE_USER_DEFINED)).then_some(AddedToken {
                id: i as u32,
                content,
                single_word: false,
                lstrip: false,
                rstrip: false,
                normalized: !special,
                special,
            })
        })
        .collect();

    let byte_level = |use_regex: bool| {
        json!({
            "type": "ByteLevel",
            "add_prefix_space": add_prefix_space,
            "trim_offsets": true,
            "use_regex": use_regex,
        })
    };
    let pre_tokenizer = match split {
        Split::DigitsThenGpt2 => json!({
            "type": "Sequence",
            "pretokenizers": [{"type": "Digits", "individual_digits": true}, byte_level(true)],
        }),
        Split::Gpt2 => byte_level(true),
        Split::Llama3 => json!({
            "type": "Sequence",
            "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": LLAMA3_REGEX}, "behavior": "Isolated", "invert": false},
                byte_level(false),
            ],
        }),
    };
    let token = |id: Option<u32>| id.map(|i| tokens[i as usize]);
    let n_tokens = tokens.len();
    let tokenizer_config = tokenizer_config(
        &special,
        add_bos,
        add_eos,
        clean_spaces,
        max_length,
        &tokens,
        gguf,
    )?;
    let tokenizer_json = TokenizerJson {
        version: "1.0",
        truncation: None,
        padding: None,
        added_tokens,
        normalizer: None,
        pre_tokenizer,
        post_processor: post_processor(
            token(special.bos).filter(|_| add_bos),
            token(special.eos).filter(|_| add_eos),
            &special,
        ),
        decoder: json!({"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true}),
        model: BpeModel {
            kind: "BPE",
            dropout: None,
            unk_token: None,
            continuing_subword_prefix: None,
            end_of_word_suffix: None,
            fuse_unk: false,
            byte_fallback: false,
            ignore_merges: split == Split::Llama3,
            vocab: Vocab(tokens),
            merges,
        },
    };
    Ok(HfTokenizer {
        tokenizer_json,
        tokenizer_config,
        special,
        n_tokens,
    })
}

/// `tokenizer_config.json`: the special tokens by text, the BOS / EOS flags
/// and the chat template.
fn tokenizer_config(
    special: &SpecialIds,
    add_bos: bool,
    add_eos: bool,
    clean_spaces: bool,
    max_length: u64,
    tokens: &[&str],
    gguf: &GgufFile,
) -> Result<Value, GgufError> {
    let token = |id: Option<u32>| id.map(|i| tokens[i as usize]);
    let mut config = json!({
        "tokenizer_class": "PreTrainedTokenizerFast",
        "add_bos_token": add_bos,
        "add_eos_token": add_eos,
        "bos_token": token(special.bos),
        "eos_token": token(special.eos),
        "unk_token": token(special.unk),
        "pad_token": token(special.pad),
        "clean_up_tokenization_spaces": clean_spaces,
        "model_max_length": max_length,
    });
    if let Some(template) =
        gguf.opt("tokenizer.chat_template", "a string", MetadataValue::as_str)?
    {
        config["chat_template"] = template.into();
    }
    Ok(config)
}

fn missing(gguf: &GgufFile, key: &str) -> GgufError {
    GgufError::MissingKey {
        path: gguf.path().to_path_buf(),
        key: key.into(),
    }
}

/// A BPE vocabulary is a map: two tokens with the same text cannot both be in it.
fn check_tokens(gguf: &GgufFile, tokens: &[&str]) -> Result<(), GgufError> {
    if u32::try_from(tokens.len()).is_err() {
        return Err(gguf.bad_value(
            TOKENS_KEY,
            "fewer than 2^32 tokens",
            tokens.len().to_string(),
        ));
    }
    let mut seen = std::collections::HashMap::with_capacity(tokens.len());
    for (i, token) in tokens.iter().enumerate() {
        if let Some(first) = seen.insert(*token, i) {
            return Err(gguf.bad_value(
                TOKENS_KEY,
                "distinct tokens",
                format!("{token:?} at ids {first} and {i}"),
            ));
        }
    }
    Ok(())
}

/// Every merge is `left right`, two non-empty byte-level symbols.
fn check_merges(gguf: &GgufFile, merges: &[&str]) -> Result<(), GgufError> {
    for (i, merge) in merges.iter().enumerate() {
        let parts: Vec<&str> = merge.split(' ').collect();
        if parts.len() != 2 || parts.iter().any(|p| p.is_empty()) {
            return Err(gguf.bad_value(
                MERGES_KEY,
                "merges of the form `left right`",
                format!("merge #{i} {merge:?}"),
            ));
        }
    }
    Ok(())
}

/// ByteLevel offsets, plus BOS / EOS around each sequence when asked for.
fn post_processor(bos: Option<&str>, eos: Option<&str>, special: &SpecialIds) -> Value {
    let byte_level = json!({"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true});
    if bos.is_none() && eos.is_none() {
        return byte_level;
    }
    let piece =
        |token: &str, type_id: u32| json!({"SpecialToken": {"id": token, "type_id": type_id}});
    let seq = |name: &str, type_id: u32| json!({"Sequence": {"id": name, "type_id": type_id}});
    let wrap = |name: &str, type_id: u32| -> Vec<Value> {
        bos.map(|t| piece(t, type_id))
            .into_iter()
            .chain([seq(name, type_id)])
            .chain(eos.map(|t| piece(t, type_id)))
            .collect()
    };
    let mut pair = wrap("A", 0);
    pair.extend(wrap("B", 1));
    let mut special_tokens = serde_json::Map::new();
    for (token, id) in [(bos, special.bos), (eos, special.eos)] {
        if let (Some(token), Some(id)) = (token, id) {
            special_tokens.insert(
                token.into(),
                json!({"id": token, "ids": [id], "tokens": [token]}),
            );
        }
    }
    json!({
        "type": "Sequence",
        "processors": [
            byte_level,
            {"type": "TemplateProcessing", "single": wrap("A", 0), "pair": pair, "special_tokens": special_tokens},
        ],
    })
}

/// `tokenizer.json`, in the field order HF writes.
#[derive(Serialize)]
pub(crate) struct TokenizerJson<'a> {
    version: &'static str,
    truncation: Option<Value>,
    padding: Option<Value>,
    added_tokens: Vec<AddedToken<'a>>,
    normalizer: Option<Value>,
    pre_tokenizer: Value,
    post_processor: Value,
    decoder: Value,
    model: BpeModel<'a>,
}

#[derive(Serialize)]
struct AddedToken<'a> {
    id: u32,
    content: &'a str,
    single_word: bool,
    lstrip: bool,
    rstrip: bool,
    normalized: bool,
    special: bool,
}

#[derive(Serialize)]
struct BpeModel<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    dropout: Option<f32>,
    unk_token: Option<&'a str>,
    continuing_subword_prefix: Option<&'a str>,
    end_of_word_suffix: Option<&'a str>,
    fuse_unk: bool,
    byte_fallback: bool,
    ignore_merges: bool,
    vocab: Vocab<'a>,
    merges: Vec<&'a str>,
}

/// The vocabulary as a JSON object `{token: id}`, in id order.
struct Vocab<'a>(Vec<&'a str>);

impl Serialize for Vocab<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (id, token) in self.0.iter().enumerate() {
            map.serialize_entry(token, &id)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ValueType;
    use crate::test_gguf::{GgufBuilder, byte_symbols, s, strings, tokenizer_gguf, vocab};

    fn without(mut builder: GgufBuilder, key: &str) -> GgufBuilder {
        builder.metadata.retain(|(k, _)| k != key);
        builder
    }

    fn with(builder: GgufBuilder, key: &str, value: MetadataValue) -> GgufBuilder {
        without(builder, key).kv(key, value)
    }

    fn convert_builder(builder: &GgufBuilder) -> Result<(tokenizers::Tokenizer, Value), GgufError> {
        let dir = tempfile::tempdir().unwrap();
        let gguf = GgufFile::open(builder.write(dir.path(), "tok.gguf")).unwrap();
        let tok = convert(&gguf, 2048)?;
        let json = serde_json::to_vec(&tok.tokenizer_json).unwrap();
        Ok((
            tokenizers::Tokenizer::from_bytes(json).unwrap(),
            tok.tokenizer_config,
        ))
    }

    fn pieces(tokenizer: &tokenizers::Tokenizer, text: &str, special: bool) -> Vec<String> {
        tokenizer
            .encode(text, special)
            .unwrap()
            .get_tokens()
            .to_vec()
    }

    #[test]
    fn the_byte_map_covers_every_byte_once() {
        let symbols = byte_symbols();
        let distinct: std::collections::HashSet<&String> = symbols.iter().collect();
        assert_eq!(distinct.len(), 256);
        assert_eq!(
            (
                symbols[b' ' as usize].as_str(),
                symbols[b'A' as usize].as_str()
            ),
            ("Ġ", "A")
        );
        assert_eq!(symbols[b'\n' as usize], "Ċ");
        assert_eq!(symbols[0], "Ā");
    }

    #[test]
    fn smollm_splits_digits_before_bpe_and_gpt2_does_not() {
        let (smollm, _) = convert_builder(&tokenizer_gguf("smollm")).unwrap();
        assert_eq!(pieces(&smollm, "a12", false), ["a", "1", "2"]);
        assert_eq!(pieces(&smollm, "hi hi", false), ["hi", "Ġhi"]);
        let (gpt2, _) = convert_builder(&tokenizer_gguf("gpt-2")).unwrap();
        assert_eq!(pieces(&gpt2, "a12", false), ["a", "12"]);
    }

    #[test]
    fn llama3_splits_digits_in_threes_ignores_merges_and_adds_bos() {
        let (llama3, config) = convert_builder(&tokenizer_gguf("llama-bpe")).unwrap();
        // \p{N}{1,3}: "123" and "45" are whole-word tokens (ignore_merges);
        // GPT-2's regex keeps "12345" together and BPE gives 12 34 5.
        assert_eq!(pieces(&llama3, "12345", false), ["123", "45"]);
        assert_eq!(
            pieces(&llama3, "12345", true),
            ["<|im_start|>", "123", "45"]
        );
        assert_eq!(config["add_bos_token"], true);
        let (gpt2, _) = convert_builder(&tokenizer_gguf("gpt-2")).unwrap();
        assert_eq!(pieces(&gpt2, "12345", false), ["12", "34", "5"]);
        assert_eq!(pieces(&gpt2, "12345", true), ["12", "34", "5"]);
        // The metadata flag wins over llama.cpp's default.
        let off = with(
            tokenizer_gguf("llama-bpe"),
            "tokenizer.ggml.add_bos_token",
            MetadataValue::Bool(false),
        );
        assert_eq!(
            pieces(&convert_builder(&off).unwrap().0, "12345", true),
            ["123", "45"]
        );
        let eos = with(
            tokenizer_gguf("smollm"),
            "tokenizer.ggml.add_eos_token",
            MetadataValue::Bool(true),
        );
        assert_eq!(
            pieces(&convert_builder(&eos).unwrap().0, "hi", true),
            ["hi", "<|im_end|>"]
        );
    }

    #[test]
    fn control_tokens_are_single_special_tokens_and_user_tokens_are_not_special() {
        let (tok, config) = convert_builder(&tokenizer_gguf("smollm")).unwrap();
        let text = "<|im_start|>hi hi<|im_end|>";
        let ids = tok.encode(text, false).unwrap().get_ids().to_vec();
        let hi = tok.token_to_id("hi").unwrap();
        let space_hi = tok.token_to_id("Ġhi").unwrap();
        assert_eq!(ids, [1, hi, space_hi, 2]);
        assert_eq!(tok.decode(&ids, false).unwrap(), text);
        assert_eq!(tok.decode(&ids, true).unwrap(), "hi hi");
        // <tool> is one token, kept when special tokens are skipped.
        let ids = tok.encode("hi<tool>", false).unwrap().get_ids().to_vec();
        assert_eq!(ids, [hi, 3]);
        assert_eq!(tok.decode(&ids, true).unwrap(), "hi<tool>");
        // Bytes outside the merges still round-trip.
        let text = "Añ €\n\t!";
        let ids = tok.encode(text, false).unwrap().get_ids().to_vec();
        assert_eq!(tok.decode(&ids, false).unwrap(), text);

        assert_eq!(config["bos_token"], "<|im_start|>");
        assert_eq!(config["eos_token"], "<|im_end|>");
        assert_eq!(config["pad_token"], Value::Null);
        assert_eq!(config["add_bos_token"], false);
        assert_eq!(config["chat_template"], "{{ messages }}");
        assert_eq!(config["model_max_length"], 2048);
        assert_eq!(config["clean_up_tokenization_spaces"], false);
    }

    fn error(builder: GgufBuilder) -> String {
        match convert_builder(&builder) {
            Ok(_) => panic!("converted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn unsupported_tokenizers_are_errors_naming_the_key() {
        let text = error(with(
            tokenizer_gguf("smollm"),
            "tokenizer.ggml.model",
            s("llama"),
        ));
        assert!(
            text.contains("`tokenizer.ggml.model` = `llama` is not supported"),
            "{text}"
        );
        let text = error(tokenizer_gguf("qwen2"));
        assert!(
            text.contains("`tokenizer.ggml.pre` = `qwen2` is not supported")
                && text.contains("smollm"),
            "{text}"
        );
        let text = error(without(tokenizer_gguf("smollm"), "tokenizer.ggml.pre"));
        assert!(text.contains("`tokenizer.ggml.pre` is missing"), "{text}");
        let text = error(without(tokenizer_gguf("smollm"), "tokenizer.ggml.merges"));
        assert!(
            text.contains("`tokenizer.ggml.merges` is missing"),
            "{text}"
        );
    }

    #[test]
    fn inconsistent_tokenizer_metadata_is_an_error_naming_the_key() {
        let mut dup = vocab();
        dup[10] = dup[11].clone();
        let text = error(with(
            tokenizer_gguf("smollm"),
            "tokenizer.ggml.tokens",
            strings(dup.iter().map(String::as_str)),
        ));
        assert!(
            text.contains("`tokenizer.ggml.tokens`") && text.contains("at ids 10 and 11"),
            "{text}"
        );
        let text = error(with(
            tokenizer_gguf("smollm"),
            "tokenizer.ggml.merges",
            strings(["1 2", "abc"]),
        ));
        assert!(
            text.contains("`tokenizer.ggml.merges`") && text.contains("merge #1 \"abc\""),
            "{text}"
        );
        let types = MetadataValue::Array(ValueType::I32, vec![MetadataValue::I32(1)]);
        let text = error(with(
            tokenizer_gguf("smollm"),
            "tokenizer.ggml.token_type",
            types,
        ));
        assert!(
            text.contains("`tokenizer.ggml.token_type`") && text.contains("found 1 entries"),
            "{text}"
        );
        let text = error(with(
            tokenizer_gguf("smollm"),
            "tokenizer.ggml.eos_token_id",
            MetadataValue::U32(100_000),
        ));
        assert!(
            text.contains(
                "`tokenizer.ggml.eos_token_id`: expected a token id below 266, found 100000"
            ),
            "{text}"
        );
        let text = error(with(
            tokenizer_gguf("smollm"),
            "tokenizer.ggml.tokens",
            s("not a list"),
        ));
        assert!(
            text.contains("`tokenizer.ggml.tokens`: expected an array of strings"),
            "{text}"
        );
        let text = error(without(
            tokenizer_gguf("llama-bpe"),
            "tokenizer.ggml.bos_token_id",
        ));
        assert!(
            text.contains("`tokenizer.ggml.bos_token_id` is missing"),
            "{text}"
        );
    }
}
