//! Property tests on random batches: finite-difference gradients, mean
//! reduction, the α = β equivalences and robustness to arbitrary input.

mod common;

use common::*;
use entropo_core::loss::{
    KlStats, LabelledStats, Loss, LossBatch, LossOutput, PairStats, SeqStats,
};
use proptest::prelude::*;

// ---------- strategies ----------

fn logp() -> impl Strategy<Value = f64> {
    -20.0..0.0f64
}

fn pair_strategy() -> impl Strategy<Value = PairStats> {
    (logp(), logp(), logp(), logp()).prop_map(|(a, b, c, d)| pair(a, b, c, d))
}

fn pairs_batch() -> impl Strategy<Value = LossBatch> {
    prop::collection::vec(pair_strategy(), 1..6).prop_map(pairs)
}

fn labelled_batch() -> impl Strategy<Value = LossBatch> {
    (
        prop::collection::vec(
            (any::<bool>(), logp(), logp()).prop_map(|(l, a, b)| sample(l, a, b)),
            1..8,
        ),
        prop::collection::vec((logp(), logp()).prop_map(|(a, b)| kl(a, b)), 0..5),
    )
        .prop_map(|(s, k)| samples(s, k))
}

fn sft_batch() -> impl Strategy<Value = LossBatch> {
    prop::collection::vec(
        (logp(), 1u64..300).prop_map(|(l, t)| sft_sample(l, t)),
        1..8,
    )
    .prop_map(|s| samples(s, vec![]))
}

fn coef() -> impl Strategy<Value = f64> {
    0.05..1.5f64
}

fn lambda() -> impl Strategy<Value = f64> {
    0.1..2.0f64
}

/// A pairwise loss with random parameters: `dpo` or `entropo-dpo`.
fn pairwise_loss() -> impl Strategy<Value = (String, String)> {
    prop_oneof![
        coef().prop_map(|b| ("dpo".to_string(), format!(r#"{{"beta": {b}}}"#))),
        (coef(), coef()).prop_map(|(a, b)| (
            "entropo-dpo".to_string(),
            format!(r#"{{"alpha": {a}, "beta": {b}}}"#)
        )),
    ]
}

/// A KTO-family loss with random parameters.
fn prospect_loss() -> impl Strategy<Value = (String, String)> {
    prop_oneof![
        (coef(), lambda(), lambda()).prop_map(|(b, ld, lu)| (
            "kto".to_string(),
            format!(r#"{{"beta": {b}, "lambda_desirable": {ld}, "lambda_undesirable": {lu}}}"#)
        )),
        (coef(), coef(), lambda(), lambda(), prop::bool::ANY).prop_map(|(a, b, ld, lu, authors)| (
            "entropo-kto".to_string(),
            format!(
                r#"{{"alpha": {a}, "beta": {b}, "lambda_desirable": {ld}, "lambda_undesirable": {lu}, "variant": "{}"}}"#,
                if authors { "authors-code" } else { "paper" }
            )
        )),
    ]
}

// ---------- checks ----------

/// Central differences of the loss against every analytic gradient.
fn check_gradients(loss: &dyn Loss, batch: &LossBatch) -> Result<(), TestCaseError> {
    const H: f64 = 1e-5;
    let out = loss
        .compute(batch)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let at = |edit: &dyn Fn(&mut LossBatch, f64), delta: f64| -> f64 {
        let mut b = batch.clone();
        edit(&mut b, delta);
        loss.compute(&b).expect("perturbed batch").loss
    };
    let check = |what: String, analytic: f64, edit: &dyn Fn(&mut LossBatch, f64)| {
        let fd = (at(edit, H) - at(edit, -H)) / (2.0 * H);
        prop_assert!(
            (fd - analytic).abs() <= 1e-6 * analytic.abs() + 1e-8,
            "{}: {what}: analytic {analytic}, central difference {fd}",
            loss.name()
        );
        Ok(())
    };
    for (i, g) in out.grads.pairs.iter().enumerate() {
        check(format!("pairs[{i}].chosen"), g.chosen, &|b, d| {
            b.pairs[i].chosen.logp += d
        })?;
        check(format!("pairs[{i}].rejected"), g.rejected, &|b, d| {
            b.pairs[i].rejected.logp += d
        })?;
    }
    for (i, g) in out.grads.samples.iter().enumerate() {
        check(format!("samples[{i}]"), *g, &|b, d| {
            b.samples[i].seq.logp += d
        })?;
    }
    Ok(())
}

fn twice<T: Copy>(v: &[T]) -> Vec<T> {
    v.iter().chain(v).copied().collect()
}

fn doubled(batch: &LossBatch) -> LossBatch {
    LossBatch {
        pairs: twice(&batch.pairs),
        samples: twice(&batch.samples),
        kl: twice(&batch.kl),
    }
}

/// Duplicating every entry leaves the loss and the mean metrics unchanged
/// and halves every entry's gradient (counts double).
fn check_mean_reduction(loss: &dyn Loss, batch: &LossBatch) -> Result<(), TestCaseError> {
    let one = loss.compute(batch).unwrap();
    let two = loss.compute(&doubled(batch)).unwrap();
    prop_assert!(
        close(one.loss, two.loss, 1e-12),
        "{}: loss {} vs {}",
        loss.name(),
        one.loss,
        two.loss
    );
    let (np, ns) = (batch.pairs.len(), batch.samples.len());
    prop_assert_eq!(two.grads.pairs.len(), 2 * np);
    prop_assert_eq!(two.grads.samples.len(), 2 * ns);
    for (i, g) in one.grads.pairs.iter().enumerate() {
        for d in [two.grads.pairs[i], two.grads.pairs[i + np]] {
            prop_assert!(
                close(d.chosen * 2.0, g.chosen, 1e-12)
                    && close(d.rejected * 2.0, g.rejected, 1e-12)
            );
        }
    }
    for (i, g) in one.grads.samples.iter().enumerate() {
        for d in [two.grads.samples[i], two.grads.samples[i + ns]] {
            prop_assert!(
                close(d * 2.0, *g, 1e-12),
                "{}: sample {i}: {d} vs {g}",
                loss.name()
            );
        }
    }
    prop_assert_eq!(
        one.metrics.keys().collect::<Vec<_>>(),
        two.metrics.keys().collect::<Vec<_>>()
    );
    for (name, v) in &one.metrics {
        let factor = if name.starts_with("count/") || name == "num_tokens" {
            2.0
        } else {
            1.0
        };
        prop_assert!(
            close(v * factor, two.metrics[name], 1e-12),
            "{}: {name}: {v} vs {}",
            loss.name(),
            two.metrics[name]
        );
    }
    Ok(())
}

fn check_same(a: &LossOutput, b: &LossOutput) -> Result<(), TestCaseError> {
    prop_assert!(
        close(a.loss, b.loss, 1e-12),
        "loss {} vs {}",
        a.loss,
        b.loss
    );
    prop_assert_eq!(a.grads.pairs.len(), b.grads.pairs.len());
    for (x, y) in a.grads.pairs.iter().zip(&b.grads.pairs) {
        prop_assert!(
            close(x.chosen, y.chosen, 1e-12) && close(x.rejected, y.rejected, 1e-12),
            "{x:?} vs {y:?}"
        );
    }
    prop_assert_eq!(a.grads.samples.len(), b.grads.samples.len());
    for (x, y) in a.grads.samples.iter().zip(&b.grads.samples) {
        prop_assert!(close(*x, *y, 1e-12), "{x} vs {y}");
    }
    prop_assert_eq!(
        a.metrics.keys().collect::<Vec<_>>(),
        b.metrics.keys().collect::<Vec<_>>()
    );
    for (name, v) in &a.metrics {
        prop_assert!(
            close(*v, b.metrics[name], 1e-12),
            "{name}: {v} vs {}",
            b.metrics[name]
        );
    }
    Ok(())
}

// ---------- properties ----------

proptest! {
    #[test]
    fn pairwise_gradients_match_central_differences((name, p) in pairwise_loss(), batch in pairs_batch()) {
        check_gradients(create(&name, &p).as_ref(), &batch)?;
    }

    #[test]
    fn prospect_gradients_match_central_differences((name, p) in prospect_loss(), batch in labelled_batch()) {
        check_gradients(create(&name, &p).as_ref(), &batch)?;
    }

    #[test]
    fn sft_gradients_match_central_differences(batch in sft_batch()) {
        check_gradients(create("sft", "{}").as_ref(), &batch)?;
    }

    #[test]
    fn pairwise_losses_are_means((name, p) in pairwise_loss(), batch in pairs_batch()) {
        check_mean_reduction(create(&name, &p).as_ref(), &batch)?;
    }

    #[test]
    fn prospect_losses_are_means((name, p) in prospect_loss(), batch in labelled_batch()) {
        check_mean_reduction(create(&name, &p).as_ref(), &batch)?;
    }

    #[test]
    fn sft_is_a_token_mean(batch in sft_batch()) {
        check_mean_reduction(create("sft", "{}").as_ref(), &batch)?;
    }

    #[test]
    fn entropo_dpo_with_alpha_eq_beta_is_dpo(beta in coef(), batch in pairs_batch()) {
        let dpo = create("dpo", &format!(r#"{{"beta": {beta}}}"#)).compute(&batch).unwrap();
        let ent = create("entropo-dpo", &format!(r#"{{"alpha": {beta}, "beta": {beta}}}"#)).compute(&batch).unwrap();
        check_same(&dpo, &ent)?;
    }

    #[test]
    fn entropo_kto_paper_with_alpha_eq_beta_is_kto(
        beta in coef(), ld in lambda(), lu in lambda(), batch in labelled_batch()
    ) {
        let l = format!(r#""lambda_desirable": {ld}, "lambda_undesirable": {lu}"#);
        let kto = create("kto", &format!(r#"{{"beta": {beta}, {l}}}"#)).compute(&batch).unwrap();
        let ent = create("entropo-kto", &format!(r#"{{"alpha": {beta}, "beta": {beta}, {l}}}"#))
            .compute(&batch)
            .unwrap();
        check_same(&kto, &ent)?;
    }

    /// Any input at all, NaN and infinities included: an error or a fully
    /// finite output shaped like the batch, never a panic.
    #[test]
    fn arbitrary_input_never_panics(
        raw_pairs in prop::collection::vec((wild_seq(), wild_seq()), 0..4),
        raw_samples in prop::collection::vec((any::<bool>(), wild_seq()), 0..4),
        raw_kl in prop::collection::vec((wild(), wild()), 0..3),
        beta in coef(), alpha in coef(),
    ) {
        let batch = LossBatch {
            pairs: raw_pairs.into_iter().map(|(chosen, rejected)| PairStats { chosen, rejected }).collect(),
            samples: raw_samples.into_iter().map(|(label, seq)| LabelledStats { label, seq }).collect(),
            kl: raw_kl.into_iter().map(|(logp, ref_logp)| KlStats { logp, ref_logp }).collect(),
        };
        let ab = format!(r#"{{"alpha": {alpha}, "beta": {beta}}}"#);
        let losses = [
            create("sft", "{}"),
            create("dpo", &format!(r#"{{"beta": {beta}}}"#)),
            create("kto", &format!(r#"{{"beta": {beta}}}"#)),
            create("entropo-dpo", &ab),
            create("entropo-kto", &ab),
            create("entropo-kto", &format!(r#"{{"alpha": {alpha}, "beta": {beta}, "variant": "authors-code"}}"#)),
        ];
        for loss in &losses {
            if let Ok(out) = loss.compute(&batch) {
                prop_assert!(out.loss.is_finite(), "{}: loss {}", loss.name(), out.loss);
                prop_assert_eq!(out.grads.pairs.len(), batch.pairs.len());
                prop_assert_eq!(out.grads.samples.len(), batch.samples.len());
                prop_assert!(out.grads.pairs.iter().all(|g| g.chosen.is_finite() && g.rejected.is_finite()));
                prop_assert!(out.grads.samples.iter().all(|g| g.is_finite()));
                prop_assert!(out.metrics.values().all(|v| v.is_finite()), "{}: {:?}", loss.name(), out.metrics);
            }
        }
    }
}

/// Any f64, with the special values well represented.
fn wild() -> impl Strategy<Value = f64> {
    prop_oneof![
        -50.0..10.0f64,
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(f64::MAX),
        Just(-f64::MAX),
        Just(0.0),
        any::<f64>(),
    ]
}

fn wild_seq() -> impl Strategy<Value = SeqStats> {
    (
        wild(),
        prop::option::of(wild()),
        prop::option::of(prop_oneof![Just(0u64), Just(u64::MAX), any::<u64>()]),
    )
        .prop_map(|(logp, ref_logp, tokens)| SeqStats {
            logp,
            ref_logp,
            tokens,
        })
}
