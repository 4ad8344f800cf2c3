//! The llama hyper-parameters in a GGUF file's metadata (`llama.*` keys).

use serde_json::{Value, json};

use crate::{GgufError, GgufFile, MetadataValue};

/// A llama model's shape and RoPE settings.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Hparams {
    pub layers: usize,
    pub hidden: usize,
    pub ffn: usize,
    pub heads: usize,
    pub kv_heads: usize,
    pub head_dim: usize,
    pub context: u64,
    pub rms_eps: f64,
    pub rope_theta: f64,
    /// HF `rope_scaling`, when the file asks for one.
    pub rope_scaling: Option<Value>,
}

const UINT: &str = "an unsigned integer";
const FLOAT: &str = "a float";

impl Hparams {
    pub fn read(gguf: &GgufFile) -> Result<Hparams, GgufError> {
        let size = |key: &str| -> Result<usize, GgufError> {
            let v = gguf.req(key, UINT, MetadataValue::as_u64)?;
            positive(gguf, key, v)
        };
        let layers = size("llama.block_count")?;
        // Each layer has nine tensors: a larger count cannot be real, and
        // would only make the tensor plan loop for nothing.
        if layers > gguf.tensors().len() / 9 {
            return Err(gguf.bad_value(
                "llama.block_count",
                &format!(
                    "at most {} layers (the file has {} tensors)",
                    gguf.tensors().len() / 9,
                    gguf.tensors().len()
                ),
                layers.to_string(),
            ));
        }
        let hidden = size("llama.embedding_length")?;
        let ffn = size("llama.feed_forward_length")?;
        let heads = size("llama.attention.head_count")?;
        let kv_heads =
            match gguf.opt("llama.attention.head_count_kv", UINT, MetadataValue::as_u64)? {
                Some(v) => positive(gguf, "llama.attention.head_count_kv", v)?,
                None => heads,
            };
        if heads % kv_heads != 0 {
            return Err(gguf.bad_value(
                "llama.attention.head_count_kv",
                &format!("a divisor of the head count {heads}"),
                kv_heads.to_string(),
            ));
        }
        let head_dim = match gguf.opt("llama.attention.key_length", UINT, MetadataValue::as_u64)? {
            Some(v) => positive(gguf, "llama.attention.key_length", v)?,
            None if hidden % heads == 0 => hidden / heads,
            None => {
                return Err(gguf.bad_value(
                    "llama.attention.head_count",
                    &format!("a divisor of the embedding length {hidden}"),
                    heads.to_string(),
                ));
            }
        };
        if heads
            .checked_mul(head_dim)
            .and_then(|rows| rows.checked_mul(hidden))
            .is_none()
        {
            return Err(gguf.bad_value(
                "llama.attention.key_length",
                "a head dimension of a plausible size",
                head_dim.to_string(),
            ));
        }
        // HF's LlamaAttention has one head_dim for keys and values, rotates
        // all of it, and the Q/K un-permute pairs rows: each must hold.
        if head_dim % 2 != 0 {
            return Err(gguf.bad_value(
                "llama.attention.key_length",
                "an even head dimension",
                head_dim.to_string(),
            ));
        }
        if let Some(v) = gguf.opt("llama.attention.value_length", UINT, MetadataValue::as_u64)?
            && v != head_dim as u64
        {
            return Err(gguf.bad_value(
                "llama.attention.value_length",
                &format!("the key length {head_dim}"),
                v.to_string(),
            ));
        }
        if let Some(v) = gguf.opt("llama.rope.dimension_count", UINT, MetadataValue::as_u64)?
            && v != head_dim as u64
        {
            return Err(gguf.bad_value(
                "llama.rope.dimension_count",
                &format!(
                    "the head dimension {head_dim} (partial rotary embeddings are not supported)"
                ),
                v.to_string(),
            ));
        }
        let context = gguf.req("llama.context_length", UINT, MetadataValue::as_u64)?;
        let rms_eps = gguf.req(
            "llama.attention.layer_norm_rms_epsilon",
            FLOAT,
            MetadataValue::as_f64,
        )?;
        let rope_theta = gguf
            .opt("llama.rope.freq_base", FLOAT, MetadataValue::as_f64)?
            .unwrap_or(10_000.0);
        Ok(Hparams {
            layers,
            hidden,
            ffn,
            heads,
            kv_heads,
            head_dim,
            context,
            rms_eps,
            rope_theta,
            rope_scaling: rope_scaling(gguf)?,
        })
    }
}

fn positive(gguf: &GgufFile, key: &str, v: u64) -> Result<usize, GgufError> {
    match usize::try_from(v) {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(gguf.bad_value(key, "a positive integer", v.to_string())),
    }
}

/// HF `rope_scaling` from `llama.rope.scaling.*` (or the older
/// `llama.rope.scale_linear`): `linear` and `yarn`; `none` gives `None`.
fn rope_scaling(gguf: &GgufFile) -> Result<Option<Value>, GgufError> {
    const TYPE: &str = "llama.rope.scaling.type";
    const FACTOR: &str = "llama.rope.scaling.factor";
    let kind = gguf.opt(TYPE, "a string", MetadataValue::as_str)?;
    let legacy = gguf.opt("llama.rope.scale_linear", FLOAT, MetadataValue::as_f64)?;
    match kind {
        None | Some("none") => match legacy {
            Some(f) if f != 1.0 => Ok(Some(json!({"rope_type": "linear", "factor": f}))),
            _ => Ok(None),
        },
        Some("linear") => {
            let factor = gguf.req(FACTOR, FLOAT, MetadataValue::as_f64)?;
            Ok(Some(json!({"rope_type": "linear", "factor": factor})))
        }
        Some("yarn") => {
            let factor = gguf.req(FACTOR, FLOAT, MetadataValue::as_f64)?;
            let mut scaling = json!({"rope_type": "yarn", "factor": factor});
            let float = |key: &str| gguf.opt(key, FLOAT, MetadataValue::as_f64);
            let original = "llama.rope.scaling.original_context_length";
            if let Some(n) = gguf.opt(original, UINT, MetadataValue::as_u64)? {
                scaling["original_max_position_embeddings"] = n.into();
            }
            if let Some(beta) = float("llama.rope.scaling.yarn_beta_fast")? {
                scaling["beta_fast"] = beta.into();
            }
            if let Some(beta) = float("llama.rope.scaling.yarn_beta_slow")? {
                scaling["beta_slow"] = beta.into();
            }
            Ok(Some(scaling))
        }
        Some(other) => Err(gguf.bad_value(TYPE, "none, linear or yarn", other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_gguf::{GgufBuilder, s};

    fn scaling_of(keys: Vec<(&str, MetadataValue)>) -> Result<Option<Value>, String> {
        let dir = tempfile::tempdir().unwrap();
        let builder = keys.into_iter().fold(GgufBuilder::new(), |b, (k, v)| b.kv(k, v));
        let gguf = GgufFile::open(builder.write(dir.path(), "rope.gguf")).unwrap();
        rope_scaling(&gguf).map_err(|e| e.to_string())
    }

    #[test]
    fn rope_scaling_maps_linear_yarn_and_the_legacy_key() {
        use MetadataValue::{F32, U32};
        assert_eq!(scaling_of(vec![]), Ok(None));
        assert_eq!(scaling_of(vec![("llama.rope.scaling.type", s("none"))]), Ok(None));
        assert_eq!(scaling_of(vec![("llama.rope.scale_linear", F32(1.0))]), Ok(None));
        let linear = json!({"rope_type": "linear", "factor": 2.0});
        assert_eq!(scaling_of(vec![("llama.rope.scale_linear", F32(2.0))]), Ok(Some(linear.clone())));
        let keys = vec![("llama.rope.scaling.type", s("linear")), ("llama.rope.scaling.factor", F32(2.0))];
        assert_eq!(scaling_of(keys), Ok(Some(linear)));
        let keys = vec![
            ("llama.rope.scaling.type", s("yarn")),
            ("llama.rope.scaling.factor", F32(8.0)),
            ("llama.rope.scaling.original_context_length", U32(4096)),
            ("llama.rope.scaling.yarn_beta_fast", F32(32.0)),
            ("llama.rope.scaling.yarn_beta_slow", F32(1.0)),
        ];
        let yarn = json!({
            "rope_type": "yarn",
            "factor": 8.0,
            "original_max_position_embeddings": 4096,
            "beta_fast": 32.0,
            "beta_slow": 1.0,
        });
        assert_eq!(scaling_of(keys), Ok(Some(yarn)));
        let err = scaling_of(vec![("llama.rope.scaling.type", s("linear"))]).unwrap_err();
        assert!(err.contains("`llama.rope.scaling.factor` is missing"), "{err}");
        let err = scaling_of(vec![("llama.rope.scaling.type", U32(1))]).unwrap_err();
        assert!(err.contains("`llama.rope.scaling.type`: expected a string, found 1"), "{err}");
    }
}
