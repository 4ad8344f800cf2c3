//! Training a byte-level BPE tokenizer for a small model trained from scratch.

use std::path::Path;

use serde_json::{Map, Value, json};
use tokenizers::models::bpe::{BPE, BpeTrainer};
use tokenizers::normalizers::NormalizerWrapper;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::processors::PostProcessorWrapper;
use tokenizers::{AddedToken, TokenizerImpl};

use crate::error::{Result, TextError};
use crate::template::CHATML_TEMPLATE;
use crate::tokenizer::Tokenizer;

/// The special tokens every trained tokenizer has, with ids 0, 1 and 2.
pub const CHATML_SPECIAL_TOKENS: [&str; 3] = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];

/// The byte alphabet's size: one token per byte value.
const BYTE_TOKENS: usize = 256;

/// Trains a byte-level BPE tokenizer (GPT-2's pre-tokenizer regex, no
/// normalizer, so `decode(encode(x)) == x` for any text) on `texts`, with at
/// most `vocab_size` tokens in all (fewer when the texts run out of pairs to
/// merge): the [`CHATML_SPECIAL_TOKENS`] and then `extra_special_tokens`
/// (ids 0, 1, 2, …), the 256 bytes, and merges.
/// The tokenizer uses [`CHATML_TEMPLATE`](crate::CHATML_TEMPLATE), with
/// `<|im_end|>` as eos and `<|endoftext|>` as padding. The result depends
/// only on the texts and arguments.
///
/// ```
/// use entropo_text::train_bpe;
/// let code = "def add(a, b):\n    return a + b\n\ndef sub(a, b):\n    return a - b\n";
/// let tok = train_bpe(&[code], 300, &["<|tool|>"]).unwrap();
/// assert!(tok.encode(code, false).unwrap().len() < code.len());
/// assert_eq!(tok.token_to_id("<|im_start|>"), Some(1));
/// assert_eq!(tok.token_to_id("<|tool|>"), Some(3));
/// ```
pub fn train_bpe<S: AsRef<str> + Sync>(
    texts: &[S],
    vocab_size: usize,
    extra_special_tokens: &[&str],
) -> Result<Tokenizer> {
    let mut specials: Vec<&str> = CHATML_SPECIAL_TOKENS.to_vec();
    for token in extra_special_tokens {
        if token.is_empty() {
            return Err(TextError::Train("a special token cannot be empty".into()));
        }
        if !specials.contains(token) {
            specials.push(token);
        }
    }
    let minimum = BYTE_TOKENS + specials.len();
    if vocab_size < minimum {
        return Err(TextError::Train(format!(
            "vocab_size {vocab_size} is below {minimum}: {BYTE_TOKENS} byte tokens and {} special tokens",
            specials.len()
        )));
    }
    let mut trainer = BpeTrainer::builder()
        .show_progress(false)
        .vocab_size(vocab_size)
        .special_tokens(
            specials
                .iter()
                .map(|t| AddedToken::from(*t, true))
                .collect(),
        )
        .initial_alphabet(ByteLevel::alphabet().into_iter().collect())
        .build();
    let byte_level = ByteLevel::new(false, false, true);
    let mut model: TokenizerImpl<
        BPE,
        NormalizerWrapper,
        ByteLevel,
        PostProcessorWrapper,
        ByteLevel,
    > = TokenizerImpl::new(BPE::default());
    model
        .with_pre_tokenizer(Some(byte_level))
        .with_decoder(Some(byte_level));
    model
        .train(&mut trainer, texts.iter())
        .map_err(|e| TextError::Train(e.to_string()))?;

    let config = json!({
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": null,
        "eos_token": "<|im_end|>",
        "pad_token": "<|endoftext|>",
        "clean_up_tokenization_spaces": false,
    });
    let config: Map<String, Value> = config.as_object().cloned().unwrap_or_default();
    Tokenizer::new(
        model.into(),
        config,
        None,
        Some(CHATML_TEMPLATE.to_owned()),
        Path::new(""),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_small_a_vocabulary_is_refused() {
        let err = train_bpe(&["abc"], 258, &[]).unwrap_err().to_string();
        assert!(err.contains("vocab_size 258 is below 259"), "{err}");
        assert!(train_bpe(&["abc"], 300, &[""]).is_err());
    }

    #[test]
    fn vocabulary_has_specials_bytes_and_merges() {
        let text = "abababab cdcdcdcd ".repeat(20);
        let tok = train_bpe(&[text.as_str()], 262, &["<|im_end|>"]).unwrap();
        // The repeated extra token is not added twice.
        assert_eq!(tok.token_to_id("<|im_end|>"), Some(2));
        assert_eq!(tok.vocab_size(), 262);
        // "ab" is the most frequent pair, so it is merged.
        assert_eq!(tok.encode("ab", false).unwrap().len(), 1);
        assert_eq!(
            tok.encode("é", false).unwrap().len(),
            2,
            "unseen text falls back to bytes"
        );
    }
}
