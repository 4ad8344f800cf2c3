//! The scheduler loop: admit queued requests, plan a step (one token for
//! every decoding sequence, then prompt chunks up to the step's budget), run
//! it as one ragged forward pass, sample each sequence's next token with its
//! own generator, and retire finished or cancelled sequences into the
//! prefix cache.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex};

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::{EngineOptions, EngineStats, Event, PrefixCache, Request, common_prefix};
use crate::attention::AttentionBackend;
use crate::lora::Adapters;
use crate::model::{Decoder, KvCache, Segment, host_values};
use crate::sample::{FinishReason, Generation, pick};

/// A prompt waits for another sequence's prefill (rather than computing the
/// same tokens beside it) when that one will publish at least this many
/// more shared tokens than the cache holds now.
const WAIT_FOR_SHARED: usize = 32;

/// A request with the ends of its channel.
pub(super) struct Job {
    pub(super) request: Request,
    pub(super) events: Sender<Event>,
    pub(super) cancel: Arc<AtomicBool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Admitted; its prefix is not looked up yet.
    Admitted,
    /// Computing its prompt.
    Prefill,
    /// Generating.
    Decode,
}

/// An active sequence.
struct Seq<B: AttentionBackend> {
    job: Job,
    /// Tokens whose keys and values `cache` holds.
    fed: Vec<u32>,
    /// Tokens to compute next: the rest of the prompt, or the last sampled token.
    pending: Vec<u32>,
    cache: KvCache<B>,
    generated: Vec<u32>,
    rng: StdRng,
    state: State,
}

pub(super) struct Scheduler<B: AttentionBackend> {
    model: Decoder<B>,
    adapters: Option<Adapters<B>>,
    options: EngineOptions,
    cache: PrefixCache<KvCache<B>>,
    stats: Arc<Mutex<EngineStats>>,
    waiting: VecDeque<Job>,
    active: Vec<Seq<B>>,
}

impl<B: AttentionBackend> Scheduler<B> {
    pub(super) fn new(
        model: Decoder<B>,
        adapters: Option<Adapters<B>>,
        options: EngineOptions,
        stats: Arc<Mutex<EngineStats>>,
    ) -> Self {
        let cache = PrefixCache::new(options.cache_bytes);
        Scheduler { model, adapters, options, cache, stats, waiting: VecDeque::new(), active: Vec::new() }
    }

    /// Runs until every handle is gone and no work is left.
    pub(super) fn run(mut self, jobs: Receiver<Job>) {
        loop {
            if self.active.is_empty() && self.waiting.is_empty() {
                match jobs.recv() {
                    Ok(job) => self.waiting.push_back(job),
                    Err(_) => return,
                }
            }
            self.waiting.extend(jobs.try_iter());
            self.retire_cancelled();
            self.admit();
            if !self.active.is_empty() {
                self.step();
            }
        }
    }

    fn retire_cancelled(&mut self) {
        let cancelled = |job: &Job| job.cancel.load(Ordering::Relaxed);
        self.waiting.retain(|job| !cancelled(job));
        let mut i = 0;
        while i < self.active.len() {
            if cancelled(&self.active[i].job) {
                self.finish(i, FinishReason::Stop);
            } else {
                i += 1;
            }
        }
    }

    fn admit(&mut self) {
        while self.active.len() < self.options.max_batch.max(1) {
            let Some(job) = self.waiting.pop_front() else { break };
            let request = &job.request;
            self.stats.lock().expect("stats lock").prompt_tokens += request.prompt.len() as u64;
            if request.params.max_tokens == 0 {
                let _ = job.events.send(Event::Done(Generation { tokens: vec![], finish: FinishReason::Length }));
                continue;
            }
            self.active.push(Seq {
                fed: Vec::new(),
                pending: request.prompt.clone(),
                cache: KvCache::new(self.model.config.num_hidden_layers),
                generated: Vec::new(),
                rng: StdRng::seed_from_u64(request.params.seed),
                state: State::Admitted,
                job,
            });
        }
    }

    /// Whether sequence `i` should wait for another one's prefill to publish
    /// a longer shared prefix than the cache has now.
    fn should_wait(&self, i: usize) -> bool {
        let prompt = &self.active[i].job.request.prompt;
        let cached = self.cache.longest(prompt, prompt.len() - 1);
        self.active.iter().enumerate().any(|(j, other)| {
            j != i
                && other.state == State::Prefill
                && common_prefix(&other.job.request.prompt, prompt).min(prompt.len() - 1) >= cached + WAIT_FOR_SHARED
        })
    }

    /// Looks up sequence `i`'s prompt in the prefix cache and starts its prefill.
    fn start(&mut self, i: usize) {
        let seq = &mut self.active[i];
        let prompt = &seq.job.request.prompt;
        if let Some((len, kv)) = self.cache.lookup(prompt, prompt.len() - 1) {
            seq.cache = kv.truncated(len);
            seq.fed = prompt[..len].to_vec();
            seq.pending = prompt[len..].to_vec();
            self.stats.lock().expect("stats lock").reused_tokens += len as u64;
        }
        seq.state = State::Prefill;
    }

    /// Tokens each active sequence computes this step (0: none).
    fn plan(&mut self) -> Vec<usize> {
        let mut take: Vec<usize> = self.active.iter().map(|s| usize::from(s.state == State::Decode)).collect();
        let mut budget = self.options.prefill_chunk.max(1);
        for i in 0..self.active.len() {
            if budget == 0 {
                break;
            }
            match self.active[i].state {
                State::Decode => continue,
                State::Admitted if self.should_wait(i) => continue,
                State::Admitted => self.start(i),
                State::Prefill => {}
            }
            take[i] = self.active[i].pending.len().min(budget);
            budget -= take[i];
        }
        take
    }

    fn step(&mut self) {
        let take = self.plan();
        // The rows whose logits are sampled: the last token of each sequence
        // that computes all it had pending.
        let (mut rows, mut at) = (Vec::new(), 0);
        for (s, &n) in self.active.iter().zip(&take) {
            at += n;
            if n > 0 && n == s.pending.len() {
                rows.push(at - 1);
            }
        }
        let mut segments: Vec<Segment<'_, B>> = self
            .active
            .iter_mut()
            .zip(&take)
            .filter(|(_, n)| **n > 0)
            .map(|(s, &n)| Segment { tokens: &s.pending[..n], cache: &mut s.cache })
            .collect();
        if segments.is_empty() {
            return;
        }
        let batched = segments.len() as u64;
        let hidden = self.model.hidden_ragged(&mut segments, self.adapters.as_ref());
        drop(segments);
        let logits = match hidden {
            Ok(_) if rows.is_empty() => Vec::new(),
            Ok(hidden) => host_values(self.model.logits_at(hidden, &rows)),
            Err(e) => return self.fail_all(&e.to_string()),
        };
        {
            let mut stats = self.stats.lock().expect("stats lock");
            stats.steps += 1;
            stats.batched += batched;
        }
        let vocab = self.model.config.vocab_size;
        let mut sampled = logits.chunks_exact(vocab);
        let mut finished = Vec::new();
        for (i, &n) in take.iter().enumerate() {
            if n == 0 {
                continue;
            }
            let seq = &mut self.active[i];
            seq.fed.extend(seq.pending.drain(..n));
            if !seq.pending.is_empty() {
                continue;
            }
            if seq.state == State::Prefill {
                seq.state = State::Decode;
                let kept = seq.cache.truncated(seq.fed.len());
                let bytes = kept.bytes();
                self.cache.insert(seq.fed.clone(), kept, bytes);
            }
            let row = sampled.next().expect("one row per sampled sequence");
            if let Some(reason) = self.advance(i, row) {
                finished.push((i, reason));
            }
        }
        for (i, reason) in finished.into_iter().rev() {
            self.finish(i, reason);
        }
        self.stats.lock().expect("stats lock").cache_bytes = self.cache.bytes() as u64;
    }

    /// Samples sequence `i`'s next token from `logits`; the reason it ends,
    /// if it does.
    fn advance(&mut self, i: usize, logits: &[f32]) -> Option<FinishReason> {
        let context = self.model.config.max_position_embeddings;
        let seq = &mut self.active[i];
        let request = &seq.job.request;
        let token = pick(logits, &request.params, &mut seq.rng);
        if request.stop.contains(&token) {
            return Some(FinishReason::Stop);
        }
        if seq.job.events.send(Event::Token(token)).is_err() {
            seq.job.cancel.store(true, Ordering::Relaxed);
            return Some(FinishReason::Stop);
        }
        seq.generated.push(token);
        self.stats.lock().expect("stats lock").generated_tokens += 1;
        if seq.generated.len() >= request.params.max_tokens || seq.fed.len() >= context {
            return Some(FinishReason::Length);
        }
        seq.pending.push(token);
        None
    }

    /// Retires sequence `i`: its keys and values go to the prefix cache, its
    /// caller gets the generation.
    fn finish(&mut self, i: usize, reason: FinishReason) {
        let seq = self.active.remove(i);
        if !seq.fed.is_empty() {
            let kept = seq.cache.truncated(seq.fed.len());
            let bytes = kept.bytes();
            self.cache.insert(seq.fed, kept, bytes);
        }
        let _ = seq.job.events.send(Event::Done(Generation { tokens: seq.generated, finish: reason }));
        let mut stats = self.stats.lock().expect("stats lock");
        stats.completions += 1;
        stats.cache_bytes = self.cache.bytes() as u64;
    }

    fn fail_all(&mut self, message: &str) {
        tracing::error!("engine step failed: {message}");
        for seq in self.active.drain(..) {
            let _ = seq.job.events.send(Event::Failed(message.to_string()));
        }
    }
}
