//! The architecture of a model, read from a HuggingFace `config.json`.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ModelError;

/// Which family a checkpoint belongs to; they differ only in small details.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// Llama 2/3, SmolLM2, Mistral-style dense models.
    Llama,
    /// Qwen2 and Qwen2.5: biases on the q, k and v projections.
    Qwen2,
    /// Qwen3: RMSNorm over each head of q and k.
    Qwen3,
}

/// How rotary frequencies are rescaled for long contexts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rope_type", rename_all = "lowercase")]
pub enum RopeScaling {
    /// Plain RoPE.
    Default,
    /// Positions divided by `factor`.
    Linear {
        /// The division factor.
        factor: f64,
    },
    /// Llama 3.1's frequency-dependent scaling.
    Llama3 {
        /// Scale for low frequencies.
        factor: f64,
        /// Wavelength threshold (as a fraction of the original context) below which frequencies are scaled fully.
        low_freq_factor: f64,
        /// Wavelength threshold above which frequencies are kept.
        high_freq_factor: f64,
        /// The context length the model was pre-trained with.
        original_max_position_embeddings: f64,
    },
}

/// Everything the decoder needs to know about its shapes.
///
/// ```
/// use entropo_burn::config::{ModelConfig, Family};
/// let json = serde_json::json!({
///     "model_type": "llama", "hidden_size": 64, "intermediate_size": 128,
///     "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 100
/// });
/// let c = ModelConfig::from_json(&json, "config.json".as_ref()).unwrap();
/// assert_eq!((c.family, c.num_key_value_heads, c.head_dim), (Family::Llama, 4, 16));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// The family (from `model_type`).
    pub family: Family,
    /// Width of the residual stream.
    pub hidden_size: usize,
    /// Width of the MLP.
    pub intermediate_size: usize,
    /// Number of decoder blocks.
    pub num_hidden_layers: usize,
    /// Query heads.
    pub num_attention_heads: usize,
    /// Key/value heads (grouped-query attention when fewer than query heads).
    pub num_key_value_heads: usize,
    /// Width of one head.
    pub head_dim: usize,
    /// Vocabulary size.
    pub vocab_size: usize,
    /// RMSNorm epsilon.
    pub rms_norm_eps: f64,
    /// RoPE base.
    pub rope_theta: f64,
    /// RoPE rescaling.
    pub rope_scaling: RopeScaling,
    /// Whether the output head shares the embedding matrix.
    pub tie_word_embeddings: bool,
    /// Whether q, k, v projections have biases.
    pub attention_bias: bool,
    /// Longest context the model was trained for.
    pub max_position_embeddings: usize,
}

impl ModelConfig {
    /// Reads `dir/config.json`.
    pub fn from_dir(dir: &Path) -> Result<ModelConfig, ModelError> {
        let path = dir.join("config.json");
        let text = std::fs::read_to_string(&path).map_err(|e| ModelError::io(&path, e))?;
        let json: Value = serde_json::from_str(&text)
            .map_err(|e| ModelError::Json { path: path.clone(), reason: e.to_string() })?;
        ModelConfig::from_json(&json, &path)
    }

    /// Parses a HuggingFace config (transformers 4.x `rope_theta`/`rope_scaling`
    /// or 5.x `rope_parameters`); `path` is only used in errors.
    pub fn from_json(json: &Value, path: &Path) -> Result<ModelConfig, ModelError> {
        let field = |name: &str, reason: &str| ModelError::Config {
            path: path.to_path_buf(),
            field: name.to_string(),
            reason: reason.to_string(),
        };
        let usize_of = |name: &str| -> Result<Option<usize>, ModelError> {
            match json.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => v
                    .as_u64()
                    .filter(|n| *n > 0)
                    .map(|n| Some(n as usize))
                    .ok_or_else(|| field(name, "expected a positive integer")),
            }
        };
        let required = |name: &str| usize_of(name)?.ok_or_else(|| field(name, "missing"));
        let f64_of = |v: Option<&Value>, name: &str| -> Result<Option<f64>, ModelError> {
            match v {
                None | Some(Value::Null) => Ok(None),
                Some(v) => v.as_f64().map(Some).ok_or_else(|| field(name, "expected a number")),
            }
        };

        let model_type = json.get("model_type").and_then(Value::as_str).ok_or_else(|| field("model_type", "missing"))?;
        let family = match model_type {
            "llama" | "mistral" => Family::Llama,
            "qwen2" => Family::Qwen2,
            "qwen3" => Family::Qwen3,
            other => {
                return Err(field(
                    "model_type",
                    &format!("unsupported architecture {other:?} (supported: llama, mistral, qwen2, qwen3)"),
                ));
            }
        };
        let hidden_size = required("hidden_size")?;
        let num_attention_heads = required("num_attention_heads")?;
        let num_key_value_heads = usize_of("num_key_value_heads")?.unwrap_or(num_attention_heads);
        if num_attention_heads % num_key_value_heads != 0 {
            return Err(field("num_key_value_heads", "must divide num_attention_heads"));
        }
        let head_dim = match usize_of("head_dim")? {
            Some(d) => d,
            None if hidden_size % num_attention_heads == 0 => hidden_size / num_attention_heads,
            None => return Err(field("num_attention_heads", "must divide hidden_size when head_dim is absent")),
        };
        if head_dim % 2 != 0 {
            return Err(field("head_dim", "must be even for rotary embeddings"));
        }

        // transformers 5 nests the RoPE settings in `rope_parameters`.
        let rope = json.get("rope_parameters").filter(|v| v.is_object());
        let (theta_path, theta) = match rope.and_then(|r| r.get("rope_theta")) {
            Some(v) => ("rope_parameters.rope_theta", Some(v)),
            None => ("rope_theta", json.get("rope_theta")),
        };
        let rope_theta = f64_of(theta, theta_path)?.unwrap_or(10_000.0);
        let (scaling_path, scaling) = match rope {
            Some(r) => ("rope_parameters", Some(r)),
            None => ("rope_scaling", json.get("rope_scaling").filter(|v| !v.is_null())),
        };
        let rope_scaling = match scaling {
            None => RopeScaling::Default,
            Some(s) => parse_scaling(s).map_err(|reason| field(scaling_path, &reason))?,
        };

        let bool_of = |name: &str, default: bool| match json.get(name) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(field(name, "expected true or false")),
        };
        let config = ModelConfig {
            family,
            hidden_size,
            intermediate_size: required("intermediate_size")?,
            num_hidden_layers: required("num_hidden_layers")?,
            num_attention_heads,
            num_key_value_heads,
            head_dim,
            vocab_size: required("vocab_size")?,
            rms_norm_eps: f64_of(json.get("rms_norm_eps"), "rms_norm_eps")?.unwrap_or(1e-6),
            rope_theta,
            rope_scaling,
            // Qwen2 checkpoints always carry q/k/v biases and say nothing about it.
            attention_bias: bool_of("attention_bias", family == Family::Qwen2)?,
            tie_word_embeddings: bool_of("tie_word_embeddings", false)?,
            max_position_embeddings: usize_of("max_position_embeddings")?.unwrap_or(4096),
        };
        if let Some(act) = json.get("hidden_act").and_then(Value::as_str)
            && act != "silu"
        {
            return Err(field("hidden_act", &format!("unsupported activation {act:?} (supported: silu)")));
        }
        Ok(config)
    }

    /// The `config.json` transformers would read for this architecture.
    pub fn to_json(&self) -> Value {
        let (model_type, arch) = match self.family {
            Family::Llama => ("llama", "LlamaForCausalLM"),
            Family::Qwen2 => ("qwen2", "Qwen2ForCausalLM"),
            Family::Qwen3 => ("qwen3", "Qwen3ForCausalLM"),
        };
        let scaling = match &self.rope_scaling {
            RopeScaling::Default => Value::Null,
            s => serde_json::to_value(s).unwrap_or(Value::Null),
        };
        serde_json::json!({
            "architectures": [arch],
            "model_type": model_type,
            "hidden_size": self.hidden_size,
            "intermediate_size": self.intermediate_size,
            "num_hidden_layers": self.num_hidden_layers,
            "num_attention_heads": self.num_attention_heads,
            "num_key_value_heads": self.num_key_value_heads,
            "head_dim": self.head_dim,
            "vocab_size": self.vocab_size,
            "rms_norm_eps": self.rms_norm_eps,
            "rope_theta": self.rope_theta,
            "rope_scaling": scaling,
            "tie_word_embeddings": self.tie_word_embeddings,
            "attention_bias": self.attention_bias,
            "max_position_embeddings": self.max_position_embeddings,
            "hidden_act": "silu",
            "torch_dtype": "float32",
        })
    }

    /// Number of parameters of the base model.
    pub fn num_parameters(&self) -> usize {
        let (h, i, d) = (self.hidden_size, self.intermediate_size, self.head_dim);
        let q = self.num_attention_heads * d;
        let kv = self.num_key_value_heads * d;
        let bias = if self.attention_bias { q + 2 * kv } else { 0 };
        let qk_norm = if self.family == Family::Qwen3 { 2 * d } else { 0 };
        let layer = h * q + 2 * h * kv + q * h + bias + qk_norm + 3 * h * i + 2 * h;
        let head = if self.tie_word_embeddings { 0 } else { self.vocab_size * h };
        self.vocab_size * h + self.num_hidden_layers * layer + h + head
    }
}

fn parse_scaling(s: &Value) -> Result<RopeScaling, String> {
    let kind = s.get("rope_type").or_else(|| s.get("type")).and_then(Value::as_str).unwrap_or("default");
    let num = |name: &str| {
        s.get(name).and_then(Value::as_f64).ok_or_else(|| format!("{name}: missing for rope_type {kind:?}"))
    };
    match kind {
        "default" => Ok(RopeScaling::Default),
        "linear" => Ok(RopeScaling::Linear { factor: num("factor")? }),
        "llama3" => Ok(RopeScaling::Llama3 {
            factor: num("factor")?,
            low_freq_factor: num("low_freq_factor")?,
            high_freq_factor: num("high_freq_factor")?,
            original_max_position_embeddings: num("original_max_position_embeddings")?,
        }),
        other => Err(format!("unsupported rope_type {other:?} (supported: default, linear, llama3)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Value {
        serde_json::json!({
            "model_type": "qwen2", "hidden_size": 64, "intermediate_size": 96,
            "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
            "vocab_size": 10, "rope_theta": 1e6, "rope_scaling": null
        })
    }

    #[test]
    fn qwen2_defaults_to_attention_bias_and_reads_legacy_rope() {
        let c = ModelConfig::from_json(&base(), Path::new("c.json")).unwrap();
        assert!(c.attention_bias);
        assert_eq!(c.rope_theta, 1e6);
        assert_eq!(c.rope_scaling, RopeScaling::Default);
    }

    #[test]
    fn errors_name_the_field() {
        let mut j = base();
        j["num_key_value_heads"] = 3.into();
        let e = ModelConfig::from_json(&j, Path::new("m/config.json")).unwrap_err().to_string();
        assert_eq!(e, "m/config.json: num_key_value_heads: must divide num_attention_heads");
        let mut j = base();
        j["model_type"] = "gpt2".into();
        let e = ModelConfig::from_json(&j, Path::new("c.json")).unwrap_err().to_string();
        assert!(e.contains("model_type: unsupported architecture \"gpt2\""), "{e}");
        let mut j = base();
        j["rope_scaling"] = serde_json::json!({"rope_type": "yarn", "factor": 4.0});
        let e = ModelConfig::from_json(&j, Path::new("c.json")).unwrap_err().to_string();
        assert!(e.contains("rope_scaling: unsupported rope_type \"yarn\""), "{e}");
        let mut j = base();
        j.as_object_mut().unwrap().remove("vocab_size");
        let e = ModelConfig::from_json(&j, Path::new("c.json")).unwrap_err().to_string();
        assert_eq!(e, "c.json: vocab_size: missing");
    }

    #[test]
    fn round_trips_through_to_json() {
        let mut j = base();
        j["rope_scaling"] = serde_json::json!({"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
            "high_freq_factor": 4.0, "original_max_position_embeddings": 8192});
        let c = ModelConfig::from_json(&j, Path::new("c.json")).unwrap();
        let again = ModelConfig::from_json(&c.to_json(), Path::new("c.json")).unwrap();
        assert_eq!(c, again);
    }

    #[test]
    fn parameter_count_matches_smollm2_135m() {
        // SmolLM2-135M: 134 515 008 parameters (tied embeddings).
        let j = serde_json::json!({
            "model_type": "llama", "hidden_size": 576, "intermediate_size": 1536,
            "num_hidden_layers": 30, "num_attention_heads": 9, "num_key_value_heads": 3,
            "vocab_size": 49152, "tie_word_embeddings": true
        });
        let c = ModelConfig::from_json(&j, Path::new("c.json")).unwrap();
        assert_eq!(c.num_parameters(), 134_515_008);
    }
}
