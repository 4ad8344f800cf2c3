//! [`OpenAiPolicy`]: core's [`Policy`] over OpenAI-compatible HTTP servers.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use entropo_core::agent::{Policy, PolicyError, Reply};
use entropo_core::types::Message;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::SettingsError;
use crate::pool::{EndpointPool, Lease};
use crate::wire::{ChatCompletionRequest, ChatCompletionResponse, Stop, WireMessage, error_message};

/// Settings of an [`OpenAiPolicy`]; the `[policy]` table of a config.
///
/// Every field has a default, so a config names only what differs:
///
/// ```
/// use entropo_openai::OpenAiSettings;
/// let s: OpenAiSettings = serde_json::from_str(r#"{
///     "endpoints": ["http://gpu1:8000/v1", "http://gpu2:8000/v1"],
///     "model": "Qwen/Qwen3-8B",
///     "seed": 7
/// }"#).unwrap();
/// assert_eq!((s.temperature, s.top_p, s.top_k, s.max_retries), (0.7, 0.8, 20, 3));
/// assert!(serde_json::from_str::<OpenAiSettings>(r#"{"temprature": 1.0}"#).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct OpenAiSettings {
    /// Base URLs of OpenAI-compatible servers, such as
    /// `http://127.0.0.1:8000/v1` (requests go to `{base}/chat/completions`).
    /// Requests are spread over them: each goes to the one with the fewest
    /// in flight, and a failed request is retried on another.
    pub endpoints: Vec<String>,
    /// The served model's id, as `GET {base}/models` lists it.
    pub model: String,
    /// Name of an environment variable holding a bearer token, sent as
    /// `Authorization: Bearer …`; none sent when absent.
    pub api_key_env: Option<String>,
    /// Seconds one HTTP request may take, connecting to the last byte of the
    /// answer.
    pub timeout_secs: f64,
    /// Retries after the first attempt on connection errors, time-outs and
    /// HTTP 408, 429 and 5xx. Other 4xx answers are not retried.
    pub max_retries: u32,
    /// Milliseconds to wait before the first retry on an endpoint already
    /// tried; doubling with each retry (at most 60 s). Moving to an endpoint
    /// not yet tried does not wait.
    pub backoff_ms: u64,
    /// Wait a random 50–100 % of each back-off, so that rollouts that failed
    /// together do not retry together.
    pub jitter: bool,
    /// Sampling temperature; 0 is greedy.
    pub temperature: f32,
    /// Nucleus sampling mass, in (0, 1].
    pub top_p: f32,
    /// Top-k sampling, sent as the `top_k` field that vLLM, SGLang and
    /// llama.cpp accept (OpenAI itself rejects it); 0 sends no `top_k`.
    pub top_k: u32,
    /// Most tokens one reply may have; the server's limit when absent.
    pub max_tokens: Option<u32>,
    /// Sampling seed: call `n` (counting from 0) of a policy sends
    /// `seed + n`, so an episode is reproducible but its turns differ. No
    /// seed is sent when absent.
    pub seed: Option<u64>,
    /// Strings that end a reply (not included in it).
    pub stop: Vec<String>,
}

impl Default for OpenAiSettings {
    fn default() -> Self {
        OpenAiSettings {
            endpoints: vec!["http://127.0.0.1:8000/v1".into()],
            model: String::new(),
            api_key_env: None,
            timeout_secs: 600.0,
            max_retries: 3,
            backoff_ms: 500,
            jitter: true,
            temperature: 0.7,
            top_p: 0.8,
            top_k: 20,
            max_tokens: None,
            seed: None,
            stop: Vec::new(),
        }
    }
}

impl OpenAiSettings {
    /// Checks the numbers and the model name (endpoints are checked by
    /// [`EndpointPool::new`]).
    pub fn validate(&self) -> Result<(), SettingsError> {
        let out =
            |field, value: f64, reason| Err(SettingsError::OutOfRange { field, value: value.to_string(), reason });
        if self.model.trim().is_empty() {
            return Err(SettingsError::NoModel);
        }
        if !(self.timeout_secs.is_finite() && self.timeout_secs > 0.0) {
            return out("timeout_secs", self.timeout_secs, "a positive number of seconds");
        }
        if !(self.temperature.is_finite() && self.temperature >= 0.0) {
            return out("temperature", self.temperature.into(), "0 or more");
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return out("top_p", self.top_p.into(), "in (0, 1]");
        }
        Ok(())
    }
}

/// Counters of one policy (or of several sharing them, see
/// [`OpenAiPolicy::with_stats`]), readable from another thread while the
/// policy works.
#[derive(Debug, Default)]
pub struct PolicyStats {
    calls: AtomicU64,
    requests: AtomicU64,
    retries: AtomicU64,
    failures: AtomicU64,
    prompt_tokens: AtomicU64,
    completion_tokens: AtomicU64,
}

/// The counters of [`PolicyStats`] at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StatsSnapshot {
    /// `respond` calls.
    pub calls: u64,
    /// HTTP requests sent (first attempts plus retries).
    pub requests: u64,
    /// Requests that were retries.
    pub retries: u64,
    /// `respond` calls that returned an error.
    pub failures: u64,
    /// Prompt tokens of the successful calls, as the servers counted them.
    pub prompt_tokens: u64,
    /// Completion tokens of the successful calls.
    pub completion_tokens: u64,
}

impl PolicyStats {
    /// The counters now.
    pub fn snapshot(&self) -> StatsSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        StatsSnapshot {
            calls: get(&self.calls),
            requests: get(&self.requests),
            retries: get(&self.retries),
            failures: get(&self.failures),
            prompt_tokens: get(&self.prompt_tokens),
            completion_tokens: get(&self.completion_tokens),
        }
    }

    fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// An agent [`Policy`] that asks OpenAI-compatible chat-completions servers
/// (vLLM, SGLang, llama.cpp, `entropo serve`, OpenAI) for each reply.
///
/// Failures map onto core's [`PolicyError`], which ends the episode with
/// exit reason `llm_error`:
/// - [`PolicyError::Unavailable`]: no answer after `max_retries` retries
///   (connection refused, time-out, 429, 5xx; the message names the
///   endpoints tried and the last error), or an HTTP 4xx other than 408 and
///   429 (not retried; the message has the status and the body's
///   `error.message`);
/// - [`PolicyError::InvalidResponse`]: a 2xx answer that is not a chat
///   completion with `choices[0].message.content` (the message quotes the
///   start of the body). Not retried.
///
/// Token counts come from the answer's `usage` (0 when a server sends
/// none).
///
/// `respond` blocks; call it from a thread that may block (a plain thread or
/// tokio's `spawn_blocking`), not from an async task. Creating, moving and
/// dropping a policy is fine anywhere.
///
/// ```no_run
/// use entropo_core::agent::Policy;
/// use entropo_core::types::{Message, Role};
/// use entropo_openai::{OpenAiPolicy, OpenAiSettings};
///
/// let settings = OpenAiSettings {
///     endpoints: vec!["http://127.0.0.1:8000/v1".into()],
///     model: "qwen3-8b".into(),
///     seed: Some(0),
///     ..Default::default()
/// };
/// let mut policy = OpenAiPolicy::new(settings)?;
/// let reply = policy.respond(&[Message::new(Role::User, "Fix the failing test.")])?;
/// println!("{} ({} + {} tokens)", reply.text, reply.prompt_tokens, reply.completion_tokens);
/// println!("{:?}", policy.stats());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct OpenAiPolicy {
    settings: OpenAiSettings,
    pool: Arc<EndpointPool>,
    api_key: Option<String>,
    calls: u64,
    stats: Arc<PolicyStats>,
    rng: u64,
}

impl std::fmt::Debug for OpenAiPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiPolicy")
            .field("settings", &self.settings)
            .field("pool", &self.pool)
            .field("api_key", &self.api_key.as_ref().map(|_| "…"))
            .field("calls", &self.calls)
            .finish_non_exhaustive()
    }
}

/// How one HTTP attempt failed.
enum Attempt {
    /// Worth another try (connection, time-out, 408, 429, 5xx).
    Retry(String),
    /// Final: the call fails with this error.
    Fail(PolicyError),
}

impl OpenAiPolicy {
    /// A policy with its own pool over `settings.endpoints`. Reads the API
    /// key now if `api_key_env` names one.
    pub fn new(settings: OpenAiSettings) -> Result<Self, SettingsError> {
        let pool = EndpointPool::new(&settings.endpoints)?;
        Self::with_pool(settings, pool)
    }

    /// A policy sending its requests through `pool`, shared with other
    /// policies (`settings.endpoints` is then not used).
    pub fn with_pool(settings: OpenAiSettings, pool: Arc<EndpointPool>) -> Result<Self, SettingsError> {
        settings.validate()?;
        let api_key = match &settings.api_key_env {
            None => None,
            Some(var) => Some(std::env::var(var).map_err(|_| SettingsError::MissingApiKey(var.clone()))?),
        };
        let rng = settings.seed.unwrap_or(0) ^ seed_from_clock();
        Ok(OpenAiPolicy { settings, pool, api_key, calls: 0, stats: Arc::default(), rng })
    }

    /// A new policy with the same settings, pool and API key, its own call
    /// counter (so seeds start again at `seed`) and its own statistics: one
    /// per rollout.
    pub fn fork(&self) -> Self {
        OpenAiPolicy {
            settings: self.settings.clone(),
            pool: self.pool.clone(),
            api_key: self.api_key.clone(),
            calls: 0,
            stats: Arc::default(),
            rng: splitmix64(&mut self.rng.clone()) ^ seed_from_clock(),
        }
    }

    /// Sets the seed the next call starts from (rollout `i` of a task can
    /// use `base + i * 1_000_000`, say); `None` sends no seed. Resets the
    /// call counter.
    pub fn with_seed(mut self, seed: Option<u64>) -> Self {
        self.settings.seed = seed;
        self.calls = 0;
        self
    }

    /// Counts into `stats` instead of this policy's own counters, so that
    /// several policies add up in one place.
    pub fn with_stats(mut self, stats: Arc<PolicyStats>) -> Self {
        self.stats = stats;
        self
    }

    /// The settings.
    pub fn settings(&self) -> &OpenAiSettings {
        &self.settings
    }

    /// The endpoint pool (clone it to share it).
    pub fn pool(&self) -> &Arc<EndpointPool> {
        &self.pool
    }

    /// `respond` calls made so far.
    pub fn calls(&self) -> u64 {
        self.calls
    }

    /// The counters now.
    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }

    /// The counters themselves, to read while the policy runs elsewhere.
    pub fn stats_handle(&self) -> Arc<PolicyStats> {
        self.stats.clone()
    }

    /// The request body for `messages` with `seed`.
    fn request_body(&self, messages: &[Message], seed: Option<u64>) -> Vec<u8> {
        let s = &self.settings;
        let request = ChatCompletionRequest {
            model: s.model.clone(),
            messages: messages.iter().map(WireMessage::from).collect(),
            temperature: Some(s.temperature),
            top_p: Some(s.top_p),
            top_k: (s.top_k > 0).then_some(i64::from(s.top_k)),
            max_tokens: s.max_tokens,
            seed,
            stop: (!s.stop.is_empty()).then(|| Stop::Many(s.stop.clone())),
            stream: Some(false),
            ..Default::default()
        };
        serde_json::to_vec(&request).expect("a chat request serializes")
    }

    fn backoff(&mut self, retry: u32) -> Duration {
        let base = self.settings.backoff_ms;
        let ms = base.saturating_mul(1 << (retry.saturating_sub(1)).min(20)).min(base.max(60_000));
        let ms = if self.settings.jitter {
            let unit = (splitmix64(&mut self.rng) >> 11) as f64 / (1u64 << 53) as f64;
            (ms as f64 * (0.5 + 0.5 * unit)) as u64
        } else {
            ms
        };
        Duration::from_millis(ms)
    }

    fn send(&mut self, body: &[u8]) -> Result<Reply, PolicyError> {
        let client = self.pool.client().map_err(PolicyError::Unavailable)?;
        let pool = self.pool.clone();
        let attempts = self.settings.max_retries.saturating_add(1);
        let mut tried: Vec<usize> = Vec::new();
        let mut last_error = String::new();
        for attempt in 0..attempts {
            let lease = pool.acquire(&tried);
            if attempt > 0 {
                PolicyStats::add(&self.stats.retries, 1);
                if tried.contains(&lease.index()) {
                    std::thread::sleep(self.backoff(attempt));
                }
            }
            PolicyStats::add(&self.stats.requests, 1);
            match self.attempt(&client, &lease, body) {
                Ok(reply) => {
                    pool.record_success(lease.index());
                    return Ok(reply);
                }
                Err(Attempt::Fail(e)) => {
                    pool.record_success(lease.index());
                    return Err(e);
                }
                Err(Attempt::Retry(message)) => {
                    tracing::debug!(endpoint = lease.base_url(), attempt, "request failed: {message}");
                    pool.record_failure(lease.index());
                    last_error = format!("{}: {message}", lease.base_url());
                    if !tried.contains(&lease.index()) {
                        tried.push(lease.index());
                    }
                }
            }
        }
        let endpoints: Vec<&str> = tried.iter().map(|&i| pool.base(i)).collect();
        Err(PolicyError::Unavailable(format!(
            "no answer after {attempts} attempt(s) on {}; last error: {last_error}",
            endpoints.join(", ")
        )))
    }

    fn attempt(&self, client: &reqwest::blocking::Client, lease: &Lease<'_>, body: &[u8]) -> Result<Reply, Attempt> {
        let timeout = Duration::from_secs_f64(self.settings.timeout_secs);
        let mut request = client
            .post(lease.chat_url())
            .timeout(timeout)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_vec());
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key);
        }
        let describe = |e: reqwest::Error| {
            if e.is_timeout() {
                format!("timed out after {} s (timeout_secs)", self.settings.timeout_secs)
            } else {
                error_chain(&e)
            }
        };
        let response = request.send().map_err(|e| Attempt::Retry(describe(e)))?;
        let status = response.status();
        let text = response.text().map_err(|e| Attempt::Retry(describe(e)))?;
        if status.is_success() {
            return parse_reply(&text)
                .map_err(|why| Attempt::Fail(PolicyError::InvalidResponse(format!("{}: {why}", lease.base_url()))));
        }
        let detail = error_message(&text).unwrap_or_else(|| prefix(&text));
        let message = format!("HTTP {status}: {detail}");
        if status.is_server_error() || matches!(status.as_u16(), 408 | 429) {
            Err(Attempt::Retry(message))
        } else {
            Err(Attempt::Fail(PolicyError::Unavailable(format!("{} refused the request: {message}", lease.base_url()))))
        }
    }
}

impl Policy for OpenAiPolicy {
    fn respond(&mut self, messages: &[Message]) -> Result<Reply, PolicyError> {
        let seed = self.settings.seed.map(|s| s.wrapping_add(self.calls));
        self.calls += 1;
        PolicyStats::add(&self.stats.calls, 1);
        let body = self.request_body(messages, seed);
        let result = self.send(&body);
        match &result {
            Ok(reply) => {
                PolicyStats::add(&self.stats.prompt_tokens, reply.prompt_tokens);
                PolicyStats::add(&self.stats.completion_tokens, reply.completion_tokens);
            }
            Err(_) => PolicyStats::add(&self.stats.failures, 1),
        }
        result
    }
}

/// The reply in a 2xx body, or why there is none.
fn parse_reply(body: &str) -> Result<Reply, String> {
    let response: ChatCompletionResponse =
        serde_json::from_str(body).map_err(|e| format!("the body is not a chat completion ({e}): {}", prefix(body)))?;
    let Some(choice) = response.choices.first() else {
        return Err(format!("the answer has no choices: {}", prefix(body)));
    };
    let Some(text) = choice.message.as_ref().and_then(|m| m.content.clone()) else {
        return Err(format!("choices[0].message.content is missing: {}", prefix(body)));
    };
    let usage = response.usage.unwrap_or_default();
    Ok(Reply { text, prompt_tokens: usage.prompt_tokens, completion_tokens: usage.completion_tokens })
}

/// At most 200 characters of `body`, quoted, with `…` when cut.
fn prefix(body: &str) -> String {
    const MAX: usize = 200;
    match body.char_indices().nth(MAX) {
        None => format!("{body:?}"),
        Some((cut, _)) => format!("{:?}…", &body[..cut]),
    }
}

/// An error and its sources, `a: b: c`, without repeats.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn seed_from_clock() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use entropo_core::types::Role;

    fn settings() -> OpenAiSettings {
        OpenAiSettings { model: "m".into(), ..Default::default() }
    }

    #[test]
    fn settings_are_validated() {
        assert_eq!(OpenAiPolicy::new(OpenAiSettings::default()).unwrap_err(), SettingsError::NoModel);
        let bad = OpenAiSettings { timeout_secs: 0.0, ..settings() };
        assert!(matches!(OpenAiPolicy::new(bad), Err(SettingsError::OutOfRange { field: "timeout_secs", .. })));
        let bad = OpenAiSettings { top_p: 0.0, ..settings() };
        assert!(matches!(OpenAiPolicy::new(bad), Err(SettingsError::OutOfRange { field: "top_p", .. })));
        let bad = OpenAiSettings { endpoints: vec![], ..settings() };
        assert_eq!(OpenAiPolicy::new(bad).unwrap_err(), SettingsError::NoEndpoints);
        let bad = OpenAiSettings { api_key_env: Some("ENTROPO_OPENAI_TEST_SURELY_UNSET".into()), ..settings() };
        assert!(matches!(OpenAiPolicy::new(bad), Err(SettingsError::MissingApiKey(_))));
    }

    #[test]
    fn settings_read_from_toml_with_defaults() {
        let s: OpenAiSettings =
            toml::from_str("endpoints = ['http://a:1/v1']\nmodel = 'x'\ntimeout_secs = 30\n").unwrap();
        assert_eq!(s.timeout_secs, 30.0);
        assert_eq!(s.backoff_ms, 500);
        assert!(toml::from_str::<OpenAiSettings>("modle = 'x'").is_err());
        let schema = serde_json::to_value(schemars::schema_for!(OpenAiSettings)).unwrap();
        assert!(schema["properties"]["top_k"]["description"].as_str().unwrap().contains("top_k"));
    }

    #[test]
    fn request_body_carries_sampling_settings() {
        let s = OpenAiSettings { max_tokens: Some(64), stop: vec!["</function>".into()], top_k: 0, ..settings() };
        let policy = OpenAiPolicy::new(s).unwrap();
        let body = policy.request_body(&[Message::new(Role::User, "hi")], Some(9));
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["model"], "m");
        assert_eq!(v["messages"][0], serde_json::json!({"role": "user", "content": "hi"}));
        assert_eq!(v["max_tokens"], 64);
        assert_eq!(v["seed"], 9);
        assert_eq!(v["stop"], serde_json::json!(["</function>"]));
        assert_eq!(v["stream"], false);
        assert!(v.get("top_k").is_none(), "top_k = 0 is not sent");
        assert!((v["temperature"].as_f64().unwrap() - 0.7).abs() < 1e-6);
    }

    #[test]
    fn backoff_doubles_and_jitters_within_bounds() {
        let mut p = OpenAiPolicy::new(OpenAiSettings { backoff_ms: 100, jitter: false, ..settings() }).unwrap();
        let ms: Vec<u128> = (1..=4).map(|r| p.backoff(r).as_millis()).collect();
        assert_eq!(ms, [100, 200, 400, 800]);
        assert_eq!(p.backoff(40).as_millis(), 60_000);
        let mut p = OpenAiPolicy::new(OpenAiSettings { backoff_ms: 100, ..settings() }).unwrap();
        for _ in 0..50 {
            let d = p.backoff(2).as_millis();
            assert!((100..=200).contains(&d), "{d}");
        }
    }

    #[test]
    fn replies_are_parsed_strictly() {
        let ok = r#"{"choices":[{"message":{"role":"assistant","content":"x"}}],"usage":{"prompt_tokens":3,"completion_tokens":1}}"#;
        assert_eq!(parse_reply(ok).unwrap(), Reply { text: "x".into(), prompt_tokens: 3, completion_tokens: 1 });
        assert!(parse_reply(r#"{"choices":[]}"#).unwrap_err().contains("no choices"));
        assert!(parse_reply(r#"{"choices":[{"message":{"content":null}}]}"#).unwrap_err().contains("content"));
        let long = "<".repeat(1000);
        let e = parse_reply(&long).unwrap_err();
        assert!(e.len() < 400 && e.ends_with('…'), "{e}");
    }
}
