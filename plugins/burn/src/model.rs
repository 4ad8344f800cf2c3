//! The decoder: embeddings, pre-norm blocks with grouped-query attention and
//! a SwiGLU MLP, a final RMSNorm and the output head — the shape shared by
//! Llama 2/3, SmolLM2, Qwen2/2.5 and Qwen3.

use std::collections::BTreeMap;
use std::path::Path;

use burn::tensor::activation::silu;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Int, Tensor, TensorData};
use serde::Serialize;

use crate::attention::{AttentionBackend, Causal, TrainBackend, causal_attention_inference};
use crate::config::{Family, ModelConfig};
use crate::error::ModelError;
use crate::lora::{Adapters, Proj};
use crate::rope;
use crate::weights::{HostTensor, TensorStore};

/// A dense layer stored as `[in, out]` (the transpose of HuggingFace's layout).
#[derive(Debug, Clone)]
pub struct Linear<B: Backend> {
    /// `[in, out]`.
    pub weight: Tensor<B, 2>,
    /// `[out]`, when the layer has one.
    pub bias: Option<Tensor<B, 1>>,
}

impl<B: Backend> Linear<B> {
    fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let y = x.matmul(self.weight.clone().unsqueeze::<3>());
        match &self.bias {
            Some(b) => y + b.clone().unsqueeze::<3>(),
            None => y,
        }
    }
}

/// One decoder block's weights.
#[derive(Debug, Clone)]
pub struct Block<B: Backend> {
    /// RMSNorm before attention.
    pub attn_norm: Tensor<B, 1>,
    /// The seven projections, indexed by [`Proj`].
    pub proj: Vec<Linear<B>>,
    /// Qwen3's per-head RMSNorm on queries.
    pub q_norm: Option<Tensor<B, 1>>,
    /// Qwen3's per-head RMSNorm on keys.
    pub k_norm: Option<Tensor<B, 1>>,
    /// RMSNorm before the MLP.
    pub mlp_norm: Tensor<B, 1>,
}

pub use crate::cache::{KvCache, Segment};

/// A Llama/Qwen-family decoder on backend `B`.
#[derive(Debug, Clone)]
pub struct Decoder<B: Backend> {
    /// The architecture.
    pub config: ModelConfig,
    /// `[vocab, hidden]`.
    pub embed: Tensor<B, 2>,
    /// The blocks.
    pub blocks: Vec<Block<B>>,
    /// Final RMSNorm.
    pub norm: Tensor<B, 1>,
    /// `[hidden, vocab]`; `None` when tied to the embeddings.
    pub lm_head: Option<Tensor<B, 2>>,
    head: Head<B>,
    inv_freq: Vec<f64>,
    weights_train: bool,
    attention: AttentionBlocks,
    device: B::Device,
}

/// The output head in both layouts, so that neither the logits nor the
/// gradient through a frozen head transposes a vocabulary-sized matrix per
/// step, at the cost of one more copy of the head's weights when they are
/// frozen. When the weights train, both are views of the trained tensor.
#[derive(Debug, Clone)]
struct Head<B: Backend> {
    /// `[hidden, vocab]`: `logits = hidden · cols`.
    cols: Tensor<B, 2>,
    /// `[vocab, hidden]`: row `v` is token `v`'s output vector.
    rows: Tensor<B, 2>,
}

/// How [`Decoder::forward`] splits causal attention into blocks of
/// queries. Each block attends only to the keys up to its last query, so
/// keys masked for the whole block are never computed, and the largest
/// score tensor is one block's. Every split gives the same result; they
/// differ in speed and memory.
///
/// ```
/// use entropo_burn::model::AttentionBlocks;
/// assert_eq!(AttentionBlocks::Queries(256).queries_per_block(8192), 256);
/// // A budget of 2048 × 2048 scores: one block up to 2048 keys, then smaller ones.
/// let budget = AttentionBlocks::Scores(2048 * 2048);
/// assert_eq!((budget.queries_per_block(1000), budget.queries_per_block(8192)), (4194, 512));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "value", rename_all = "kebab-case")]
pub enum AttentionBlocks {
    /// At most this many queries per block.
    Queries(usize),
    /// As many queries per block as keep its score matrix (queries × keys,
    /// per head) within this many elements: one block while sequences are
    /// short, smaller blocks as they grow.
    Scores(usize),
}

impl AttentionBlocks {
    /// Queries per block when the last query sees `keys` keys (at least 1).
    pub fn queries_per_block(self, keys: usize) -> usize {
        match self {
            AttentionBlocks::Queries(n) => n,
            AttentionBlocks::Scores(n) => n / keys.max(1),
        }
        .max(1)
    }
}

impl Default for AttentionBlocks {
    /// Blocks of 256 queries (the CPU's best; see BENCHMARKS.md).
    fn default() -> Self {
        AttentionBlocks::Queries(256)
    }
}

/// One weight of [`Decoder::named`].
enum Weight<B: Backend> {
    Vector(Tensor<B, 1>),
    Matrix { t: Tensor<B, 2>, transposed: bool },
}

/// Writes `tensors` (HuggingFace names and layout) and `config` as a model
/// folder: `model.safetensors` (f32) and `config.json`.
pub fn save_folder(dir: &Path, config: &ModelConfig, tensors: &BTreeMap<String, HostTensor>) -> Result<(), ModelError> {
    std::fs::create_dir_all(dir).map_err(|e| ModelError::io(dir, e))?;
    let meta = BTreeMap::from([("format".to_string(), "pt".to_string())]);
    crate::weights::save(&dir.join("model.safetensors"), tensors, &meta)?;
    let config = serde_json::to_string_pretty(&config.to_json()).expect("JSON serialises");
    entropo_core::io::write_atomic(&dir.join("config.json"), config.as_bytes())?;
    Ok(())
}

/// Moves a host tensor to the device.
pub fn to_device<B: Backend, const D: usize>(t: HostTensor, device: &B::Device) -> Tensor<B, D> {
    Tensor::from_data(TensorData::new(t.data, t.shape), device)
}

/// A tensor's values on the host, as f32 (the inverse of [`to_device`]);
/// the buffer is moved out of the tensor's data, not copied, where it
/// already holds f32.
pub fn host_values<B: Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f32> {
    t.into_data().convert::<f32>().into_vec::<f32>().expect("converted to f32")
}

/// A tracked tensor's gradient on the host, or zeros of its size when it
/// took no part in the graph that produced `grads`.
pub fn grad_host<B: AutodiffBackend, const D: usize>(t: &Tensor<B, D>, grads: &B::Gradients) -> Vec<f32> {
    t.grad(grads).map(host_values).unwrap_or_else(|| vec![0.0; t.dims().iter().product()])
}

/// `[out, in]` (HuggingFace) → `[in, out]`, on the host.
pub fn transpose_host(t: HostTensor) -> HostTensor {
    let (rows, cols) = (t.shape[0], t.shape[1]);
    let mut data = vec![0.0; t.data.len()];
    for r in 0..rows {
        for c in 0..cols {
            data[c * rows + r] = t.data[r * cols + c];
        }
    }
    HostTensor { shape: vec![cols, rows], data }
}

fn rms_norm<B: Backend, const D: usize>(x: Tensor<B, D>, weight: &Tensor<B, 1>, eps: f64) -> Tensor<B, D> {
    let var = x.clone().square().mean_dim(D - 1);
    let w = weight.clone().unsqueeze::<D>();
    x * (var + eps).sqrt().recip() * w
}

/// `x·cos + rotate_half(x)·sin` for `x` of shape `[batch, heads, len, head_dim]`.
fn apply_rope<B: Backend>(x: Tensor<B, 4>, cos: &Tensor<B, 4>, sin: &Tensor<B, 4>) -> Tensor<B, 4> {
    let half = x.dims()[3] / 2;
    let x1 = x.clone().narrow(3, 0, half);
    let x2 = x.clone().narrow(3, half, half);
    let rotated = Tensor::cat(vec![x2.neg(), x1], 3);
    x * cos.clone() + rotated * sin.clone()
}

impl<B: AttentionBackend> Decoder<B> {
    /// Loads a HuggingFace model folder (`config.json` and safetensors weights).
    pub fn load(dir: &Path, device: &B::Device) -> Result<Decoder<B>, ModelError> {
        let config = ModelConfig::from_dir(dir)?;
        let mut store = TensorStore::open_dir(dir)?;
        Decoder::from_store(config, &mut store, device)
    }

    /// Builds the decoder from named HuggingFace tensors.
    pub fn from_store(config: ModelConfig, store: &mut TensorStore, device: &B::Device) -> Result<Decoder<B>, ModelError> {
        Decoder::build(config, store, device, false)
    }

    /// Builds the decoder from [`Decoder::to_host`]'s tensors; with `grad`,
    /// every weight tracks gradients (full fine-tuning).
    ///
    /// ```
    /// use burn::backend::NdArray;
    /// use entropo_burn::model::Decoder;
    /// let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smollm2");
    /// let model = Decoder::<NdArray>::load(&dir, &Default::default()).unwrap();
    /// let copy = Decoder::<NdArray>::from_host(model.config.clone(), model.to_host(), &Default::default(), false).unwrap();
    /// assert_eq!(copy.to_host(), model.to_host());
    /// ```
    pub fn from_host(
        config: ModelConfig,
        tensors: BTreeMap<String, HostTensor>,
        device: &B::Device,
        grad: bool,
    ) -> Result<Decoder<B>, ModelError> {
        let mut store = TensorStore::empty();
        tensors.into_iter().for_each(|(name, t)| store.insert(name, t));
        Decoder::build(config, &mut store, device, grad)
    }

    fn build(config: ModelConfig, store: &mut TensorStore, device: &B::Device, grad: bool) -> Result<Decoder<B>, ModelError> {
        fn place<B: Backend, const D: usize>(t: HostTensor, device: &B::Device, grad: bool) -> Tensor<B, D> {
            let t = to_device(t, device);
            if grad { t.require_grad() } else { t }
        }
        let c = &config;
        let (h, d) = (c.hidden_size, c.head_dim);
        let embed_host = store.take("model.embed_tokens.weight", &[c.vocab_size, h])?;
        let lm_head_host = if c.tie_word_embeddings { None } else { Some(store.take("lm_head.weight", &[c.vocab_size, h])?) };
        // Rows `[vocab, hidden]` as stored; columns transposed on the host once,
        // or, when the weights train, a view that keeps the gradient flowing.
        let (embed, head) = match (lm_head_host, grad) {
            (None, false) => {
                let cols = place(transpose_host(embed_host.clone()), device, false);
                let embed: Tensor<B, 2> = place(embed_host, device, false);
                (embed.clone(), Head { cols, rows: embed })
            }
            (None, true) => {
                let embed: Tensor<B, 2> = place(embed_host, device, true);
                (embed.clone(), Head { cols: embed.clone().transpose(), rows: embed })
            }
            (Some(lm), false) => {
                let cols = place(transpose_host(lm.clone()), device, false);
                (place(embed_host, device, false), Head { cols, rows: place(lm, device, false) })
            }
            (Some(lm), true) => {
                let cols: Tensor<B, 2> = place(transpose_host(lm), device, true);
                (place(embed_host, device, true), Head { cols: cols.clone(), rows: cols.transpose() })
            }
        };
        let mut blocks = Vec::with_capacity(c.num_hidden_layers);
        for i in 0..c.num_hidden_layers {
            let p = format!("model.layers.{i}");
            let mut proj = Vec::with_capacity(7);
            for which in Proj::ALL {
                let (inp, out) = which.shape(c);
                let module = which.module();
                let weight = transpose_host(store.take(&format!("{p}.{module}.weight"), &[out, inp])?);
                let has_bias = c.attention_bias && matches!(which, Proj::Q | Proj::K | Proj::V);
                let bias = if has_bias {
                    Some(place(store.take(&format!("{p}.{module}.bias"), &[out])?, device, grad))
                } else {
                    None
                };
                proj.push(Linear { weight: place(weight, device, grad), bias });
            }
            let (q_norm, k_norm) = if c.family == Family::Qwen3 {
                (
                    Some(place(store.take(&format!("{p}.self_attn.q_norm.weight"), &[d])?, device, grad)),
                    Some(place(store.take(&format!("{p}.self_attn.k_norm.weight"), &[d])?, device, grad)),
                )
            } else {
                (None, None)
            };
            blocks.push(Block {
                attn_norm: place(store.take(&format!("{p}.input_layernorm.weight"), &[h])?, device, grad),
                proj,
                q_norm,
                k_norm,
                mlp_norm: place(store.take(&format!("{p}.post_attention_layernorm.weight"), &[h])?, device, grad),
            });
        }
        let norm = place(store.take("model.norm.weight", &[h])?, device, grad);
        let lm_head = (!c.tie_word_embeddings).then(|| head.cols.clone());
        let inv_freq = rope::inv_freq(d, c.rope_theta, &c.rope_scaling);
        Ok(Decoder {
            config,
            embed,
            blocks,
            norm,
            lm_head,
            head,
            inv_freq,
            weights_train: grad,
            attention: AttentionBlocks::default(),
            device: device.clone(),
        })
    }

    /// A decoder with random weights (normal, std 0.02; norms 1), for
    /// training from scratch and for benchmarks.
    pub fn random(config: ModelConfig, seed: u64, device: &B::Device) -> Decoder<B> {
        use rand::{SeedableRng, rngs::StdRng};
        use rand_distr::{Distribution, Normal};
        let mut rng = StdRng::seed_from_u64(seed);
        let normal = Normal::new(0.0f32, 0.02).expect("valid std");
        let mut store = TensorStore::empty();
        let c = &config;
        let mut add = |name: String, shape: Vec<usize>, ones: bool| {
            let n = shape.iter().product();
            let data = if ones { vec![1.0; n] } else { (0..n).map(|_| normal.sample(&mut rng)).collect() };
            store.insert(name, HostTensor { shape, data });
        };
        add("model.embed_tokens.weight".into(), vec![c.vocab_size, c.hidden_size], false);
        for i in 0..c.num_hidden_layers {
            for p in Proj::ALL {
                let (inp, out) = p.shape(c);
                add(format!("model.layers.{i}.{}.weight", p.module()), vec![out, inp], false);
                if c.attention_bias && matches!(p, Proj::Q | Proj::K | Proj::V) {
                    add(format!("model.layers.{i}.{}.bias", p.module()), vec![out], false);
                }
            }
            if c.family == Family::Qwen3 {
                add(format!("model.layers.{i}.self_attn.q_norm.weight"), vec![c.head_dim], true);
                add(format!("model.layers.{i}.self_attn.k_norm.weight"), vec![c.head_dim], true);
            }
            add(format!("model.layers.{i}.input_layernorm.weight"), vec![c.hidden_size], true);
            add(format!("model.layers.{i}.post_attention_layernorm.weight"), vec![c.hidden_size], true);
        }
        add("model.norm.weight".into(), vec![c.hidden_size], true);
        if !c.tie_word_embeddings {
            add("lm_head.weight".into(), vec![c.vocab_size, c.hidden_size], false);
        }
        Decoder::from_store(config, &mut store, device).expect("random weights have the config's shapes")
    }

    /// Writes the weights as a HuggingFace model folder (`config.json` and
    /// `model.safetensors`, f32), e.g. after merging an adapter.
    pub fn save(&self, dir: &Path) -> Result<(), ModelError> {
        save_folder(dir, &self.config, &self.to_host())
    }

    /// Every weight by its HuggingFace name, in HuggingFace's layout.
    pub fn to_host(&self) -> BTreeMap<String, HostTensor> {
        self.named()
            .into_iter()
            .map(|(name, w)| {
                let t = match w {
                    Weight::Vector(t) => HostTensor { shape: t.dims().to_vec(), data: host_values(t) },
                    Weight::Matrix { t, transposed } => {
                        let host = HostTensor { shape: t.dims().to_vec(), data: host_values(t) };
                        if transposed { transpose_host(host) } else { host }
                    }
                };
                (name, t)
            })
            .collect()
    }

    /// Every weight with its HuggingFace name; `transposed` marks those kept
    /// as `[in, out]` on the device.
    fn named(&self) -> Vec<(String, Weight<B>)> {
        let vector = |t: &Tensor<B, 1>| Weight::Vector(t.clone());
        let mut out = vec![(
            "model.embed_tokens.weight".to_string(),
            Weight::Matrix { t: self.embed.clone(), transposed: false },
        )];
        for (i, b) in self.blocks.iter().enumerate() {
            let p = format!("model.layers.{i}");
            for which in Proj::ALL {
                let linear = &b.proj[which as usize];
                out.push((
                    format!("{p}.{}.weight", which.module()),
                    Weight::Matrix { t: linear.weight.clone(), transposed: true },
                ));
                if let Some(bias) = &linear.bias {
                    out.push((format!("{p}.{}.bias", which.module()), vector(bias)));
                }
            }
            if let (Some(q), Some(k)) = (&b.q_norm, &b.k_norm) {
                out.push((format!("{p}.self_attn.q_norm.weight"), vector(q)));
                out.push((format!("{p}.self_attn.k_norm.weight"), vector(k)));
            }
            out.push((format!("{p}.input_layernorm.weight"), vector(&b.attn_norm)));
            out.push((format!("{p}.post_attention_layernorm.weight"), vector(&b.mlp_norm)));
        }
        out.push(("model.norm.weight".to_string(), vector(&self.norm)));
        if let Some(head) = &self.lm_head {
            out.push(("lm_head.weight".to_string(), Weight::Matrix { t: head.clone(), transposed: true }));
        }
        out
    }

    /// The device the weights live on.
    pub fn device(&self) -> &B::Device {
        &self.device
    }

    /// Logits `[batch, len, vocab]` for token ids `[batch, len]`.
    ///
    /// With `adapters`, every adapted projection adds its LoRA term; without,
    /// this is the base (reference) model. With a `cache`, `ids` continue the
    /// cached positions and the cache is extended.
    pub fn forward(&self, ids: Tensor<B, 2, Int>, adapters: Option<&Adapters<B>>, cache: Option<&mut KvCache<B>>) -> Tensor<B, 3> {
        self.logits(self.hidden(ids, adapters, cache))
    }

    /// The final hidden states `[batch, len, hidden]` (after the last
    /// RMSNorm), which [`Decoder::logits`] turns into logits; arguments as
    /// for [`Decoder::forward`].
    pub fn hidden(
        &self,
        ids: Tensor<B, 2, Int>,
        adapters: Option<&Adapters<B>>,
        mut cache: Option<&mut KvCache<B>>,
    ) -> Tensor<B, 3> {
        let [_, len] = ids.dims();
        let start = cache.as_ref().map_or(0, |k| k.len());
        let tables = rope::tables(&self.inv_freq, start, len);
        let x = self.blocks_forward(ids, tables, adapters, |i, q, k, v| match cache.as_deref_mut() {
            Some(cache) => self.attend_cached(cache, i, q, k, v),
            None => self.attend(q, k, v, start),
        });
        if let Some(cache) = cache {
            cache.advance(len);
        }
        x
    }

    /// The final hidden states `[1, total, hidden]` of a ragged batch: each
    /// segment's new tokens continue its own cache (of any length), and the
    /// tokens of all segments, one after the other, go through every
    /// projection as one matrix; only attention runs per segment. Each
    /// segment's cache is extended. This is one step of continuous batching
    /// (decodes of one token beside chunks of prompts).
    ///
    /// Every row of a matrix product depends only on its own row, so on
    /// `ndarray` a segment's states are bitwise those of running it alone.
    ///
    /// ```
    /// use burn::backend::NdArray;
    /// use entropo_burn::model::{Decoder, KvCache, Segment};
    /// let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smollm2");
    /// let model = Decoder::<NdArray>::load(&dir, &Default::default()).unwrap();
    /// let layers = model.config.num_hidden_layers;
    /// let (mut a, mut b) = (KvCache::new(layers), KvCache::new(layers));
    /// let mut segments = [Segment { tokens: &[1, 2, 3], cache: &mut a }, Segment { tokens: &[4, 5], cache: &mut b }];
    /// let hidden = model.hidden_ragged(&mut segments, None).unwrap();
    /// assert_eq!(hidden.dims(), [1, 5, model.config.hidden_size]);
    /// let alone = model.hidden(model.ids(&[vec![4, 5]]).unwrap(), None, None);
    /// assert_eq!(hidden.narrow(1, 3, 2).into_data(), alone.into_data());
    /// assert_eq!((a.len(), b.len()), (3, 2));
    /// ```
    pub fn hidden_ragged(&self, segments: &mut [Segment<'_, B>], adapters: Option<&Adapters<B>>) -> Result<Tensor<B, 3>, ModelError> {
        if segments.iter().any(|s| s.tokens.is_empty()) {
            return Err(ModelError::Invalid("a segment of a ragged batch has no tokens".into()));
        }
        let flat: Vec<u32> = segments.iter().flat_map(|s| s.tokens.iter().copied()).collect();
        let ids = self.ids(&[flat])?;
        let (mut cos, mut sin) = (Vec::new(), Vec::new());
        let mut spans = Vec::with_capacity(segments.len());
        for s in segments.iter() {
            let (c, si) = rope::tables(&self.inv_freq, s.cache.len(), s.tokens.len());
            spans.push((cos.len() / self.config.head_dim, s.tokens.len()));
            cos.extend(c);
            sin.extend(si);
        }
        let x = self.blocks_forward(ids, (cos, sin), adapters, |i, q, k, v| {
            let outs = segments
                .iter_mut()
                .zip(&spans)
                .map(|(s, &(at, n))| {
                    let [q, k, v] = [&q, &k, &v].map(|t| t.clone().narrow(2, at, n));
                    self.attend_cached(s.cache, i, q, k, v)
                })
                .collect();
            Tensor::cat(outs, 2)
        });
        for s in segments.iter_mut() {
            s.cache.advance(s.tokens.len());
        }
        Ok(x)
    }

    /// The blocks over token ids `[batch, len]` with RoPE tables `(cos, sin)`
    /// of `len` positions; `attend(layer, q, k, v)` gets the layer's queries
    /// `[batch, heads, len, head_dim]` and new keys and values
    /// `[batch, kv_heads, len, head_dim]` (after RoPE) and returns the
    /// attention output `[batch, heads, len, head_dim]`.
    fn blocks_forward(
        &self,
        ids: Tensor<B, 2, Int>,
        (cos, sin): (Vec<f32>, Vec<f32>),
        adapters: Option<&Adapters<B>>,
        mut attend: impl FnMut(usize, Tensor<B, 4>, Tensor<B, 4>, Tensor<B, 4>) -> Tensor<B, 4>,
    ) -> Tensor<B, 3> {
        let c = &self.config;
        let [batch, len] = ids.dims();
        let (nh, nkv, d) = (c.num_attention_heads, c.num_key_value_heads, c.head_dim);
        let mut x = self.embed.clone().select(0, ids.reshape([batch * len])).reshape([batch, len, c.hidden_size]);
        let cos: Tensor<B, 4> = Tensor::<B, 2>::from_data(TensorData::new(cos, [len, d]), &self.device).unsqueeze();
        let sin: Tensor<B, 4> = Tensor::<B, 2>::from_data(TensorData::new(sin, [len, d]), &self.device).unsqueeze();
        for (i, block) in self.blocks.iter().enumerate() {
            let proj = |which: Proj, input: Tensor<B, 3>| {
                let base = block.proj[which as usize].forward(input.clone());
                match adapters.and_then(|a| a.get(i, which)) {
                    Some(lora) => base + lora.forward(input),
                    None => base,
                }
            };
            let h = rms_norm(x.clone(), &block.attn_norm, c.rms_norm_eps);
            let heads = |t: Tensor<B, 3>, n: usize| t.reshape([batch, len, n, d]).swap_dims(1, 2);
            let mut q = heads(proj(Proj::Q, h.clone()), nh);
            let mut k = heads(proj(Proj::K, h.clone()), nkv);
            let v = heads(proj(Proj::V, h), nkv);
            if let (Some(qn), Some(kn)) = (&block.q_norm, &block.k_norm) {
                q = rms_norm(q, qn, c.rms_norm_eps);
                k = rms_norm(k, kn, c.rms_norm_eps);
            }
            q = apply_rope(q, &cos, &sin);
            k = apply_rope(k, &cos, &sin);
            let attn = attend(i, q, k, v).swap_dims(1, 2).reshape([batch, len, nh * d]);
            x = x + proj(Proj::O, attn);
            let h = rms_norm(x.clone(), &block.mlp_norm, c.rms_norm_eps);
            let gated = silu(proj(Proj::Gate, h.clone())) * proj(Proj::Up, h);
            x = x + proj(Proj::Down, gated);
        }
        rms_norm(x, &self.norm, c.rms_norm_eps)
    }

    /// Appends layer `layer`'s new keys and values `[batch, kv_heads, len,
    /// head_dim]` to `cache` and attends queries `[batch, heads, len,
    /// head_dim]` to everything it holds. On a backend that keeps caches on
    /// the host (`ndarray`), keys and values grow in place and are read
    /// where they lie (grouped heads shared, not repeated): a step costs
    /// its new tokens, not a copy of the whole cache.
    fn attend_cached(&self, cache: &mut KvCache<B>, layer: usize, q: Tensor<B, 4>, k: Tensor<B, 4>, v: Tensor<B, 4>) -> Tensor<B, 4> {
        let start = cache.len();
        let [batch, _, len, d] = q.dims();
        let scale = 1.0 / (d as f64).sqrt();
        let causal = Causal { start, scale, block: self.attention.queries_per_block(start + len) };
        #[cfg(feature = "ndarray")]
        if B::keeps_kv_on_host() && batch == 1 {
            return cache.attend_on_host(layer, q, k, v, causal);
        }
        let (k, v) = cache.append(layer, k, v);
        self.attend(q, k, v, causal.start)
    }

    /// Causal attention of queries `[batch, heads, len, head_dim]` at
    /// positions `start..start + len` over all keys and values
    /// `[batch, kv_heads, start + len, head_dim]` (grouped heads repeated here).
    fn attend(&self, q: Tensor<B, 4>, k: Tensor<B, 4>, v: Tensor<B, 4>, start: usize) -> Tensor<B, 4> {
        let [batch, nh, _, d] = q.dims();
        let [_, nkv, total, _] = k.dims();
        let repeat = |t: Tensor<B, 4>| {
            if nh == nkv {
                t
            } else {
                t.unsqueeze_dim::<5>(2).expand([batch, nkv, nh / nkv, total, d]).reshape([batch, nh, total, d])
            }
        };
        let scale = 1.0 / (d as f64).sqrt();
        let causal = Causal { start, scale, block: self.attention.queries_per_block(total) };
        causal_attention_inference(q, repeat(k), repeat(v), causal)
    }

    /// Logits `[rows.len(), vocab]` of the positions `rows` of hidden states
    /// `[1, len, hidden]` (as [`Decoder::hidden_ragged`] returns them).
    pub fn logits_at(&self, hidden: Tensor<B, 3>, rows: &[usize]) -> Tensor<B, 2> {
        let idx: Vec<i64> = rows.iter().map(|&r| r as i64).collect();
        let idx = Tensor::<B, 1, Int>::from_data(TensorData::new(idx, [rows.len()]), &self.device);
        self.logits(hidden.select(1, idx)).reshape([rows.len(), self.config.vocab_size])
    }

    /// Logits `[batch, vocab]` of the last position only, which is what
    /// sampling and the verifier read: the head (hidden × vocab) runs on one
    /// position instead of all of them, and no `len × vocab` tensor is made.
    /// Arguments as for [`Decoder::forward`].
    ///
    /// ```
    /// use burn::backend::NdArray;
    /// use entropo_burn::model::Decoder;
    /// let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smollm2");
    /// let model = Decoder::<NdArray>::load(&dir, &Default::default()).unwrap();
    /// let ids = model.ids(&[vec![1, 2, 3], vec![4, 5, 6]]).unwrap();
    /// let last = model.last_logits(ids.clone(), None, None);
    /// let all = model.forward(ids, None, None).narrow(1, 2, 1).reshape([2, 160]);
    /// assert!(last.sub(all).abs().max().into_scalar() < 1e-5);
    /// ```
    pub fn last_logits(&self, ids: Tensor<B, 2, Int>, adapters: Option<&Adapters<B>>, cache: Option<&mut KvCache<B>>) -> Tensor<B, 2> {
        let hidden = self.hidden(ids, adapters, cache);
        let [batch, len, _] = hidden.dims();
        self.logits(hidden.narrow(1, len - 1, 1)).reshape([batch, self.config.vocab_size])
    }

    /// Logits `[batch, len, vocab]` of hidden states `[batch, len, hidden]`.
    pub fn logits(&self, hidden: Tensor<B, 3>) -> Tensor<B, 3> {
        hidden.matmul(self.head.cols.clone().unsqueeze::<3>())
    }

    /// The output head as `[vocab, hidden]`: row `v` is the vector whose dot
    /// product with a hidden state is token `v`'s logit.
    pub fn head_rows(&self) -> &Tensor<B, 2> {
        &self.head.rows
    }

    /// Whether the weights themselves track gradients (full fine-tuning,
    /// [`Decoder::from_host`] with `grad`), rather than being frozen.
    pub fn weights_train(&self) -> bool {
        self.weights_train
    }

    /// How attention is split into blocks (see [`Decoder::with_attention_blocks`]).
    pub fn attention_blocks(&self) -> AttentionBlocks {
        self.attention
    }

    /// Sets how attention is split into blocks of queries (default: blocks
    /// of 256). The result is the same for every split.
    ///
    /// ```
    /// use burn::backend::NdArray;
    /// use entropo_burn::model::{AttentionBlocks, Decoder};
    /// let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smollm2");
    /// let model = Decoder::<NdArray>::load(&dir, &Default::default()).unwrap();
    /// let ids = model.ids(&[(1..40).collect()]).unwrap();
    /// let whole = model.clone().with_attention_blocks(AttentionBlocks::Scores(usize::MAX)).forward(ids.clone(), None, None);
    /// let blocks = model.with_attention_blocks(AttentionBlocks::Queries(8)).forward(ids, None, None);
    /// assert!(whole.sub(blocks).abs().max().into_scalar() < 1e-5);
    /// ```
    pub fn with_attention_blocks(mut self, blocks: AttentionBlocks) -> Self {
        self.attention = blocks;
        self
    }

    /// Token ids on this model's device.
    pub fn ids(&self, rows: &[Vec<u32>]) -> Result<Tensor<B, 2, Int>, ModelError> {
        let len = rows.first().map_or(0, Vec::len);
        if len == 0 || rows.iter().any(|r| r.len() != len) {
            return Err(ModelError::Invalid("token rows must be non-empty and of equal length".into()));
        }
        let vocab = self.config.vocab_size as u32;
        let mut flat = Vec::with_capacity(rows.len() * len);
        for &t in rows.iter().flatten() {
            if t >= vocab {
                return Err(ModelError::Invalid(format!("token id {t} is outside the vocabulary ({vocab})")));
            }
            flat.push(t as i64);
        }
        Ok(Tensor::from_data(TensorData::new(flat, [rows.len(), len]), &self.device))
    }
}

impl<B: TrainBackend> Decoder<B> {
    /// The gradient of every weight (zeros for one outside the graph), by
    /// HuggingFace name and in HuggingFace's layout, like [`Decoder::to_host`].
    pub fn grads_host(&self, grads: &B::Gradients) -> BTreeMap<String, Vec<f32>> {
        self.named()
            .into_iter()
            .map(|(name, w)| {
                let g = match w {
                    Weight::Vector(t) => grad_host(&t, grads),
                    Weight::Matrix { t, transposed } => {
                        let data = grad_host(&t, grads);
                        if transposed { transpose_host(HostTensor { shape: t.dims().to_vec(), data }).data } else { data }
                    }
                };
                (name, g)
            })
            .collect()
    }
}
