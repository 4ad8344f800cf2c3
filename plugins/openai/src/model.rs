//! [`ChatModel`]: what the server serves.

use entropo_core::types::Message;

use crate::error::ChatError;
use crate::wire::ChatCompletionRequest;

/// A chat model the [server](crate::Server) can serve: anything that turns a
/// conversation and sampling settings into one assistant message.
///
/// `complete` is called on a blocking thread (tokio's `spawn_blocking`), at
/// most `max_concurrency` calls at a time ([`ServerOptions`](crate::ServerOptions),
/// 1 by default), so it may compute for as long as it needs.
///
/// ```
/// use entropo_openai::{ChatCompletion, ChatError, ChatModel, ChatRequest, FinishReason};
///
/// /// Answers every conversation with its last message, reversed.
/// struct Mirror;
/// impl ChatModel for Mirror {
///     fn model_id(&self) -> &str { "mirror" }
///     fn complete(&self, request: &ChatRequest) -> Result<ChatCompletion, ChatError> {
///         let last = request.messages.last().ok_or_else(|| ChatError::InvalidRequest("no messages".into()))?;
///         Ok(ChatCompletion {
///             text: last.content.chars().rev().collect(),
///             prompt_tokens: request.messages.len() as u64,
///             completion_tokens: 1,
///             finish_reason: FinishReason::Stop,
///         })
///     }
/// }
/// # let request = ChatRequest { messages: vec![entropo_core::types::Message::new(entropo_core::types::Role::User, "abc")], ..Default::default() };
/// # assert_eq!(Mirror.complete(&request).unwrap().text, "cba");
/// ```
pub trait ChatModel: Send + Sync {
    /// The id clients name in requests and `GET /v1/models` lists.
    fn model_id(&self) -> &str;

    /// The assistant's next message for `request.messages`.
    fn complete(&self, request: &ChatRequest) -> Result<ChatCompletion, ChatError>;
}

/// One chat-completions request as a [`ChatModel`] sees it. `None` (or an
/// empty `stop`) leaves a setting to the model's default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChatRequest {
    /// The conversation, at least one message.
    pub messages: Vec<Message>,
    /// Sampling temperature; 0 is greedy.
    pub temperature: Option<f32>,
    /// Nucleus sampling mass.
    pub top_p: Option<f32>,
    /// Top-k sampling (`top_k` of 0 or -1 in the request arrives as `None`).
    pub top_k: Option<u32>,
    /// Most tokens to generate (`max_completion_tokens` or `max_tokens`).
    pub max_tokens: Option<u32>,
    /// Sampling seed.
    pub seed: Option<u64>,
    /// Strings that end generation; the text returned stops before them.
    pub stop: Vec<String>,
}

impl ChatRequest {
    /// The request in `wire`, or why it cannot be served (no messages, an
    /// unknown role or non-text content, `n` above 1, a negative or
    /// non-finite temperature or top-p).
    ///
    /// ```
    /// use entropo_openai::ChatRequest;
    /// let wire = serde_json::from_str(r#"{"model":"m","messages":[{"role":"user","content":"hi"}],
    ///     "top_k":-1,"max_tokens":5,"max_completion_tokens":7,"stop":"x"}"#).unwrap();
    /// let request = ChatRequest::from_wire(&wire).unwrap();
    /// assert_eq!((request.top_k, request.max_tokens, request.stop), (None, Some(7), vec!["x".to_string()]));
    /// ```
    pub fn from_wire(wire: &ChatCompletionRequest) -> Result<ChatRequest, ChatError> {
        let invalid = |m: String| ChatError::InvalidRequest(m);
        if wire.messages.is_empty() {
            return Err(invalid("messages is empty".into()));
        }
        let messages = wire
            .messages
            .iter()
            .enumerate()
            .map(|(i, m)| m.to_message().map_err(|e| invalid(format!("messages[{i}]: {e}"))))
            .collect::<Result<Vec<_>, _>>()?;
        if wire.n.is_some_and(|n| n != 1) {
            return Err(invalid("only n = 1 is served".into()));
        }
        for (name, value) in [("temperature", wire.temperature), ("top_p", wire.top_p)] {
            if let Some(v) = value
                && !(v.is_finite() && v >= 0.0)
            {
                return Err(invalid(format!("{name} = {v} must be a number of at least 0")));
            }
        }
        Ok(ChatRequest {
            messages,
            temperature: wire.temperature,
            top_p: wire.top_p,
            top_k: wire.top_k.filter(|&k| k > 0).map(|k| u32::try_from(k).unwrap_or(u32::MAX)),
            max_tokens: wire.max_completion_tokens.or(wire.max_tokens),
            seed: wire.seed,
            stop: wire.stop.clone().map(|s| s.into_vec()).unwrap_or_default(),
        })
    }
}

/// A [`ChatModel`]'s answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatCompletion {
    /// The assistant message.
    pub text: String,
    /// Tokens in the prompt (the templated conversation).
    pub prompt_tokens: u64,
    /// Tokens generated.
    pub completion_tokens: u64,
    /// Why generation stopped.
    pub finish_reason: FinishReason,
}

/// Why generation stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FinishReason {
    /// An end-of-turn token or a stop string.
    Stop,
    /// `max_tokens` or the context was reached.
    Length,
}

impl FinishReason {
    /// The OpenAI name: `stop` or `length`.
    pub fn as_str(self) -> &'static str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
        }
    }
}
