//! Rotary position embeddings, with the rescalings HuggingFace configs name.

use crate::config::RopeScaling;

/// The inverse frequencies `1 / theta^(2i/d)` for `i < d/2`, rescaled.
///
/// ```
/// use entropo_burn::{config::RopeScaling, rope::inv_freq};
/// let f = inv_freq(4, 10_000.0, &RopeScaling::Default);
/// assert_eq!(f, vec![1.0, 0.01]);
/// let g = inv_freq(4, 10_000.0, &RopeScaling::Linear { factor: 2.0 });
/// assert_eq!(g, vec![0.5, 0.005]);
/// ```
pub fn inv_freq(head_dim: usize, theta: f64, scaling: &RopeScaling) -> Vec<f64> {
    let base: Vec<f64> =
        (0..head_dim / 2).map(|i| 1.0 / theta.powf((2 * i) as f64 / head_dim as f64)).collect();
    match *scaling {
        RopeScaling::Default => base,
        RopeScaling::Linear { factor } => base.into_iter().map(|f| f / factor).collect(),
        RopeScaling::Llama3 { factor, low_freq_factor, high_freq_factor, original_max_position_embeddings: old } => {
            let low_freq_wavelen = old / low_freq_factor;
            let high_freq_wavelen = old / high_freq_factor;
            base.into_iter()
                .map(|f| {
                    let wavelen = 2.0 * std::f64::consts::PI / f;
                    if wavelen < high_freq_wavelen {
                        f
                    } else if wavelen > low_freq_wavelen {
                        f / factor
                    } else {
                        let smooth = (old / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor);
                        (1.0 - smooth) * f / factor + smooth * f
                    }
                })
                .collect()
        }
    }
}

/// `cos` and `sin` tables of shape `[len, head_dim]` for positions
/// `start..start + len`, laid out as HuggingFace's `rotate_half` expects
/// (the half-width table repeated twice).
pub fn tables(inv_freq: &[f64], start: usize, len: usize) -> (Vec<f32>, Vec<f32>) {
    let d = inv_freq.len() * 2;
    let mut cos = Vec::with_capacity(len * d);
    let mut sin = Vec::with_capacity(len * d);
    for pos in start..start + len {
        for _ in 0..2 {
            for f in inv_freq {
                let angle = pos as f64 * f;
                cos.push(angle.cos() as f32);
                sin.push(angle.sin() as f32);
            }
        }
    }
    (cos, sin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn llama3_keeps_high_frequencies_and_scales_low_ones() {
        let s = RopeScaling::Llama3 {
            factor: 8.0,
            low_freq_factor: 1.0,
            high_freq_factor: 4.0,
            original_max_position_embeddings: 64.0,
        };
        let plain = inv_freq(16, 500_000.0, &RopeScaling::Default);
        let scaled = inv_freq(16, 500_000.0, &s);
        for (p, q) in plain.iter().zip(&scaled) {
            let wavelen = 2.0 * std::f64::consts::PI / p;
            if wavelen < 16.0 {
                assert_eq!(p, q);
            } else if wavelen > 64.0 {
                assert!((q - p / 8.0).abs() < 1e-15);
            } else {
                assert!(*q < *p && *q > p / 8.0, "smoothed frequency lies between");
            }
        }
        // The fixture's settings cover all three regimes.
        let wl: Vec<f64> = plain.iter().map(|f| 2.0 * std::f64::consts::PI / f).collect();
        assert!(wl.iter().any(|w| *w < 16.0) && wl.iter().any(|w| *w > 64.0));
        assert!(wl.iter().any(|w| (16.0..=64.0).contains(w)));
    }

    #[test]
    fn tables_rotate_by_position_times_frequency() {
        let (cos, sin) = tables(&[0.5, 0.25], 3, 2);
        assert_eq!(cos.len(), 8);
        // position 4, second frequency, second half
        assert!((cos[4 + 3] - (4.0f64 * 0.25).cos() as f32).abs() < 1e-7);
        assert!((sin[2] - (3.0f64 * 0.5).sin() as f32).abs() < 1e-7);
    }
}
