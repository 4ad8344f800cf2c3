//! AdamW over the adapters' host values, the warmup + cosine schedule and
//! global gradient-norm clipping, as HuggingFace's Trainer does them.

use std::collections::BTreeMap;

use crate::weights::HostTensor;

/// Learning rate after `step` completed optimizer steps of `total`: linear
/// warmup from 0 over `warmup` steps, then cosine decay to 0
/// (`get_cosine_schedule_with_warmup`).
///
/// ```
/// use entropo_burn::train::lr_at;
/// assert_eq!(lr_at(0, 10, 2, 1.0), 0.0);
/// assert_eq!(lr_at(1, 10, 2, 1.0), 0.5);
/// assert_eq!(lr_at(2, 10, 2, 1.0), 1.0);
/// assert!((lr_at(6, 10, 2, 1.0) - 0.5).abs() < 1e-12);
/// ```
pub fn lr_at(step: usize, total: usize, warmup: usize, peak: f64) -> f64 {
    if step < warmup {
        return peak * step as f64 / warmup.max(1) as f64;
    }
    let progress = (step - warmup) as f64 / (total.saturating_sub(warmup)).max(1) as f64;
    peak * 0.5 * (1.0 + (std::f64::consts::PI * progress.min(1.0)).cos())
}

/// Scales `grads` so their joint L2 norm is at most `max_norm` (0: never);
/// returns the norm before clipping.
///
/// ```
/// use entropo_burn::train::clip_global_norm;
/// let mut g = vec![vec![3.0f32], vec![4.0]];
/// assert_eq!(clip_global_norm(&mut g, 1.0), 5.0);
/// assert!((g[0][0] - 0.6).abs() < 1e-6 && (g[1][0] - 0.8).abs() < 1e-6);
/// ```
pub fn clip_global_norm(grads: &mut [Vec<f32>], max_norm: f64) -> f64 {
    let norm = grads.iter().flatten().map(|g| f64::from(*g).powi(2)).sum::<f64>().sqrt();
    if max_norm > 0.0 && norm > max_norm {
        let scale = (max_norm / (norm + 1e-6)) as f32;
        grads.iter_mut().flatten().for_each(|g| *g *= scale);
    }
    norm
}

/// AdamW hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamWConfig {
    /// First-moment decay.
    pub beta1: f64,
    /// Second-moment decay.
    pub beta2: f64,
    /// Denominator epsilon.
    pub eps: f64,
    /// Decoupled weight decay.
    pub weight_decay: f64,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        AdamWConfig { beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.0 }
    }
}

/// AdamW state: first and second moments per parameter tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct AdamW {
    /// Hyper-parameters.
    pub config: AdamWConfig,
    /// Steps taken.
    pub step: u64,
    /// First moments.
    pub m: Vec<Vec<f32>>,
    /// Second moments.
    pub v: Vec<Vec<f32>>,
}

impl AdamW {
    /// Zero moments for parameters of these sizes.
    pub fn new(config: AdamWConfig, sizes: &[usize]) -> Self {
        AdamW {
            config,
            step: 0,
            m: sizes.iter().map(|n| vec![0.0; *n]).collect(),
            v: sizes.iter().map(|n| vec![0.0; *n]).collect(),
        }
    }

    /// One update of `params` with `grads` at learning rate `lr`
    /// (torch.optim.AdamW's arithmetic).
    pub fn update(&mut self, params: &mut [&mut [f32]], grads: &[Vec<f32>], lr: f64) {
        self.step += 1;
        let AdamWConfig { beta1, beta2, eps, weight_decay } = self.config;
        let bc1 = 1.0 - beta1.powi(self.step as i32);
        let bc2 = 1.0 - beta2.powi(self.step as i32);
        for (i, (p, g)) in params.iter_mut().zip(grads).enumerate() {
            let (m, v) = (&mut self.m[i], &mut self.v[i]);
            for j in 0..p.len() {
                let gj = f64::from(g[j]);
                let mj = beta1 * f64::from(m[j]) + (1.0 - beta1) * gj;
                let vj = beta2 * f64::from(v[j]) + (1.0 - beta2) * gj * gj;
                m[j] = mj as f32;
                v[j] = vj as f32;
                let mut pj = f64::from(p[j]) * (1.0 - lr * weight_decay);
                pj -= lr * (mj / bc1) / ((vj / bc2).sqrt() + eps);
                p[j] = pj as f32;
            }
        }
    }

    /// The moments as named tensors, for a checkpoint.
    pub fn to_tensors(&self) -> BTreeMap<String, HostTensor> {
        let mut out = BTreeMap::new();
        for (i, (m, v)) in self.m.iter().zip(&self.v).enumerate() {
            out.insert(format!("m.{i:05}"), HostTensor { shape: vec![m.len()], data: m.clone() });
            out.insert(format!("v.{i:05}"), HostTensor { shape: vec![v.len()], data: v.clone() });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first AdamW step moves every parameter by lr·sign(g) (bias-corrected
    /// moments make m̂/√v̂ = ±1), minus the decoupled decay.
    #[test]
    fn first_step_is_lr_times_sign_of_the_gradient() {
        let cfg = AdamWConfig { weight_decay: 0.1, eps: 0.0, ..Default::default() };
        let mut opt = AdamW::new(cfg, &[3]);
        let mut p = [1.0f32, -2.0, 0.5];
        let g = vec![vec![0.3f32, -4.0, 1e-3]];
        opt.update(&mut [&mut p[..]], &g, 0.01);
        let expect = [1.0 * (1.0 - 0.001) - 0.01, -2.0 * (1.0 - 0.001) + 0.01, 0.5 * (1.0 - 0.001) - 0.01];
        for (a, b) in p.iter().zip(expect) {
            assert!((f64::from(*a) - b).abs() < 1e-6, "{a} vs {b}");
        }
    }

    #[test]
    fn cosine_schedule_ends_at_zero_and_peaks_after_warmup() {
        let total = 20;
        let lrs: Vec<f64> = (0..=total).map(|s| lr_at(s, total, 2, 1e-3)).collect();
        assert_eq!(lrs[2], 1e-3);
        assert!(lrs[total].abs() < 1e-15);
        assert!(lrs[2..].windows(2).all(|w| w[1] <= w[0]));
    }
}
