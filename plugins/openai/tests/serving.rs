//! The server as a client sees it: text streamed as it is made, a client
//! that goes away stops its generation, `n` choices, a full queue answered
//! 503 with `Retry-After`, and a shutdown that stops running generations.
//! Each test runs under a watchdog, so a hang fails in seconds.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use std::time::Duration;

use entropo_openai::wire::{ChatCompletionChunk, ChatCompletionResponse, ErrorBody};
use entropo_openai::{ChatCompletion, ChatError, ChatModel, ChatRequest, FinishReason, Server, ServerHandle, ServerOptions};
use tokio::runtime::Runtime;

/// Runs `f` on its own thread; fails if it takes longer than `secs`.
fn watchdog(secs: u64, f: impl FnOnce() + Send + 'static) {
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        f();
        let _ = done.send(());
    });
    match finished.recv_timeout(Duration::from_secs(secs)) {
        Ok(()) => {}
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("timed out after {secs} s"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("the test body panicked"),
    }
}

/// Says `word0 word1 …` up to `words` words, one every `pace`, stopping
/// when told to; records every request and how each completion ended.
struct Ticker {
    words: usize,
    pace: Duration,
    seen: Mutex<Vec<ChatRequest>>,
    /// Words said by completions that were told to stop.
    stopped_after: Mutex<Vec<usize>>,
    running: AtomicUsize,
}

impl Ticker {
    fn new(words: usize, pace_ms: u64) -> Arc<Self> {
        Arc::new(Ticker {
            words,
            pace: Duration::from_millis(pace_ms),
            seen: Mutex::default(),
            stopped_after: Mutex::default(),
            running: AtomicUsize::new(0),
        })
    }
}

impl ChatModel for Ticker {
    fn model_id(&self) -> &str {
        "ticker"
    }
    fn complete(&self, request: &ChatRequest) -> Result<ChatCompletion, ChatError> {
        self.complete_streaming(request, &mut |_| ControlFlow::Continue(()))
    }
    fn complete_streaming(
        &self,
        request: &ChatRequest,
        on_text: &mut dyn FnMut(&str) -> ControlFlow<()>,
    ) -> Result<ChatCompletion, ChatError> {
        self.seen.lock().unwrap().push(request.clone());
        self.running.fetch_add(1, Ordering::SeqCst);
        let mut text = String::new();
        let mut said = 0;
        let mut finish = FinishReason::Length;
        let words = request.max_tokens.map_or(self.words, |m| m as usize);
        while said < words {
            std::thread::sleep(self.pace);
            let word = format!("w{said} ");
            text.push_str(&word);
            said += 1;
            if on_text(&word).is_break() {
                self.stopped_after.lock().unwrap().push(said);
                finish = FinishReason::Stop;
                break;
            }
        }
        self.running.fetch_sub(1, Ordering::SeqCst);
        Ok(ChatCompletion { text, prompt_tokens: 3, completion_tokens: said as u64, finish_reason: finish })
    }
}

fn start(model: Arc<dyn ChatModel>, options: ServerOptions) -> (Runtime, ServerHandle) {
    let runtime = Runtime::new().unwrap();
    let handle =
        runtime.block_on(async { Server::bind(model, "127.0.0.1:0".parse().unwrap(), options).await.unwrap().spawn() });
    (runtime, handle)
}

fn json<T: serde::de::DeserializeOwned>(r: reqwest::blocking::Response) -> T {
    serde_json::from_str(&r.text().unwrap()).unwrap()
}

const STREAM: &str = r#"{"model":"ticker","messages":[{"role":"user","content":"go"}],"stream":true}"#;

/// Sends a POST of `body` on a raw connection and returns it, for reading
/// the answer as it arrives.
fn post_raw(addr: SocketAddr, body: &str) -> BufReader<TcpStream> {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST /v1/chat/completions HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    BufReader::new(stream)
}

/// The next `data:` event of a streamed answer (chunked encoding's size
/// lines and blank lines skipped).
fn next_event(reader: &mut BufReader<TcpStream>) -> Option<String> {
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if let Some(data) = line.trim_end().strip_prefix("data: ") {
            return Some(data.to_string());
        }
    }
}

#[test]
fn text_streams_while_it_is_made() {
    watchdog(30, || {
        let model = Ticker::new(20, 50);
        let (_rt, server) = start(model.clone(), ServerOptions::default());
        let mut reader = post_raw(server.local_addr(), STREAM);
        let first: ChatCompletionChunk = serde_json::from_str(&next_event(&mut reader).unwrap()).unwrap();
        assert_eq!(first.choices[0].delta.role.as_deref(), Some("assistant"));
        let second: ChatCompletionChunk = serde_json::from_str(&next_event(&mut reader).unwrap()).unwrap();
        assert_eq!(second.choices[0].delta.content.as_deref(), Some("w0 "));
        // The first word arrived while the model was still generating the rest.
        assert_eq!(model.running.load(Ordering::SeqCst), 1, "the first word came before the last");
        let mut words = 1;
        let mut finish = None;
        while let Some(event) = next_event(&mut reader) {
            if event == "[DONE]" {
                break;
            }
            let chunk: ChatCompletionChunk = serde_json::from_str(&event).unwrap();
            if chunk.choices[0].delta.content.is_some() {
                words += 1;
            }
            finish = finish.or(chunk.choices[0].finish_reason.clone());
        }
        assert_eq!((words, finish.as_deref()), (20, Some("length")));
    });
}

#[test]
fn a_client_that_goes_away_mid_stream_stops_its_generation_and_frees_the_slot() {
    watchdog(30, || {
        // 400 words at 20 ms would hold the only slot for 8 s.
        let model = Ticker::new(400, 20);
        let (_rt, server) = start(model.clone(), ServerOptions { max_concurrency: 1, ..Default::default() });
        let mut reader = post_raw(server.local_addr(), STREAM);
        for _ in 0..3 {
            next_event(&mut reader).unwrap();
        }
        drop(reader);
        // The next request gets the slot once the gone client's generation stops.
        let body = r#"{"model":"ticker","messages":[{"role":"user","content":"next"}],"max_tokens":2}"#;
        let mut reader = post_raw(server.local_addr(), body);
        let mut answer = String::new();
        reader.read_to_string(&mut answer).ok();
        let stopped = model.stopped_after.lock().unwrap().clone();
        assert_eq!(stopped.len(), 1, "the gone client's generation was stopped");
        assert!(stopped[0] < 400, "it stopped after {} of 400 words", stopped[0]);
    });
}

#[test]
fn n_choices_each_with_its_seed_and_the_usage_summed() {
    watchdog(30, || {
        let model = Ticker::new(3, 1);
        let (_rt, server) = start(model.clone(), ServerOptions { max_concurrency: 4, ..Default::default() });
        let url = format!("http://{}/v1/chat/completions", server.local_addr());
        let http = reqwest::blocking::Client::new();
        let body = r#"{"model":"ticker","messages":[{"role":"user","content":"go"}],"n":3,"seed":40}"#;
        let answer: ChatCompletionResponse =
            json(http.post(&url).header("content-type", "application/json").body(body).send().unwrap());
        assert_eq!(answer.choices.iter().map(|c| c.index).collect::<Vec<_>>(), [0, 1, 2]);
        let usage = answer.usage.unwrap();
        assert_eq!((usage.prompt_tokens, usage.completion_tokens), (3, 9));
        let mut seeds: Vec<u64> = model.seen.lock().unwrap().iter().map(|r| r.seed.unwrap()).collect();
        seeds.sort();
        assert_eq!(seeds, [40, 41, 42]);
        // More choices than the server computes at once is refused, as is n = 0.
        for n in [5, 0] {
            let body = format!(r#"{{"messages":[{{"role":"user","content":"go"}}],"n":{n}}}"#);
            let r = http.post(&url).header("content-type", "application/json").body(body).send().unwrap();
            assert_eq!(r.status(), 400);
            let error: ErrorBody = json(r);
            assert!(error.error.message.contains(&format!("n = {n}")), "{}", error.error.message);
        }
    });
}

#[test]
fn a_full_queue_is_answered_503_with_retry_after() {
    watchdog(30, || {
        let model = Ticker::new(100, 20);
        let options = ServerOptions { max_concurrency: 1, max_queue: 1, ..Default::default() };
        let (_rt, server) = start(model.clone(), options);
        let addr = server.local_addr();
        // One computing, one queued.
        let mut running = post_raw(addr, STREAM);
        next_event(&mut running).unwrap();
        let queued = std::thread::spawn(move || {
            let mut r = post_raw(addr, r#"{"messages":[{"role":"user","content":"q"}],"max_tokens":1}"#);
            let mut s = String::new();
            r.read_to_string(&mut s).ok();
            s
        });
        // Wait until /health counts the second request as queued.
        let http = reqwest::blocking::Client::new();
        let health = || -> serde_json::Value { json(http.get(format!("http://{addr}/health")).send().unwrap()) };
        while health()["queued"] != 1 {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(health()["running"], 1);
        let refused = http
            .post(format!("http://{addr}/v1/chat/completions"))
            .header("content-type", "application/json")
            .body(r#"{"messages":[{"role":"user","content":"x"}]}"#)
            .send()
            .unwrap();
        assert_eq!(refused.status(), 503);
        assert_eq!(refused.headers()["retry-after"], "1");
        let error: ErrorBody = json(refused);
        assert_eq!(error.error.kind, "overloaded_error");
        drop(running);
        assert!(queued.join().unwrap().starts_with("HTTP/1.1 200"), "the queued request was served");
    });
}

#[test]
fn shutdown_stops_running_generations() {
    watchdog(30, || {
        let model = Ticker::new(1000, 20);
        let (rt, server) = start(model.clone(), ServerOptions::default());
        let mut reader = post_raw(server.local_addr(), STREAM);
        next_event(&mut reader).unwrap();
        next_event(&mut reader).unwrap();
        let ended = Arc::new(AtomicBool::new(false));
        let client_saw_end = ended.clone();
        let client = std::thread::spawn(move || {
            while next_event(&mut reader).is_some_and(|e| e != "[DONE]") {}
            client_saw_end.store(true, Ordering::SeqCst);
        });
        rt.block_on(server.shutdown()).unwrap();
        client.join().unwrap();
        assert!(ended.load(Ordering::SeqCst));
        let stopped = model.stopped_after.lock().unwrap().clone();
        assert_eq!(stopped.len(), 1);
        assert!(stopped[0] < 1000, "the generation stopped after {} of 1000 words", stopped[0]);
    });
}

/// Refuses every request, as a model refuses a prompt past its context.
struct Refuser;

impl ChatModel for Refuser {
    fn model_id(&self) -> &str {
        "refuser"
    }
    fn complete(&self, _: &ChatRequest) -> Result<ChatCompletion, ChatError> {
        Err(ChatError::InvalidRequest("the prompt has 9000 tokens; the context holds 8192".into()))
    }
}

#[test]
fn a_streamed_request_the_model_refuses_gets_its_error_status() {
    watchdog(30, || {
        let (_rt, server) = start(Arc::new(Refuser), ServerOptions::default());
        let r = reqwest::blocking::Client::new()
            .post(format!("http://{}/v1/chat/completions", server.local_addr()))
            .header("content-type", "application/json")
            .body(STREAM)
            .send()
            .unwrap();
        assert_eq!(r.status(), 400);
        let error: ErrorBody = json(r);
        assert_eq!(error.error.kind, "invalid_request_error");
        assert!(error.error.message.contains("context holds 8192"), "{}", error.error.message);
    });
}
