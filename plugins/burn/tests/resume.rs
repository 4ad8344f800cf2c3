//! A killed run resumes to the same adapter (or, with full fine-tuning, the
//! same weights) as an uninterrupted one (with LoRA dropout on). Alone in
//! its test binary, one test: burn's ndarray backend keeps one process-wide
//! random generator, which parallel tests would share.

mod common;

use std::ops::ControlFlow;
use std::path::Path;

use common::*;
use entropo_burn::lora::LoraWeights;
use entropo_burn::train::Trainer;
use entropo_burn::model::Decoder;
use entropo_core::training::{Finetuning, TrainSection};

#[test]
fn a_killed_run_resumes_to_the_same_adapter_as_an_uninterrupted_one() {
    let model = model();
    let s = settings(5);
    let straight = tempfile::tempdir().unwrap();
    Trainer::new(&model, &Dpo, &s, 7, straight.path()).run(&kto_examples(), |_| ControlFlow::Continue(())).unwrap();

    let resumed = tempfile::tempdir().unwrap();
    let first = Trainer::new(&model, &Dpo, &s, 7, resumed.path())
        .run(&kto_examples(), |m| if m.step == 2 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) })
        .unwrap();
    assert!(first.interrupted);
    assert!(!resumed.path().join("adapter").exists(), "no final adapter after a kill");
    let second =
        Trainer::new(&model, &Dpo, &s, 7, resumed.path()).run(&kto_examples(), |_| ControlFlow::Continue(())).unwrap();
    assert_eq!(second.resumed_from, Some(2));

    let a = LoraWeights::load_peft(&straight.path().join("adapter"), &model.config).unwrap();
    let b = LoraWeights::load_peft(&resumed.path().join("adapter"), &model.config).unwrap();
    assert_eq!(a, b, "resumed adapter differs");
    let metrics = |d: &Path| std::fs::read_to_string(d.join("metrics.jsonl")).unwrap().lines().count();
    assert_eq!(metrics(resumed.path()), 5);
    assert_eq!(metrics(straight.path()), 5);

    // A checkpoint made with other settings is refused, not silently reused.
    let other = TrainSection { learning_rate: 1e-3, max_steps: Some(6), ..s.clone() };
    let e = Trainer::new(&model, &Dpo, &other, 7, resumed.path())
        .run(&kto_examples(), |_| ControlFlow::Continue(()))
        .unwrap_err()
        .to_string();
    assert!(e.contains("made with other settings"), "{e}");
    // So is one of the other fine-tuning mode (its folder is not even read).
    let switched = TrainSection { finetuning: Finetuning::Full, ..s.clone() };
    let e = Trainer::new(&model, &Dpo, &switched, 7, resumed.path())
        .run(&kto_examples(), |_| ControlFlow::Continue(()))
        .unwrap_err()
        .to_string();
    assert!(e.contains("made with other settings"), "{e}");

    // Full fine-tuning: the checkpoint holds every weight.
    let full = TrainSection { finetuning: Finetuning::Full, ..s };
    let straight = tempfile::tempdir().unwrap();
    Trainer::new(&model, &Dpo, &full, 7, straight.path()).run(&kto_examples(), |_| ControlFlow::Continue(())).unwrap();
    let resumed = tempfile::tempdir().unwrap();
    Trainer::new(&model, &Dpo, &full, 7, resumed.path())
        .run(&kto_examples(), |m| if m.step == 3 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) })
        .unwrap();
    assert!(resumed.path().join("checkpoint/model/model.safetensors").exists());
    let second =
        Trainer::new(&model, &Dpo, &full, 7, resumed.path()).run(&kto_examples(), |_| ControlFlow::Continue(())).unwrap();
    assert_eq!(second.resumed_from, Some(3));
    let weights = |d: &Path| Decoder::<B>::load(&d.join("model"), &Default::default()).unwrap().to_host();
    assert_eq!(weights(straight.path()), weights(resumed.path()), "resumed weights differ");
    assert_ne!(weights(straight.path()), model.to_host(), "training changed the weights");
}

