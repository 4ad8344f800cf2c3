//! Tokenizers, chat templates and assistant-token masks.
