//! The OpenAI chat-completions JSON, as both the client and the server speak
//! it.
//!
//! Reading is lenient (unknown fields are ignored, most fields may be
//! absent) so that the client understands vLLM, SGLang, llama.cpp and
//! OpenAI itself, and the server understands what their clients send.
//! Writing omits absent optional fields.
//!
//! ```
//! use entropo_openai::wire::ChatCompletionRequest;
//! let body = r#"{"model":"m","messages":[{"role":"user","content":"hi"}],"top_k":-1,"stop":"\n"}"#;
//! let request: ChatCompletionRequest = serde_json::from_str(body).unwrap();
//! assert_eq!(request.messages[0].to_message().unwrap().content, "hi");
//! assert_eq!(request.stop.unwrap().into_vec(), vec!["\n".to_string()]);
//! ```

use entropo_core::types::{Message, Role};
use serde::{Deserialize, Serialize};

/// `POST /v1/chat/completions` request body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletionRequest {
    /// The model's id (the server answers with its own whatever is asked).
    #[serde(default)]
    pub model: String,
    /// The conversation.
    pub messages: Vec<WireMessage>,
    /// Sampling temperature; 0 is greedy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Nucleus sampling mass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    /// Top-k sampling (vLLM, SGLang and llama.cpp extension); 0 or -1 turns
    /// it off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<i64>,
    /// Most tokens to generate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Newer OpenAI name for `max_tokens`; the server takes either.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u32>,
    /// Sampling seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Strings that end generation (not included in the text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Stop>,
    /// Completions to generate; only 1 is served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    /// Answer as server-sent events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Streaming options (`include_usage`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
}

/// `stream_options` of a request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamOptions {
    /// Send a last chunk with the token counts.
    #[serde(default)]
    pub include_usage: bool,
}

/// `stop`: one string or several.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Stop {
    /// A single stop string.
    One(String),
    /// Several stop strings.
    Many(Vec<String>),
}

impl Stop {
    /// The stop strings as a list.
    pub fn into_vec(self) -> Vec<String> {
        match self {
            Stop::One(s) => vec![s],
            Stop::Many(v) => v,
        }
    }
}

/// One message of a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireMessage {
    /// `system`, `developer` (read as system), `user`, `assistant` or `tool`.
    pub role: String,
    /// The text; absent or null for assistant messages that only call tools.
    #[serde(default)]
    pub content: Option<Content>,
}

/// A message's content: a string or a list of parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Content {
    /// Plain text.
    Text(String),
    /// Content parts; only `{"type": "text", "text": …}` parts are served.
    Parts(Vec<ContentPart>),
}

/// One part of a list-valued content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContentPart {
    /// The part's type (`text`, `image_url`…).
    #[serde(rename = "type")]
    pub kind: String,
    /// The text of a `text` part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl WireMessage {
    /// The core message this stands for, or why it has none (unknown role,
    /// a non-text content part).
    pub fn to_message(&self) -> Result<Message, String> {
        let role = match self.role.as_str() {
            "system" | "developer" => Role::System,
            "user" => Role::User,
            "assistant" => Role::Assistant,
            "tool" => Role::Tool,
            other => return Err(format!("unknown message role {other:?}")),
        };
        let content = match &self.content {
            None => String::new(),
            Some(Content::Text(text)) => text.clone(),
            Some(Content::Parts(parts)) => {
                let mut text = String::new();
                for part in parts {
                    match (part.kind.as_str(), &part.text) {
                        ("text", Some(t)) => text.push_str(t),
                        (kind, _) => return Err(format!("content part of type {kind:?} is not supported; send text")),
                    }
                }
                text
            }
        };
        Ok(Message { role, content })
    }
}

impl From<&Message> for WireMessage {
    fn from(m: &Message) -> Self {
        let role = match m.role {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        };
        WireMessage { role: role.to_string(), content: Some(Content::Text(m.content.clone())) }
    }
}

/// `POST /v1/chat/completions` response body (`object: "chat.completion"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChatCompletionResponse {
    /// Response id (`chatcmpl-…`).
    pub id: String,
    /// Always `chat.completion`.
    pub object: String,
    /// Unix seconds.
    pub created: u64,
    /// The model that answered.
    pub model: String,
    /// The completions (one).
    pub choices: Vec<Choice>,
    /// Token counts; absent from some servers' answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

/// One completion of a response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Choice {
    /// Its index (0).
    pub index: u32,
    /// The assistant message; absent in broken answers.
    pub message: Option<ResponseMessage>,
    /// `stop` or `length`.
    pub finish_reason: Option<String>,
}

/// The assistant message of a completion.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResponseMessage {
    /// Always `assistant`.
    pub role: String,
    /// The text; null when a server only called tools.
    pub content: Option<String>,
}

/// Token counts of a response.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Usage {
    /// Tokens read.
    pub prompt_tokens: u64,
    /// Tokens written.
    pub completion_tokens: u64,
    /// Their sum.
    pub total_tokens: u64,
}

/// One server-sent event of a streamed answer (`chat.completion.chunk`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChatCompletionChunk {
    /// Response id, the same in every chunk.
    pub id: String,
    /// Always `chat.completion.chunk`.
    pub object: String,
    /// Unix seconds.
    pub created: u64,
    /// The model that answered.
    pub model: String,
    /// The delta (empty in the usage chunk).
    pub choices: Vec<ChunkChoice>,
    /// Token counts, in the last chunk when `stream_options.include_usage`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

/// One completion's piece of a chunk.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChunkChoice {
    /// Its index (0).
    pub index: u32,
    /// What this chunk adds.
    pub delta: Delta,
    /// Set in the chunk that ends the completion.
    pub finish_reason: Option<String>,
}

/// What a chunk adds to the assistant message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Delta {
    /// `assistant`, in the first chunk.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// More text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

/// `GET /v1/models` response body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelList {
    /// Always `list`.
    pub object: String,
    /// The models served.
    pub data: Vec<ModelCard>,
}

/// One model of [`ModelList`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelCard {
    /// The id to put in requests.
    pub id: String,
    /// Always `model`.
    pub object: String,
    /// Unix seconds when the server started.
    pub created: u64,
    /// Always `entropo`.
    pub owned_by: String,
}

/// An OpenAI error body: `{"error": {"message", "type", "param", "code"}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorObject,
}

/// The `error` object of [`ErrorBody`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorObject {
    /// What went wrong, for people.
    pub message: String,
    /// `invalid_request_error`, `server_error`, `overloaded_error`…
    #[serde(rename = "type")]
    pub kind: String,
    /// The request field at fault, if one is.
    #[serde(default)]
    pub param: Option<String>,
    /// A machine-readable code, if any.
    #[serde(default)]
    pub code: Option<String>,
}

impl ErrorBody {
    /// An error body of type `kind` saying `message`.
    pub fn new(kind: &str, message: impl Into<String>) -> Self {
        ErrorBody { error: ErrorObject { message: message.into(), kind: kind.to_string(), param: None, code: None } }
    }
}

/// The human-readable message in an error response body, whichever of the
/// common shapes it has: OpenAI's `{"error": {"message": …}}`, `{"error":
/// "…"}`, `{"message": "…"}` or FastAPI's `{"detail": "…"}`.
///
/// ```
/// use entropo_openai::wire::error_message;
/// assert_eq!(error_message(r#"{"error":{"message":"too long","type":"x"}}"#).as_deref(), Some("too long"));
/// assert_eq!(error_message(r#"{"detail":"Not Found"}"#).as_deref(), Some("Not Found"));
/// assert_eq!(error_message("<html>"), None);
/// ```
pub fn error_message(body: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    let candidates = [value.pointer("/error/message"), value.get("error"), value.get("message"), value.get("detail")];
    candidates.into_iter().flatten().find_map(|v| v.as_str()).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_round_trips_and_omits_absent_fields() {
        let request = ChatCompletionRequest {
            model: "m".into(),
            messages: vec![WireMessage::from(&Message::new(Role::System, "be brief"))],
            temperature: Some(0.5),
            ..Default::default()
        };
        let json = serde_json::to_string(&request).unwrap();
        assert_eq!(json, r#"{"model":"m","messages":[{"role":"system","content":"be brief"}],"temperature":0.5}"#);
        assert_eq!(serde_json::from_str::<ChatCompletionRequest>(&json).unwrap(), request);
    }

    #[test]
    fn content_parts_and_developer_role_are_read() {
        let body = r#"{"messages":[{"role":"developer","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},
                       {"role":"assistant","content":null}],"extra_field":{"x":1}}"#;
        let request: ChatCompletionRequest = serde_json::from_str(body).unwrap();
        assert_eq!(request.messages[0].to_message().unwrap(), Message::new(Role::System, "ab"));
        assert_eq!(request.messages[1].to_message().unwrap(), Message::new(Role::Assistant, ""));
    }

    #[test]
    fn unsupported_messages_are_refused() {
        let image = r#"{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}"#;
        let m: WireMessage = serde_json::from_str(image).unwrap();
        assert!(m.to_message().unwrap_err().contains("image_url"));
        let m: WireMessage = serde_json::from_str(r#"{"role":"narrator","content":"x"}"#).unwrap();
        assert!(m.to_message().unwrap_err().contains("narrator"));
    }

    #[test]
    fn lenient_response_reading() {
        let r: ChatCompletionResponse = serde_json::from_str(r#"{"choices":[{"message":{"content":"x"}}]}"#).unwrap();
        assert_eq!(r.choices[0].message.as_ref().unwrap().content.as_deref(), Some("x"));
        assert_eq!(r.usage, None);
    }

    #[test]
    fn error_message_shapes() {
        assert_eq!(error_message(r#"{"error":"busy"}"#).as_deref(), Some("busy"));
        assert_eq!(error_message(r#"{"message":"m"}"#).as_deref(), Some("m"));
        assert_eq!(error_message(r#"{"error":{"code":1}}"#), None);
    }
}
