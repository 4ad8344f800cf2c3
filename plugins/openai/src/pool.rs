//! [`EndpointPool`]: the servers a set of policies share, and the HTTP
//! client they share with them.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::error::SettingsError;

/// How long an endpoint that just failed is passed over while another one is
/// healthy: this much after the first failure in a row, doubling with each
/// further one up to [`MAX_COOL_DOWN`]. A success ends it.
pub const FIRST_COOL_DOWN: Duration = Duration::from_secs(2);
/// The longest cool-down.
pub const MAX_COOL_DOWN: Duration = Duration::from_secs(60);

/// OpenAI-compatible servers that rollouts are spread over.
///
/// Each request goes to the endpoint with the fewest requests in flight,
/// ties broken round-robin. An endpoint whose last request failed
/// (connection error, time-out, 429, 5xx) is passed over for a cool-down
/// while another one is healthy; when all are cooling down the least loaded
/// one is used anyway. Share one pool between policies with [`Arc`] so that
/// the in-flight counts see every rollout:
///
/// ```
/// use entropo_openai::{EndpointPool, OpenAiPolicy, OpenAiSettings};
/// let pool = EndpointPool::new(["http://10.0.0.1:8000/v1", "http://10.0.0.2:8000/v1/"]).unwrap();
/// assert_eq!(pool.endpoints(), ["http://10.0.0.1:8000/v1", "http://10.0.0.2:8000/v1"]);
/// let settings = OpenAiSettings { model: "qwen3-8b".into(), ..Default::default() };
/// let a = OpenAiPolicy::with_pool(settings.clone(), pool.clone()).unwrap();
/// let b = OpenAiPolicy::with_pool(settings, pool.clone()).unwrap();
/// assert!(std::sync::Arc::ptr_eq(a.pool(), b.pool()));
/// ```
///
/// The pool also holds the blocking HTTP client (one connection pool for all
/// policies). It is built at the first request, so a pool may be created
/// anywhere, including inside an async task; the requests themselves must be
/// made from a thread that may block (see [`OpenAiPolicy`](crate::OpenAiPolicy)).
pub struct EndpointPool {
    endpoints: Vec<Endpoint>,
    cursor: AtomicUsize,
    client: Mutex<Option<reqwest::blocking::Client>>,
}

struct Endpoint {
    base: String,
    chat_url: String,
    in_flight: AtomicUsize,
    requests: AtomicU64,
    failures: AtomicU64,
    health: Mutex<Health>,
}

#[derive(Default)]
struct Health {
    failures_in_a_row: u32,
    down_until: Option<Instant>,
}

/// One endpoint's state, for reports and benchmarks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointStatus {
    /// Its base URL.
    pub url: String,
    /// Requests sent and not yet answered.
    pub in_flight: usize,
    /// Requests sent so far.
    pub requests: u64,
    /// Requests that failed in a way that is retried (connection error,
    /// time-out, 429, 5xx).
    pub failures: u64,
    /// Whether it is being passed over after a failure.
    pub cooling_down: bool,
}

/// An endpoint chosen for one request; counted as in flight until dropped.
pub struct Lease<'a> {
    pool: &'a EndpointPool,
    index: usize,
}

impl Lease<'_> {
    /// The endpoint's position in the pool.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The endpoint's base URL.
    pub fn base_url(&self) -> &str {
        &self.pool.endpoints[self.index].base
    }

    /// `{base}/chat/completions`.
    pub fn chat_url(&self) -> &str {
        &self.pool.endpoints[self.index].chat_url
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        self.pool.endpoints[self.index].in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl EndpointPool {
    /// A pool over `endpoints`, base URLs such as `http://127.0.0.1:8000/v1`
    /// (requests go to `{base}/chat/completions`; a trailing `/` is
    /// dropped).
    pub fn new<I, S>(endpoints: I) -> Result<Arc<Self>, SettingsError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let endpoints = endpoints
            .into_iter()
            .map(|e| {
                let base = check_endpoint(e.as_ref())?;
                Ok(Endpoint {
                    chat_url: format!("{base}/chat/completions"),
                    base,
                    in_flight: AtomicUsize::new(0),
                    requests: AtomicU64::new(0),
                    failures: AtomicU64::new(0),
                    health: Mutex::new(Health::default()),
                })
            })
            .collect::<Result<Vec<_>, SettingsError>>()?;
        if endpoints.is_empty() {
            return Err(SettingsError::NoEndpoints);
        }
        Ok(Arc::new(EndpointPool { endpoints, cursor: AtomicUsize::new(0), client: Mutex::new(None) }))
    }

    /// The base URLs, in order.
    pub fn endpoints(&self) -> Vec<String> {
        self.endpoints.iter().map(|e| e.base.clone()).collect()
    }

    /// The base URL of endpoint `index`.
    pub(crate) fn base(&self, index: usize) -> &str {
        &self.endpoints[index].base
    }

    /// Every endpoint's counters.
    pub fn status(&self) -> Vec<EndpointStatus> {
        let now = Instant::now();
        self.endpoints
            .iter()
            .map(|e| EndpointStatus {
                url: e.base.clone(),
                in_flight: e.in_flight.load(Ordering::Relaxed),
                requests: e.requests.load(Ordering::Relaxed),
                failures: e.failures.load(Ordering::Relaxed),
                cooling_down: lock(&e.health).down_until.is_some_and(|t| t > now),
            })
            .collect()
    }

    /// Chooses the endpoint for the next request: among those not in
    /// `avoid` (the ones this call already tried; all when that leaves none)
    /// the healthy ones if there are any, then the fewest in flight, ties
    /// round-robin. The request counts as in flight until the lease drops.
    pub fn acquire(&self, avoid: &[usize]) -> Lease<'_> {
        let n = self.endpoints.len();
        let start = self.cursor.fetch_add(1, Ordering::Relaxed) % n;
        let now = Instant::now();
        let all_avoided = (0..n).all(|i| avoid.contains(&i));
        let mut best: Option<((bool, usize), usize)> = None;
        for offset in 0..n {
            let i = (start + offset) % n;
            if !all_avoided && avoid.contains(&i) {
                continue;
            }
            let e = &self.endpoints[i];
            let cooling = lock(&e.health).down_until.is_some_and(|t| t > now);
            let key = (cooling, e.in_flight.load(Ordering::Relaxed));
            if best.is_none_or(|(k, _)| key < k) {
                best = Some((key, i));
            }
        }
        let index = best.map_or(start, |(_, i)| i);
        let e = &self.endpoints[index];
        e.in_flight.fetch_add(1, Ordering::Relaxed);
        e.requests.fetch_add(1, Ordering::Relaxed);
        Lease { pool: self, index }
    }

    /// Records that endpoint `index` answered (even with an error status
    /// that is not retried): its cool-down ends.
    pub fn record_success(&self, index: usize) {
        *lock(&self.endpoints[index].health) = Health::default();
    }

    /// Records a retryable failure of endpoint `index`, starting or
    /// lengthening its cool-down.
    pub fn record_failure(&self, index: usize) {
        let e = &self.endpoints[index];
        e.failures.fetch_add(1, Ordering::Relaxed);
        let mut health = lock(&e.health);
        let doublings = health.failures_in_a_row.min(5);
        health.failures_in_a_row = health.failures_in_a_row.saturating_add(1);
        let cool_down = (FIRST_COOL_DOWN * (1u32 << doublings)).min(MAX_COOL_DOWN);
        health.down_until = Some(Instant::now() + cool_down);
    }

    /// The shared blocking HTTP client, built at the first call. Building
    /// it blocks, so this must not run on an async executor thread.
    pub(crate) fn client(&self) -> Result<reqwest::blocking::Client, String> {
        let mut slot = lock(&self.client);
        if let Some(client) = slot.as_ref() {
            return Ok(client.clone());
        }
        let client = reqwest::blocking::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        *slot = Some(client.clone());
        Ok(client)
    }
}

impl std::fmt::Debug for EndpointPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndpointPool").field("endpoints", &self.status()).finish()
    }
}

fn check_endpoint(endpoint: &str) -> Result<String, SettingsError> {
    let bad = |reason: String| SettingsError::BadEndpoint { endpoint: endpoint.to_string(), reason };
    let url = reqwest::Url::parse(endpoint.trim()).map_err(|e| bad(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad(format!("scheme {:?} is not http or https", url.scheme())));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host".into()));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("a base URL takes no query or fragment".into()));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(n: usize) -> Arc<EndpointPool> {
        EndpointPool::new((0..n).map(|i| format!("http://127.0.0.1:{}/v1", 9000 + i))).unwrap()
    }

    #[test]
    fn endpoints_are_checked() {
        assert_eq!(EndpointPool::new(Vec::<String>::new()).unwrap_err(), SettingsError::NoEndpoints);
        for bad in ["127.0.0.1:8000/v1", "ftp://host/v1", "http://", "http://h/v1?x=1", "not a url"] {
            assert!(matches!(EndpointPool::new([bad]), Err(SettingsError::BadEndpoint { .. })), "{bad}");
        }
        let p = EndpointPool::new(["https://api.example.com/v1/"]).unwrap();
        assert_eq!(p.acquire(&[]).chat_url(), "https://api.example.com/v1/chat/completions");
    }

    #[test]
    fn least_in_flight_then_round_robin() {
        let p = pool(3);
        let a = p.acquire(&[]);
        let b = p.acquire(&[]);
        let c = p.acquire(&[]);
        let mut seen = vec![a.index(), b.index(), c.index()];
        seen.sort();
        assert_eq!(seen, [0, 1, 2], "each endpoint gets one of three concurrent requests");
        drop(b);
        let b_index = p.status().iter().position(|s| s.in_flight == 0).unwrap();
        assert_eq!(p.acquire(&[]).index(), b_index, "the idle endpoint is chosen");
        drop((a, c));
        assert!(p.status().iter().all(|s| s.in_flight == 0));
        let picks: Vec<usize> = (0..6).map(|_| p.acquire(&[]).index()).collect();
        for i in 0..3 {
            assert_eq!(picks.iter().filter(|&&x| x == i).count(), 2, "round-robin when idle: {picks:?}");
        }
    }

    #[test]
    fn avoided_and_failing_endpoints_are_passed_over() {
        let p = pool(2);
        for _ in 0..4 {
            assert_eq!(p.acquire(&[0]).index(), 1);
        }
        assert!(p.acquire(&[0, 1]).index() < 2, "all avoided: any endpoint");
        p.record_failure(0);
        assert!(p.status()[0].cooling_down);
        for _ in 0..4 {
            assert_eq!(p.acquire(&[]).index(), 1, "a cooling endpoint is passed over");
        }
        assert_eq!(p.acquire(&[1]).index(), 0, "unless it is the only one left");
        p.record_success(0);
        assert!(!p.status()[0].cooling_down);
        assert_eq!(p.status()[0].failures, 1);
    }
}
