//! The trainer: gradient injection is exact, SFT learns, metrics and
//! adapters are written, loss errors are named.

mod common;

use std::ops::ControlFlow;

use burn::tensor::Tensor;
use burn::tensor::activation::log_sigmoid;
use common::*;
use entropo_burn::logprob::{score, score_for_training};
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

/// With a frozen head the trainer's gradient takes the closed form through
/// the head (`score_for_training`); it must equal burn's autodiff of the
/// plain log-probs, for a tied head (SmolLM2) and an untied one (Llama).
#[test]
fn injected_plugin_gradients_equal_direct_autodiff_of_the_same_loss() {
    for fixture in ["smollm2", "llama"] {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(fixture);
        injected_gradients_match_autodiff(&Decoder::load(&dir, &Default::default()).unwrap());
    }
}

fn injected_gradients_match_autodiff(model: &Decoder<B>) {
    let lora = busy_lora(model);
    let chosen = seq(&[3, 14, 15, 92, 65, 35, 89], 3);
    let rejected = seq(&[3, 14, 15, 27, 18, 28], 3);
    let (ref_c, ref_r) = (-20.0, -18.5);

    // Through the plugin: ∂L/∂logp injected into the backward pass.
    let adapters = lora.to_device::<B>(model.device(), true);
    let scored = score_for_training(model, Some(&adapters), &[&chosen, &rejected]).unwrap();
    let logp = scored.logp.clone();
    let batch = LossBatch {
        pairs: vec![entropo_core::loss::PairStats {
            chosen: entropo_core::loss::SeqStats { logp: logp[0], ref_logp: Some(ref_c), tokens: None },
            rejected: entropo_core::loss::SeqStats { logp: logp[1], ref_logp: Some(ref_r), tokens: None },
        }],
        ..Default::default()
    };
    let out = Dpo.compute(&batch).unwrap();
    let g = out.grads.pairs[0];
    let injected = backward_with(&adapters, scored, &[g.chosen, g.rejected], 1.0);

    // Directly: the same loss written with tensors, differentiated by burn.
    let adapters = lora.to_device::<B>(model.device(), true);
    let scored = score(model, Some(&adapters), &[&chosen, &rejected], false).unwrap();
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

/// Full fine-tuning: the gradient of Σ logp with respect to every kind of
/// weight (embedding row, norm, a projection stored transposed on the
/// device) equals a central finite difference on the host weights.
#[test]
fn full_gradients_match_finite_differences() {
    use entropo_burn::train::Trainable;
    use entropo_core::training::{Finetuning, TrainSection};
    let model = model();
    let s = TrainSection { finetuning: Finetuning::Full, ..Default::default() };
    let Trainable::Full { config, tensors } = Trainable::init(&model, &s, 0).unwrap() else { panic!("full") };
    let example = seq(&[3, 14, 15, 92, 65, 35, 89, 79], 2);

    let live = Decoder::<B>::from_host(config.clone(), tensors.clone(), model.device(), true).unwrap();
    let scored = score_for_training(&live, None, &[&example]).unwrap();
    let grads = backward_with(&live, scored, &[1.0], 1.0);
    assert_eq!(grads.len(), tensors.len(), "one gradient per weight");
    let by_name: std::collections::BTreeMap<&str, &Vec<f32>> = tensors.keys().map(String::as_str).zip(&grads).collect();
    for (name, t) in &tensors {
        assert_eq!(by_name[name.as_str()].len(), t.data.len(), "{name}");
    }

    let logp_with = |name: &str, index: usize, delta: f32| -> f64 {
        let mut w = tensors.clone();
        w.get_mut(name).unwrap().data[index] += delta;
        let m = Decoder::<B>::from_host(config.clone(), w, model.device(), false).unwrap();
        f64::from(score(&m, None, &[&example], false).unwrap().logp.into_scalar())
    };
    let hidden = config.hidden_size;
    let checks = [
        ("model.embed_tokens.weight", 14 * hidden + 3),
        ("model.embed_tokens.weight", 92 * hidden + 7),
        ("model.norm.weight", 5),
        ("model.layers.0.input_layernorm.weight", 2),
        ("model.layers.0.self_attn.q_proj.weight", 3 * hidden + 1),
        ("model.layers.1.mlp.down_proj.weight", 4 * config.intermediate_size + 9),
        ("model.layers.1.self_attn.v_proj.weight", 2 * hidden + 11),
    ];
    let eps = 1e-2;
    for (name, index) in checks {
        let numeric = (logp_with(name, index, eps) - logp_with(name, index, -eps)) / (2.0 * f64::from(eps));
        let analytic = f64::from(by_name[name][index]);
        assert!(
            (numeric - analytic).abs() <= 0.03 * analytic.abs().max(numeric.abs()) + 2e-3,
            "{name}[{index}]: autodiff {analytic} vs finite difference {numeric}"
        );
    }
    assert!(by_name["model.embed_tokens.weight"][14 * hidden + 3].abs() > 1e-3, "the checked gradient is not zero");
}

#[test]
fn full_sft_trains_every_weight_and_writes_a_model_folder() {
    use entropo_core::training::Finetuning;
    let model = model();
    let out = tempfile::tempdir().unwrap();
    let s = entropo_core::training::TrainSection { finetuning: Finetuning::Full, learning_rate: 3e-3, ..settings(20) };
    let mut losses = Vec::new();
    let summary = Trainer::new(&model, &Nll, &s, 0, out.path())
        .run(&sft_examples(), |m| {
            losses.push(m.loss);
            ControlFlow::Continue(())
        })
        .unwrap();
    let first: f64 = losses[..3].iter().sum::<f64>() / 3.0;
    let last: f64 = losses[17..].iter().sum::<f64>() / 3.0;
    assert!(last < 0.5 * first, "loss {first} → {last}");
    let total: usize = model.to_host().values().map(|t| t.data.len()).sum();
    assert_eq!(summary.trainable_parameters, total);
    assert_eq!(summary.output, out.path().join("model"));
    assert!(!out.path().join("adapter").exists(), "no adapter in full fine-tuning");

    let trained = Decoder::<B>::load(&summary.output, &Default::default()).unwrap();
    let (before, after) = (model.to_host(), trained.to_host());
    for name in ["model.embed_tokens.weight", "model.norm.weight", "model.layers.0.mlp.up_proj.weight"] {
        assert_ne!(before[name], after[name], "{name} did not change");
    }
    // The saved model scores the training data as the run's last step left it.
    let nll = |m: &Decoder<B>| -> f64 {
        let ex = sft_examples();
        let seqs: Vec<_> = ex.iter().map(|e| match e {
            entropo_burn::train::Example::Sft(s) => s,
            _ => unreachable!(),
        }).collect();
        let s = score(m, None, &seqs, false).unwrap();
        -entropo_burn::logprob::to_host(s.logp).iter().sum::<f64>() / s.tokens.iter().sum::<u64>() as f64
    };
    assert!(nll(&trained) < 0.5 * nll(&model), "saved weights are the trained ones");
}

/// A run cut short by `max_steps` computes reference log-probs only for the
/// examples its steps visit, and they equal the base model's.
#[test]
fn reference_logps_cover_exactly_the_visited_examples() {
    let model = model();
    let out = tempfile::tempdir().unwrap();
    let s = entropo_core::training::TrainSection { max_steps: Some(1), ..settings(1) };
    let examples = kto_examples();
    Trainer::new(&model, &Dpo, &s, 3, out.path()).run(&examples, |_| ControlFlow::Continue(())).unwrap();
    let text = std::fs::read_to_string(out.path().join("reference_logps.json")).unwrap();
    let (_, cached): (String, Vec<Option<[f64; 3]>>) = serde_json::from_str(&text).unwrap();
    assert_eq!(cached.len(), examples.len());
    let visited: Vec<usize> = (0..cached.len()).filter(|&i| cached[i].is_some()).collect();
    assert_eq!(visited.len(), s.batch_size, "one step of {} examples: {cached:?}", s.batch_size);
    for i in visited {
        let entropo_burn::train::Example::Pair { chosen, rejected } = &examples[i] else { unreachable!() };
        let base = entropo_burn::logprob::to_host(score(&model, None, &[chosen, rejected], false).unwrap().logp);
        let r = cached[i].unwrap();
        assert!((r[0] - base[0]).abs() < 1e-4 && (r[1] - base[1]).abs() < 1e-4, "{r:?} vs {base:?}");
    }
}
