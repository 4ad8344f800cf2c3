//! The [`Policy`] trait: whatever writes the assistant's next message.

use crate::types::Message;

/// The policy's answer to one conversation: the assistant message and what
/// it cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The assistant message, as generated (thought plus one function call).
    pub text: String,
    /// Tokens the policy read: the whole conversation it was given.
    pub prompt_tokens: u64,
    /// Tokens the policy wrote.
    pub completion_tokens: u64,
}

impl Reply {
    /// Prompt plus completion tokens: the context this call filled.
    ///
    /// ```
    /// use entropo_core::agent::Reply;
    /// let r = Reply { text: "…".into(), prompt_tokens: 1000, completion_tokens: 24 };
    /// assert_eq!(r.total_tokens(), 1024);
    /// ```
    pub fn total_tokens(&self) -> u64 {
        self.prompt_tokens.saturating_add(self.completion_tokens)
    }
}

/// Why a policy could not answer. Any of these ends the episode with exit
/// reason `llm_error`; the steps taken so far are kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The model could not be reached (endpoint down, connection refused,
    /// time-out, HTTP error status).
    #[error("the model is unavailable: {0}")]
    Unavailable(String),
    /// The model answered something that is not an assistant message
    /// (malformed response body, no choices, undecodable tokens).
    #[error("the model's response is unusable: {0}")]
    InvalidResponse(String),
    /// In-process inference failed (out of memory, the prompt is longer than
    /// the model's context…).
    #[error("inference failed: {0}")]
    Inference(String),
}

/// Writes the assistant's next message given the conversation so far.
///
/// Object-safe and `Send`, so an in-process model and an HTTP client can
/// both stand behind a `Box<dyn Policy>` and move to a worker thread. The
/// conversation starts with the system prompt and the issue; after that,
/// assistant messages alternate with user messages holding observations.
/// Sampling settings (temperature, top-p…) belong to the implementation.
///
/// ```
/// use entropo_core::agent::{Policy, PolicyError, Reply};
/// use entropo_core::types::Message;
///
/// /// Always finishes at once.
/// struct Quitter;
/// impl Policy for Quitter {
///     fn respond(&mut self, messages: &[Message]) -> Result<Reply, PolicyError> {
///         let prompt_tokens = messages.iter().map(|m| m.content.split_whitespace().count() as u64).sum();
///         let text = "Nothing to do.\n<function=finish>\n<parameter=command>submit</parameter>\n</function>";
///         Ok(Reply { text: text.into(), prompt_tokens, completion_tokens: 9 })
///     }
/// }
/// let mut policy: Box<dyn Policy> = Box::new(Quitter);
/// let reply = policy.respond(&[Message::new(entropo_core::types::Role::User, "fix it")]).unwrap();
/// assert_eq!(reply.prompt_tokens, 2);
/// ```
pub trait Policy: Send {
    /// The next assistant message for `messages`.
    fn respond(&mut self, messages: &[Message]) -> Result<Reply, PolicyError>;
}
