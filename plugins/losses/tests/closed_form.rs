//! Hand-computed batches checked against the loss definitions.

mod common;

use common::*;

const TOL: f64 = 1e-12;

#[test]
fn sft_is_token_mean_nll() {
    let loss = create("sft", "{}");
    let batch = samples(
        vec![
            sft_sample(-3.0, 2),
            sft_sample(-5.0, 6),
            sft_sample(-1.5, 4),
        ],
        vec![],
    );
    let out = loss.compute(&batch).unwrap();
    // (3 + 5 + 1.5) / (2 + 6 + 4)
    assert_close(out.loss, 9.5 / 12.0, TOL, "loss");
    for g in &out.grads.samples {
        assert_close(*g, -1.0 / 12.0, TOL, "grad");
    }
    assert!(out.grads.pairs.is_empty());
    assert_close(out.metrics["nll/token"], 9.5 / 12.0, TOL, "nll/token");
    assert_eq!(out.metrics["num_tokens"], 12.0);
    assert_eq!(out.metrics.len(), 2);
}

#[test]
fn sft_ignores_reference_when_given() {
    let loss = create("sft", "{}");
    let mut s = sft_sample(-4.0, 8);
    s.seq.ref_logp = Some(-100.0);
    let out = loss.compute(&samples(vec![s], vec![])).unwrap();
    assert_close(out.loss, 0.5, TOL, "loss");
}

#[test]
fn dpo_sigmoid_loss_and_metrics() {
    let beta = 0.1;
    let loss = create("dpo", r#"{"beta": 0.1}"#);
    // (logp⁺, ref⁺, logp⁻, ref⁻)
    let raw = [
        (-10.0, -15.0, -12.0, -14.0),
        (-20.0, -18.0, -19.0, -21.0),
        (-7.5, -7.0, -9.0, -8.0),
    ];
    let batch = pairs(raw.iter().map(|&(a, b, c, d)| pair(a, b, c, d)).collect());
    let out = loss.compute(&batch).unwrap();
    let n = raw.len() as f64;
    let h: Vec<f64> = raw
        .iter()
        .map(|&(lc, rc, lr, rr)| (lc - lr) - (rc - rr))
        .collect();
    assert_eq!(h, vec![3.0, -4.0, 0.5]);
    let expected = h.iter().map(|&h| neg_log_sig(beta * h)).sum::<f64>() / n;
    assert_close(out.loss, expected, TOL, "loss");
    for (g, &h) in out.grads.pairs.iter().zip(&h) {
        // d/dlogp⁺ of −log σ(βh) / n = −β σ(−βh) / n.
        assert_close(g.chosen, -beta * sig(-beta * h) / n, TOL, "grad chosen");
        assert_close(g.rejected, beta * sig(-beta * h) / n, TOL, "grad rejected");
    }
    let rc: Vec<f64> = raw.iter().map(|&(lc, r, _, _)| beta * (lc - r)).collect();
    let rr: Vec<f64> = raw.iter().map(|&(_, _, lr, r)| beta * (lr - r)).collect();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    assert_close(
        out.metrics["rewards/chosen"],
        mean(&rc),
        TOL,
        "rewards/chosen",
    );
    assert_close(
        out.metrics["rewards/rejected"],
        mean(&rr),
        TOL,
        "rewards/rejected",
    );
    assert_close(
        out.metrics["rewards/margins"],
        mean(&rc) - mean(&rr),
        TOL,
        "rewards/margins",
    );
    // h = 3, −4, 0.5: two of three pairs ranked right.
    assert_close(
        out.metrics["rewards/accuracies"],
        2.0 / 3.0,
        TOL,
        "accuracies",
    );
    assert_close(
        out.metrics["logps/chosen"],
        (-10.0 - 20.0 - 7.5) / 3.0,
        TOL,
        "logps/chosen",
    );
    assert_close(
        out.metrics["logps/rejected"],
        (-12.0 - 19.0 - 9.0) / 3.0,
        TOL,
        "logps/rejected",
    );
}

#[test]
fn dpo_at_the_reference_is_ln2() {
    let out = create("dpo", r#"{"beta": 0.3}"#)
        .compute(&pairs(vec![pair(-3.0, -3.0, -8.0, -8.0)]))
        .unwrap();
    assert_close(out.loss, std::f64::consts::LN_2, 1e-15, "loss");
    assert_close(out.grads.pairs[0].chosen, -0.15, 1e-15, "grad chosen");
    assert_close(out.grads.pairs[0].rejected, 0.15, 1e-15, "grad rejected");
    assert_eq!(out.metrics["rewards/accuracies"], 0.0); // a tie is not a win
}

#[test]
fn dpo_extreme_logits_stay_finite_and_accurate() {
    // βh = ±500: naive −log σ would give log(0) or lose everything to rounding.
    let out = create("dpo", r#"{"beta": 1.0}"#)
        .compute(&pairs(vec![
            pair(0.0, 0.0, -500.0, 0.0),
            pair(-500.0, 0.0, 0.0, 0.0),
        ]))
        .unwrap();
    // mean of softplus(−500) ≈ e^−500 and softplus(500) = 500.
    assert_close(out.loss, 250.0, 1e-15, "loss");
    assert_close(out.grads.pairs[1].chosen, -0.5, 1e-15, "saturated grad");
    assert!(out.grads.pairs[0].chosen.abs() < 1e-200);
}

#[test]
fn entropo_dpo_is_paper_eq_6() {
    let (alpha, beta) = (0.25, 0.1);
    let loss = create("entropo-dpo", r#"{"alpha": 0.25, "beta": 0.1}"#);
    let raw = [(-10.0, -15.0, -12.0, -14.0), (-20.0, -18.0, -19.0, -21.0)];
    let out = loss
        .compute(&pairs(
            raw.iter().map(|&(a, b, c, d)| pair(a, b, c, d)).collect(),
        ))
        .unwrap();
    let r = |logp: f64, reference: f64| logp - (beta / alpha) * reference;
    let mut expected = 0.0;
    for (g, &(lc, rc, lr, rr)) in out.grads.pairs.iter().zip(&raw) {
        let x = alpha * (r(lc, rc) - r(lr, rr));
        expected += neg_log_sig(x) / 2.0;
        assert_close(g.chosen, -alpha * sig(-x) / 2.0, TOL, "grad chosen");
        assert_close(g.rejected, alpha * sig(-x) / 2.0, TOL, "grad rejected");
    }
    assert_close(out.loss, expected, TOL, "loss");
    let reward = |l: f64, rf: f64| alpha * l - beta * rf;
    assert_close(
        out.metrics["rewards/chosen"],
        (reward(-10.0, -15.0) + reward(-20.0, -18.0)) / 2.0,
        TOL,
        "chosen",
    );
    assert_close(
        out.metrics["rewards/rejected"],
        (reward(-12.0, -14.0) + reward(-19.0, -21.0)) / 2.0,
        TOL,
        "rej",
    );
    // The scale matters: the same batch under dpo(beta) gives another loss.
    let dpo = create("dpo", r#"{"beta": 0.1}"#).compute(&pairs(
        raw.iter().map(|&(a, b, c, d)| pair(a, b, c, d)).collect(),
    ));
    assert!((dpo.unwrap().loss - out.loss).abs() > 1e-3);
}

#[test]
fn kto_matches_trl_definition() {
    let (beta, ld, lu) = (0.2, 1.5, 0.7);
    let loss = create(
        "kto",
        r#"{"beta": 0.2, "lambda_desirable": 1.5, "lambda_undesirable": 0.7}"#,
    );
    let s = vec![
        sample(true, -10.0, -12.0),
        sample(false, -9.0, -8.0),
        sample(true, -4.0, -3.0),
        sample(false, -6.0, -7.5),
    ];
    let k = vec![kl(-20.0, -21.0), kl(-5.0, -5.5), kl(-3.0, -2.0)];
    let out = loss.compute(&samples(s.clone(), k)).unwrap();
    let kl_est: f64 = ((-20.0 + 21.0) + (-5.0 + 5.5) + (-3.0 + 2.0)) / 3.0; // = 0.5/3 > 0
    assert!(kl_est > 0.0);
    let n = s.len() as f64;
    let mut expected = 0.0;
    for (g, x) in out.grads.samples.iter().zip(&s) {
        let lr = x.seq.logp - x.seq.ref_logp.unwrap();
        let (l, d) = if x.label {
            let z = beta * (lr - kl_est);
            (ld * (1.0 - sig(z)), -ld * beta * sig(z) * (1.0 - sig(z)))
        } else {
            let z = beta * (kl_est - lr);
            (lu * (1.0 - sig(z)), lu * beta * sig(z) * (1.0 - sig(z)))
        };
        expected += l / n;
        assert_close(*g, d / n, TOL, "grad");
    }
    assert_close(out.loss, expected, TOL, "loss");
    assert_close(out.metrics["kl"], kl_est, TOL, "kl");
    assert_eq!(out.metrics["count/desirable"], 2.0);
    assert_eq!(out.metrics["count/undesirable"], 2.0);
    assert_close(
        out.metrics["rewards/chosen"],
        beta * ((-10.0 + 12.0) + (-4.0 + 3.0)) / 2.0,
        TOL,
        "chosen",
    );
    assert_close(
        out.metrics["rewards/rejected"],
        beta * ((-9.0 + 8.0) + (-6.0 + 7.5)) / 2.0,
        TOL,
        "rejected",
    );
    assert_close(
        out.metrics["rewards/margins"],
        beta * (0.5 - 0.25),
        TOL,
        "margins",
    );
    assert_close(out.metrics["logps/chosen"], -7.0, TOL, "logps/chosen");
    assert_close(out.metrics["logps/rejected"], -7.5, TOL, "logps/rejected");
}

#[test]
fn kto_reference_point_is_clamped_at_zero_and_zero_without_kl() {
    let loss = create("kto", r#"{"beta": 0.5}"#);
    let s = vec![sample(true, -10.0, -11.0), sample(false, -2.0, -1.0)];
    let expected = ((1.0 - sig(0.5 * 1.0)) + (1.0 - sig(0.5 * 1.0))) / 2.0;
    // A negative mean KL is clamped to 0 …
    let clamped = loss
        .compute(&samples(s.clone(), vec![kl(-10.0, -8.0)]))
        .unwrap();
    assert_eq!(clamped.metrics["kl"], 0.0);
    assert_close(clamped.loss, expected, TOL, "clamped loss");
    // … and no KL samples means KL = 0.
    let none = loss.compute(&samples(s, vec![])).unwrap();
    assert_eq!(none.metrics["kl"], 0.0);
    assert_close(none.loss, expected, TOL, "no-kl loss");
}

#[test]
fn kto_omits_metrics_of_an_absent_class() {
    let out = create("kto", "{}")
        .compute(&samples(vec![sample(true, -1.0, -2.0)], vec![]))
        .unwrap();
    assert!(out.metrics.contains_key("rewards/chosen"));
    assert!(out.metrics.contains_key("logps/chosen"));
    for absent in ["rewards/rejected", "rewards/margins", "logps/rejected"] {
        assert!(
            !out.metrics.contains_key(absent),
            "{absent} should be omitted"
        );
    }
    assert_eq!(out.metrics["count/undesirable"], 0.0);
    assert!(out.metrics.values().all(|v| v.is_finite()));
}

#[test]
fn entropo_kto_paper_variant() {
    let (alpha, beta, ld, lu) = (0.3, 0.1, 1.2, 0.8);
    let loss = create(
        "entropo-kto",
        r#"{"alpha": 0.3, "beta": 0.1, "lambda_desirable": 1.2, "lambda_undesirable": 0.8, "variant": "paper"}"#,
    );
    let s = vec![
        sample(true, -10.0, -12.0),
        sample(false, -9.0, -8.0),
        sample(false, -3.0, -9.0),
    ];
    let k = vec![kl(-2.0, -9.0), kl(-1.0, -6.0)];
    let out = loss.compute(&samples(s.clone(), k.clone())).unwrap();
    let r = |logp: f64, reference: f64| logp - (beta / alpha) * reference;
    let z0 = (k.iter().map(|x| r(x.logp, x.ref_logp)).sum::<f64>() / 2.0).max(0.0);
    assert!(z0 > 0.0);
    let mut expected = 0.0;
    for (g, x) in out.grads.samples.iter().zip(&s) {
        let ri = r(x.seq.logp, x.seq.ref_logp.unwrap());
        let (l, d) = if x.label {
            let z = alpha * (ri - z0);
            (ld * (1.0 - sig(z)), -ld * alpha * sig(z) * (1.0 - sig(z)))
        } else {
            let z = alpha * (z0 - ri);
            (lu * (1.0 - sig(z)), lu * alpha * sig(z) * (1.0 - sig(z)))
        };
        expected += l / 3.0;
        assert_close(*g, d / 3.0, TOL, "grad");
    }
    assert_close(out.loss, expected, TOL, "loss");
    assert_close(out.metrics["kl"], z0, TOL, "kl");
    assert_close(
        out.metrics["rewards/chosen"],
        alpha * -10.0 - beta * -12.0,
        TOL,
        "rewards/chosen",
    );
}

#[test]
fn entropo_kto_authors_code_variant() {
    let (alpha, beta) = (0.3, 0.1);
    let loss = create(
        "entropo-kto",
        r#"{"alpha": 0.3, "beta": 0.1, "variant": "authors-code"}"#,
    );
    let s = vec![sample(true, -10.0, -12.0), sample(false, -9.0, -8.0)];
    let k = vec![kl(-2.0, -9.0), kl(-4.0, -30.0)];
    let out = loss.compute(&samples(s.clone(), k.clone())).unwrap();
    let z0 = (k
        .iter()
        .map(|x| alpha * x.logp - beta * x.ref_logp)
        .sum::<f64>()
        / 2.0)
        .max(0.0);
    assert!(z0 > 0.0);
    let d_in = -10.0 - -12.0;
    let u_in = -9.0 - -8.0;
    let expected = ((1.0 - sig(beta * (d_in - z0))) + (1.0 - sig(beta * (z0 - u_in)))) / 2.0;
    assert_close(out.loss, expected, TOL, "loss");
    let sd = sig(beta * (d_in - z0));
    let su = sig(beta * (z0 - u_in));
    assert_close(
        out.grads.samples[0],
        -beta * sd * (1.0 - sd) / 2.0,
        TOL,
        "grad desirable",
    );
    assert_close(
        out.grads.samples[1],
        beta * su * (1.0 - su) / 2.0,
        TOL,
        "grad undesirable",
    );
    assert_close(out.metrics["kl"], z0, TOL, "kl");
    assert_close(
        out.metrics["rewards/chosen"],
        beta * d_in,
        TOL,
        "rewards/chosen",
    );
    assert_close(
        out.metrics["rewards/rejected"],
        beta * u_in,
        TOL,
        "rewards/rejected",
    );
}

#[test]
fn authors_code_differs_from_kto_at_alpha_eq_beta_when_z0_positive() {
    let kto = create("kto", r#"{"beta": 0.5}"#);
    let authors = create(
        "entropo-kto",
        r#"{"alpha": 0.5, "beta": 0.5, "variant": "authors-code"}"#,
    );
    let s = vec![sample(true, -10.0, -12.0), sample(false, -9.0, -8.0)];
    // mean(logp − ref) over kl = 2 > 0: kto uses KL = 2, authors-code z0 = β·2 = 1.
    let with_kl = samples(s.clone(), vec![kl(-3.0, -6.0), kl(-5.0, -6.0)]);
    let a = authors.compute(&with_kl).unwrap();
    let k = kto.compute(&with_kl).unwrap();
    assert_close(k.metrics["kl"], 2.0, TOL, "kto kl");
    assert_close(a.metrics["kl"], 1.0, TOL, "authors z0");
    assert!(
        (a.loss - k.loss).abs() > 1e-3,
        "authors-code {} vs kto {}",
        a.loss,
        k.loss
    );
    // Without KL samples both reference points are 0 and the two agree.
    let no_kl = samples(s, vec![]);
    let (a, k) = (
        authors.compute(&no_kl).unwrap(),
        kto.compute(&no_kl).unwrap(),
    );
    assert_close(a.loss, k.loss, 1e-15, "loss without kl");
    assert_eq!(a.grads, k.grads);
}

#[test]
fn every_loss_reports_its_registered_name() {
    for name in entropo_losses::NAMES {
        assert_eq!(create(name, "{}").name(), name);
    }
}
