//! The training loop.

use std::collections::BTreeMap;
use std::io::Write;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::attention::{AttentionBackend, TrainBackend};
use entropo_core::Loss;
use entropo_core::loss::{KlStats, LabelledStats, LossBatch, PairStats, SeqStats};
use entropo_core::training::TrainSection;
use rand::seq::SliceRandom;
use rand::{SeedableRng, rngs::StdRng};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::ModelError;
use crate::logprob::{Sequence, TrainScore, score, score_for_training, to_host};
use crate::model::Decoder;
use crate::train::checkpoint::Checkpoint;
use crate::train::optim::{AdamW, AdamWConfig, clip_global_norm, lr_at};
use crate::train::params::{GradSource, Live, Trainable};

/// One training example, already tokenised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Example {
    /// A desirable sequence (SFT).
    Sft(Sequence),
    /// A preference pair.
    Pair {
        /// The preferred sequence.
        chosen: Sequence,
        /// The other one.
        rejected: Sequence,
    },
    /// A labelled sample (KTO family), with a mismatched sequence (this
    /// prompt, another sample's completion) for the KL reference point.
    Kto {
        /// The sequence.
        seq: Sequence,
        /// Desirable or not.
        label: bool,
        /// The mismatched sequence, if any.
        kl: Option<Sequence>,
    },
}

impl Example {
    /// The sequences that get gradients, in loss-batch order.
    fn policy_seqs(&self) -> Vec<&Sequence> {
        match self {
            Example::Sft(s) | Example::Kto { seq: s, .. } => vec![s],
            Example::Pair { chosen, rejected } => vec![chosen, rejected],
        }
    }
}

/// What one optimizer step measured; one line of `metrics.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepMetrics {
    /// Steps completed (1-based).
    pub step: usize,
    /// Steps the run will take.
    pub total_steps: usize,
    /// Epoch of this step (0-based).
    pub epoch: usize,
    /// Mean loss over the step's micro-batches.
    pub loss: f64,
    /// Learning rate used.
    pub lr: f64,
    /// Global gradient norm before clipping.
    pub grad_norm: f64,
    /// Mean token entropy of the policy over the step's assistant tokens.
    pub entropy: f64,
    /// Assistant tokens in the step.
    pub tokens: u64,
    /// Wall time of the step.
    pub seconds: f64,
    /// The loss plugin's metrics (means over micro-batches).
    #[serde(flatten)]
    pub metrics: BTreeMap<String, f64>,
}

/// The result of [`Trainer::run`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainSummary {
    /// Steps completed in total.
    pub steps: usize,
    /// Steps that were already done when the run started (resumed).
    pub resumed_from: Option<usize>,
    /// Whether the run stopped before its last step (the observer asked).
    pub interrupted: bool,
    /// The last step's loss.
    pub final_loss: Option<f64>,
    /// Trainable parameters.
    pub trainable_parameters: usize,
    /// What the run wrote: a PEFT adapter folder (`out/adapter`), or with
    /// full fine-tuning a model folder (`out/model`).
    pub output: PathBuf,
    /// The per-step metrics file.
    pub metrics: PathBuf,
}

/// Backward pass of `scale · Σᵢ wᵢ·logpᵢ`: with `w = ∂L/∂logp` from a loss
/// plugin this is the gradient of `L` itself. Returns the gradients of every
/// trainable tensor of `source` (adapters: `[A₀, B₀, A₁, B₁, …]` in
/// [`LoraWeights::pairs`](crate::lora::LoraWeights::pairs) order).
pub fn backward_with<B: TrainBackend>(
    source: &impl GradSource<B>,
    scored: TrainScore<B>,
    dl_dlogp: &[f64],
    scale: f64,
) -> Vec<Vec<f32>> {
    source.grads(&scored.objective(dl_dlogp, scale).backward())
}

/// Trains LoRA adapters on a frozen [`Decoder`], or all of its weights
/// (`finetuning = "full"`), with a [`Loss`] plugin.
pub struct Trainer<'a, B: TrainBackend> {
    model: &'a Decoder<B>,
    loss: &'a dyn Loss,
    settings: &'a TrainSection,
    seed: u64,
    out: PathBuf,
}

/// Reference log-probs of one example: main (or chosen), rejected, KL sequence.
type RefLogps = [f64; 3];

impl<'a, B: TrainBackend> Trainer<'a, B> {
    /// A trainer writing into `out` (`adapter/` or `model/`, `checkpoint/`, `metrics.jsonl`).
    pub fn new(model: &'a Decoder<B>, loss: &'a dyn Loss, settings: &'a TrainSection, seed: u64, out: &Path) -> Self {
        Trainer { model, loss, settings, seed, out: out.to_path_buf() }
    }

    fn adamw(&self) -> AdamWConfig {
        AdamWConfig { weight_decay: self.settings.weight_decay, ..Default::default() }
    }

    fn fingerprint(&self, examples: &[Example]) -> String {
        let mut settings = self.settings.clone();
        settings.save_every = 0;
        settings.output = None;
        let mut h = Sha256::new();
        h.update(serde_json::to_vec(&settings).unwrap_or_default());
        h.update(self.loss.name().as_bytes());
        h.update(self.seed.to_le_bytes());
        h.update(serde_json::to_vec(examples).unwrap_or_default());
        format!("{:x}", h.finalize())
    }

    /// Trains on `examples`, resuming from `out/checkpoint` when it exists.
    /// `observer` sees every step's metrics; `ControlFlow::Break` stops the
    /// run after that step (as a kill would, without a final checkpoint).
    pub fn run(
        &self,
        examples: &[Example],
        mut observer: impl FnMut(&StepMetrics) -> ControlFlow<()>,
    ) -> Result<TrainSummary, ModelError> {
        let s = self.settings;
        s.check().map_err(ModelError::Invalid)?;
        if examples.is_empty() {
            return Err(ModelError::Invalid("train.data: no examples left to train on".into()));
        }
        let device = self.model.device().clone();
        std::fs::create_dir_all(&self.out).map_err(|e| ModelError::io(&self.out, e))?;
        let fingerprint = self.fingerprint(examples);
        let ckpt_dir = self.out.join("checkpoint");
        let fresh = Trainable::init(self.model, s, self.seed)?;
        let (mut params, mut optim, start) =
            match Checkpoint::load(&ckpt_dir, &fingerprint, &self.model.config, &fresh, self.adamw())? {
                Some(c) => (c.params, c.optim, c.step),
                None => {
                    let optim = AdamW::new(self.adamw(), &fresh.sizes());
                    (fresh, optim, 0)
                }
            };
        let metrics_path = self.out.join("metrics.jsonl");
        keep_metrics_up_to(&metrics_path, start)?;

        let per_epoch = examples.len().div_ceil(s.batch_size);
        let total = (per_epoch * s.epochs).min(s.max_steps.unwrap_or(usize::MAX));
        let warmup = (s.warmup_ratio * total as f64).ceil() as usize;
        let micro_per_step = s.batch_size / s.micro_batch_size;
        let batch_of = |step: usize, order: &[usize]| -> Vec<usize> {
            let within = step % per_epoch;
            order[within * s.batch_size..((within + 1) * s.batch_size).min(examples.len())].to_vec()
        };
        // Only the examples the remaining steps visit need reference log-probs.
        let mut needed = vec![false; examples.len()];
        for epoch in start / per_epoch..total.div_ceil(per_epoch) {
            let order = self.epoch_order(examples.len(), epoch);
            for step in (epoch * per_epoch).max(start)..((epoch + 1) * per_epoch).min(total) {
                batch_of(step, &order).into_iter().for_each(|i| needed[i] = true);
            }
        }
        let refs = self.reference_logps(examples, &needed, &fingerprint)?;

        let mut metrics_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&metrics_path)
            .map_err(|e| ModelError::io(&metrics_path, e))?;
        let mut order_epoch = usize::MAX;
        let mut order: Vec<usize> = Vec::new();
        let mut last_loss = None;
        let mut interrupted = false;
        for step in start..total {
            let t0 = Instant::now();
            let epoch = step / per_epoch;
            if epoch != order_epoch {
                order = self.epoch_order(examples.len(), epoch);
                order_epoch = epoch;
            }
            let batch = batch_of(step, &order);
            let micros: Vec<&[usize]> = batch.chunks(s.micro_batch_size).collect();
            let mut grads: Vec<Vec<f32>> = Vec::new();
            let (mut loss_sum, mut entropy_sum, mut tokens) = (0.0, 0.0, 0u64);
            let mut plugin: BTreeMap<String, f64> = BTreeMap::new();
            for (m, idx) in micros.iter().enumerate() {
                B::seed(&device, self.seed.wrapping_mul(1_000_003).wrapping_add((step * micro_per_step + m) as u64));
                let live = params.to_device(self.model, true)?;
                let out = self.micro_step(&live, examples, &refs, idx)?;
                let g = backward_with(&live, out.scored, &out.dl_dlogp, 1.0 / micros.len() as f64);
                if grads.is_empty() {
                    grads = g;
                } else {
                    grads.iter_mut().zip(g).for_each(|(acc, g)| acc.iter_mut().zip(g).for_each(|(a, b)| *a += b));
                }
                loss_sum += out.loss;
                entropy_sum += out.entropy;
                tokens += out.tokens;
                for (k, v) in out.metrics {
                    *plugin.entry(k).or_default() += v / micros.len() as f64;
                }
            }
            let grad_norm = clip_global_norm(&mut grads, s.max_grad_norm);
            let lr = lr_at(step, total, warmup, s.learning_rate);
            optim.update(&mut params.values_mut(), &grads, lr);
            let metrics = StepMetrics {
                step: step + 1,
                total_steps: total,
                epoch,
                loss: loss_sum / micros.len() as f64,
                lr,
                grad_norm,
                entropy: if tokens > 0 { entropy_sum / tokens as f64 } else { 0.0 },
                tokens,
                seconds: t0.elapsed().as_secs_f64(),
                metrics: plugin,
            };
            last_loss = Some(metrics.loss);
            let line = serde_json::to_string(&metrics).expect("metrics serialise");
            writeln!(metrics_file, "{line}").map_err(|e| ModelError::io(&metrics_path, e))?;
            metrics_file.flush().map_err(|e| ModelError::io(&metrics_path, e))?;
            let done = step + 1;
            if done == total || (s.save_every > 0 && done % s.save_every == 0) {
                Checkpoint { step: done, params: params.clone(), optim: optim.clone(), fingerprint: fingerprint.clone() }
                    .save(&ckpt_dir)?;
            }
            if observer(&metrics).is_break() && done < total {
                interrupted = true;
                break;
            }
        }
        let output = self.out.join(params.folder());
        if !interrupted {
            params.save(&output)?;
        }
        Ok(TrainSummary {
            steps: if interrupted { optim.step as usize } else { total },
            resumed_from: (start > 0).then_some(start),
            interrupted,
            final_loss: last_loss,
            trainable_parameters: params.num_parameters(),
            output,
            metrics: metrics_path,
        })
    }

    /// The order examples are visited in during `epoch` (seeded).
    fn epoch_order(&self, n: usize, epoch: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut StdRng::seed_from_u64(self.seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)));
        order
    }

    /// Reference log-probs under the starting model (adapters off) of the
    /// `needed` examples (the rest stay zero), computed once and cached in
    /// `out/reference_logps.json`, which a resumed run extends.
    fn reference_logps(&self, examples: &[Example], needed: &[bool], fingerprint: &str) -> Result<Vec<RefLogps>, ModelError> {
        if examples.iter().all(|e| matches!(e, Example::Sft(_))) {
            return Ok(vec![[0.0; 3]; examples.len()]);
        }
        let path = self.out.join("reference_logps.json");
        let mut cached: Vec<Option<RefLogps>> = std::fs::read_to_string(&path)
            .ok()
            .and_then(|text| serde_json::from_str::<(String, Vec<Option<RefLogps>>)>(&text).ok())
            .filter(|(f, v)| f == fingerprint && v.len() == examples.len())
            .map_or_else(|| vec![None; examples.len()], |(_, v)| v);
        let mut computed = false;
        for (i, e) in examples.iter().enumerate() {
            if !needed[i] || cached[i].is_some() {
                continue;
            }
            let mut seqs = e.policy_seqs();
            if let Example::Kto { kl: Some(kl), .. } = e {
                seqs.push(kl);
            }
            let v = to_host(score(self.model, None, &seqs, false)?.logp.detach());
            let mut r = [0.0; 3];
            match e {
                Example::Kto { kl: Some(_), .. } => {
                    r[0] = v[0];
                    r[2] = v[1];
                }
                _ => r[..v.len()].copy_from_slice(&v),
            }
            cached[i] = Some(r);
            computed = true;
        }
        if computed {
            let text = serde_json::to_string(&(fingerprint, &cached)).expect("numbers serialise");
            entropo_core::io::write_atomic(&path, text.as_bytes())?;
        }
        Ok(cached.into_iter().map(Option::unwrap_or_default).collect())
    }

    fn micro_step(
        &self,
        live: &Live<'_, B>,
        examples: &[Example],
        refs: &[RefLogps],
        idx: &[usize],
    ) -> Result<MicroOut<B>, ModelError> {
        let seqs: Vec<&Sequence> = idx.iter().flat_map(|&i| examples[i].policy_seqs()).collect();
        let scored = score_for_training(live.model(), live.adapters(), &seqs)?;
        let logp = &scored.logp;
        let stat = |k: usize, r: f64| SeqStats { logp: logp[k], ref_logp: Some(r), tokens: Some(scored.tokens[k]) };
        let mut batch = LossBatch::default();
        let mut k = 0;
        let mut kl_seqs = Vec::new();
        let mut kl_refs = Vec::new();
        for &i in idx {
            match &examples[i] {
                Example::Sft(_) => {
                    batch.samples.push(LabelledStats { label: true, seq: SeqStats { ref_logp: None, ..stat(k, 0.0) } });
                    k += 1;
                }
                Example::Pair { .. } => {
                    batch.pairs.push(PairStats { chosen: stat(k, refs[i][0]), rejected: stat(k + 1, refs[i][1]) });
                    k += 2;
                }
                Example::Kto { label, kl, .. } => {
                    batch.samples.push(LabelledStats { label: *label, seq: stat(k, refs[i][0]) });
                    if let Some(kl) = kl {
                        kl_seqs.push(kl);
                        kl_refs.push(refs[i][2]);
                    }
                    k += 1;
                }
            }
        }
        if !kl_seqs.is_empty() {
            let kl_logp = to_host(score(live.model(), live.adapters(), &kl_seqs, false)?.logp.detach());
            batch.kl = kl_logp.into_iter().zip(kl_refs).map(|(logp, ref_logp)| KlStats { logp, ref_logp }).collect();
        }
        let out = self
            .loss
            .compute(&batch)
            .map_err(|source| ModelError::Loss { loss: self.loss.name().to_string(), source })?;
        let mut dl_dlogp = Vec::with_capacity(seqs.len());
        let (mut pairs, mut samples) = (out.grads.pairs.iter(), out.grads.samples.iter());
        for &i in idx {
            match &examples[i] {
                Example::Pair { .. } => {
                    let g = pairs.next().copied().unwrap_or_default();
                    dl_dlogp.extend([g.chosen, g.rejected]);
                }
                _ => dl_dlogp.push(samples.next().copied().unwrap_or(0.0)),
            }
        }
        Ok(MicroOut {
            entropy: scored.entropy.iter().sum(),
            tokens: scored.tokens.iter().sum(),
            scored,
            dl_dlogp,
            loss: out.loss,
            metrics: out.metrics,
        })
    }
}

struct MicroOut<B: AttentionBackend> {
    scored: TrainScore<B>,
    dl_dlogp: Vec<f64>,
    loss: f64,
    entropy: f64,
    tokens: u64,
    metrics: BTreeMap<String, f64>,
}

/// Drops lines of `metrics.jsonl` past `step` (a resumed run rewrites them).
fn keep_metrics_up_to(path: &Path, step: usize) -> Result<(), ModelError> {
    let Ok(text) = std::fs::read_to_string(path) else { return Ok(()) };
    let kept: String = text
        .lines()
        .filter(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .ok()
                .and_then(|v| v.get("step").and_then(|s| s.as_u64()))
                .is_some_and(|s| s as usize <= step)
        })
        .map(|l| format!("{l}\n"))
        .collect();
    entropo_core::io::write_atomic(path, kept.as_bytes())?;
    Ok(())
}
