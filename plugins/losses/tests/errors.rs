//! Invalid batches and parameters are errors that name the culprit, never panics;
//! registration exposes all five losses.

mod common;

use common::*;
use entropo_core::Loss;
use entropo_core::loss::{LabelledStats, LossBatch, LossError, SeqStats};
use entropo_core::registry::{Origin, PluginError, PluginKind, Registry, RegistryError};

/// Each loss with a batch it accepts.
fn valid_batches() -> Vec<(&'static str, LossBatch)> {
    let prefs = pairs(vec![pair(-1.0, -2.0, -3.0, -2.5)]);
    let labelled = samples(
        vec![sample(true, -1.0, -2.0), sample(false, -3.0, -2.0)],
        vec![kl(-2.0, -2.5)],
    );
    vec![
        ("sft", samples(vec![sft_sample(-3.0, 4)], vec![])),
        ("dpo", prefs.clone()),
        ("entropo-dpo", prefs),
        ("kto", labelled.clone()),
        ("entropo-kto", labelled),
    ]
}

#[test]
fn the_valid_batches_are_valid() {
    for (name, batch) in valid_batches() {
        assert!(create(name, "{}").compute(&batch).is_ok(), "{name}");
    }
}

#[test]
fn empty_batch_is_an_error() {
    for name in entropo_losses::NAMES {
        let err = create(name, "{}")
            .compute(&LossBatch::default())
            .unwrap_err();
        assert!(matches!(err, LossError::Empty(_)), "{name}: {err:?}");
    }
    // KL samples alone are no training signal either.
    let err = create("kto", "{}")
        .compute(&samples(vec![], vec![kl(-1.0, -1.0)]))
        .unwrap_err();
    assert!(
        matches!(&err, LossError::Empty(m) if m.contains("samples")),
        "{err:?}"
    );
}

#[test]
fn non_finite_input_is_named() {
    for (name, mut batch) in valid_batches() {
        let entry = if !batch.pairs.is_empty() {
            batch.pairs[0].rejected.ref_logp = Some(f64::NAN);
            "pairs[0].rejected.ref_logp"
        } else if name == "sft" {
            batch.samples[0].seq.logp = f64::NEG_INFINITY;
            "samples[0].logp"
        } else {
            batch.kl[0].logp = f64::INFINITY;
            "kl[0].logp"
        };
        let err = create(name, "{}").compute(&batch).unwrap_err();
        assert!(
            matches!(&err, LossError::NotFinite { entry: e, .. } if e == entry),
            "{name}: {err:?}"
        );
    }
}

#[test]
fn overflow_from_finite_extremes_is_an_error_not_infinity() {
    let batch = pairs(vec![pair(-f64::MAX, 0.0, f64::MAX, 0.0)]);
    let err = create("dpo", r#"{"beta": 1.0}"#)
        .compute(&batch)
        .unwrap_err();
    assert!(
        matches!(&err, LossError::NotFinite { entry, .. } if entry == "loss"),
        "{err:?}"
    );
}

#[test]
fn lists_a_loss_cannot_use_are_unsupported() {
    let p = vec![pair(-1.0, -1.0, -2.0, -2.0)];
    let s = vec![sample(true, -1.0, -1.0)];
    let k = vec![kl(-1.0, -1.0)];
    let cases: Vec<(&str, LossBatch, &str)> = vec![
        (
            "dpo",
            LossBatch {
                pairs: p.clone(),
                samples: s.clone(),
                ..Default::default()
            },
            "samples",
        ),
        (
            "dpo",
            LossBatch {
                samples: s.clone(),
                ..Default::default()
            },
            "samples",
        ),
        (
            "dpo",
            LossBatch {
                pairs: p.clone(),
                kl: k.clone(),
                ..Default::default()
            },
            "kl",
        ),
        (
            "entropo-dpo",
            LossBatch {
                samples: s.clone(),
                ..Default::default()
            },
            "samples",
        ),
        (
            "kto",
            LossBatch {
                pairs: p.clone(),
                samples: s.clone(),
                ..Default::default()
            },
            "pairs",
        ),
        (
            "entropo-kto",
            LossBatch {
                pairs: p.clone(),
                ..Default::default()
            },
            "pairs",
        ),
        (
            "sft",
            LossBatch {
                pairs: p.clone(),
                ..Default::default()
            },
            "pairs",
        ),
        (
            "sft",
            LossBatch {
                samples: vec![sft_sample(-1.0, 1)],
                kl: k.clone(),
                ..Default::default()
            },
            "kl",
        ),
    ];
    for (name, batch, list) in cases {
        let err = create(name, "{}").compute(&batch).unwrap_err();
        assert!(
            matches!(&err, LossError::Unsupported { entry, .. } if entry == list),
            "{name}: {err:?}"
        );
        assert!(err.to_string().starts_with(&format!("{list}: ")), "{err}");
    }
}

#[test]
fn missing_reference_is_named() {
    let mut p = vec![pair(-1.0, -1.0, -2.0, -2.0); 5];
    p[3].chosen.ref_logp = None;
    for name in ["dpo", "entropo-dpo"] {
        let err = create(name, "{}").compute(&pairs(p.clone())).unwrap_err();
        assert_eq!(
            err,
            LossError::MissingField {
                entry: "pairs[3].chosen.ref_logp".into()
            },
            "{name}"
        );
    }
    let mut s = vec![sample(true, -1.0, -1.0), sample(false, -1.0, -1.0)];
    s[1].seq.ref_logp = None;
    for (name, params) in [
        ("kto", "{}"),
        ("entropo-kto", "{}"),
        ("entropo-kto", r#"{"variant": "authors-code"}"#),
    ] {
        let err = create(name, params)
            .compute(&samples(s.clone(), vec![]))
            .unwrap_err();
        assert_eq!(
            err,
            LossError::MissingField {
                entry: "samples[1].ref_logp".into()
            },
            "{name}"
        );
    }
}

#[test]
fn sft_needs_tokens_and_desirable_labels() {
    let sft = create("sft", "{}");
    let no_tokens = LabelledStats {
        label: true,
        seq: SeqStats {
            logp: -1.0,
            ref_logp: None,
            tokens: None,
        },
    };
    let err = sft
        .compute(&samples(vec![sft_sample(-1.0, 3), no_tokens], vec![]))
        .unwrap_err();
    assert_eq!(
        err,
        LossError::MissingField {
            entry: "samples[1].tokens".into()
        }
    );

    let err = sft
        .compute(&samples(vec![sft_sample(-1.0, 0)], vec![]))
        .unwrap_err();
    assert!(
        matches!(&err, LossError::Invalid { entry, .. } if entry == "samples[0].tokens"),
        "{err:?}"
    );

    let mut bad = sft_sample(-1.0, 3);
    bad.label = false;
    let err = sft
        .compute(&samples(
            vec![sft_sample(-2.0, 3), sft_sample(-2.0, 3), bad],
            vec![],
        ))
        .unwrap_err();
    assert!(
        matches!(&err, LossError::Invalid { entry, .. } if entry == "samples[2].label"),
        "{err:?}"
    );
}

/// The parameter an invalid-params error names, and its message, through the registry.
fn bad_param(name: &str, json: &str) -> (String, String) {
    match registry().create::<dyn Loss>(name, &params(json)) {
        Err(RegistryError::Plugin {
            kind: PluginKind::Loss,
            source: PluginError::InvalidParam { param, message },
            ..
        }) => (param, message),
        Err(e) => panic!("{name} {json}: unexpected error {e}"),
        Ok(_) => panic!("{name} {json}: accepted"),
    }
}

#[test]
fn bad_params_are_named() {
    let cases = [
        ("dpo", r#"{"beta": 0}"#, "beta"),
        ("dpo", r#"{"beta": -0.1}"#, "beta"),
        ("dpo", r#"{"beta": "high"}"#, "beta"),
        ("dpo", r#"{"bta": 0.1}"#, "bta"),
        ("dpo", r#"{"alpha": 0.1}"#, "alpha"),
        ("sft", r#"{"beta": 0.1}"#, "beta"),
        ("kto", r#"{"beta": 0}"#, "beta"),
        ("kto", r#"{"lambda_desirable": -1}"#, "lambda_desirable"),
        (
            "kto",
            r#"{"lambda_undesirable": -0.5}"#,
            "lambda_undesirable",
        ),
        ("kto", r#"{"lambda_u": 1}"#, "lambda_u"),
        ("entropo-dpo", r#"{"alpha": 0}"#, "alpha"),
        ("entropo-dpo", r#"{"alpha": 0.11, "beta": -1}"#, "beta"),
        ("entropo-dpo", r#"{"lambda": 0.01}"#, "lambda"),
        ("entropo-kto", r#"{"alpha": -0.11}"#, "alpha"),
        ("entropo-kto", r#"{"beta": 0}"#, "beta"),
        (
            "entropo-kto",
            r#"{"lambda_desirable": -2}"#,
            "lambda_desirable",
        ),
        ("entropo-kto", r#"{"variant": "authors"}"#, "variant"),
        ("entropo-kto", r#"{"variant": "Paper"}"#, "variant"),
        ("entropo-kto", r#"{"varient": "paper"}"#, "varient"),
    ];
    for (name, json, param) in cases {
        let (named, message) = bad_param(name, json);
        assert!(
            named == param,
            "{name} {json}: names `{named}` ({message})"
        );
    }
    // The message carries the name too.
    let err = registry()
        .create::<dyn Loss>("dpo", &params(r#"{"bta": 0.1}"#))
        .err()
        .unwrap();
    assert!(err.to_string().contains("params.bta"), "{err}");
}

#[test]
fn good_params_are_accepted() {
    for (name, json) in [
        ("dpo", r#"{"beta": 0.5}"#),
        (
            "kto",
            r#"{"beta": 0.5, "lambda_desirable": 1.33, "lambda_undesirable": 0}"#,
        ),
        ("entropo-dpo", r#"{"alpha": 0.15}"#),
        (
            "entropo-kto",
            r#"{"alpha": 0.15, "beta": 0.1, "variant": "authors-code"}"#,
        ),
        ("entropo-kto", r#"{"variant": "paper"}"#),
    ] {
        assert!(
            registry().create::<dyn Loss>(name, &params(json)).is_ok(),
            "{name} {json}"
        );
    }
}

#[test]
fn registers_all_five_builtins() {
    let reg = registry();
    let infos: Vec<_> = reg.infos().filter(|i| i.kind == PluginKind::Loss).collect();
    let mut names: Vec<_> = infos.iter().map(|i| i.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["dpo", "entropo-dpo", "entropo-kto", "kto", "sft"]);
    for info in infos {
        assert_eq!(info.origin, Origin::Builtin);
        assert!(
            !info.description.is_empty() && !info.description.contains('\n'),
            "{}",
            info.name
        );
        assert_eq!(
            reg.create::<dyn Loss>(&info.name, &Default::default())
                .unwrap()
                .name(),
            info.name
        );
    }
    // Parameter schemas list the parameters with their defaults.
    let schema = &reg
        .info(PluginKind::Loss, "entropo-kto")
        .unwrap()
        .params_schema;
    let props = &schema["properties"];
    assert_eq!(props["alpha"]["default"], 0.11);
    assert_eq!(props["beta"]["default"], 0.1);
    assert_eq!(props["lambda_desirable"]["default"], 1.0);
    assert_eq!(schema["additionalProperties"], false);
    let text = schema.to_string();
    assert!(
        text.contains("authors-code") && text.contains("paper"),
        "{text}"
    );
    assert_eq!(
        reg.info(PluginKind::Loss, "dpo").unwrap().params_schema["properties"]["beta"]["default"],
        0.1
    );
}

#[test]
fn registering_twice_is_refused_and_changes_nothing() {
    let mut reg = Registry::new();
    entropo_losses::register(&mut reg).unwrap();
    let err = entropo_losses::register(&mut reg).unwrap_err();
    assert!(
        matches!(
            err,
            RegistryError::Duplicate {
                kind: PluginKind::Loss,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(reg.infos().count(), 5);
}
