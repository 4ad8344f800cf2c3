//! Numerically stable scalar functions shared by the losses.

/// The logistic function σ(x) = 1 / (1 + e^(−x)), accurate in both tails
/// (no `1 − tiny` cancellation, no overflow of `e^(−x)` for very negative x).
pub(crate) fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// softplus(x) = ln(1 + e^x), without overflow; `−log σ(x) = softplus(−x)`.
pub(crate) fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// σ'(x) = σ(x)·σ(−x), computed without the cancellation of `σ(x)(1 − σ(x))`.
pub(crate) fn sigmoid_slope(x: f64) -> f64 {
    sigmoid(x) * sigmoid(-x)
}

/// The arithmetic mean, or `None` for no values.
pub(crate) fn mean(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values
        .into_iter()
        .fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigmoid_matches_definition_and_symmetry() {
        for x in [-30.0, -3.0, -0.5, 0.0, 0.25, 2.0, 30.0_f64] {
            let naive = 1.0 / (1.0 + (-x).exp());
            assert!(
                (sigmoid(x) - naive).abs() <= 1e-15 * naive.max(1e-300) + 1e-300,
                "x = {x}"
            );
            assert!((sigmoid(x) + sigmoid(-x) - 1.0).abs() < 1e-15, "x = {x}");
        }
        assert_eq!(sigmoid(0.0), 0.5);
        // Tails stay finite and exact.
        assert!(sigmoid(-800.0) >= 0.0 && sigmoid(-800.0) < 1e-300);
        assert_eq!(sigmoid(800.0), 1.0);
        assert!((sigmoid(-40.0) - (-40.0_f64).exp()).abs() < 1e-30);
    }

    #[test]
    fn softplus_is_minus_log_sigmoid() {
        for x in [-20.0, -1.0, 0.0, 0.7, 5.0, 20.0_f64] {
            let expected = -(sigmoid(-x)).ln();
            assert!((softplus(x) - expected).abs() < 1e-13, "x = {x}");
        }
        assert!((softplus(0.0) - std::f64::consts::LN_2).abs() < 1e-16);
        // Large arguments: softplus(x) ≈ x, softplus(−x) ≈ e^(−x), no overflow.
        assert_eq!(softplus(1000.0), 1000.0);
        assert!(softplus(-1000.0) >= 0.0 && softplus(-1000.0) < 1e-300);
        assert!((softplus(-40.0) - (-40.0_f64).exp()).abs() < 1e-30);
    }

    #[test]
    fn sigmoid_slope_is_the_derivative() {
        for x in [-8.0, -1.0, 0.0, 0.3, 4.0_f64] {
            let h = 1e-5;
            let fd = (sigmoid(x + h) - sigmoid(x - h)) / (2.0 * h);
            assert!((sigmoid_slope(x) - fd).abs() < 1e-9, "x = {x}");
        }
        assert_eq!(sigmoid_slope(0.0), 0.25);
    }

    #[test]
    fn mean_of_values() {
        assert_eq!(mean([]), None);
        assert_eq!(mean([1.0, 2.0, 6.0]), Some(3.0));
    }
}
