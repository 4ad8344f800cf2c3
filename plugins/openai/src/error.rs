//! The crate's error types: bad client settings, a chat model's failure, and
//! a server that cannot start.
//!
//! The client's per-call failures are core's
//! [`PolicyError`](entropo_core::agent::PolicyError); see
//! [`OpenAiPolicy`](crate::OpenAiPolicy) for which one each failure becomes.

use std::net::SocketAddr;

/// Client settings that cannot work, found when the policy or the endpoint
/// pool is built (not at the first call).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// `endpoints` is empty.
    #[error("no endpoints: give at least one base URL such as http://127.0.0.1:8000/v1")]
    NoEndpoints,
    /// An endpoint is not an `http://` or `https://` URL.
    #[error("endpoint {endpoint:?} is not an http(s) base URL: {reason}")]
    BadEndpoint {
        /// The endpoint as given.
        endpoint: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `api_key_env` names a variable that is not set (or not unicode).
    #[error("api_key_env names ${0}, which is not set")]
    MissingApiKey(String),
    /// A number is out of range (`timeout_secs` not positive, `temperature`
    /// negative…).
    #[error("{field} = {value} is out of range: {reason}")]
    OutOfRange {
        /// The settings field.
        field: &'static str,
        /// Its value, as written.
        value: String,
        /// The allowed range.
        reason: &'static str,
    },
    /// `model` is empty.
    #[error("model is empty: name the served model (GET /v1/models lists it)")]
    NoModel,
}

/// Why a [`ChatModel`](crate::ChatModel) could not complete a request. The
/// server turns each into an HTTP status and an OpenAI error body.
///
/// ```
/// use entropo_openai::ChatError;
/// let e = ChatError::InvalidRequest("the prompt holds 40000 tokens; the context is 32768".into());
/// assert_eq!(e.status(), 400);
/// assert_eq!(e.kind(), "invalid_request_error");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChatError {
    /// The request cannot be served as asked (prompt longer than the
    /// context, unknown role, unsupported setting): HTTP 400, not retried by
    /// clients.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The model is busy or still loading: HTTP 503, retried by clients.
    #[error("the model is overloaded: {0}")]
    Overloaded(String),
    /// Inference failed (out of memory, a backend error): HTTP 500, retried
    /// by clients.
    #[error("inference failed: {0}")]
    Inference(String),
}

impl ChatError {
    /// The HTTP status the server answers with.
    pub fn status(&self) -> u16 {
        match self {
            ChatError::InvalidRequest(_) => 400,
            ChatError::Overloaded(_) => 503,
            ChatError::Inference(_) => 500,
        }
    }

    /// The OpenAI error `type` the server reports.
    pub fn kind(&self) -> &'static str {
        match self {
            ChatError::InvalidRequest(_) => "invalid_request_error",
            ChatError::Overloaded(_) => "overloaded_error",
            ChatError::Inference(_) => "server_error",
        }
    }
}

/// Why the chat-completions server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address could not be bound (in use, not local, no permission).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The socket error.
        #[source]
        source: std::io::Error,
    },
    /// Accepting or serving connections failed.
    #[error("the server failed: {0}")]
    Io(#[from] std::io::Error),
    /// The server task panicked or was cancelled.
    #[error("the server task ended abnormally: {0}")]
    Task(String),
}
