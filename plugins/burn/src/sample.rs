//! Sampling: temperature, top-k and top-p (nucleus) over the last position's
//! logits, with a KV cache so each new token costs one position's forward pass.

use crate::attention::AttentionBackend;
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde::{Deserialize, Serialize};

use crate::error::ModelError;
use crate::lora::Adapters;
use crate::model::{Decoder, KvCache, host_values};

/// How tokens are drawn. Defaults are the paper's: 0.7 / 20 / 0.8.
///
/// ```
/// use entropo_burn::sample::SamplingParams;
/// let p = SamplingParams::default();
/// assert_eq!((p.temperature, p.top_k, p.top_p), (0.7, 20, 0.8));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SamplingParams {
    /// Softmax temperature; 0 picks the most likely token (greedy).
    pub temperature: f64,
    /// Keep the k most likely tokens (0: all).
    pub top_k: usize,
    /// Keep the smallest set whose probability reaches p (1: all).
    pub top_p: f64,
    /// Most tokens to generate.
    pub max_tokens: usize,
    /// Random seed.
    pub seed: u64,
}

impl Default for SamplingParams {
    fn default() -> Self {
        SamplingParams { temperature: 0.7, top_k: 20, top_p: 0.8, max_tokens: 512, seed: 0 }
    }
}

impl SamplingParams {
    /// Checks the ranges, naming the bad field.
    pub fn validate(&self) -> Result<(), ModelError> {
        if !(self.temperature >= 0.0 && self.temperature.is_finite()) {
            return Err(ModelError::Invalid("temperature: must be a finite number ≥ 0".into()));
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return Err(ModelError::Invalid("top_p: must be in (0, 1]".into()));
        }
        Ok(())
    }
}

/// Draws one token id from `logits` (one position, the whole vocabulary).
///
/// Order as in HuggingFace: temperature, then top-k, then top-p.
///
/// ```
/// use entropo_burn::sample::{pick, SamplingParams};
/// use rand::SeedableRng;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let greedy = SamplingParams { temperature: 0.0, ..Default::default() };
/// assert_eq!(pick(&[0.1, 3.0, -1.0], &greedy, &mut rng), 1);
/// let top1 = SamplingParams { top_k: 1, ..Default::default() };
/// assert_eq!(pick(&[0.1, 3.0, 2.9], &top1, &mut rng), 1);
/// ```
pub fn pick(logits: &[f32], params: &SamplingParams, rng: &mut impl Rng) -> u32 {
    let argmax = || {
        logits.iter().enumerate().fold((0, f32::NEG_INFINITY), |best, (i, &v)| if v > best.1 { (i, v) } else { best }).0
            as u32
    };
    if params.temperature == 0.0 {
        return argmax();
    }
    let mut ranked: Vec<(u32, f64)> =
        logits.iter().enumerate().map(|(i, &v)| (i as u32, f64::from(v) / params.temperature)).collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    if params.top_k > 0 {
        ranked.truncate(params.top_k);
    }
    let max = ranked[0].1;
    let mut probs: Vec<f64> = ranked.iter().map(|(_, v)| (v - max).exp()).collect();
    let total: f64 = probs.iter().sum();
    probs.iter_mut().for_each(|p| *p /= total);
    if params.top_p < 1.0 {
        // Keep tokens while the mass *before* them is below top_p (the top token always stays).
        let mut mass = 0.0;
        let keep = probs
            .iter()
            .take_while(|p| {
                let before = mass;
                mass += **p;
                before < params.top_p
            })
            .count()
            .max(1);
        probs.truncate(keep);
        let total: f64 = probs.iter().sum();
        probs.iter_mut().for_each(|p| *p /= total);
    }
    let mut u: f64 = rng.random();
    for (i, p) in probs.iter().enumerate() {
        if u < *p {
            return ranked[i].0;
        }
        u -= p;
    }
    ranked[probs.len() - 1].0
}

/// Why generation stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FinishReason {
    /// A stop token was produced (it is not included in the output).
    Stop,
    /// `max_tokens` was reached.
    Length,
}

/// The tokens a call to [`generate`] produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generation {
    /// New token ids, without the stop token.
    pub tokens: Vec<u32>,
    /// Why it ended.
    pub finish: FinishReason,
}

/// Continues `prompt` until a token in `stop` or `params.max_tokens`,
/// calling `on_token` for each new token (for streaming).
pub fn generate<B: AttentionBackend>(
    model: &Decoder<B>,
    adapters: Option<&Adapters<B>>,
    prompt: &[u32],
    stop: &[u32],
    params: &SamplingParams,
    mut on_token: impl FnMut(u32),
) -> Result<Generation, ModelError> {
    params.validate()?;
    if prompt.is_empty() {
        return Err(ModelError::Invalid("prompt: no tokens".into()));
    }
    let mut rng = StdRng::seed_from_u64(params.seed);
    let mut cache = KvCache::new(model.config.num_hidden_layers);
    let mut next = prompt.to_vec();
    let mut tokens = Vec::new();
    while tokens.len() < params.max_tokens {
        let ids = model.ids(&[next])?;
        let last = host_values(model.last_logits(ids, adapters, Some(&mut cache)));
        let token = pick(&last, params, &mut rng);
        if stop.contains(&token) {
            return Ok(Generation { tokens, finish: FinishReason::Stop });
        }
        on_token(token);
        tokens.push(token);
        next = vec![token];
    }
    Ok(Generation { tokens, finish: FinishReason::Length })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frequencies of many draws match the closed-form truncated distribution.
    #[test]
    fn top_k_top_p_sample_the_renormalised_distribution() {
        let logits = [2.0f32, 1.0, 0.5, 0.0, -1.0];
        let params = SamplingParams { temperature: 0.5, top_k: 4, top_p: 0.9, ..Default::default() };
        // closed form: softmax(logits / 0.5) over the top 4, then nucleus 0.9
        let z: Vec<f64> = logits[..4].iter().map(|l| (f64::from(*l) / 0.5).exp()).collect();
        let total: f64 = z.iter().sum();
        let p: Vec<f64> = z.iter().map(|v| v / total).collect();
        // p ≈ [0.844, 0.114, 0.042, 0.0..]: mass before token 2 is 0.958 ≥ 0.9 → keep 2
        let kept = 2;
        let norm: f64 = p[..kept].iter().sum();
        let mut rng = StdRng::seed_from_u64(7);
        let n = 20_000;
        let mut counts = [0usize; 5];
        for _ in 0..n {
            counts[pick(&logits, &params, &mut rng) as usize] += 1;
        }
        assert_eq!(counts[2..].iter().sum::<usize>(), 0);
        let freq = counts[0] as f64 / n as f64;
        assert!((freq - p[0] / norm).abs() < 0.01, "{freq} vs {}", p[0] / norm);
    }

    #[test]
    fn bad_params_are_named() {
        let p = SamplingParams { top_p: 0.0, ..Default::default() };
        assert!(p.validate().unwrap_err().to_string().starts_with("top_p"));
        let p = SamplingParams { temperature: -1.0, ..Default::default() };
        assert!(p.validate().unwrap_err().to_string().starts_with("temperature"));
    }
}
