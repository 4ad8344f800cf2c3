//! # entropo-openai
//!
//! OpenAI-compatible chat in both directions:
//!
//! - [`OpenAiPolicy`], core's agent [`Policy`](entropo_core::agent::Policy)
//!   asking chat-completions servers (vLLM, SGLang, llama.cpp, OpenAI, or
//!   `entropo serve`) for each reply, spread over an [`EndpointPool`], with
//!   retries, back-off, seeds per call and token accounting. Settings:
//!   [`OpenAiSettings`], the `[policy]` table of a config.
//! - [`Server`] / [`serve`], which put any [`ChatModel`] behind
//!   `POST /v1/chat/completions`, `GET /v1/models` and `GET /health`.
//!
//! The JSON both speak is in [`wire`].
//!
//! ```
//! use std::sync::Arc;
//! use entropo_core::agent::Policy;
//! use entropo_core::types::{Message, Role};
//! use entropo_openai::*;
//!
//! struct Echo;
//! impl ChatModel for Echo {
//!     fn model_id(&self) -> &str { "echo" }
//!     fn complete(&self, r: &ChatRequest) -> Result<ChatCompletion, ChatError> {
//!         let text = r.messages.last().map(|m| m.content.clone()).unwrap_or_default();
//!         Ok(ChatCompletion { text, prompt_tokens: 1, completion_tokens: 1, finish_reason: FinishReason::Stop })
//!     }
//! }
//!
//! let runtime = tokio::runtime::Runtime::new().unwrap();
//! let handle = runtime.block_on(async {
//!     Server::bind(Arc::new(Echo), "127.0.0.1:0".parse().unwrap(), ServerOptions::default()).await.map(Server::spawn)
//! })?;
//! let settings = OpenAiSettings {
//!     endpoints: vec![format!("http://{}/v1", handle.local_addr())],
//!     model: "echo".into(),
//!     ..Default::default()
//! };
//! let mut policy = OpenAiPolicy::new(settings)?;
//! assert_eq!(policy.respond(&[Message::new(Role::User, "hi")])?.text, "hi");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod client;
mod error;
mod model;
mod pool;
mod server;
pub mod wire;

pub use client::{OpenAiPolicy, OpenAiSettings, PolicyStats, StatsSnapshot};
pub use error::{ChatError, ServeError, SettingsError};
pub use model::{ChatCompletion, ChatModel, ChatRequest, FinishReason};
pub use pool::{EndpointPool, EndpointStatus, FIRST_COOL_DOWN, Lease, MAX_COOL_DOWN};
pub use server::{DEFAULT_ADDR, DEFAULT_PORT, Server, ServerHandle, ServerOptions, router, serve, shutdown_signal};
