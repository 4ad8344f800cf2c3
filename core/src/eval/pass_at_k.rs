//! pass@k: the chance that at least one of k rollouts drawn from a task's
//! n (c of them resolved) is resolved.

/// The unbiased pass@k estimator of Chen et al. (2021):
/// 1 − C(n−c, k) / C(n, k), for a task with `n` rollouts of which `c` are
/// resolved.
///
/// It is computed as 1 − ∏ᵢ₌ₙ₋꜀₊₁ⁿ (1 − k/i), which never forms a binomial
/// coefficient and so neither overflows nor loses precision for large `n`.
/// When fewer than `k` rollouts fail (`n − c < k`) every draw of `k` holds a
/// resolved one and the answer is exactly `1.0`. A `k` above `n` is taken
/// as `n` (all rollouts drawn), and `n = 0` or `k = 0` gives `0.0`.
///
/// # Panics
///
/// When `c > n`.
///
/// ```
/// use entropo_core::eval::pass_at_k;
/// assert_eq!(pass_at_k(16, 0, 4), 0.0);
/// assert_eq!(pass_at_k(16, 13, 4), 1.0); // only 3 failures: any 4 hold a success
/// assert!((pass_at_k(4, 1, 2) - 0.5).abs() < 1e-12); // 3 of the 6 pairs hold it
/// assert!((pass_at_k(10, 3, 1) - 0.3).abs() < 1e-12); // pass@1 = c / n
/// ```
pub fn pass_at_k(n: usize, c: usize, k: usize) -> f64 {
    assert!(c <= n, "pass_at_k: {c} resolved out of {n} rollouts");
    let k = k.min(n);
    if k == 0 {
        return 0.0;
    }
    if n - c < k {
        return 1.0;
    }
    let all_fail: f64 = (n - c + 1..=n).map(|i| 1.0 - k as f64 / i as f64).product();
    1.0 - all_fail
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fraction of the k-subsets of n rollouts (the first c resolved)
    /// that hold a resolved one, by enumerating every subset as a bit mask.
    fn brute_force(n: usize, c: usize, k: usize) -> f64 {
        let resolved_mask: u32 = (1 << c) - 1;
        let (mut hits, mut total) = (0u32, 0u32);
        for subset in 0u32..1 << n {
            if subset.count_ones() as usize == k {
                total += 1;
                hits += u32::from(subset & resolved_mask != 0);
            }
        }
        f64::from(hits) / f64::from(total)
    }

    #[test]
    fn matches_subset_enumeration_for_small_pools() {
        for n in 1..=10 {
            for c in 0..=n {
                for k in 1..=n {
                    let (got, want) = (pass_at_k(n, c, k), brute_force(n, c, k));
                    assert!(
                        (got - want).abs() < 1e-12,
                        "n={n} c={c} k={k}: {got} vs {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn edge_cases() {
        assert_eq!(pass_at_k(0, 0, 1), 0.0);
        assert_eq!(pass_at_k(5, 2, 0), 0.0);
        assert_eq!(pass_at_k(5, 0, 5), 0.0);
        assert_eq!(pass_at_k(5, 1, 5), 1.0);
        assert_eq!(pass_at_k(5, 1, 9), 1.0, "k above n draws everything");
        assert_eq!(pass_at_k(5, 0, 9), 0.0);
        assert_eq!(pass_at_k(5, 5, 1), 1.0);
    }

    #[test]
    fn large_pools_stay_finite_and_monotone() {
        let mut last = 0.0;
        for k in 1..=1000 {
            let p = pass_at_k(1000, 7, k);
            assert!(p.is_finite() && p >= last && p <= 1.0, "k={k}: {p}");
            last = p;
        }
        assert_eq!(last, 1.0);
    }

    #[test]
    #[should_panic(expected = "resolved out of")]
    fn more_resolved_than_rollouts_panics() {
        pass_at_k(2, 3, 1);
    }
}
