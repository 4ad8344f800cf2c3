//! Checks every [`Loss`] must pass, for built-in and third-party losses alike.
//!
//! In a plugin's tests, one line runs them all (see [`loss_conformance!`](crate::loss_conformance)):
//!
//! ```
//! # use entropo_sdk::{Loss, LossBatch, LossError, LossGrads, LossOutput};
//! # #[derive(Default)] struct MyLoss;
//! # impl Loss for MyLoss {
//! #     fn name(&self) -> &str { "my-loss" }
//! #     fn compute(&self, b: &LossBatch) -> Result<LossOutput, LossError> { unimplemented!() }
//! # }
//! entropo_sdk::loss_conformance!(conformance, || Box::new(MyLoss::default()) as Box<dyn Loss>);
//! # fn main() {}
//! ```
//!
//! Each check is also a plain function over `&dyn Loss`, so a host can run
//! them on a dynamically loaded plugin (`check_all(&*registry.create::<dyn Loss>(…)?)`).
//!
//! The checks do not know which inputs a loss accepts; they try every
//! [`BatchShape`] on a random batch and keep those the loss computes without
//! error (at least one is required). Random batches come from a small seeded
//! generator, so every run sees the same numbers. A panic inside the loss is
//! caught and reported as a failure of the check that caused it.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::abi::panic_message;
use crate::{KlStats, LabelledStats, Loss, LossBatch, LossError, LossOutput, PairStats, SeqStats};

/// A check that failed: which, and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{check}: {message}")]
pub struct ConformanceError {
    /// The check's name (`gradients`, `empty-batch`, …).
    pub check: &'static str,
    /// What went wrong, with the batch shape and entry where it applies.
    pub message: String,
}

fn fail(check: &'static str, message: impl Into<String>) -> ConformanceError {
    ConformanceError { check, message: message.into() }
}

/// The kinds of batch a loss may accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BatchShape {
    /// Preference pairs only (DPO family, SimPO).
    Pairs,
    /// Labelled samples, desirable and undesirable, without KL samples.
    Samples,
    /// Desirable samples only (SFT).
    DesirableSamples,
    /// Labelled samples plus mismatched KL samples (KTO family).
    SamplesWithKl,
}

impl BatchShape {
    /// Every shape, in the order they are tried.
    pub const ALL: [BatchShape; 4] =
        [BatchShape::Pairs, BatchShape::Samples, BatchShape::DesirableSamples, BatchShape::SamplesWithKl];

    /// A short name for messages (`pairs`, `samples+kl`).
    pub fn as_str(self) -> &'static str {
        match self {
            BatchShape::Pairs => "pairs",
            BatchShape::Samples => "samples",
            BatchShape::DesirableSamples => "desirable-samples",
            BatchShape::SamplesWithKl => "samples+kl",
        }
    }
}

impl std::fmt::Display for BatchShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// SplitMix64: tiny, seeded, the same on every platform.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5EED_E17B_0C0F_FEE5)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[lo, hi)`.
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        let unit = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        lo + (hi - lo) * unit
    }

    /// Uniform integer in `[lo, hi]`.
    fn int(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }
}

/// How spread out the random statistics are.
#[derive(Clone, Copy)]
struct Spread {
    max_tokens: u64,
    min_per_token: f64,
    ref_offset: f64,
}

const TYPICAL: Spread = Spread { max_tokens: 256, min_per_token: -2.0, ref_offset: 3.0 };
const WIDE: Spread = Spread { max_tokens: 4096, min_per_token: -10.0, ref_offset: 200.0 };

impl Rng {
    fn seq(&mut self, spread: Spread) -> SeqStats {
        let tokens = self.int(4, spread.max_tokens);
        let logp = tokens as f64 * self.uniform(spread.min_per_token, -0.01);
        let ref_logp = logp + self.uniform(-spread.ref_offset, spread.ref_offset);
        SeqStats { logp, ref_logp: Some(ref_logp), tokens: Some(tokens) }
    }
}

fn batch_with(shape: BatchShape, n: usize, seed: u64, spread: Spread) -> LossBatch {
    let mut rng = Rng::new(seed.wrapping_mul(31).wrapping_add(shape as u64));
    let mut batch = LossBatch::default();
    match shape {
        BatchShape::Pairs => {
            batch.pairs =
                (0..n).map(|_| PairStats { chosen: rng.seq(spread), rejected: rng.seq(spread) }).collect();
        }
        BatchShape::Samples | BatchShape::DesirableSamples | BatchShape::SamplesWithKl => {
            batch.samples = (0..n)
                .map(|i| {
                    let label = match (shape, i) {
                        (BatchShape::DesirableSamples, _) => true,
                        // At least one of each label.
                        (_, 0) => true,
                        (_, 1) => false,
                        _ => rng.next_u64() & 1 == 1,
                    };
                    LabelledStats { label, seq: rng.seq(spread) }
                })
                .collect();
            if shape == BatchShape::SamplesWithKl {
                batch.kl = (0..n)
                    .map(|_| {
                        let s = rng.seq(spread);
                        KlStats { logp: s.logp, ref_logp: s.ref_logp.unwrap_or_default() }
                    })
                    .collect();
            }
        }
    }
    batch
}

/// A random batch of `shape` with `n` entries (at least 2 for labelled
/// shapes, which then hold both labels), the same for the same `seed`. Every
/// sequence has `logp`, `ref_logp` and `tokens`.
///
/// ```
/// use entropo_sdk::conformance::{BatchShape, random_batch};
/// let b = random_batch(BatchShape::SamplesWithKl, 3, 7);
/// assert_eq!((b.samples.len(), b.kl.len()), (3, 3));
/// assert_eq!(b, random_batch(BatchShape::SamplesWithKl, 3, 7));
/// ```
pub fn random_batch(shape: BatchShape, n: usize, seed: u64) -> LossBatch {
    batch_with(shape, n, seed, TYPICAL)
}

/// Runs the loss, turning a panic into a failure of `check`.
fn run(
    loss: &dyn Loss,
    batch: &LossBatch,
    check: &'static str,
) -> Result<Result<LossOutput, LossError>, ConformanceError> {
    catch_unwind(AssertUnwindSafe(|| loss.compute(batch)))
        .map_err(|payload| fail(check, format!("the loss panicked: {}", panic_message(&*payload))))
}

/// Runs the loss on a batch it accepted before; an error now is a failure.
fn run_ok(
    loss: &dyn Loss,
    batch: &LossBatch,
    check: &'static str,
    what: &str,
) -> Result<LossOutput, ConformanceError> {
    let out = run(loss, batch, check)?.map_err(|e| fail(check, format!("{what}: unexpected error: {e}")))?;
    if out.grads.pairs.len() != batch.pairs.len() || out.grads.samples.len() != batch.samples.len() {
        return Err(fail(
            check,
            format!(
                "{what}: gradients for {} pairs and {} samples, but the batch has {} and {}",
                out.grads.pairs.len(),
                out.grads.samples.len(),
                batch.pairs.len(),
                batch.samples.len()
            ),
        ));
    }
    Ok(out)
}

/// The shapes `loss` computes a random batch of without error (a panic
/// counts as not accepted here; the checks report it).
pub fn accepted_shapes(loss: &dyn Loss) -> Vec<BatchShape> {
    BatchShape::ALL
        .into_iter()
        .filter(|&shape| {
            let batch = random_batch(shape, 4, 0);
            matches!(catch_unwind(AssertUnwindSafe(|| loss.compute(&batch))), Ok(Ok(_)))
        })
        .collect()
}

/// The accepted shapes; a panic on any shape, or no accepted shape, fails `check`.
fn shapes(loss: &dyn Loss, check: &'static str) -> Result<Vec<BatchShape>, ConformanceError> {
    let mut accepted = Vec::new();
    let mut refusals = Vec::new();
    for shape in BatchShape::ALL {
        let batch = random_batch(shape, 4, 0);
        match run(loss, &batch, check) {
            Ok(Ok(_)) => accepted.push(shape),
            Ok(Err(e)) => refusals.push(format!("{shape}: {e}")),
            Err(e) => {
                return Err(fail(check, format!("{shape} batch: {} (refuse a shape with Err)", e.message)));
            }
        }
    }
    if accepted.is_empty() {
        return Err(fail(check, format!("the loss accepts no batch shape ({})", refusals.join("; "))));
    }
    Ok(accepted)
}

/// The loss accepts at least one [`BatchShape`], and refuses the others with
/// an error rather than a panic; returns those it accepts.
pub fn check_accepts_some_shape(loss: &dyn Loss) -> Result<Vec<BatchShape>, ConformanceError> {
    shapes(loss, "accepts-some-shape")
}

fn close(a: f64, b: f64, abs: f64, rel: f64) -> bool {
    (a - b).abs() <= abs + rel * a.abs().max(b.abs())
}

type LogpField = fn(&mut LossBatch, usize) -> &mut f64;

fn chosen_logp(b: &mut LossBatch, i: usize) -> &mut f64 {
    &mut b.pairs[i].chosen.logp
}

fn rejected_logp(b: &mut LossBatch, i: usize) -> &mut f64 {
    &mut b.pairs[i].rejected.logp
}

fn sample_logp(b: &mut LossBatch, i: usize) -> &mut f64 {
    &mut b.samples[i].seq.logp
}

/// Every gradient matches a central finite difference of the loss in that
/// `logp`, on random batches of every accepted shape.
pub fn check_gradients(loss: &dyn Loss) -> Result<(), ConformanceError> {
    const CHECK: &str = "gradients";
    for shape in shapes(loss, CHECK)? {
        for seed in 0..3u64 {
            let batch = random_batch(shape, 2 + seed as usize, seed);
            let out = run_ok(loss, &batch, CHECK, shape.as_str())?;
            // The analytic gradient and how to reach each logp.
            let mut entries: Vec<(String, f64, usize, LogpField)> = Vec::new();
            for i in 0..batch.pairs.len() {
                entries.push((format!("pairs[{i}].chosen"), out.grads.pairs[i].chosen, i, chosen_logp));
                entries.push((format!("pairs[{i}].rejected"), out.grads.pairs[i].rejected, i, rejected_logp));
            }
            for i in 0..batch.samples.len() {
                entries.push((format!("samples[{i}]"), out.grads.samples[i], i, sample_logp));
            }
            for (entry, grad, i, field) in entries {
                let x = *field(&mut batch.clone(), i);
                let h = 1e-5 * x.abs().max(1.0);
                let mut plus = batch.clone();
                *field(&mut plus, i) = x + h;
                let mut minus = batch.clone();
                *field(&mut minus, i) = x - h;
                let what = format!("{shape} batch (seed {seed}), {entry}.logp");
                let lp = run_ok(loss, &plus, CHECK, &what)?.loss;
                let lm = run_ok(loss, &minus, CHECK, &what)?.loss;
                let fd = (lp - lm) / (2.0 * h);
                if !close(grad, fd, 1e-6, 1e-4) {
                    return Err(fail(CHECK, format!("{what}: gradient {grad:e}, finite difference {fd:e}")));
                }
            }
        }
    }
    Ok(())
}

fn doubled(batch: &LossBatch) -> LossBatch {
    fn twice<T: Clone>(v: &[T]) -> Vec<T> {
        v.iter().chain(v).cloned().collect()
    }
    LossBatch { pairs: twice(&batch.pairs), samples: twice(&batch.samples), kl: twice(&batch.kl) }
}

/// The loss is a mean: on the batch repeated twice (KL samples included) it
/// is unchanged and every gradient is halved.
pub fn check_duplication_invariance(loss: &dyn Loss) -> Result<(), ConformanceError> {
    const CHECK: &str = "mean-reduction";
    for shape in shapes(loss, CHECK)? {
        for seed in 0..3u64 {
            let batch = random_batch(shape, 2 + seed as usize, seed);
            let what = format!("{shape} batch (seed {seed})");
            let once = run_ok(loss, &batch, CHECK, &what)?;
            let twice = run_ok(loss, &doubled(&batch), CHECK, &format!("{what} doubled"))?;
            if !close(once.loss, twice.loss, 1e-12, 1e-9) {
                return Err(fail(
                    CHECK,
                    format!("{what}: loss {} but {} on the doubled batch", once.loss, twice.loss),
                ));
            }
            let (n, m) = (batch.pairs.len(), batch.samples.len());
            let halved = |entry: String, g: f64, g2: f64| {
                if close(g / 2.0, g2, 1e-12, 1e-9) {
                    Ok(())
                } else {
                    Err(fail(
                        CHECK,
                        format!(
                            "{what}: gradient of {entry} is {g2:e} on the doubled batch, expected {:e}",
                            g / 2.0
                        ),
                    ))
                }
            };
            for i in 0..n {
                for j in [i, i + n] {
                    halved(
                        format!("pairs[{j}].chosen"),
                        once.grads.pairs[i].chosen,
                        twice.grads.pairs[j].chosen,
                    )?;
                    halved(
                        format!("pairs[{j}].rejected"),
                        once.grads.pairs[i].rejected,
                        twice.grads.pairs[j].rejected,
                    )?;
                }
            }
            for i in 0..m {
                for j in [i, i + m] {
                    halved(format!("samples[{j}]"), once.grads.samples[i], twice.grads.samples[j])?;
                }
            }
        }
    }
    Ok(())
}

/// An empty batch is an error, not a panic or a NaN.
pub fn check_empty_batch(loss: &dyn Loss) -> Result<(), ConformanceError> {
    const CHECK: &str = "empty-batch";
    match run(loss, &LossBatch::default(), CHECK)? {
        Err(_) => Ok(()),
        Ok(out) => {
            Err(fail(CHECK, format!("the empty batch gave Ok (loss {}) instead of an error", out.loss)))
        }
    }
}

/// A NaN or infinite `logp`, `ref_logp` or KL statistic anywhere in an
/// accepted batch is an error, not a panic or a NaN loss.
pub fn check_non_finite_inputs(loss: &dyn Loss) -> Result<(), ConformanceError> {
    const CHECK: &str = "non-finite-inputs";
    type Poke = fn(&mut LossBatch, f64) -> bool;
    let pokes: [(&str, Poke); 7] = [
        ("pairs[1].chosen.logp", |b, v| b.pairs.get_mut(1).map(|p| p.chosen.logp = v).is_some()),
        ("pairs[0].rejected.logp", |b, v| b.pairs.first_mut().map(|p| p.rejected.logp = v).is_some()),
        ("pairs[1].rejected.ref_logp", |b, v| {
            b.pairs.get_mut(1).map(|p| p.rejected.ref_logp = Some(v)).is_some()
        }),
        ("samples[1].logp", |b, v| b.samples.get_mut(1).map(|s| s.seq.logp = v).is_some()),
        ("samples[0].ref_logp", |b, v| b.samples.first_mut().map(|s| s.seq.ref_logp = Some(v)).is_some()),
        ("kl[1].logp", |b, v| b.kl.get_mut(1).map(|k| k.logp = v).is_some()),
        ("kl[0].ref_logp", |b, v| b.kl.first_mut().map(|k| k.ref_logp = v).is_some()),
    ];
    for shape in shapes(loss, CHECK)? {
        for (entry, poke) in pokes {
            for value in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
                let mut batch = random_batch(shape, 3, 1);
                if !poke(&mut batch, value) {
                    continue;
                }
                if let Ok(out) = run(loss, &batch, CHECK)? {
                    return Err(fail(
                        CHECK,
                        format!(
                            "{shape} batch with {entry} = {value} gave Ok (loss {}) instead of an error",
                            out.loss
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

fn bits_equal(a: &LossOutput, b: &LossOutput) -> bool {
    let pair_bits = |o: &LossOutput| -> Vec<(u64, u64)> {
        o.grads.pairs.iter().map(|g| (g.chosen.to_bits(), g.rejected.to_bits())).collect()
    };
    let sample_bits = |o: &LossOutput| -> Vec<u64> { o.grads.samples.iter().map(|g| g.to_bits()).collect() };
    let metric_bits = |o: &LossOutput| -> Vec<(String, u64)> {
        o.metrics.iter().map(|(k, v)| (k.clone(), v.to_bits())).collect()
    };
    a.loss.to_bits() == b.loss.to_bits()
        && pair_bits(a) == pair_bits(b)
        && sample_bits(a) == sample_bits(b)
        && metric_bits(a) == metric_bits(b)
}

/// Two calls on the same batch give the same output, bit for bit.
pub fn check_deterministic(loss: &dyn Loss) -> Result<(), ConformanceError> {
    const CHECK: &str = "deterministic";
    for shape in shapes(loss, CHECK)? {
        for seed in 0..3u64 {
            let batch = random_batch(shape, 3 + seed as usize, seed);
            let what = format!("{shape} batch (seed {seed})");
            let a = run_ok(loss, &batch, CHECK, &what)?;
            let b = run_ok(loss, &batch.clone(), CHECK, &what)?;
            if !bits_equal(&a, &b) {
                return Err(fail(CHECK, format!("{what}: two calls differ: {a:?} vs {b:?}")));
            }
        }
    }
    Ok(())
}

/// The loss, every gradient and every metric are finite (and gradients are
/// shaped like the batch), on typical and on widely spread random batches.
pub fn check_outputs_finite(loss: &dyn Loss) -> Result<(), ConformanceError> {
    const CHECK: &str = "finite-outputs";
    for shape in shapes(loss, CHECK)? {
        for (spread, label) in [(TYPICAL, "typical"), (WIDE, "wide")] {
            for seed in 0..4u64 {
                let batch = batch_with(shape, 2 + seed as usize, seed, spread);
                let what = format!("{label} {shape} batch (seed {seed})");
                let out = run_ok(loss, &batch, CHECK, &what)?;
                let mut values = vec![("loss".to_string(), out.loss)];
                for (i, g) in out.grads.pairs.iter().enumerate() {
                    values.push((format!("grads.pairs[{i}].chosen"), g.chosen));
                    values.push((format!("grads.pairs[{i}].rejected"), g.rejected));
                }
                for (i, g) in out.grads.samples.iter().enumerate() {
                    values.push((format!("grads.samples[{i}]"), *g));
                }
                for (k, v) in &out.metrics {
                    values.push((format!("metrics[{k}]"), *v));
                }
                if let Some((name, v)) = values.into_iter().find(|(_, v)| !v.is_finite()) {
                    return Err(fail(CHECK, format!("{what}: {name} is {v}")));
                }
            }
        }
    }
    Ok(())
}

/// A named check.
pub type Check = fn(&dyn Loss) -> Result<(), ConformanceError>;

/// Every check, by name, in the order [`check_all`] runs them.
pub const CHECKS: [(&str, Check); 7] = [
    ("accepts-some-shape", |l| check_accepts_some_shape(l).map(drop)),
    ("gradients", check_gradients),
    ("mean-reduction", check_duplication_invariance),
    ("empty-batch", check_empty_batch),
    ("non-finite-inputs", check_non_finite_inputs),
    ("deterministic", check_deterministic),
    ("finite-outputs", check_outputs_finite),
];

/// Runs every check; `Err` holds each failure.
pub fn check_all(loss: &dyn Loss) -> Result<(), Vec<ConformanceError>> {
    let failures: Vec<ConformanceError> = CHECKS.iter().filter_map(|(_, check)| check(loss).err()).collect();
    if failures.is_empty() { Ok(()) } else { Err(failures) }
}

/// Expands to a module of `#[test]` functions, one per conformance check,
/// each run on a fresh loss from the factory.
///
/// ```
/// # use entropo_sdk::{Loss, LossBatch, LossError, LossGrads, LossOutput};
/// # #[derive(Default)] struct MyLoss;
/// # impl Loss for MyLoss {
/// #     fn name(&self) -> &str { "my-loss" }
/// #     fn compute(&self, b: &LossBatch) -> Result<LossOutput, LossError> { unimplemented!() }
/// # }
/// entropo_sdk::loss_conformance!(my_suite, || Box::new(MyLoss::default()) as Box<dyn Loss>);
/// # fn main() {}
/// ```
///
/// The module is `#[cfg(test)]`, so the line may sit anywhere in the crate.
#[macro_export]
macro_rules! loss_conformance {
    ($suite:ident, $make:expr $(,)?) => {
        #[cfg(test)]
        mod $suite {
            #[allow(unused_imports)]
            use super::*;

            fn run(check: $crate::conformance::Check) {
                let make = $make;
                let loss: ::std::boxed::Box<dyn $crate::Loss> = make();
                if let ::std::result::Result::Err(e) = check(&*loss) {
                    ::std::panic!("loss `{}` fails conformance: {}", loss.name(), e);
                }
            }

            #[test]
            fn accepts_some_batch_shape() {
                run($crate::conformance::CHECKS[0].1)
            }
            #[test]
            fn gradients_match_finite_differences() {
                run($crate::conformance::check_gradients)
            }
            #[test]
            fn mean_reduction_invariant_to_duplication() {
                run($crate::conformance::check_duplication_invariance)
            }
            #[test]
            fn empty_batch_is_an_error() {
                run($crate::conformance::check_empty_batch)
            }
            #[test]
            fn non_finite_inputs_are_errors() {
                run($crate::conformance::check_non_finite_inputs)
            }
            #[test]
            fn deterministic() {
                run($crate::conformance::check_deterministic)
            }
            #[test]
            fn outputs_finite() {
                run($crate::conformance::check_outputs_finite)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;
    use crate::LossGrads;

    #[derive(Clone, Copy, PartialEq, Debug)]
    enum Bug {
        None,
        WrongGradient,
        SumNotMean,
        PanicOnEmpty,
        NoFiniteCheck,
        Nondeterministic,
        NanMetric,
        PanicOnPairs,
        RejectAll,
    }

    /// mean over samples of (logp / tokens)², with an optional bug.
    struct Toy {
        bug: Bug,
        calls: AtomicU64,
    }

    impl Loss for Toy {
        fn name(&self) -> &str {
            "toy"
        }
        fn compute(&self, batch: &LossBatch) -> Result<LossOutput, LossError> {
            let bug = self.bug;
            if bug != Bug::NoFiniteCheck {
                batch.check_finite()?;
            }
            if !batch.pairs.is_empty() {
                assert!(bug != Bug::PanicOnPairs, "toy cannot take pairs");
                return Err(LossError::Unsupported { entry: "pairs".into(), reason: "samples only".into() });
            }
            if bug == Bug::RejectAll {
                return Err(LossError::Plugin("no".into()));
            }
            if bug == Bug::PanicOnEmpty {
                let _ = batch.samples[0];
            }
            if batch.samples.is_empty() {
                return Err(LossError::Empty("no samples".into()));
            }
            let n = if bug == Bug::SumNotMean { 1.0 } else { batch.samples.len() as f64 };
            let mut grads = LossGrads::zeros_like(batch);
            let mut loss = 0.0;
            for (i, s) in batch.samples.iter().enumerate() {
                let t = s.seq.require_tokens(&format!("samples[{i}]"))? as f64;
                let r = s.seq.logp / t;
                loss += r * r / n;
                grads.samples[i] = 2.0 * r / t / n * if bug == Bug::WrongGradient { 1.01 } else { 1.0 };
            }
            let calls = self.calls.fetch_add(1, Ordering::Relaxed);
            if bug == Bug::Nondeterministic {
                loss += calls as f64 * 1e-15;
            }
            let metric = if bug == Bug::NanMetric { f64::NAN } else { loss.sqrt() };
            Ok(LossOutput { loss, grads, metrics: [("rms".to_string(), metric)].into() })
        }
    }

    fn toy(bug: Bug) -> Toy {
        Toy { bug, calls: AtomicU64::new(0) }
    }

    #[test]
    fn a_correct_loss_passes() {
        let loss = toy(Bug::None);
        assert_eq!(
            check_accepts_some_shape(&loss).unwrap(),
            [BatchShape::Samples, BatchShape::DesirableSamples, BatchShape::SamplesWithKl]
        );
        check_all(&loss).unwrap();
    }

    #[test]
    fn each_bug_is_caught_by_its_check() {
        let cases: [(Bug, &str); 8] = [
            (Bug::WrongGradient, "gradients"),
            (Bug::SumNotMean, "mean-reduction"),
            (Bug::PanicOnEmpty, "empty-batch"),
            (Bug::NoFiniteCheck, "non-finite-inputs"),
            (Bug::Nondeterministic, "deterministic"),
            (Bug::NanMetric, "finite-outputs"),
            (Bug::PanicOnPairs, "accepts-some-shape"),
            (Bug::RejectAll, "accepts-some-shape"),
        ];
        for (bug, check) in cases {
            let failures = check_all(&toy(bug)).expect_err(&format!("{bug:?} not caught"));
            assert!(failures.iter().any(|f| f.check == check), "{bug:?}: {failures:?}");
        }
        let err = check_empty_batch(&toy(Bug::PanicOnEmpty)).unwrap_err();
        assert!(err.message.contains("panicked") && err.message.contains("index out of bounds"), "{err}");
    }

    #[test]
    fn random_batches_are_reproducible_and_well_formed() {
        for shape in BatchShape::ALL {
            let b = random_batch(shape, 5, 42);
            assert_eq!(b, random_batch(shape, 5, 42));
            assert_ne!(b, random_batch(shape, 5, 43));
            b.check_finite().unwrap();
            if matches!(shape, BatchShape::Samples | BatchShape::SamplesWithKl) {
                assert!(b.samples.iter().any(|s| s.label) && b.samples.iter().any(|s| !s.label));
            }
        }
    }
}
