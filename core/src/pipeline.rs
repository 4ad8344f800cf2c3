//! The end-to-end experiment's config sections (`entropo run`): where the
//! tasks come from, the model to start from, the teacher, each training
//! stage, the rollouts and the evaluation. Every field has a default, so a
//! config names only what it changes.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::agent::Limits;
use crate::config::PluginRef;
use crate::datasets::BuildOptions;
use crate::training::TrainSection;

/// Where the tasks come from.
///
/// ```
/// use entropo_core::pipeline::TasksSection;
/// let t: TasksSection = toml::from_str("suite = { seed = 3, train = 8, test = 4 }").unwrap();
/// assert_eq!(t.suite.unwrap().test, 4);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TasksSection {
    /// The bundled suite, generated from a seed.
    #[serde(default)]
    pub suite: Option<SuiteSection>,
    /// SWE-bench-style rows (`entropo data import swebench`) to train on
    /// (paths in configs are relative to the working folder, except
    /// `plugins` and `rollout.prompt`, which are relative to the config).
    #[serde(default)]
    pub train_file: Option<PathBuf>,
    /// Rows to evaluate on.
    #[serde(default)]
    pub test_file: Option<PathBuf>,
}

/// The bundled suite's size and seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SuiteSection {
    /// Fixes every choice of the generator.
    pub seed: u64,
    /// Training tasks.
    pub train: usize,
    /// Held-out tasks.
    pub test: usize,
}

impl Default for SuiteSection {
    fn default() -> Self {
        SuiteSection { seed: 0, train: 8, test: 4 }
    }
}

/// A tiny Llama-shaped model trained from random weights, with a BPE
/// tokenizer trained on the task suite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct InitSection {
    /// Vocabulary of the BPE tokenizer trained on the tasks' text.
    pub vocab_size: usize,
    /// Model width.
    pub hidden_size: usize,
    /// Decoder blocks.
    pub layers: usize,
    /// Attention heads.
    pub heads: usize,
    /// Key/value heads (grouped-query attention).
    pub kv_heads: usize,
    /// MLP width.
    pub intermediate_size: usize,
}

impl Default for InitSection {
    fn default() -> Self {
        InitSection { vocab_size: 1024, hidden_size: 128, layers: 2, heads: 4, kv_heads: 2, intermediate_size: 384 }
    }
}

/// The scripted teacher whose trajectories are the SFT data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct TeacherSection {
    /// Teacher rollouts per training task.
    pub rollouts_per_task: u32,
    /// Share of deliberately imperfect runs.
    pub imperfect_share: f64,
    /// Step budget of a teacher run (its other budgets are `[rollout]`'s).
    pub max_steps: u32,
    /// Share of runs that reproduce the issue with a script.
    pub repro_share: f64,
    /// How much runs look around before editing: 1 as a careful engineer
    /// does, 0 straight to the function (shorter trajectories).
    pub exploration: f64,
}

impl Default for TeacherSection {
    fn default() -> Self {
        TeacherSection { rollouts_per_task: 4, imperfect_share: 0.25, max_steps: 30, repro_share: 0.5, exploration: 1.0 }
    }
}

/// How the policy is sampled in rollouts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RolloutSection {
    /// Rollouts per held-out task (the paper: 16).
    pub n: u32,
    /// Rollouts running at once (their tools run in parallel; an
    /// in-process model samples their replies as one batch).
    pub concurrency: usize,
    /// In-process model: replies computed together in one batched step.
    pub batch_size: usize,
    /// In-process model: prompt tokens computed per step beside the
    /// decoding replies (long prompts are split so they never stall them).
    pub prefill_chunk: usize,
    /// In-process model: memory in MiB for keeping computed conversation
    /// prefixes (an agent's next turn recomputes only its new tokens;
    /// 0 turns reuse off).
    pub cache_mib: usize,
    /// Sampling temperature (paper 0.7).
    pub temperature: f64,
    /// Top-k (paper 20).
    pub top_k: usize,
    /// Top-p (paper 0.8).
    pub top_p: f64,
    /// New tokens per reply at most.
    pub max_new_tokens: usize,
    /// Episode budgets (paper: 200 steps, 131 072 tokens).
    pub limits: Limits,
    /// The scaffold's prompts (a TOML file, relative to the config).
    pub prompt: PathBuf,
    /// OpenAI-compatible endpoints to sample from instead of the in-process
    /// model (`http://host:port/v1`); rollouts are spread over them.
    pub endpoints: Vec<String>,
    /// The model name sent to the endpoints (vLLM serves adapters by name).
    pub endpoint_model: String,
    /// Per-request timeout of endpoint calls, in seconds.
    pub endpoint_timeout_secs: f64,
}

impl Default for RolloutSection {
    fn default() -> Self {
        RolloutSection {
            n: 16,
            concurrency: 16,
            batch_size: 16,
            prefill_chunk: 512,
            cache_mib: 1024,
            temperature: 0.7,
            top_k: 20,
            top_p: 0.8,
            max_new_tokens: 512,
            limits: Limits::default(),
            prompt: PathBuf::from("prompts/r2e.toml"),
            endpoints: Vec::new(),
            endpoint_model: "default".into(),
            endpoint_timeout_secs: 600.0,
        }
    }
}

/// Preference optimisation: one training run per method, all from the
/// same SFT checkpoint and data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PreferenceSection {
    /// Student rollouts per training task, pooled with the teacher's to
    /// build pairs and KTO samples (as the paper did).
    pub rollouts_per_task: u32,
    /// The losses to compare (each a loss plugin with its params).
    pub methods: Vec<PluginRef>,
    /// How rollouts become pairs and samples.
    pub data: BuildOptions,
    /// Training settings shared by every method.
    pub train: TrainSection,
}

impl Default for PreferenceSection {
    fn default() -> Self {
        let method = |name: &str| PluginRef { name: name.into(), params: Default::default() };
        PreferenceSection {
            rollouts_per_task: 4,
            methods: ["dpo", "kto", "entropo-dpo", "entropo-kto"].into_iter().map(method).collect(),
            data: BuildOptions::default(),
            train: TrainSection::default(),
        }
    }
}

/// The evaluation: selectors compared on the same pools.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct EvalSection {
    /// Pool sizes for Best@N.
    pub ns: Vec<usize>,
    /// Random subsamples per N.
    pub subsamples: usize,
    /// Selectors, as `name` or `name,key=value,…`.
    pub selectors: Vec<String>,
    /// The selector of the "with TTS" column.
    pub tts_selector: String,
}

impl Default for EvalSection {
    fn default() -> Self {
        EvalSection {
            ns: vec![1, 2, 4, 8, 16],
            subsamples: 20,
            selectors: ["hybrid", "hybrid,final=fewest-steps", "random", "first", "most-steps", "fewest-steps", "verifier-max", "patch-consensus"]
                .into_iter()
                .map(String::from)
                .collect(),
            tts_selector: "hybrid".into(),
        }
    }
}
