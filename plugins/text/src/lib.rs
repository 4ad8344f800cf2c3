//! Tokenizers, chat templates and assistant-token masks for training and
//! sampling Llama/Qwen-family chat models.
//!
//! - [`Tokenizer`] loads a HuggingFace model folder (`tokenizer.json`,
//!   `tokenizer_config.json`, `chat_template.jinja`,
//!   `generation_config.json`) and saves one back.
//! - [`ChatTemplate`] renders HuggingFace jinja chat templates (Qwen3's and
//!   Llama 3's included) as `transformers` does; [`CHATML_TEMPLATE`] is a
//!   plain one for models trained from scratch.
//! - [`encode_chat`] tokenizes a conversation and masks in the assistant
//!   turns (their text and closing end-of-turn token), the tokens a policy
//!   is trained on; [`Cutoff`] keeps the result within a context length.
//! - [`train_bpe`] trains a byte-level BPE tokenizer for a small model.
//!
//! ```
//! use entropo_core::types::{Message, Role};
//! use entropo_text::{ApplyCutoff, Cutoff, CutoffCounts, RenderOptions, encode_chat, train_bpe};
//! let tok = train_bpe(&["print('hello')\nprint('bye')\n"], 320, &[]).unwrap();
//! let chat = [
//!     Message::new(Role::System, "You write Python."),
//!     Message::new(Role::User, "Say hello."),
//!     Message::new(Role::Assistant, "print('hello')"),
//! ];
//! let encoded = encode_chat(&tok, &chat, &RenderOptions::default()).unwrap();
//! let mut counts = CutoffCounts::default();
//! let kept = Cutoff::default().apply(encoded, &mut counts).unwrap();
//! assert_eq!(kept.ids.len(), kept.mask.len());
//! assert_eq!(counts.kept, 1);
//! ```

#![warn(missing_docs)]

mod bpe;
mod cutoff;
mod error;
mod hf_config;
mod locate;
mod mask;
mod template;
mod tokenizer;

pub use bpe::{CHATML_SPECIAL_TOKENS, train_bpe};
pub use cutoff::{ApplyCutoff, Cutoff, CutoffCounts, Overflow};
pub use error::{Result, TextError};
pub use mask::{EncodedChat, encode_chat};
pub use template::{CHATML_TEMPLATE, ChatTemplate, RenderOptions};
pub use tokenizer::{Encoded, Tokenizer};
