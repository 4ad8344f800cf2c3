//! The chat-completions server: any [`ChatModel`] behind OpenAI's HTTP API.

use std::convert::Infallible;
use std::future::{Future, IntoFuture};
use std::net::{Ipv4Addr, SocketAddr};
use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use tokio::net::TcpListener;
use futures_util::StreamExt;
use tokio::sync::{Semaphore, mpsc, oneshot};
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
    /// Model calls that may run at once (a request with `n` choices makes
    /// `n` calls). 1 (the default) suits a model that computes one call at
    /// a time with the whole machine; a batching model (entropo's engine)
    /// wants its batch size.
    pub max_concurrency: usize,
    /// Requests that may wait for a free slot; one more is answered 503
    /// with `Retry-After`.
    pub max_queue: usize,
    /// Largest request body, in bytes (default 64 MiB: long agent
    /// conversations are a few MiB at most).
    pub max_body_bytes: usize,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions { max_concurrency: 1, max_queue: 64, max_body_bytes: 64 << 20 }
    }
}

/// How long a shutdown waits for requests still running (they are told to
/// stop at once) before the server returns anyway.
pub const SHUTDOWN_GRACE: Duration = Duration::from_millis(1500);

struct AppState {
    model: Arc<dyn ChatModel>,
    permits: Arc<Semaphore>,
    max_concurrency: usize,
    queued: AtomicUsize,
    max_queue: usize,
    /// Set when the server shuts down: running completions stop.
    stopping: Arc<AtomicBool>,
    started: u64,
    next_id: AtomicU64,
}

/// The server's routes, for embedding in a larger axum app:
/// `POST /v1/chat/completions`, `GET /v1/models`, `GET /health`; anything
/// else is a 404 with an OpenAI error body. Completions stop when
/// `stopping` is set.
pub fn router(model: Arc<dyn ChatModel>, options: &ServerOptions, stopping: Arc<AtomicBool>) -> Router {
    let max_concurrency = options.max_concurrency.max(1);
    let state = Arc::new(AppState {
        model,
        permits: Arc::new(Semaphore::new(max_concurrency)),
        max_concurrency,
        queued: AtomicUsize::new(0),
        max_queue: options.max_queue,
        stopping,
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
    stopping: Arc<AtomicBool>,
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
        let stopping = Arc::new(AtomicBool::new(false));
        Ok(Server { listener, router: router(model, &options, stopping.clone()), addr, stopping })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` completes, then stops accepting, tells the
    /// completions in progress to stop (streams end, other requests get
    /// what was generated), and returns once they have, or after
    /// [`SHUTDOWN_GRACE`].
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), ServeError> {
        tracing::info!(addr = %self.addr, "serving chat completions");
        let (signalled, on_signal) = oneshot::channel::<()>();
        let stopping = self.stopping.clone();
        let signal = async move {
            shutdown.await;
            stopping.store(true, Ordering::SeqCst);
            let _ = signalled.send(());
        };
        let serve = axum::serve(self.listener, self.router).with_graceful_shutdown(signal).into_future();
        tokio::select! {
            result = serve => result?,
            () = async {
                if on_signal.await.is_err() {
                    std::future::pending::<()>().await;
                }
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } => tracing::warn!("requests were still running {SHUTDOWN_GRACE:?} after the shutdown began; stopping anyway"),
        }
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

/// Sets a flag when dropped: the handler's future is dropped when its client
/// goes away, which stops that client's completions.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A piece of a streamed answer.
enum Piece {
    Text { index: u32, text: String },
    Done { index: u32, completion: Result<ChatCompletion, ChatError> },
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
    if request.n as usize > state.max_concurrency {
        let message = format!("n = {}: this server computes at most {} completions at once", request.n, state.max_concurrency);
        return error_response(StatusCode::BAD_REQUEST, "invalid_request_error", message);
    }
    let permits = match state.permits.clone().try_acquire_many_owned(request.n) {
        Ok(p) => p,
        Err(_) if state.queued.load(Ordering::SeqCst) >= state.max_queue => return busy(),
        Err(_) => {
            state.queued.fetch_add(1, Ordering::SeqCst);
            let acquired = state.permits.clone().acquire_many_owned(request.n).await;
            state.queued.fetch_sub(1, Ordering::SeqCst);
            acquired.expect("the semaphore is never closed")
        }
    };
    if state.stopping.load(Ordering::SeqCst) {
        return error_response(StatusCode::SERVICE_UNAVAILABLE, "overloaded_error", "the server is shutting down");
    }
    let id = format!("chatcmpl-{}-{}", state.started, state.next_id.fetch_add(1, Ordering::Relaxed));
    let model_id = state.model.model_id().to_string();
    let cancel = Arc::new(AtomicBool::new(false));
    let guard = CancelOnDrop(cancel.clone());
    let (pieces, mut received) = mpsc::channel::<Piece>(64);
    let streaming = wire.stream == Some(true);
    // One blocking call per choice; each stops when its pieces have nowhere
    // to go (a streaming client left), the handler was dropped, or the
    // server shuts down. The permits go when the last call returns.
    let permits = Arc::new(permits);
    for index in 0..request.n {
        let (model, request, pieces, cancel, stopping) =
            (state.model.clone(), request.choice(index), pieces.clone(), cancel.clone(), state.stopping.clone());
        let permits = permits.clone();
        tokio::task::spawn_blocking(move || {
            let _permits = permits;
            let mut on_text = |text: &str| {
                let gone = cancel.load(Ordering::SeqCst) || stopping.load(Ordering::SeqCst);
                let sent = !streaming || text.is_empty() || pieces.blocking_send(Piece::Text { index, text: text.to_string() }).is_ok();
                if gone || !sent { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
            };
            let completion = model.complete_streaming(&request, &mut on_text);
            if let Err(e) = &completion {
                tracing::warn!("chat completion failed: {e}");
            }
            let _ = pieces.blocking_send(Piece::Done { index, completion });
        });
    }
    drop(pieces);
    if streaming {
        // Nothing is sent before the first piece, so that a request the
        // model refuses at once (a prompt past the context) gets its error
        // status, as it does unstreamed.
        let first = received.recv().await;
        if let Some(Piece::Done { completion: Err(e), .. }) = &first {
            return chat_error_response(e);
        }
        let include_usage = wire.stream_options.as_ref().is_some_and(|o| o.include_usage);
        return stream_response(id, model_id, request.n, (first, received), include_usage, guard);
    }
    let mut done: Vec<Option<Result<ChatCompletion, ChatError>>> = (0..request.n).map(|_| None).collect();
    while let Some(piece) = received.recv().await {
        if let Piece::Done { index, completion } = piece {
            done[index as usize] = Some(completion);
        }
    }
    drop(guard);
    let mut completions = Vec::with_capacity(done.len());
    for c in done {
        match c {
            Some(Ok(c)) => completions.push(c),
            Some(Err(e)) => return chat_error_response(&e),
            None => return error_response(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "the model's task failed"),
        }
    }
    let usage = usage_of(&completions);
    Json(ChatCompletionResponse {
        id,
        object: "chat.completion".into(),
        created: unix_now(),
        model: model_id,
        choices: completions
            .into_iter()
            .enumerate()
            .map(|(i, c)| Choice {
                index: i as u32,
                message: Some(ResponseMessage { role: "assistant".into(), content: Some(c.text) }),
                finish_reason: Some(c.finish_reason.as_str().into()),
            })
            .collect(),
        usage: Some(usage),
    })
    .into_response()
}

/// 503 with `Retry-After`: every slot is busy and the queue is full.
fn busy() -> Response {
    let mut response = error_response(
        StatusCode::SERVICE_UNAVAILABLE,
        "overloaded_error",
        "the server is at capacity and its queue is full; retry later",
    );
    response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    response
}

/// Server-sent events as the text is made: a first chunk with the role per
/// choice, one chunk per piece of text (the first piece already received),
/// one with each choice's finish reason, one with the usage if asked, then
/// `[DONE]`. The body owns `guard`: when the client goes away, the body is
/// dropped and the completions stop.
fn stream_response(
    id: String,
    model: String,
    n: u32,
    (first_piece, received): (Option<Piece>, mpsc::Receiver<Piece>),
    include_usage: bool,
    guard: CancelOnDrop,
) -> Response {
    let created = unix_now();
    let chunk = move |choices: Vec<ChunkChoice>, usage: Option<Usage>| {
        let c = ChatCompletionChunk {
            id: id.clone(),
            object: "chat.completion.chunk".into(),
            created,
            model: model.clone(),
            choices,
            usage,
        };
        Bytes::from(format!("data: {}\n\n", serde_json::to_string(&c).expect("a chunk serializes")))
    };
    let choice = |index: u32, delta: Delta, finish: Option<String>| ChunkChoice { index, delta, finish_reason: finish };
    let first: Vec<Bytes> = (0..n)
        .map(|i| chunk(vec![choice(i, Delta { role: Some("assistant".into()), content: Some(String::new()) }, None)], None))
        .collect();
    struct Streaming<F> {
        peeked: Option<Piece>,
        received: mpsc::Receiver<Piece>,
        chunk: F,
        completions: Vec<ChatCompletion>,
        include_usage: bool,
        finished: bool,
        _guard: CancelOnDrop,
    }
    let state =
        Streaming { peeked: first_piece, received, chunk, completions: Vec::new(), include_usage, finished: false, _guard: guard };
    let rest = futures_util::stream::unfold(state, move |mut s| async move {
        if s.finished {
            return None;
        }
        let piece = match s.peeked.take() {
            Some(piece) => Some(piece),
            None => s.received.recv().await,
        };
        let bytes = match piece {
            Some(Piece::Text { index, text }) => (s.chunk)(vec![choice(index, Delta { role: None, content: Some(text) }, None)], None),
            Some(Piece::Done { index, completion: Ok(c) }) => {
                let reason = c.finish_reason.as_str().to_string();
                s.completions.push(c);
                (s.chunk)(vec![choice(index, Delta::default(), Some(reason))], None)
            }
            Some(Piece::Done { completion: Err(e), .. }) => {
                let body = serde_json::to_string(&ErrorBody::new(e.kind(), e.to_string())).expect("an error serializes");
                Bytes::from(format!("data: {body}\n\n"))
            }
            None => {
                s.finished = true;
                let mut tail = String::new();
                if s.include_usage {
                    let usage = (s.chunk)(Vec::new(), Some(usage_of(&s.completions)));
                    tail.push_str(std::str::from_utf8(&usage).expect("chunks are UTF-8"));
                }
                tail.push_str("data: [DONE]\n\n");
                Bytes::from(tail)
            }
        };
        Some((Ok::<Bytes, Infallible>(bytes), s))
    });
    let body = futures_util::stream::iter(first.into_iter().map(Ok::<Bytes, Infallible>)).chain(rest);
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(body))
        .expect("a valid response")
}

/// Token counts of a request's choices: the prompt once, the completions summed.
fn usage_of(completions: &[ChatCompletion]) -> Usage {
    let prompt_tokens = completions.first().map_or(0, |c| c.prompt_tokens);
    let completion_tokens = completions.iter().map(|c| c.completion_tokens).sum::<u64>();
    Usage { prompt_tokens, completion_tokens, total_tokens: prompt_tokens.saturating_add(completion_tokens) }
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

/// `{"status": "ok", "running": …, "queued": …}`: model calls computing now
/// and requests waiting for a slot.
async fn health(State(state): State<Arc<AppState>>) -> Json<serde_json::Value> {
    let running = state.max_concurrency - state.permits.available_permits();
    Json(serde_json::json!({"status": "ok", "running": running, "queued": state.queued.load(Ordering::SeqCst)}))
}

async fn not_found(method: Method, uri: Uri) -> Response {
    error_response(StatusCode::NOT_FOUND, "not_found_error", format!("no route for {method} {}", uri.path()))
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
