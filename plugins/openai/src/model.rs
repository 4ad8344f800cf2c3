//! [`ChatModel`]: what the server serves.

use std::ops::ControlFlow;

use entropo_core::types::Message;

use crate::error::ChatError;
use crate::wire::ChatCompletionRequest;

/// A chat model the [server](crate::Server) can serve: anything that turns a
/// conversation and sampling settings into one assistant message.
///
/// `complete_streaming` (which defaults to `complete`) is called on a
/// blocking thread (tokio's `spawn_blocking`), at most `max_concurrency`
/// calls at a time ([`ServerOptions`](crate::ServerOptions)), so it may
/// compute for as long as it needs; a model that batches concurrent calls
/// (entropo's engine) gains from a higher limit.
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

    /// The assistant's next message for `request.messages` (one choice:
    /// the server asks once per choice when `n` > 1).
    fn complete(&self, request: &ChatRequest) -> Result<ChatCompletion, ChatError>;

    /// [`ChatModel::complete`], passing the text to `on_text` piece by piece
    /// as it is made. When `on_text` breaks (the client went away, the
    /// server shuts down), the model should stop computing at once and
    /// return what it has. The default computes the whole completion and
    /// passes it in one piece.
    fn complete_streaming(
        &self,
        request: &ChatRequest,
        on_text: &mut dyn FnMut(&str) -> ControlFlow<()>,
    ) -> Result<ChatCompletion, ChatError> {
        let completion = self.complete(request)?;
        let _ = on_text(&completion.text);
        Ok(completion)
    }
}

/// Most completions one request may ask for (`n`).
pub const MAX_CHOICES: u32 = 16;

/// One chat-completions request as a [`ChatModel`] sees it. `None` (or an
/// empty `stop`) leaves a setting to the model's default.
#[derive(Debug, Clone, PartialEq)]
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
    /// Completions asked for (`n`, 1 to [`MAX_CHOICES`]); the server asks
    /// the model once per choice, choice `i` with seed `seed + i`.
    pub n: u32,
}

impl ChatRequest {
    /// The request in `wire`, or why it cannot be served (no messages, an
    /// unknown role or non-text content, `n` outside 1 to [`MAX_CHOICES`],
    /// a negative or non-finite temperature or top-p).
    ///
    /// ```
    /// use entropo_openai::ChatRequest;
    /// let wire = serde_json::from_str(r#"{"model":"m","messages":[{"role":"user","content":"hi"}],
    ///     "top_k":-1,"max_tokens":5,"max_completion_tokens":7,"stop":"x"}"#).unwrap();
    /// let request = ChatRequest::from_wire(&wire).unwrap();
    /// assert_eq!((request.top_k, request.max_tokens, request.stop), (None, Some(7), vec!["x".to_string()]));
    /// assert_eq!(request.n, 1);
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
        let n = wire.n.unwrap_or(1);
        if !(1..=MAX_CHOICES).contains(&n) {
            return Err(invalid(format!("n = {n}: ask for 1 to {MAX_CHOICES} completions")));
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
            n,
        })
    }
}

impl Default for ChatRequest {
    /// No messages, every setting left to the model, one choice.
    fn default() -> Self {
        ChatRequest {
            messages: Vec::new(),
            temperature: None,
            top_p: None,
            top_k: None,
            max_tokens: None,
            seed: None,
            stop: Vec::new(),
            n: 1,
        }
    }
}

impl ChatRequest {
    /// The request for choice `i` of `n`: one completion, seed `seed + i`
    /// (without a seed, choice `i` of several gets seed `i`, so that the
    /// choices differ).
    ///
    /// ```
    /// use entropo_openai::ChatRequest;
    /// let r = ChatRequest { n: 3, seed: Some(10), ..Default::default() };
    /// assert_eq!((r.choice(2).n, r.choice(2).seed), (1, Some(12)));
    /// let unseeded = ChatRequest { n: 3, ..Default::default() };
    /// assert_eq!(unseeded.choice(1).seed, Some(1));
    /// assert_eq!(ChatRequest::default().choice(0).seed, None);
    /// ```
    pub fn choice(&self, i: u32) -> ChatRequest {
        let seed = match self.seed {
            Some(s) => Some(s.wrapping_add(u64::from(i))),
            None if self.n > 1 => Some(u64::from(i)),
            None => None,
        };
        ChatRequest { n: 1, seed, ..self.clone() }
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
