//! The client against real servers on 127.0.0.1: the crate's own server
//! running scripted models, and raw TCP servers that misbehave.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use entropo_core::agent::{Policy, PolicyError};
use entropo_core::types::{Message, Role};
use entropo_openai::wire::{ChatCompletionChunk, ErrorBody, ModelList};
use entropo_openai::{
    ChatCompletion, ChatError, ChatModel, ChatRequest, EndpointPool, FinishReason, OpenAiPolicy, OpenAiSettings,
    Server, ServerHandle, ServerOptions,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::runtime::Runtime;

const R2E_CALL: &str = "I will look at the file.\n<function=file_editor>\n<parameter=command>view</parameter>\n<parameter=path>/testbed/a.py</parameter>\n</function>";

/// Replies with a fixed R2E call after failing `fail_first` times with
/// `Overloaded`, sleeping `delay` per call, and records every request.
struct Scripted {
    seen: Mutex<Vec<ChatRequest>>,
    fail_first: usize,
    calls: AtomicUsize,
    delay: Duration,
    reject: bool,
}

impl Scripted {
    fn new() -> Self {
        Scripted {
            seen: Mutex::default(),
            fail_first: 0,
            calls: AtomicUsize::new(0),
            delay: Duration::ZERO,
            reject: false,
        }
    }
    fn seen(&self) -> Vec<ChatRequest> {
        self.seen.lock().unwrap().clone()
    }
}

impl ChatModel for Scripted {
    fn model_id(&self) -> &str {
        "scripted-r2e"
    }
    fn complete(&self, request: &ChatRequest) -> Result<ChatCompletion, ChatError> {
        self.seen.lock().unwrap().push(request.clone());
        std::thread::sleep(self.delay);
        if self.reject {
            return Err(ChatError::InvalidRequest("the prompt is longer than the context".into()));
        }
        if self.calls.fetch_add(1, Ordering::SeqCst) < self.fail_first {
            return Err(ChatError::Overloaded("warming up".into()));
        }
        let prompt_tokens = request.messages.iter().map(|m| m.content.split_whitespace().count() as u64).sum();
        Ok(ChatCompletion {
            text: R2E_CALL.into(),
            prompt_tokens,
            completion_tokens: 17,
            finish_reason: FinishReason::Stop,
        })
    }
}

/// A runtime serving `model` on a free loopback port.
fn start(model: Arc<dyn ChatModel>) -> (Runtime, ServerHandle) {
    let runtime = Runtime::new().unwrap();
    let handle = runtime.block_on(async {
        Server::bind(model, "127.0.0.1:0".parse().unwrap(), ServerOptions::default()).await.unwrap().spawn()
    });
    (runtime, handle)
}

fn base(addr: SocketAddr) -> String {
    format!("http://{addr}/v1")
}

fn settings(endpoints: Vec<String>) -> OpenAiSettings {
    OpenAiSettings {
        endpoints,
        model: "scripted-r2e".into(),
        timeout_secs: 10.0,
        max_retries: 3,
        backoff_ms: 1,
        ..Default::default()
    }
}

fn conversation() -> Vec<Message> {
    vec![Message::new(Role::System, "You are a programmer."), Message::new(Role::User, "Fix the bug in a.py please")]
}

/// A loopback port with nothing listening on it.
fn dead_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// A raw HTTP server answering every request with `response`.
fn raw_server(runtime: &Runtime, response: &'static str) -> SocketAddr {
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else { return };
                tokio::spawn(async move {
                    read_request(&mut stream).await;
                    let _ = stream.write_all(response.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        addr
    })
}

/// Reads one HTTP request (headers and a Content-Length body).
async fn read_request(stream: &mut tokio::net::TcpStream) {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let Ok(n) = stream.read(&mut buf).await else { return };
        if n == 0 {
            return;
        }
        data.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&data);
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
                .unwrap_or(0usize);
            if data.len() >= end + 4 + length {
                return;
            }
        }
    }
}

#[test]
fn replies_tokens_and_sampling_settings_come_through() {
    let model = Arc::new(Scripted::new());
    let (_runtime, server) = start(model.clone());
    let mut policy = OpenAiPolicy::new(OpenAiSettings {
        temperature: 0.3,
        top_p: 0.9,
        top_k: 5,
        max_tokens: Some(77),
        seed: Some(100),
        stop: vec!["</function>".into()],
        ..settings(vec![base(server.local_addr())])
    })
    .unwrap();
    for _ in 0..3 {
        let reply = policy.respond(&conversation()).unwrap();
        assert_eq!(reply.text, R2E_CALL);
        assert_eq!((reply.prompt_tokens, reply.completion_tokens), (10, 17));
    }
    let seen = model.seen();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[0].messages, conversation());
    assert_eq!(seen.iter().map(|r| r.seed).collect::<Vec<_>>(), [Some(100), Some(101), Some(102)]);
    let r = &seen[2];
    assert_eq!((r.temperature, r.top_p, r.top_k, r.max_tokens), (Some(0.3), Some(0.9), Some(5), Some(77)));
    assert_eq!(r.stop, ["</function>"]);
    let stats = policy.stats();
    assert_eq!((stats.calls, stats.requests, stats.retries, stats.failures), (3, 3, 0, 0));
    assert_eq!((stats.prompt_tokens, stats.completion_tokens), (30, 51));

    // A fork starts its seeds again and counts on its own.
    let mut fork = policy.fork().with_seed(Some(7));
    fork.respond(&conversation()).unwrap();
    assert_eq!(model.seen()[3].seed, Some(7));
    assert_eq!(fork.stats().calls, 1);
    assert_eq!(policy.stats().calls, 3);
}

#[test]
fn models_health_and_bad_requests() {
    let (_runtime, server) = start(Arc::new(Scripted::new()));
    let root = format!("http://{}", server.local_addr());
    let http = reqwest::blocking::Client::new();

    let models: ModelList =
        serde_json::from_str(&http.get(format!("{root}/v1/models")).send().unwrap().text().unwrap()).unwrap();
    assert_eq!(models.object, "list");
    assert_eq!(models.data.len(), 1);
    assert_eq!(models.data[0].id, "scripted-r2e");

    let health = http.get(format!("{root}/health")).send().unwrap();
    assert_eq!(health.status(), 200);

    let post = |body: &str| {
        let r = http
            .post(format!("{root}/v1/chat/completions"))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .unwrap();
        (r.status().as_u16(), r.text().unwrap())
    };
    for bad in
        ["{not json", r#"{"model":"m"}"#, r#"{"messages":[]}"#, r#"{"messages":[{"role":"robot","content":"x"}]}"#]
    {
        let (status, body) = post(bad);
        assert_eq!(status, 400, "{bad}: {body}");
        let error: ErrorBody = serde_json::from_str(&body).unwrap();
        assert_eq!(error.error.kind, "invalid_request_error");
        assert!(!error.error.message.is_empty());
    }

    let missing = http.get(format!("{root}/v2/nothing")).send().unwrap();
    assert_eq!(missing.status(), 404);
    let error: ErrorBody = serde_json::from_str(&missing.text().unwrap()).unwrap();
    assert!(error.error.message.contains("/v2/nothing"));

    // Streaming a model that makes its text in one piece: the role, the
    // whole reply in one chunk, then the finish reason and the usage.
    let (status, body) = post(
        r#"{"model":"m","messages":[{"role":"user","content":"go"}],"stream":true,"stream_options":{"include_usage":true}}"#,
    );
    assert_eq!(status, 200);
    let events: Vec<&str> = body.lines().filter_map(|l| l.strip_prefix("data: ")).collect();
    assert_eq!(events.last(), Some(&"[DONE]"));
    let chunks: Vec<ChatCompletionChunk> =
        events[..events.len() - 1].iter().map(|e| serde_json::from_str(e).unwrap()).collect();
    assert_eq!(chunks[0].choices[0].delta.role.as_deref(), Some("assistant"));
    assert_eq!(chunks[1].choices[0].delta.content.as_deref(), Some(R2E_CALL));
    assert_eq!(chunks[2].choices[0].finish_reason.as_deref(), Some("stop"));
    assert_eq!(chunks[3].usage.unwrap().completion_tokens, 17);
}

#[test]
fn nothing_listening_is_unavailable_after_the_retries() {
    let addr = dead_addr();
    let mut policy = OpenAiPolicy::new(OpenAiSettings { max_retries: 2, ..settings(vec![base(addr)]) }).unwrap();
    let error = policy.respond(&conversation()).unwrap_err();
    let PolicyError::Unavailable(message) = &error else { panic!("{error:?}") };
    assert!(message.contains("3 attempt(s)") && message.contains(&addr.to_string()), "{message}");
    let stats = policy.stats();
    assert_eq!((stats.calls, stats.requests, stats.retries, stats.failures), (1, 3, 2, 1));
}

#[test]
fn a_slow_server_times_out() {
    let model = Arc::new(Scripted { delay: Duration::from_secs(3), ..Scripted::new() });
    let (runtime, server) = start(model);
    let mut policy = OpenAiPolicy::new(OpenAiSettings {
        timeout_secs: 0.3,
        max_retries: 1,
        ..settings(vec![base(server.local_addr())])
    })
    .unwrap();
    let error = policy.respond(&conversation()).unwrap_err();
    let PolicyError::Unavailable(message) = &error else { panic!("{error:?}") };
    assert!(message.contains("timed out"), "{message}");
    runtime.shutdown_background();
}

#[test]
fn a_garbage_body_is_an_invalid_response() {
    let runtime = Runtime::new().unwrap();
    let addr = raw_server(
        &runtime,
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 27\r\nConnection: close\r\n\r\n<html>surprise page</html>\n",
    );
    let mut policy = OpenAiPolicy::new(settings(vec![base(addr)])).unwrap();
    let error = policy.respond(&conversation()).unwrap_err();
    let PolicyError::InvalidResponse(message) = &error else { panic!("{error:?}") };
    assert!(message.contains("<html>surprise"), "{message}");
    assert_eq!(policy.stats().requests, 1, "an unusable answer is not retried");

    let addr = raw_server(
        &runtime,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 31\r\nConnection: close\r\n\r\n{\"choices\":[{\"message\":{}}]}\r\n\r\n",
    );
    let mut policy = OpenAiPolicy::new(settings(vec![base(addr)])).unwrap();
    let error = policy.respond(&conversation()).unwrap_err();
    assert!(matches!(&error, PolicyError::InvalidResponse(m) if m.contains("content")), "{error:?}");
}

#[test]
fn overloaded_twice_then_success_counts_the_retries() {
    let model = Arc::new(Scripted { fail_first: 2, ..Scripted::new() });
    let (_runtime, server) = start(model.clone());
    let mut policy = OpenAiPolicy::new(settings(vec![base(server.local_addr())])).unwrap();
    let reply = policy.respond(&conversation()).unwrap();
    assert_eq!(reply.text, R2E_CALL);
    let stats = policy.stats();
    assert_eq!((stats.calls, stats.requests, stats.retries, stats.failures), (1, 3, 2, 0));
    assert_eq!(model.seen().len(), 3);
}

#[test]
fn a_client_error_is_not_retried_and_is_reported() {
    let model = Arc::new(Scripted { reject: true, ..Scripted::new() });
    let (_runtime, server) = start(model.clone());
    let mut policy = OpenAiPolicy::new(settings(vec![base(server.local_addr())])).unwrap();
    let error = policy.respond(&conversation()).unwrap_err();
    let PolicyError::Unavailable(message) = &error else { panic!("{error:?}") };
    assert!(message.contains("400") && message.contains("longer than the context"), "{message}");
    assert_eq!(policy.stats().requests, 1);
    assert_eq!(model.seen().len(), 1);
}

#[test]
fn a_dead_endpoint_beside_a_live_one_is_passed_over() {
    let (_runtime, server) = start(Arc::new(Scripted::new()));
    let dead = dead_addr();
    let pool = EndpointPool::new([base(dead), base(server.local_addr())]).unwrap();
    let mut policy = OpenAiPolicy::with_pool(settings(vec![]), pool.clone()).unwrap();
    for _ in 0..6 {
        assert_eq!(policy.respond(&conversation()).unwrap().text, R2E_CALL);
    }
    let status = pool.status();
    assert!(status[0].failures >= 1, "the first request goes to the dead endpoint: {status:?}");
    assert_eq!(policy.stats().retries, status[0].failures, "each failure is retried on the live endpoint");
    assert_eq!(status[1].requests, 6);
    assert!(status.iter().all(|s| s.in_flight == 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn respond_works_inside_spawn_blocking() {
    let model = Arc::new(Scripted::new());
    let server = Server::bind(
        model.clone(),
        "127.0.0.1:0".parse().unwrap(),
        ServerOptions { max_concurrency: 2, ..Default::default() },
    )
    .await
    .unwrap();
    let addr = server.local_addr();
    let server = server.spawn();
    // Built and dropped in async code, used in blocking tasks: four rollouts sharing one pool.
    let template = OpenAiPolicy::new(OpenAiSettings { seed: Some(0), ..settings(vec![base(addr)]) }).unwrap();
    let tasks: Vec<_> = (0..4)
        .map(|i| {
            let mut policy = template.fork().with_seed(Some(i * 1000));
            tokio::task::spawn_blocking(move || {
                let texts: Vec<String> = (0..2).map(|_| policy.respond(&conversation()).unwrap().text).collect();
                (texts, policy)
            })
        })
        .collect();
    for task in tasks {
        let (texts, policy) = task.await.unwrap();
        assert_eq!(texts, [R2E_CALL, R2E_CALL]);
        assert_eq!(policy.stats().calls, 2);
        drop(policy);
    }
    let mut seeds: Vec<u64> = model.seen().iter().map(|r| r.seed.unwrap()).collect();
    seeds.sort();
    assert_eq!(seeds, [0, 1, 1000, 1001, 2000, 2001, 3000, 3001]);
    drop(template);
    server.shutdown().await.unwrap();
}
