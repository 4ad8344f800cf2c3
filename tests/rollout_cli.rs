//! `entropo rollout` against OpenAI-compatible endpoints: a real
//! `entropo serve`, and endpoints that are down, too slow or answer garbage
//! (those rollouts end with `llm_error` and keep their trajectory).

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use common::{entropo, repo_root, tiny_model};
use entropo_core::agent::Policy;
use entropo_core::rollout::{load_trajectory, read_index};
use entropo_core::types::{ExitReason, Message, Role};
use entropo_openai::{OpenAiPolicy, OpenAiSettings};

/// `entropo rollout` of one held-out suite task, `n` times, from `endpoint`.
fn rollout(out: &Path, endpoint: &str, n: u32, timeout_secs: f64) -> Vec<entropo_core::types::RolloutRecord> {
    entropo()
        .args(["rollout", "--config", "configs/quickstart.toml", "--out"])
        .arg(out.join("pool"))
        .args(["--set", &format!("output_dir={}", out.display())])
        .args(["--set", "tasks.suite.train=1", "--set", "tasks.suite.test=1"])
        .args(["--set", &format!("rollout.n={n}"), "--set", "rollout.limits.max_steps=2"])
        .args(["--set", "rollout.max_new_tokens=8"])
        .args(["--set", &format!("rollout.endpoints=[\"{endpoint}\"]")])
        .args(["--set", &format!("rollout.endpoint_timeout_secs={timeout_secs}")])
        .timeout(Duration::from_secs(600))
        .assert()
        .success();
    read_index(&out.join("pool/index.jsonl")).unwrap()
}

/// A server on loopback that answers every connection with `reply` after
/// `delay` (or never, for `None`).
fn fake_server(reply: Option<&'static str>, delay: Duration) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 65536];
                let _ = stream.read(&mut buf);
                std::thread::sleep(delay);
                match reply {
                    Some(body) => {
                        let _ = write!(
                            stream,
                            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                    }
                    None => std::thread::sleep(Duration::from_secs(3600)),
                }
            });
        }
    });
    format!("http://{addr}/v1")
}

fn assert_llm_errors(out: &Path, rows: &[entropo_core::types::RolloutRecord], needle: &str) {
    assert_eq!(rows.len(), 2);
    for row in rows {
        assert_eq!(row.exit_reason, ExitReason::LlmError, "{row:?}");
        let traj = load_trajectory(&out.join("pool"), row).unwrap();
        let message = traj.extra["llm_error_message"].as_str().unwrap().to_string();
        assert!(message.contains(needle), "{message}");
        assert!(traj.reward.is_some(), "the kept trajectory is still judged");
    }
}

#[test]
fn a_dead_endpoint_ends_rollouts_with_llm_error() {
    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let rows = rollout(dir.path(), &format!("http://127.0.0.1:{port}/v1"), 2, 5.0);
    assert_llm_errors(dir.path(), &rows, "no answer after");
}

#[test]
fn garbage_and_silence_end_rollouts_with_llm_error() {
    let garbage = tempfile::tempdir().unwrap();
    let rows = rollout(garbage.path(), &fake_server(Some("<html>not json</html>"), Duration::ZERO), 2, 5.0);
    assert_llm_errors(garbage.path(), &rows, "not json");

    let silent = tempfile::tempdir().unwrap();
    let rows = rollout(silent.path(), &fake_server(None, Duration::ZERO), 2, 0.5);
    assert_llm_errors(silent.path(), &rows, "timed out");
}

/// `entropo serve` on a free port; returns the child and its base URL.
fn serve(model: &Path) -> (Child, String) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_entropo"))
        .current_dir(repo_root())
        .args(["serve", "--port", "0", "--name", "tiny", "--model"])
        .arg(model)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let line = lines.next().unwrap().unwrap();
    let url = line.split_whitespace().find(|w| w.starts_with("http://")).unwrap().to_string();
    std::thread::spawn(move || lines.for_each(drop));
    (child, url)
}

#[test]
fn the_client_policy_talks_to_entropo_serve_and_rollouts_use_it() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    tiny_model(&model);
    let (mut child, url) = serve(&model);

    let settings = OpenAiSettings {
        endpoints: vec![url.clone()],
        model: "tiny".into(),
        max_tokens: Some(6),
        seed: Some(1),
        ..Default::default()
    };
    let mut policy = OpenAiPolicy::new(settings).unwrap();
    let chat = [Message::new(Role::System, "Fix bugs."), Message::new(Role::User, "Fix the off-by-one error.")];
    let reply = policy.respond(&chat).unwrap();
    assert!(reply.prompt_tokens > 5, "{reply:?}");
    assert!((1..=6).contains(&reply.completion_tokens), "{reply:?}");
    let again = policy.respond(&chat).unwrap();
    assert_eq!(policy.stats().requests, 2);
    assert!(again.completion_tokens <= 6);

    let rows = rollout(dir.path(), &url, 1, 60.0);
    child.kill().unwrap();
    assert_eq!(rows.len(), 1);
    assert_ne!(rows[0].exit_reason, ExitReason::LlmError, "{:?}", rows[0]);
    assert!(rows[0].tokens > 0);
}

/// POSTs a chat-completions body to `url` and returns the answer's JSON.
fn chat(url: &str, body: serde_json::Value) -> serde_json::Value {
    let text = reqwest::blocking::Client::new()
        .post(format!("{url}/chat/completions"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .unwrap()
        .text()
        .unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[test]
fn entropo_serve_batches_clients_streams_stops_and_shuts_down_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    tiny_model(&model);
    let (mut child, url) = serve(&model);
    let url = url.as_str();
    let ask = |i: usize, extra: serde_json::Value| {
        let mut body = serde_json::json!({
            "model": "tiny",
            "messages": [{"role": "user", "content": format!("Fix the bug in file {i}.")}],
            "temperature": 0.8, "seed": i, "max_tokens": 12
        });
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };
    // Eight clients at once get what each gets alone: batching changes no token.
    let alone: Vec<String> =
        (0..8).map(|i| chat(url, ask(i, serde_json::json!({})))["choices"][0]["message"]["content"].as_str().unwrap().into()).collect();
    let ask = &ask;
    let together: Vec<String> = std::thread::scope(|s| {
        let threads: Vec<_> = (0..8).map(|i| s.spawn(move || chat(url, ask(i, serde_json::json!({}))))).collect();
        threads.into_iter().map(|t| t.join().unwrap()["choices"][0]["message"]["content"].as_str().unwrap().to_string()).collect()
    });
    assert_eq!(together, alone);

    // A stop string cuts the text before it.
    let full = &alone[3];
    let stop: String = full.chars().skip(full.chars().count() / 2).take(2).collect();
    if !stop.trim().is_empty() {
        let cut = chat(url, ask(3, serde_json::json!({"stop": [stop.clone()]})));
        let text = cut["choices"][0]["message"]["content"].as_str().unwrap();
        assert_eq!(text, &full[..full.find(&stop).unwrap()]);
        assert_eq!(cut["choices"][0]["finish_reason"], "stop");
    }

    // n choices: choice i is the completion with seed + i, so choice 0 is
    // the one-choice request's.
    let three = chat(url, ask(2, serde_json::json!({"n": 3})));
    let choices = three["choices"].as_array().unwrap();
    assert_eq!(choices.len(), 3);
    assert_eq!(choices[0]["message"]["content"].as_str().unwrap(), alone[2]);
    assert!(three["usage"]["completion_tokens"].as_u64().unwrap() >= 3);

    // Streaming: the deltas add up to the whole reply.
    let streamed = reqwest::blocking::Client::new()
        .post(format!("{url}/chat/completions"))
        .header("content-type", "application/json")
        .body(ask(5, serde_json::json!({"stream": true})).to_string())
        .send()
        .unwrap()
        .text()
        .unwrap();
    let text: String = streamed
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .filter_map(|d| serde_json::from_str::<serde_json::Value>(d).unwrap()["choices"][0]["delta"]["content"].as_str().map(String::from))
        .collect();
    assert_eq!(text, alone[5]);

    // SIGTERM ends the process (a liveness bound, not a timing figure).
    std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        assert!(std::time::Instant::now() < deadline, "entropo serve still runs 20 s after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}
