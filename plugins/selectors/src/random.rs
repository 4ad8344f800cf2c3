//! `random`: a uniform pick, reproducible from `(seed, task_id)`.

use entropo_core::registry::PluginError;
use entropo_core::selector::{Selection, Selector, SelectorError};
use entropo_core::types::RolloutRecord;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::stages;

/// Parameters of [`Random`].
///
/// ```
/// use entropo_core::registry::{Params, parse_params};
/// use entropo_selectors::RandomParams;
/// assert_eq!(parse_params::<RandomParams>(&Params::new()).unwrap().seed, 0);
/// let p: Params = serde_json::from_str(r#"{"seed": 7}"#).unwrap();
/// assert_eq!(parse_params::<RandomParams>(&p).unwrap().seed, 7);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RandomParams {
    /// Seed; the generator of each task is seeded from it and the task id.
    pub seed: u64,
}

/// `random`: a uniformly random rollout, deterministic given `seed` and the
/// task id.
///
/// The candidates are sorted by `rollout_id` (so the row order of an index
/// does not matter) and one is drawn with SplitMix64 seeded by a 64-bit
/// FNV-1a hash of `seed` (8 bytes, little-endian) followed by the task id's
/// UTF-8 bytes, with rejection sampling so the draw is exactly uniform. All
/// of this is written out here rather than taken from a random-number crate,
/// whose generators may change between versions: a seed picks the same
/// rollout on every platform and every entropo version.
///
/// ```
/// use entropo_core::Selector;
/// use entropo_core::types::{ExitReason, RolloutRecord};
/// use entropo_selectors::{Random, RandomParams};
/// let row = |id| RolloutRecord { task_id: "t".into(), rollout_id: id,
///     exit_reason: ExitReason::Agent, steps: 1, tokens: 0, reward: None,
///     regression_passed: None, patch_hash: None, verifier_prob: None,
///     trajectory: "t.json".into() };
/// let pool: Vec<_> = (0..16).map(row).collect();
/// let pick = Random::new(RandomParams { seed: 3 }).unwrap().select(&pool).unwrap();
/// let again = Random::new(RandomParams { seed: 3 }).unwrap().select(&pool).unwrap();
/// assert_eq!(pick, again);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Random {
    params: RandomParams,
}

impl Random {
    /// The registered name.
    pub const NAME: &'static str = "random";
    /// One line for `entropo plugins list`.
    pub const DESCRIPTION: &'static str =
        "A uniformly random rollout, reproducible from (seed, task id); the chance baseline";

    /// The selector with `params` (any seed is valid).
    pub fn new(params: RandomParams) -> Result<Self, PluginError> {
        Ok(Random { params })
    }

    /// The parameters it was created with.
    ///
    /// ```
    /// assert_eq!(entropo_selectors::Random::default().params().seed, 0);
    /// ```
    pub fn params(&self) -> &RandomParams {
        &self.params
    }
}

impl Selector for Random {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn select(&self, pool: &[RolloutRecord]) -> Result<Selection, SelectorError> {
        stages::select_with(pool, |pool| {
            let mut state = stream_seed(self.params.seed, &pool[0].task_id);
            let chosen = pool[uniform_index(&mut state, pool.len())];
            Ok(Selection {
                rollout_id: Some(chosen.rollout_id),
                reason: format!(
                    "uniformly random (seed {}) among {}",
                    self.params.seed,
                    pool.len()
                ),
                stages: vec![],
            })
        })
    }
}

/// 64-bit FNV-1a of `seed` (little-endian) then `task_id`: stable across
/// runs, platforms and Rust versions, unlike std's `RandomState`.
fn stream_seed(seed: u64, task_id: &str) -> u64 {
    fnv1a(seed.to_le_bytes().iter().chain(task_id.as_bytes()))
}

/// 64-bit FNV-1a of `bytes`.
fn fnv1a<'a>(bytes: impl IntoIterator<Item = &'a u8>) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes
        .into_iter()
        .fold(OFFSET, |h, &b| (h ^ u64::from(b)).wrapping_mul(PRIME))
}

/// The next SplitMix64 output (Steele, Lea and Flood, 2014).
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A uniform index in `0..n` (`n > 0`): draws below the largest multiple of
/// `n` that fits in a `u64` are reduced modulo `n`; the rest are redrawn.
fn uniform_index(state: &mut u64, n: usize) -> usize {
    let n = n as u64;
    let zone = u64::MAX - u64::MAX % n; // a multiple of n
    loop {
        let x = splitmix64(state);
        if x < zone {
            return (x % n) as usize;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_known_values() {
        // Published FNV-1a 64 test vectors.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
        assert_eq!(stream_seed(7, "t"), fnv1a(&[7, 0, 0, 0, 0, 0, 0, 0, b't']));
        assert_ne!(stream_seed(0, "a"), stream_seed(1, "a"));
    }

    #[test]
    fn splitmix64_reference_output() {
        // First outputs of SplitMix64 from state 0 (reference implementation).
        let mut s = 0;
        assert_eq!(splitmix64(&mut s), 0xe220_a839_7b1d_cdaf);
        assert_eq!(splitmix64(&mut s), 0x6e78_9e6a_a1b9_65f4);
    }

    #[test]
    fn uniform_index_is_in_range_and_roughly_uniform() {
        let mut s = 42;
        let mut counts = [0u32; 5];
        for _ in 0..50_000 {
            counts[uniform_index(&mut s, 5)] += 1;
        }
        for c in counts {
            assert!((9_000..11_000).contains(&c), "{counts:?}");
        }
        assert_eq!(uniform_index(&mut s, 1), 0);
    }
}
