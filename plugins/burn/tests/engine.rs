//! The rollout engine against sampling alone: a seeded completion is
//! bitwise the same alone and inside a batch of 16, with prompts prefilled in
//! chunks, with prefix reuse across turns, and with the cache evicted under a
//! tiny budget; cancelled completions stop and free their slot. Every test
//! runs under a watchdog, so a deadlock fails in seconds.

use std::ops::ControlFlow;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use burn::backend::NdArray;
use entropo_burn::engine::{Engine, EngineOptions, Event, Request};
use entropo_burn::model::Decoder;
use entropo_burn::sample::{FinishReason, Generation, SamplingParams, generate};

type B = NdArray<f32>;

/// Runs `f` on its own thread; fails if it takes longer than `secs`.
fn watchdog<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, result) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(f());
    });
    match result.recv_timeout(Duration::from_secs(secs)) {
        Ok(v) => v,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("timed out after {secs} s (a deadlock?)"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("the test body panicked"),
    }
}

fn model(name: &str) -> Decoder<B> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    Decoder::load(&dir, &Default::default()).unwrap()
}

/// A prompt of `len` tokens drawn from `seed` (ids 3.., avoiding the stop token).
fn prompt(seed: u32, len: usize) -> Vec<u32> {
    (0..len as u32).map(|i| 3 + (seed * 31 + i * 17 + i * i * 7) % 150).collect()
}

fn params(seed: u64, max_tokens: usize) -> SamplingParams {
    SamplingParams { temperature: 1.0, top_k: 0, top_p: 1.0, max_tokens, seed }
}

fn request(prompt: Vec<u32>, params: SamplingParams) -> Request {
    Request { prompt, stop: vec![2], params }
}

fn run(engine: &Engine, r: Request) -> Generation {
    engine.generate(r, |_| ControlFlow::Continue(())).unwrap()
}

/// 16 concurrent completions of different lengths and seeds, each equal to
/// its sampling alone.
fn batch_of_16_equals_alone(name: &'static str) {
    watchdog(120, move || {
        let model = model(name);
        let requests: Vec<Request> =
            (0..16u32).map(|i| request(prompt(i, 5 + 3 * i as usize), params(100 + u64::from(i), 12 + i as usize))).collect();
        let alone: Vec<Generation> = requests
            .iter()
            .map(|r| generate(&model, None, &r.prompt, &r.stop, &r.params, |_| {}).unwrap())
            .collect();
        // A chunk smaller than most prompts: prefills are split and share
        // steps with decodes.
        let options = EngineOptions { max_batch: 16, prefill_chunk: 7, cache_bytes: 0 };
        let engine = Engine::start(model, None, options);
        let pending: Vec<_> = requests.into_iter().map(|r| engine.submit(r).unwrap()).collect();
        let batched: Vec<Generation> = pending.into_iter().map(|p| p.wait(|_| ControlFlow::Continue(())).unwrap()).collect();
        assert_eq!(batched, alone);
        let stats = engine.stats();
        assert!(stats.batched as f64 / stats.steps as f64 > 4.0, "the steps were batched: {stats:?}");
    });
}

#[test]
fn a_seeded_completion_is_bitwise_the_same_alone_and_in_a_batch_of_16_llama() {
    batch_of_16_equals_alone("llama");
}

#[test]
fn a_seeded_completion_is_bitwise_the_same_alone_and_in_a_batch_of_16_qwen3() {
    batch_of_16_equals_alone("qwen3");
}

/// A three-turn conversation: each turn's prompt is the last prompt, the
/// reply and a new observation. Tokens per turn with the prefix cache of
/// `cache_bytes`, and the engine's statistics.
fn episode(cache_bytes: usize) -> (Vec<Generation>, entropo_burn::engine::EngineStats) {
    let engine = Engine::start(model("qwen3"), None, EngineOptions { max_batch: 4, prefill_chunk: 16, cache_bytes });
    let mut conversation = prompt(7, 20);
    let mut turns = Vec::new();
    for turn in 0..3u32 {
        let reply = run(&engine, request(conversation.clone(), params(u64::from(turn), 8)));
        conversation.extend(&reply.tokens);
        conversation.extend(prompt(50 + turn, 6));
        turns.push(reply);
    }
    (turns, engine.stats())
}

#[test]
fn prefix_reuse_across_turns_gives_the_tokens_of_re_prefilling_every_turn() {
    watchdog(120, || {
        let (reused, with_cache) = episode(1 << 20);
        let (recomputed, without) = episode(0);
        assert_eq!(reused, recomputed);
        assert_eq!(without.reused_tokens, 0);
        // Turns 2 and 3 reuse all of the previous turn's prompt and reply but its last token.
        assert!(with_cache.reuse_share() > 0.5, "{with_cache:?}");
        // The same tokens, first alone (no engine at all).
        let model = model("qwen3");
        let first = request(prompt(7, 20), params(0, 8));
        assert_eq!(generate(&model, None, &first.prompt, &first.stop, &first.params, |_| {}).unwrap(), reused[0]);
    });
}

#[test]
fn a_cache_evicted_under_a_tiny_budget_still_gives_the_same_tokens() {
    watchdog(120, || {
        // Eight conversations take two turns each, twice round: the second
        // turn finds the first in the cache, but a tiny budget (about two
        // conversations) has evicted it by the time the round comes back.
        let model = model("llama");
        let per_token = 2 * 2 * 2 * 16 * 4; // layers × (k, v) × kv heads × head_dim × 4 bytes
        let run_all = |cache_bytes: usize| {
            let engine = Engine::start(model.clone(), None, EngineOptions { max_batch: 3, prefill_chunk: 64, cache_bytes });
            let mut conversations: Vec<Vec<u32>> = (0..8).map(|i| prompt(i, 12)).collect();
            let mut out = Vec::new();
            for round in 0..2u64 {
                for (i, c) in conversations.iter_mut().enumerate() {
                    for turn in 0..2 {
                        let reply = run(&engine, request(c.clone(), params(round * 100 + turn * 10 + i as u64, 5)));
                        c.extend(&reply.tokens);
                        c.extend(prompt(90 + i as u32, 3));
                        out.push(reply);
                    }
                }
            }
            (out, engine.stats())
        };
        let budget = 2 * 30 * per_token;
        let (tiny, small) = run_all(budget);
        let (plenty, large) = run_all(1 << 20);
        let (none, _) = run_all(0);
        assert_eq!(tiny, none);
        assert_eq!(plenty, none);
        assert!(small.cache_bytes <= budget as u64);
        assert!(small.reused_tokens > 0, "the second turns reused the first: {small:?}");
        assert!(small.reused_tokens < large.reused_tokens, "evictions cost reuse: {small:?} vs {large:?}");
    });
}

#[test]
fn rollouts_of_one_prompt_share_its_prefill() {
    watchdog(120, || {
        let engine = Engine::start(model("llama"), None, EngineOptions { max_batch: 8, prefill_chunk: 32, cache_bytes: 1 << 20 });
        let shared = prompt(3, 60);
        let pending: Vec<_> =
            (0..8).map(|i| engine.submit(request(shared.clone(), params(i, 4))).unwrap()).collect();
        for p in pending {
            p.wait(|_| ControlFlow::Continue(())).unwrap();
        }
        let stats = engine.stats();
        // One prefill of 60 tokens; the other seven take 59 from the cache.
        assert_eq!(stats.reused_tokens, 7 * 59, "{stats:?}");
    });
}

#[test]
fn a_cancelled_completion_stops_and_frees_its_slot() {
    watchdog(120, || {
        let engine = Engine::start(model("llama"), None, EngineOptions { max_batch: 1, prefill_chunk: 64, cache_bytes: 0 });
        let long = engine.submit(Request { prompt: prompt(1, 8), stop: vec![], params: params(1, 100) }).unwrap();
        assert!(matches!(long.next_event(), Some(Event::Token(_))));
        // A second request waits for the only slot; dropping the first frees it.
        let next = engine.submit(request(prompt(2, 8), params(2, 3))).unwrap();
        drop(long);
        let generation = next.wait(|_| ControlFlow::Continue(())).unwrap();
        assert!(generation.tokens.len() <= 3);
        let stats = engine.stats();
        assert!(stats.generated_tokens < 50, "the cancelled completion stopped early: {stats:?}");
        // Breaking out of `generate` cancels too, and keeps what came.
        let mut seen = 0;
        let cut = engine
            .generate(Request { prompt: prompt(3, 8), stop: vec![], params: params(3, 50) }, |_| {
                seen += 1;
                if seen == 2 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
            })
            .unwrap();
        assert_eq!((cut.tokens.len(), cut.finish), (2, FinishReason::Stop));
    });
}

#[test]
fn bad_requests_are_refused_with_the_reason() {
    let engine = Engine::start(model("llama"), None, EngineOptions::default());
    let err = |r: Request| engine.submit(r).unwrap_err().to_string();
    assert!(err(request(vec![], params(0, 1))).contains("no tokens"));
    assert!(err(request(vec![500], params(0, 1))).contains("outside the vocabulary"));
    assert!(err(request(prompt(0, 128), params(0, 1))).contains("context holds 128"));
    let bad = SamplingParams { top_p: 0.0, ..params(0, 1) };
    assert!(err(request(prompt(0, 4), bad)).starts_with("top_p"));
    // The context ends a completion: 120 prompt tokens leave room for 8 more.
    let g = run(&engine, request(prompt(0, 120), SamplingParams { temperature: 0.0, ..params(0, 50) }));
    assert!(g.tokens.len() <= 8 + 1, "{}", g.tokens.len());
}
