//! LoRA adapters: configuration, initialisation, PEFT-compatible files and
//! merging into the base weights.
//!
//! The trainable state lives on the host ([`LoraWeights`]); each step moves
//! it to the device as [`Adapters`]. The reference policy is the same
//! [`Decoder`](crate::model::Decoder) called without adapters, so no second
//! model is held in memory.

use std::collections::BTreeMap;
use std::path::Path;

use crate::attention::AttentionBackend;
use burn::tensor::{Distribution, Tensor};
use rand::{Rng, SeedableRng, rngs::StdRng};
pub use entropo_core::training::LoraConfig;

use crate::config::ModelConfig;
use crate::error::ModelError;
use crate::model::{Decoder, to_device, transpose_host};
use crate::weights::{self, HostTensor, TensorStore};

/// The seven linear layers of a block, in a fixed order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Proj {
    /// Query projection.
    Q = 0,
    /// Key projection.
    K = 1,
    /// Value projection.
    V = 2,
    /// Attention output projection.
    O = 3,
    /// MLP gate.
    Gate = 4,
    /// MLP up projection.
    Up = 5,
    /// MLP down projection.
    Down = 6,
}

impl Proj {
    /// All seven, in order.
    pub const ALL: [Proj; 7] = [Proj::Q, Proj::K, Proj::V, Proj::O, Proj::Gate, Proj::Up, Proj::Down];

    /// The PEFT target name (`q_proj`).
    pub fn name(self) -> &'static str {
        ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"][self as usize]
    }

    /// The module path inside a block (`self_attn.q_proj`).
    pub fn module(self) -> String {
        let parent = if (self as usize) < 4 { "self_attn" } else { "mlp" };
        format!("{parent}.{}", self.name())
    }

    /// `(in, out)` features of this layer under `config`.
    pub fn shape(self, c: &ModelConfig) -> (usize, usize) {
        let (h, q, kv, i) = (
            c.hidden_size,
            c.num_attention_heads * c.head_dim,
            c.num_key_value_heads * c.head_dim,
            c.intermediate_size,
        );
        match self {
            Proj::Q => (h, q),
            Proj::K | Proj::V => (h, kv),
            Proj::O => (q, h),
            Proj::Gate | Proj::Up => (h, i),
            Proj::Down => (i, h),
        }
    }
}

/// The layers a [`LoraConfig`] adapts; an unknown name is an error that
/// lists the valid ones.
///
/// ```
/// use entropo_burn::lora::{targets, LoraConfig, Proj};
/// assert_eq!(targets(&LoraConfig::default()).unwrap().len(), 7);
/// let qv = LoraConfig { target_modules: vec!["q_proj".into(), "v_proj".into()], ..Default::default() };
/// assert_eq!(targets(&qv).unwrap(), vec![Proj::Q, Proj::V]);
/// ```
pub fn targets(config: &LoraConfig) -> Result<Vec<Proj>, ModelError> {
    if config.r == 0 {
        return Err(ModelError::Invalid("lora.r: must be at least 1".into()));
    }
    if !(0.0..1.0).contains(&config.dropout) {
        return Err(ModelError::Invalid("lora.dropout: must be in [0, 1)".into()));
    }
    let mut out = Vec::new();
    for name in &config.target_modules {
        if name == "all" || name == "all-linear" {
            return Ok(Proj::ALL.to_vec());
        }
        let p = Proj::ALL.into_iter().find(|p| p.name() == name).ok_or_else(|| {
            ModelError::Invalid(format!(
                "lora.target_modules: unknown layer {name:?} (expected all or one of q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj)"
            ))
        })?;
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out.sort();
    Ok(out)
}

/// One adapted layer: `A` is `[in, r]`, `B` is `[r, out]` (PEFT stores the transposes).
#[derive(Debug, Clone, PartialEq)]
pub struct LoraPair {
    /// Down-projection.
    pub a: HostTensor,
    /// Up-projection.
    pub b: HostTensor,
}

/// The adapters' values on the host: what is trained, saved and merged.
#[derive(Debug, Clone, PartialEq)]
pub struct LoraWeights {
    /// Their configuration.
    pub config: LoraConfig,
    /// `(layer, projection) → (A, B)`.
    pub pairs: BTreeMap<(usize, Proj), LoraPair>,
}

fn peft_key(layer: usize, p: Proj, which: &str) -> String {
    format!("base_model.model.model.layers.{layer}.{}.lora_{which}.weight", p.module())
}

impl LoraWeights {
    /// Fresh adapters as PEFT initialises them: `A ~ U(±1/√in)`, `B = 0`,
    /// so the adapted model starts equal to the base.
    pub fn init(model: &ModelConfig, config: LoraConfig, seed: u64) -> Result<LoraWeights, ModelError> {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut pairs = BTreeMap::new();
        let targets = targets(&config)?;
        for layer in 0..model.num_hidden_layers {
            for &p in &targets {
                let (inp, out) = p.shape(model);
                let bound = 1.0 / (inp as f32).sqrt();
                let a = (0..inp * config.r).map(|_| rng.random_range(-bound..bound)).collect();
                pairs.insert(
                    (layer, p),
                    LoraPair {
                        a: HostTensor { shape: vec![inp, config.r], data: a },
                        b: HostTensor { shape: vec![config.r, out], data: vec![0.0; config.r * out] },
                    },
                );
            }
        }
        Ok(LoraWeights { config, pairs })
    }

    /// Number of trainable values.
    pub fn num_parameters(&self) -> usize {
        self.pairs.values().map(|p| p.a.data.len() + p.b.data.len()).sum()
    }

    /// Reads a PEFT adapter folder (`adapter_config.json`, `adapter_model.safetensors`).
    pub fn load_peft(dir: &Path, model: &ModelConfig) -> Result<LoraWeights, ModelError> {
        let path = dir.join("adapter_config.json");
        let text = std::fs::read_to_string(&path).map_err(|e| ModelError::io(&path, e))?;
        let json: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| ModelError::Json { path: path.clone(), reason: e.to_string() })?;
        let field = |name: &str, reason: &str| ModelError::Config {
            path: path.clone(),
            field: name.into(),
            reason: reason.into(),
        };
        if json.get("peft_type").and_then(|v| v.as_str()).is_some_and(|t| t != "LORA") {
            return Err(field("peft_type", "only LORA adapters are supported"));
        }
        for flag in ["use_dora", "use_rslora", "fan_in_fan_out"] {
            if json.get(flag).and_then(|v| v.as_bool()) == Some(true) {
                return Err(field(flag, "not supported"));
            }
        }
        let r = json.get("r").and_then(|v| v.as_u64()).filter(|r| *r > 0).ok_or_else(|| field("r", "expected a positive integer"))?;
        let alpha = json.get("lora_alpha").and_then(|v| v.as_f64()).ok_or_else(|| field("lora_alpha", "expected a number"))?;
        let dropout = json.get("lora_dropout").and_then(|v| v.as_f64()).unwrap_or(0.0);
        let target_modules = match json.get("target_modules") {
            Some(serde_json::Value::String(s)) => vec![s.clone()],
            Some(serde_json::Value::Array(a)) => a.iter().filter_map(|v| v.as_str().map(String::from)).collect(),
            _ => return Err(field("target_modules", "expected a list of layer names")),
        };
        let config = LoraConfig { r: r as usize, alpha, dropout, target_modules };
        let targets = targets(&config).map_err(|e| field("target_modules", &e.to_string()))?;
        let mut store = TensorStore::open_file(&dir.join("adapter_model.safetensors"))?;
        let mut pairs = BTreeMap::new();
        for layer in 0..model.num_hidden_layers {
            for &p in &targets {
                let (inp, out) = p.shape(model);
                let a = store.take(&peft_key(layer, p, "A"), &[config.r, inp])?;
                let b = store.take(&peft_key(layer, p, "B"), &[out, config.r])?;
                pairs.insert((layer, p), LoraPair { a: transpose_host(a), b: transpose_host(b) });
            }
        }
        if let Some(extra) = store.remaining().next() {
            return Err(ModelError::Config {
                path: dir.join("adapter_model.safetensors"),
                field: extra.to_string(),
                reason: "tensor does not belong to this model's layers".into(),
            });
        }
        Ok(LoraWeights { config, pairs })
    }

    /// Writes `adapter_model.safetensors` and `adapter_config.json` as PEFT
    /// does, so `peft.PeftModel.from_pretrained` can read them.
    pub fn save_peft(&self, dir: &Path, base_model: Option<&str>) -> Result<(), ModelError> {
        std::fs::create_dir_all(dir).map_err(|e| ModelError::io(dir, e))?;
        let mut tensors = BTreeMap::new();
        for (&(layer, p), pair) in &self.pairs {
            tensors.insert(peft_key(layer, p, "A"), transpose_host(pair.a.clone()));
            tensors.insert(peft_key(layer, p, "B"), transpose_host(pair.b.clone()));
        }
        let meta = BTreeMap::from([("format".to_string(), "pt".to_string())]);
        weights::save(&dir.join("adapter_model.safetensors"), &tensors, &meta)?;
        let mut targets: Vec<&str> = self.pairs.keys().map(|(_, p)| p.name()).collect();
        targets.sort_unstable();
        targets.dedup();
        let config = serde_json::json!({
            "peft_type": "LORA",
            "task_type": "CAUSAL_LM",
            "base_model_name_or_path": base_model,
            "r": self.config.r,
            "lora_alpha": self.config.alpha,
            "lora_dropout": self.config.dropout,
            "target_modules": targets,
            "bias": "none",
            "fan_in_fan_out": false,
            "use_rslora": false,
            "use_dora": false,
            "inference_mode": true,
        });
        let text = serde_json::to_string_pretty(&config).expect("a JSON value serialises");
        entropo_core::io::write_atomic(&dir.join("adapter_config.json"), text.as_bytes())?;
        Ok(())
    }

    /// Adds `scale · A·B` to every adapted base weight.
    pub fn merge_into<B: AttentionBackend>(&self, decoder: &mut Decoder<B>) {
        let device = decoder.device().clone();
        let scale = self.config.scale();
        for (&(layer, p), pair) in &self.pairs {
            let a: Tensor<B, 2> = to_device(pair.a.clone(), &device);
            let b: Tensor<B, 2> = to_device(pair.b.clone(), &device);
            let linear = &mut decoder.blocks[layer].proj[p as usize];
            linear.weight = linear.weight.clone() + a.matmul(b).mul_scalar(scale);
        }
    }

    /// The adapters on `device`. With `train`, their tensors track gradients
    /// and dropout is active.
    pub fn to_device<B: AttentionBackend>(&self, device: &B::Device, train: bool) -> Adapters<B> {
        let layers = self.pairs.keys().map(|(l, _)| l + 1).max().unwrap_or(0);
        let mut slots: Vec<[Option<DevicePair<B>>; 7]> = (0..layers).map(|_| Default::default()).collect();
        for (&(layer, p), pair) in &self.pairs {
            let mut a: Tensor<B, 2> = to_device(pair.a.clone(), device);
            let mut b: Tensor<B, 2> = to_device(pair.b.clone(), device);
            if train {
                a = a.require_grad();
                b = b.require_grad();
            }
            slots[layer][p as usize] = Some(DevicePair { a, b });
        }
        Adapters {
            scale: self.config.scale(),
            dropout: if train { self.config.dropout } else { 0.0 },
            slots,
        }
    }
}

/// One adapted layer on the device.
#[derive(Debug, Clone)]
pub struct DevicePair<B: AttentionBackend> {
    /// `[in, r]`.
    pub a: Tensor<B, 2>,
    /// `[r, out]`.
    pub b: Tensor<B, 2>,
}

/// Adapters on the device, as the decoder's forward pass uses them.
#[derive(Debug, Clone)]
pub struct Adapters<B: AttentionBackend> {
    scale: f64,
    dropout: f64,
    slots: Vec<[Option<DevicePair<B>>; 7]>,
}

/// The LoRA term of one layer, ready to add to the base projection.
#[derive(Debug, Clone, Copy)]
pub struct LoraTerm<'a, B: AttentionBackend> {
    pair: &'a DevicePair<B>,
    scale: f64,
    dropout: f64,
}

impl<B: AttentionBackend> LoraTerm<'_, B> {
    /// `scale · dropout(x)·A·B`.
    pub fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let x = if self.dropout > 0.0 {
            let keep = x.random_like(Distribution::Bernoulli(1.0 - self.dropout));
            x * keep.div_scalar(1.0 - self.dropout)
        } else {
            x
        };
        x.matmul(self.pair.a.clone().unsqueeze::<3>())
            .matmul(self.pair.b.clone().unsqueeze::<3>())
            .mul_scalar(self.scale)
    }
}

impl<B: AttentionBackend> Adapters<B> {
    /// The adapter of `layer`'s projection `p`, if it is adapted.
    pub fn get(&self, layer: usize, p: Proj) -> Option<LoraTerm<'_, B>> {
        let pair = self.slots.get(layer)?[p as usize].as_ref()?;
        Some(LoraTerm { pair, scale: self.scale, dropout: self.dropout })
    }

    /// Every adapted layer with its key, in [`LoraWeights::pairs`] order.
    pub fn pairs(&self) -> impl Iterator<Item = ((usize, Proj), &DevicePair<B>)> {
        self.slots.iter().enumerate().flat_map(|(layer, slots)| {
            Proj::ALL.into_iter().filter_map(move |p| slots[p as usize].as_ref().map(|pair| ((layer, p), pair)))
        })
    }
}
