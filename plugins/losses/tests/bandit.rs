//! Paper Proposition 3.2 on a tabular bandit: minimising the population
//! EntroPO-DPO objective with the plugin's own loss and gradients drives
//! π_θ = softmax(θ) to π* ∝ π_ref^(β/α) · exp(u/α).

mod common;

use common::*;
use entropo_core::Loss;

const ALPHA: f64 = 1.0;
const BETA: f64 = 0.5;
/// Utilities of the K = 5 actions.
const U: [f64; 5] = [1.0, 0.3, -0.5, 0.8, -1.2];
/// A fixed, non-uniform reference policy (sums to 1).
const PI_REF: [f64; 5] = [0.1, 0.3, 0.15, 0.25, 0.2];

fn log_softmax(theta: &[f64; 5]) -> [f64; 5] {
    let m = theta.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let lse = m + theta.iter().map(|t| (t - m).exp()).sum::<f64>().ln();
    theta.map(|t| t - lse)
}

/// π ∝ π_ref^(β/α)·exp(u/α), normalised.
fn closed_form(alpha: f64, beta: f64) -> [f64; 5] {
    let w: Vec<f64> = (0..5)
        .map(|i| PI_REF[i].powf(beta / alpha) * (U[i] / alpha).exp())
        .collect();
    let z: f64 = w.iter().sum();
    std::array::from_fn(|i| w[i] / z)
}

/// The population objective Σ_{i≠j} σ(u_i − u_j)·loss(i ≻ j) and its
/// gradient with respect to θ, from the plugin's per-pair loss and
/// d loss / d logp chained through log-softmax by hand
/// (d log π_i / d θ_k = δ_ik − π_k).
fn objective(loss: &dyn Loss, theta: &[f64; 5]) -> (f64, [f64; 5]) {
    let logpi = log_softmax(theta);
    let log_ref = PI_REF.map(f64::ln);
    let mut value = 0.0;
    let mut d_logp = [0.0; 5];
    for i in 0..5 {
        for j in (0..5).filter(|&j| j != i) {
            let w = sig(U[i] - U[j]);
            let out = loss
                .compute(&pairs(vec![pair(
                    logpi[i], log_ref[i], logpi[j], log_ref[j],
                )]))
                .unwrap();
            value += w * out.loss;
            d_logp[i] += w * out.grads.pairs[0].chosen;
            d_logp[j] += w * out.grads.pairs[0].rejected;
        }
    }
    let total: f64 = d_logp.iter().sum();
    let grad = std::array::from_fn(|k| d_logp[k] - logpi[k].exp() * total);
    (value, grad)
}

#[test]
fn gradient_descent_reaches_the_entropo_optimum() {
    let loss = create(
        "entropo-dpo",
        &format!(r#"{{"alpha": {ALPHA}, "beta": {BETA}}}"#),
    );
    let mut theta = [0.0; 5];
    let lr = 1.0;
    let (mut previous, mut converged) = (f64::INFINITY, false);
    for _ in 0..5000 {
        let (value, grad) = objective(loss.as_ref(), &theta);
        // Plain gradient descent on a convex objective: it never goes up.
        assert!(
            value <= previous + 1e-12,
            "objective rose from {previous} to {value}"
        );
        previous = value;
        if grad.iter().all(|g| g.abs() < 1e-12) {
            converged = true;
            break;
        }
        for k in 0..5 {
            theta[k] -= lr * grad[k];
        }
    }
    assert!(converged, "gradient descent did not converge");

    let pi = log_softmax(&theta).map(f64::exp);
    let target = closed_form(ALPHA, BETA);
    for k in 0..5 {
        assert!(
            (pi[k] - target[k]).abs() < 1e-4,
            "action {k}: π = {}, closed form {}",
            pi[k],
            target[k]
        );
    }
    // The test can tell α from β: plain DPO's optimum (α = β) is far away,
    // and so is π_ref.
    let dpo_target = closed_form(BETA, BETA);
    assert!(
        (0..5).any(|k| (pi[k] - dpo_target[k]).abs() > 1e-2),
        "{pi:?} vs DPO optimum {dpo_target:?}"
    );
    assert!((0..5).any(|k| (pi[k] - PI_REF[k]).abs() > 1e-2));
}

#[test]
fn the_hand_chained_gradient_matches_central_differences() {
    // Guards the bandit test's own chain rule (not the plugin's).
    let loss = create(
        "entropo-dpo",
        &format!(r#"{{"alpha": {ALPHA}, "beta": {BETA}}}"#),
    );
    let theta = [0.3, -0.2, 0.5, 0.0, -0.7];
    let (_, grad) = objective(loss.as_ref(), &theta);
    for k in 0..5 {
        let h = 1e-5;
        let (mut up, mut down) = (theta, theta);
        up[k] += h;
        down[k] -= h;
        let fd = (objective(loss.as_ref(), &up).0 - objective(loss.as_ref(), &down).0) / (2.0 * h);
        assert!(
            (fd - grad[k]).abs() < 1e-8,
            "θ[{k}]: analytic {}, central difference {fd}",
            grad[k]
        );
    }
}
