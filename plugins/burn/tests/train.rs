//! The trainer: gradient injection is exact, SFT learns, metrics and
//! adapters are written, loss errors are named.

mod common;

use std::ops::ControlFlow;

use burn::tensor::Tensor;
use burn::tensor::activation::log_sigmoid;
use common::*;
use entropo_burn::logprob::score;
use entropo_burn::lora::{LoraConfig, LoraWeights};
use entropo_burn::model::Decoder;
use entropo_burn::train::{Trainer, backward_with};
use entropo_core::loss::{Loss, LossBatch, LossError, LossOutput};

/// LoRA with random B too, so every adapter tensor gets a non-zero gradient.
fn busy_lora(model: &Decoder<B>) -> LoraWeights {
    let mut lora = LoraWeights::init(&model.config, LoraConfig { r: 2, ..Default::default() }, 5).unwrap();
    for (i, p) in lora.pairs.values_mut().enumerate() {
        p.b.data.iter_mut().enumerate().for_each(|(j, v)| *v = (((i * 31 + j * 17) % 13) as f32 - 6.0) * 0.01);
    }
    lora
}

#[test]
fn injected_plugin_gradients_equal_direct_autodiff_of_the_same_loss() {
    let model = model();
    let lora = busy_lora(&model);
    let chosen = seq(&[3, 14, 15, 92, 65, 35, 89], 3);
    let rejected = seq(&[3, 14, 15, 27, 18, 28], 3);
    let (ref_c, ref_r) = (-20.0, -18.5);

    // Through the plugin: ∂L/∂logp injected into the backward pass.
    let adapters = lora.to_device::<B>(model.device(), true);
    let scored = score(&model, Some(&adapters), &[&chosen, &rejected], false).unwrap();
    let logp = entropo_burn::logprob::to_host(scored.logp.clone().detach());
    let batch = LossBatch {
        pairs: vec![entropo_core::loss::PairStats {
            chosen: entropo_core::loss::SeqStats { logp: logp[0], ref_logp: Some(ref_c), tokens: None },
            rejected: entropo_core::loss::SeqStats { logp: logp[1], ref_logp: Some(ref_r), tokens: None },
        }],
        ..Default::default()
    };
    let out = Dpo.compute(&batch).unwrap();
    let g = out.grads.pairs[0];
    let injected = backward_with(&adapters, scored.logp, &[g.chosen, g.rejected], 1.0);

    // Directly: the same loss written with tensors, differentiated by burn.
    let adapters = lora.to_device::<B>(model.device(), true);
    let scored = score(&model, Some(&adapters), &[&chosen, &rejected], false).unwrap();
    let lc = scored.logp.clone().narrow(0, 0, 1);
    let lr = scored.logp.narrow(0, 1, 1);
    let z = (lc.sub_scalar(ref_c) - lr.sub_scalar(ref_r)).mul_scalar(BETA);
    let loss: Tensor<B, 1> = log_sigmoid(z).neg();
    assert!((f64::from(loss.clone().into_scalar()) - out.loss).abs() < 1e-5);
    let grads = loss.backward();
    let mut compared = 0;
    for ((_, pair), inj) in adapters.pairs().flat_map(|(k, p)| [(k, &p.a), (k, &p.b)]).zip(&injected) {
        let direct = pair.grad(&grads).unwrap().into_data().to_vec::<f32>().unwrap();
        let scale = direct.iter().map(|v| v.abs()).fold(0.0f32, f32::max).max(1e-6);
        for (d, i) in direct.iter().zip(inj) {
            assert!((d - i).abs() <= 1e-4 * scale + 1e-7, "direct {d} vs injected {i}");
        }
        compared += direct.len();
    }
    assert_eq!(compared, lora.num_parameters());
    assert!(injected.iter().flatten().any(|v| v.abs() > 1e-6), "gradients are not all zero");
}

#[test]
fn sft_lowers_the_loss_and_writes_metrics_and_a_peft_adapter() {
    let model = model();
    let out = tempfile::tempdir().unwrap();
    let s = settings(25);
    let trainer = Trainer::new(&model, &Nll, &s, 0, out.path());
    let mut losses = Vec::new();
    let summary = trainer
        .run(&sft_examples(), |m| {
            losses.push(m.loss);
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(summary.steps, 25);
    let first: f64 = losses[..3].iter().sum::<f64>() / 3.0;
    let last: f64 = losses[22..].iter().sum::<f64>() / 3.0;
    assert!(last < 0.7 * first, "loss {first} → {last}");
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(out.path().join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 25);
    assert_eq!(lines[24]["step"], 25);
    let entropy = lines[0]["entropy"].as_f64().unwrap();
    assert!(entropy > 0.0 && entropy <= (160f64).ln() + 1e-6, "entropy {entropy} within [0, ln V]");
    let adapter = LoraWeights::load_peft(&out.path().join("adapter"), &model.config).unwrap();
    assert_eq!(adapter.num_parameters(), summary.trainable_parameters);
}

#[test]
fn loss_errors_name_the_plugin() {
    struct Refuses;
    impl Loss for Refuses {
        fn name(&self) -> &str {
            "refuses"
        }
        fn compute(&self, _: &LossBatch) -> Result<LossOutput, LossError> {
            Err(LossError::Unsupported { entry: "pairs".into(), reason: "expects samples".into() })
        }
    }
    let model = model();
    let out = tempfile::tempdir().unwrap();
    let s = settings(1);
    let e = Trainer::new(&model, &Refuses, &s, 0, out.path())
        .run(&kto_examples(), |_| ControlFlow::Continue(()))
        .unwrap_err()
        .to_string();
    assert_eq!(e, "loss refuses: pairs: expects samples");
}
