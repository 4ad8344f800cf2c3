//! The chat-completions server: any [`ChatModel`] behind OpenAI's HTTP API.

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, oneshot};
use tokio::task::JoinHandle;

use crate::error::{ChatError, ServeError};
use crate::model::{ChatCompletion, ChatModel, ChatRequest};
use crate::wire::{
    ChatCompletionChunk, ChatCompletionRequest, ChatCompletionResponse, Choice, ChunkChoice, Delta, ErrorBody,
    ModelCard, ModelList, ResponseMessage, Usage,
};

/// The port `entropo serve` listens on unless told otherwise (vLLM's).
pub const DEFAULT_PORT: u16 = 8000;

/// `127.0.0.1:8000`: loopback only, so nothing outside the machine reaches
/// the model unless asked to.
pub const DEFAULT_ADDR: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), DEFAULT_PORT);

/// How the server runs its model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerOptions {
    /// Model calls that may run at once; more requests wait their turn.
    /// 1 (the default) suits a model that uses the whole machine.
    pub max_concurrency: usize,
    /// Largest request body, in bytes (default 64 MiB: long agent
    /// conversations are a few MiB at most).
    pub max_body_bytes: usize,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions { max_concurrency: 1, max_body_bytes: 64 << 20 }
    }
}

struct AppState {
    model: Arc<dyn ChatModel>,
    permits: Arc<Semaphore>,
    started: u64,
    next_id: AtomicU64,
}

/// The server's routes, for embedding in a larger axum app:
/// `POST /v1/chat/completions`, `GET /v1/models`, `GET /health`; anything
/// else is a 404 with an OpenAI error body.
pub fn router(model: Arc<dyn ChatModel>, options: &ServerOptions) -> Router {
    let state = Arc::new(AppState {
        model,
        permits: Arc::new(Semaphore::new(options.max_concurrency.max(1))),
        started: unix_now(),
        next_id: AtomicU64::new(0),
    });
    Router::new()
        .route("/v1/chat/completions", post(chat_completions))
        .route("/v1/models", get(models))
        .route("/health", get(health))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(options.max_body_bytes))
        .with_state(state)
}

/// A bound, not yet running, server. Binding first lets a caller (a test,
/// the CLI) learn the port when it asked for port 0.
///
/// ```no_run
/// # async fn demo(model: std::sync::Arc<dyn entropo_openai::ChatModel>) -> Result<(), entropo_openai::ServeError> {
/// use entropo_openai::{Server, ServerOptions};
/// let server = Server::bind(model, "127.0.0.1:0".parse().unwrap(), ServerOptions::default()).await?;
/// let addr = server.local_addr();
/// let handle = server.spawn();
/// // … point an OpenAiPolicy at format!("http://{addr}/v1") …
/// handle.shutdown().await?;
/// # Ok(()) }
/// ```
pub struct Server {
    listener: TcpListener,
    router: Router,
    addr: SocketAddr,
}

impl Server {
    /// Listens on `addr` (port 0 picks a free port).
    pub async fn bind(
        model: Arc<dyn ChatModel>,
        addr: SocketAddr,
        options: ServerOptions,
    ) -> Result<Server, ServeError> {
        let listener = TcpListener::bind(addr).await.map_err(|source| ServeError::Bind { addr, source })?;
        let addr = listener.local_addr().map_err(|source| ServeError::Bind { addr, source })?;
        Ok(Server { listener, router: router(model, &options), addr })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` completes, then stops accepting, lets the
    /// requests in progress finish and returns.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), ServeError> {
        tracing::info!(addr = %self.addr, "serving chat completions");
        axum::serve(self.listener, self.router).with_graceful_shutdown(shutdown).await?;
        Ok(())
    }

    /// Runs the server as a task of the current tokio runtime; it stops when
    /// the handle is shut down or dropped.
    pub fn spawn(self) -> ServerHandle {
        let (stop, stopped) = oneshot::channel::<()>();
        let addr = self.addr;
        let task = tokio::spawn(self.run(async move {
            let _ = stopped.await;
        }));
        ServerHandle { addr, stop: Some(stop), task }
    }
}

/// A server running as a task ([`Server::spawn`]). Dropping it starts a
/// graceful shutdown too, without waiting for it.
pub struct ServerHandle {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), ServeError>>,
}

impl ServerHandle {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, waits for the requests in progress, and returns the
    /// server's result.
    pub async fn shutdown(mut self) -> Result<(), ServeError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.map_err(|e| ServeError::Task(e.to_string()))?
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Serves `model` on `addr` with default [`ServerOptions`] until `shutdown`
/// completes (pass [`shutdown_signal()`] to stop on Ctrl-C or SIGTERM).
///
/// ```no_run
/// # async fn demo(model: std::sync::Arc<dyn entropo_openai::ChatModel>) -> Result<(), entropo_openai::ServeError> {
/// entropo_openai::serve(model, entropo_openai::DEFAULT_ADDR, entropo_openai::shutdown_signal()).await
/// # }
/// ```
pub async fn serve(
    model: Arc<dyn ChatModel>,
    addr: SocketAddr,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    Server::bind(model, addr, ServerOptions::default()).await?.run(shutdown).await
}

/// Completes on Ctrl-C (SIGINT) or, on Unix, SIGTERM. If a handler cannot
/// be installed, that signal is not waited for.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}

fn error_response(status: StatusCode, kind: &str, message: impl Into<String>) -> Response {
    (status, Json(ErrorBody::new(kind, message))).into_response()
}

fn chat_error_response(e: &ChatError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    error_response(status, e.kind(), e.to_string())
}

async fn chat_completions(State(state): State<Arc<AppState>>, body: Result<Bytes, BytesRejection>) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(rejection) => return error_response(rejection.status(), "invalid_request_error", rejection.body_text()),
    };
    let wire: ChatCompletionRequest = match serde_json::from_slice(&body) {
        Ok(w) => w,
        Err(e) => {
            let message = format!("the body is not a chat-completions request: {e}");
            return error_response(StatusCode::BAD_REQUEST, "invalid_request_error", message);
        }
    };
    let request = match ChatRequest::from_wire(&wire) {
        Ok(r) => r,
        Err(e) => return chat_error_response(&e),
    };
    let permit = state.permits.clone().acquire_owned().await.expect("the semaphore is never closed");
    let model = state.model.clone();
    // The permit moves into the blocking task, so a client that hangs up
    // does not let another call start while this one still computes.
    let result = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        model.complete(&request)
    })
    .await;
    let completion = match result {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            tracing::warn!("chat completion failed: {e}");
            return chat_error_response(&e);
        }
        Err(e) => {
            tracing::error!("the model's task failed: {e}");
            let message = format!("the model's task failed: {e}");
            return error_response(StatusCode::INTERNAL_SERVER_ERROR, "server_error", message);
        }
    };
    let id = format!("chatcmpl-{}-{}", state.started, state.next_id.fetch_add(1, Ordering::Relaxed));
    let model_id = state.model.model_id().to_string();
    if wire.stream == Some(true) {
        let include_usage = wire.stream_options.as_ref().is_some_and(|o| o.include_usage);
        return stream_response(id, model_id, completion, include_usage);
    }
    let usage = usage(&completion);
    Json(ChatCompletionResponse {
        id,
        object: "chat.completion".into(),
        created: unix_now(),
        model: model_id,
        choices: vec![Choice {
            index: 0,
            message: Some(ResponseMessage { role: "assistant".into(), content: Some(completion.text) }),
            finish_reason: Some(completion.finish_reason.as_str().into()),
        }],
        usage: Some(usage),
    })
    .into_response()
}

/// The whole completion as server-sent events: one chunk with the text, one
/// with the finish reason, one with the usage if asked, then `[DONE]`.
fn stream_response(id: String, model: String, completion: ChatCompletion, include_usage: bool) -> Response {
    let created = unix_now();
    let chunk = |choices: Vec<ChunkChoice>, usage: Option<Usage>| ChatCompletionChunk {
        id: id.clone(),
        object: "chat.completion.chunk".into(),
        created,
        model: model.clone(),
        choices,
        usage,
    };
    let mut chunks = vec![
        chunk(
            vec![ChunkChoice {
                index: 0,
                delta: Delta { role: Some("assistant".into()), content: Some(completion.text.clone()) },
                finish_reason: None,
            }],
            None,
        ),
        chunk(
            vec![ChunkChoice {
                index: 0,
                delta: Delta::default(),
                finish_reason: Some(completion.finish_reason.as_str().into()),
            }],
            None,
        ),
    ];
    if include_usage {
        chunks.push(chunk(Vec::new(), Some(usage(&completion))));
    }
    let mut body = String::new();
    for c in &chunks {
        body.push_str("data: ");
        body.push_str(&serde_json::to_string(c).expect("a chunk serializes"));
        body.push_str("\n\n");
    }
    body.push_str("data: [DONE]\n\n");
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from(body))
        .expect("a valid response")
}

fn usage(c: &ChatCompletion) -> Usage {
    Usage {
        prompt_tokens: c.prompt_tokens,
        completion_tokens: c.completion_tokens,
        total_tokens: c.prompt_tokens.saturating_add(c.completion_tokens),
    }
}

async fn models(State(state): State<Arc<AppState>>) -> Json<ModelList> {
    Json(ModelList {
        object: "list".into(),
        data: vec![ModelCard {
            id: state.model.model_id().to_string(),
            object: "model".into(),
            created: state.started,
            owned_by: "entropo".into(),
        }],
    })
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

async fn not_found(method: Method, uri: Uri) -> Response {
    error_response(StatusCode::NOT_FOUND, "not_found_error", format!("no route for {method} {}", uri.path()))
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
