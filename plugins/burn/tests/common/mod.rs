//! Shared pieces of the trainer tests: the fixture model, closed-form losses
//! and small datasets.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use burn::backend::{Autodiff, NdArray};
use entropo_burn::logprob::Sequence;
use entropo_burn::lora::LoraConfig;
use entropo_burn::model::Decoder;
use entropo_burn::train::Example;
use entropo_core::loss::{Loss, LossBatch, LossError, LossGrads, LossOutput, PairGrad};
use entropo_core::training::TrainSection;

pub type B = Autodiff<NdArray<f32>>;

pub fn model() -> Decoder<B> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smollm2");
    Decoder::load(&dir, &Default::default()).unwrap()
}

pub const BETA: f64 = 0.5;

/// DPO in closed form, as a loss plugin would compute it.
pub struct Dpo;
impl Loss for Dpo {
    fn name(&self) -> &str {
        "test-dpo"
    }
    fn compute(&self, batch: &LossBatch) -> Result<LossOutput, LossError> {
        let n = batch.pairs.len() as f64;
        let mut out = LossOutput { grads: LossGrads::zeros_like(batch), ..Default::default() };
        for (i, p) in batch.pairs.iter().enumerate() {
            let z = BETA
                * ((p.chosen.logp - p.chosen.ref_logp.unwrap()) - (p.rejected.logp - p.rejected.ref_logp.unwrap()));
            let sig = 1.0 / (1.0 + (-z).exp());
            out.loss += -(sig.ln()) / n;
            let g = -(1.0 - sig) * BETA / n;
            out.grads.pairs[i] = PairGrad { chosen: g, rejected: -g };
        }
        out.metrics.insert("rewards/margins".into(), 0.0);
        Ok(out)
    }
}

/// Token-mean negative log-likelihood (what the `sft` plugin computes).
pub struct Nll;
impl Loss for Nll {
    fn name(&self) -> &str {
        "test-nll"
    }
    fn compute(&self, batch: &LossBatch) -> Result<LossOutput, LossError> {
        let tokens: u64 = batch.samples.iter().map(|s| s.seq.tokens.unwrap()).sum();
        let loss = -batch.samples.iter().map(|s| s.seq.logp).sum::<f64>() / tokens as f64;
        let grads = LossGrads { pairs: vec![], samples: vec![-1.0 / tokens as f64; batch.samples.len()] };
        Ok(LossOutput { loss, grads, metrics: BTreeMap::new() })
    }
}

pub fn seq(ids: &[u32], first_masked: usize) -> Sequence {
    Sequence { ids: ids.to_vec(), mask: (0..ids.len()).map(|i| u8::from(i >= first_masked)).collect() }
}

pub fn settings(steps: usize) -> TrainSection {
    TrainSection {
        learning_rate: 5e-3,
        warmup_ratio: 0.0,
        batch_size: 2,
        micro_batch_size: 1,
        max_steps: Some(steps),
        epochs: 100,
        save_every: 1,
        lora: LoraConfig { r: 4, alpha: 8.0, dropout: 0.1, ..Default::default() },
        ..Default::default()
    }
}

pub fn sft_examples() -> Vec<Example> {
    vec![
        Example::Sft(seq(&[1, 10, 11, 12, 13, 14, 15, 16, 2], 2)),
        Example::Sft(seq(&[1, 20, 21, 22, 23, 24, 25, 2], 2)),
        Example::Sft(seq(&[1, 10, 11, 30, 31, 32, 2], 3)),
    ]
}

pub fn kto_examples() -> Vec<Example> {
    let a = seq(&[1, 10, 11, 12, 13, 2], 2);
    let b = seq(&[1, 20, 21, 22, 2], 2);
    let c = seq(&[1, 30, 31, 32, 33, 2], 3);
    vec![
        Example::Pair { chosen: a.clone(), rejected: b.clone() },
        Example::Pair { chosen: c.clone(), rejected: b },
        Example::Pair { chosen: a, rejected: c },
    ]
}

