//! Token ids of a conversation with a mask of the tokens to train on.

use std::ops::Range;

use entropo_core::types::{Message, Role};

use crate::error::Result;
use crate::locate;
use crate::template::RenderOptions;
use crate::tokenizer::Tokenizer;

/// A tokenized conversation and which of its tokens are trained.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EncodedChat {
    /// The token ids of the whole rendered conversation.
    pub ids: Vec<u32>,
    /// One entry per id: `true` on the assistant turns' tokens (their text
    /// and the end-of-turn token closing each), `false` elsewhere.
    pub mask: Vec<bool>,
}

impl EncodedChat {
    /// The number of tokens.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no tokens.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The number of trained (masked-in) tokens.
    pub fn trained_tokens(&self) -> usize {
        self.mask.iter().filter(|&&m| m).count()
    }
}

/// Renders `messages` with the tokenizer's chat template (no generation
/// prompt), tokenizes the whole rendering at once (without adding special
/// tokens: the template writes BOS itself) and masks in the tokens of every
/// assistant turn, as LLaMA-Factory trains them: the text the template wrote
/// for the turn, through the end-of-turn token that closes it (`<|im_end|>`,
/// `<|eot_id|>`…). System, user and tool tokens, role headers such as
/// `<|im_start|>assistant\n`, and text the template adds around a turn
/// (e.g. Qwen3's empty `<think>\n\n</think>\n\n` before the last answer) are
/// masked out.
///
/// The end-of-turn tokens are the special token the template writes right
/// after an assistant's text in a probe conversation (user, assistant, user,
/// assistant), and the tokenizer's [`eos_token_ids`](Tokenizer::eos_token_ids).
/// How turns are found in the rendering is described in `locate.rs`: the text
/// may have been stripped, or had its `<think>` block dropped or reformatted
/// as Qwen3 does; whitespace between a turn's text and its end-of-turn token
/// counts as part of the turn.
///
/// A token straddling a boundary (e.g. a newline run that begins in the
/// role header and ends in the assistant's text) is trained if it carries at
/// least one byte of an assistant turn, so no assistant byte goes untrained.
///
/// ```
/// use entropo_core::types::{Message, Role};
/// use entropo_text::{RenderOptions, encode_chat, train_bpe};
/// let tok = train_bpe(&["hello there, how are you"], 300, &[]).unwrap();
/// let chat = [Message::new(Role::User, "hello"), Message::new(Role::Assistant, "how are you")];
/// let enc = encode_chat(&tok, &chat, &RenderOptions::default()).unwrap();
/// let trained: Vec<u32> = enc.ids.iter().zip(&enc.mask).filter(|(_, m)| **m).map(|(id, _)| *id).collect();
/// assert_eq!(tok.decode(&trained, false).unwrap(), "how are you<|im_end|>");
/// ```
pub fn encode_chat(
    tokenizer: &Tokenizer,
    messages: &[Message],
    options: &RenderOptions,
) -> Result<EncodedChat> {
    let rendered = tokenizer.render_chat(messages, false, options)?;
    let specials = tokenizer.special_tokens();
    let closers = end_of_turn_tokens(tokenizer, &specials, options);
    let spans = locate::assistant_spans(&rendered, messages, &closers, &specials)?;
    let encoded = tokenizer.encode_with_offsets(&rendered, false)?;
    let mask = token_mask(&encoded.offsets, &spans);
    Ok(EncodedChat {
        ids: encoded.ids,
        mask,
    })
}

/// Texts of the probe's assistant turns; unlikely to be rewritten by any
/// template or to occur elsewhere in its output.
const PROBES: [&str; 2] = ["entropo-probe-reply-one", "entropo-probe-reply-two"];

/// The special tokens that close an assistant turn: what the template writes
/// after the probe replies, then the tokenizer's end-of-generation tokens. A
/// template that refuses the probe contributes nothing.
fn end_of_turn_tokens(
    tokenizer: &Tokenizer,
    specials: &[String],
    options: &RenderOptions,
) -> Vec<String> {
    let probe = [
        Message::new(Role::User, "entropo-probe-question-one"),
        Message::new(Role::Assistant, PROBES[0]),
        Message::new(Role::User, "entropo-probe-question-two"),
        Message::new(Role::Assistant, PROBES[1]),
    ];
    let mut closers: Vec<String> = Vec::new();
    if let Ok(text) = tokenizer.render_chat(&probe, false, options) {
        for reply in PROBES {
            let Some(at) = text.find(reply) else { continue };
            let rest = text[at + reply.len()..].trim_start();
            if let Some(token) = specials
                .iter()
                .filter(|t| rest.starts_with(t.as_str()))
                .max_by_key(|t| t.len())
                && !closers.contains(token)
            {
                closers.push(token.clone());
            }
        }
    }
    for &id in tokenizer.eos_token_ids() {
        if let Some(token) = tokenizer.id_to_token(id)
            && !closers.contains(&token)
        {
            closers.push(token);
        }
    }
    closers
}

/// `mask[k]` is whether token `k` carries a byte of one of `spans` (sorted,
/// disjoint byte ranges). Token `k` carries the bytes from its start offset
/// up to the next token's start (or its own end, if later), so bytes that
/// the tokenizer's offsets skip belong to the token before them.
fn token_mask(offsets: &[Range<usize>], spans: &[Range<usize>]) -> Vec<bool> {
    offsets
        .iter()
        .enumerate()
        .map(|(k, own)| {
            let next = offsets.get(k + 1).map_or(own.end, |n| n.start);
            let carried = own.start..own.end.max(next);
            // The first span ending after the token starts is the only candidate.
            let i = spans.partition_point(|s| s.end <= carried.start);
            spans
                .get(i)
                .is_some_and(|s| s.start < carried.end && !carried.is_empty())
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::single_range_in_vec_init)] // lists of one span are meant
mod tests {
    use super::*;

    #[test]
    fn a_token_is_trained_when_it_carries_a_span_byte() {
        // Tokens: [0,3) [3,5) [5,9) [9,10) [10,12); span [4,9) and [11,12).
        let offsets = [0..3, 3..5, 5..9, 9..10, 10..12];
        assert_eq!(
            token_mask(&offsets, &[4..9, 11..12]),
            [false, true, true, false, true]
        );
        // A span ending exactly where a token starts does not reach it.
        assert_eq!(
            token_mask(&offsets, &[0..3]),
            [true, false, false, false, false]
        );
    }

    #[test]
    fn bytes_skipped_by_offsets_belong_to_the_token_before() {
        // Token 1's offsets were trimmed to [6,9): bytes 3..6 are carried by token 0.
        let offsets = [0..3, 6..9];
        assert_eq!(token_mask(&offsets, &[4..5]), [true, false]);
        // Two tokens sharing one multi-byte character both carry it.
        assert_eq!(
            token_mask(&[0..2, 2..5, 2..5, 5..6], &[2..5]),
            [false, true, true, false]
        );
    }

    #[test]
    fn counts() {
        let chat = EncodedChat {
            ids: vec![1, 2, 3],
            mask: vec![false, true, true],
        };
        assert_eq!(
            (chat.len(), chat.trained_tokens(), chat.is_empty()),
            (3, 2, false)
        );
        assert!(EncodedChat::default().is_empty());
    }
}
