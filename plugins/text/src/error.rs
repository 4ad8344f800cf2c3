//! The crate's error type.

use std::path::PathBuf;

/// Why a tokenizer, chat template or encoding could not be used. Every
/// message names the file, field, token or message involved.
#[derive(Debug, thiserror::Error)]
pub enum TextError {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A JSON file is not valid JSON.
    #[error("{}: not valid JSON: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The parse error, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// `tokenizer.json` is valid JSON but not a tokenizer the `tokenizers`
    /// crate understands, or a tokenizer could not be written out.
    #[error("{}: {message}", path.display())]
    TokenizerFile {
        /// The file.
        path: PathBuf,
        /// What the `tokenizers` crate reported.
        message: String,
    },
    /// A field of a config file has the wrong shape.
    #[error("{}: field `{field}`: {message}", path.display())]
    ConfigField {
        /// The file.
        path: PathBuf,
        /// The field, e.g. `eos_token`.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// A special token named by the config is not in the vocabulary.
    #[error("{}: field `{field}`: token {token:?} is not in the vocabulary", path.display())]
    UnknownToken {
        /// The file naming the token.
        path: PathBuf,
        /// The field naming it, e.g. `eos_token`.
        field: String,
        /// The token.
        token: String,
    },
    /// The chat template does not compile or failed while rendering.
    #[error("chat template: {0:#}")]
    Template(#[source] minijinja::Error),
    /// The chat template called `raise_exception(message)`.
    #[error("chat template raised an exception: {message}")]
    TemplateException {
        /// The template's message.
        message: String,
    },
    /// A chat was to be rendered but the tokenizer has no chat template.
    #[error(
        "the tokenizer has no chat template (none in tokenizer_config.json or chat_template.jinja)"
    )]
    NoChatTemplate,
    /// The `tokenizers` crate failed to encode or decode.
    #[error("tokenizer: {0}")]
    Tokenize(String),
    /// An assistant message could not be found in the rendered conversation,
    /// so its tokens cannot be masked.
    #[error(
        "message {index} (assistant) is not in the rendered conversation followed by an \
         end-of-turn token ({closers}); the chat template rewrites it in a way entropo-text \
         does not recognise"
    )]
    AssistantNotFound {
        /// The message's index in the conversation.
        index: usize,
        /// The end-of-turn tokens that were looked for.
        closers: String,
    },
    /// BPE training failed or was asked for an impossible vocabulary.
    #[error("BPE training: {0}")]
    Train(String),
}

/// This crate's result type.
pub type Result<T, E = TextError> = std::result::Result<T, E>;
