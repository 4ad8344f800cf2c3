//! The rollout engine: one scheduler thread owns the model and samples for
//! every caller at once — the N rollouts of a pool, the requests of
//! `entropo serve` — with the two ideas that make agent rollouts fast:
//!
//! - **Continuous batching.** Each step runs every active sequence's next
//!   token (and a chunk of a new prompt) as one forward pass
//!   ([`Decoder::hidden_ragged`]); sequences join and leave between steps,
//!   and prompts are prefilled in chunks of at most
//!   [`EngineOptions::prefill_chunk`] tokens a step, so a long prompt never
//!   stalls the others' decoding.
//! - **Prefix reuse.** Computed key/value caches are kept in a byte-bounded
//!   [`PrefixCache`]; a prompt computes only the tokens after its longest
//!   common token prefix with what the cache holds (an agent's next turn
//!   repeats the whole conversation so far; the rollouts of a task share
//!   their system prompt and issue).
//!
//! Each sequence keeps its own sampling parameters and random generator,
//! and every row of a step's matrix products depends only on its own row, so
//! on `ndarray` a sequence's tokens are bitwise those it gets alone, whatever
//! shares its batch (the tests check this).
//!
//! ```
//! use burn::backend::NdArray;
//! use entropo_burn::engine::{Engine, EngineOptions, Request};
//! use entropo_burn::model::Decoder;
//! use entropo_burn::sample::{generate, SamplingParams};
//! let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smollm2");
//! let model = Decoder::<NdArray>::load(&dir, &Default::default()).unwrap();
//! let params = SamplingParams { max_tokens: 5, seed: 3, ..Default::default() };
//! let alone = generate(&model, None, &[1, 2, 3], &[], &params, |_| {}).unwrap();
//! let engine = Engine::start(model, None, EngineOptions::default());
//! let request = Request { prompt: vec![1, 2, 3], stop: vec![], params };
//! assert_eq!(engine.generate(request, |_| std::ops::ControlFlow::Continue(())).unwrap(), alone);
//! ```

mod prefix;
mod scheduler;

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

pub use prefix::{PrefixCache, common_prefix};

use crate::attention::AttentionBackend;
use crate::error::ModelError;
use crate::lora::Adapters;
use crate::model::Decoder;
use crate::sample::{FinishReason, Generation, SamplingParams};

/// How the engine batches and caches.
///
/// ```
/// let o = entropo_burn::engine::EngineOptions::default();
/// assert_eq!((o.max_batch, o.prefill_chunk, o.cache_bytes), (16, 512, 1 << 30));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineOptions {
    /// Sequences computed together in one step; more requests wait.
    pub max_batch: usize,
    /// Prompt tokens computed per step, beside the decoding sequences' one
    /// token each.
    pub prefill_chunk: usize,
    /// Memory for kept key/value caches, in bytes (0 turns prefix reuse off).
    pub cache_bytes: usize,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions { max_batch: 16, prefill_chunk: 512, cache_bytes: 1 << 30 }
    }
}

/// One completion to sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// Prompt token ids (at least one).
    pub prompt: Vec<u32>,
    /// Token ids that end the completion (not included in it).
    pub stop: Vec<u32>,
    /// Sampling settings, seed included.
    pub params: SamplingParams,
}

/// What a [`Pending`] completion reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A new token.
    Token(u32),
    /// The completion ended.
    Done(Generation),
    /// The engine could not compute it.
    Failed(String),
}

/// What the engine has done so far.
///
/// ```
/// let s = entropo_burn::engine::EngineStats { prompt_tokens: 100, reused_tokens: 75, ..Default::default() };
/// assert_eq!(s.reuse_share(), 0.75);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct EngineStats {
    /// Completions finished (or cancelled).
    pub completions: u64,
    /// Prompt tokens submitted.
    pub prompt_tokens: u64,
    /// Prompt tokens whose keys and values came from the prefix cache.
    pub reused_tokens: u64,
    /// Tokens generated.
    pub generated_tokens: u64,
    /// Forward passes run.
    pub steps: u64,
    /// Sequences summed over steps (so `batched / steps` is the mean batch).
    pub batched: u64,
    /// Bytes the prefix cache holds now.
    pub cache_bytes: u64,
}

impl EngineStats {
    /// Share of prompt tokens that were not computed again.
    pub fn reuse_share(&self) -> f64 {
        self.reused_tokens as f64 / self.prompt_tokens.max(1) as f64
    }
}

/// A handle on a running engine; clones share it. The scheduler thread ends
/// when the last handle is dropped.
#[derive(Clone)]
pub struct Engine {
    commands: Sender<scheduler::Job>,
    stats: Arc<Mutex<EngineStats>>,
    vocab: usize,
    context: usize,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("stats", &self.stats()).finish_non_exhaustive()
    }
}

impl Engine {
    /// Starts the scheduler thread with `model` (and `adapters`, applied
    /// unmerged).
    pub fn start<B: AttentionBackend>(model: Decoder<B>, adapters: Option<Adapters<B>>, options: EngineOptions) -> Engine {
        let (commands, jobs) = channel();
        let stats = Arc::new(Mutex::new(EngineStats::default()));
        let (vocab, context) = (model.config.vocab_size, model.config.max_position_embeddings);
        let scheduler = scheduler::Scheduler::new(model, adapters, options, stats.clone());
        std::thread::Builder::new()
            .name("entropo-engine".into())
            .spawn(move || scheduler.run(jobs))
            .expect("the engine's thread starts");
        Engine { commands, stats, vocab, context }
    }

    /// Queues `request`; its tokens arrive through the returned handle.
    /// Errors name what is wrong with the request.
    pub fn submit(&self, request: Request) -> Result<Pending, ModelError> {
        request.params.validate()?;
        if request.prompt.is_empty() {
            return Err(ModelError::Invalid("prompt: no tokens".into()));
        }
        if let Some(t) = request.prompt.iter().find(|&&t| t as usize >= self.vocab) {
            return Err(ModelError::Invalid(format!("token id {t} is outside the vocabulary ({})", self.vocab)));
        }
        if request.prompt.len() >= self.context {
            return Err(ModelError::Invalid(format!(
                "the prompt has {} tokens; the model's context holds {}",
                request.prompt.len(),
                self.context
            )));
        }
        let (events, receiver) = channel();
        let cancel = Arc::new(AtomicBool::new(false));
        self.commands
            .send(scheduler::Job { request, events, cancel: cancel.clone() })
            .map_err(|_| ModelError::Engine("it has stopped".into()))?;
        Ok(Pending { events: receiver, cancel })
    }

    /// Samples `request` to the end, calling `on_token` with each token;
    /// when `on_token` breaks, the completion is cancelled and what was
    /// generated so far is returned (finish reason `Stop`).
    pub fn generate(&self, request: Request, on_token: impl FnMut(u32) -> ControlFlow<()>) -> Result<Generation, ModelError> {
        self.submit(request)?.wait(on_token)
    }

    /// What the engine has done so far.
    pub fn stats(&self) -> EngineStats {
        *self.stats.lock().expect("stats lock")
    }
}

/// A queued or running completion. Dropping it cancels the completion:
/// the engine stops computing it before its next step.
#[derive(Debug)]
pub struct Pending {
    events: Receiver<Event>,
    cancel: Arc<AtomicBool>,
}

impl Pending {
    /// The next event; `None` once the completion has ended.
    pub fn next_event(&self) -> Option<Event> {
        self.events.recv().ok()
    }

    /// Cancels the completion.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// Waits for the end, passing each token to `on_token` (see [`Engine::generate`]).
    pub fn wait(self, mut on_token: impl FnMut(u32) -> ControlFlow<()>) -> Result<Generation, ModelError> {
        let mut tokens = Vec::new();
        loop {
            match self.next_event() {
                Some(Event::Token(t)) => {
                    tokens.push(t);
                    if on_token(t).is_break() {
                        self.cancel();
                        return Ok(Generation { tokens, finish: FinishReason::Stop });
                    }
                }
                Some(Event::Done(generation)) => return Ok(generation),
                Some(Event::Failed(message)) => return Err(ModelError::Engine(message)),
                None => return Err(ModelError::Engine("it stopped before the completion ended".into())),
            }
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.cancel();
    }
}
