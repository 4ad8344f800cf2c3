//! What a run trains: LoRA adapters on a frozen model, or every weight of
//! the model ([`Finetuning`]). Either way the values live on the host
//! between steps (where AdamW updates them) and go to the device for each
//! micro-batch with gradients tracked.

use std::collections::BTreeMap;
use std::path::Path;

use crate::attention::{AttentionBackend, TrainBackend};
use entropo_core::training::{Finetuning, TrainSection};

use crate::config::ModelConfig;
use crate::error::ModelError;
use crate::lora::{Adapters, LoraWeights};
use crate::model::{Decoder, grad_host, save_folder};
use crate::weights::{HostTensor, TensorStore};

/// The trainable values of a run, on the host.
///
/// ```
/// use burn::backend::NdArray;
/// use entropo_burn::model::Decoder;
/// use entropo_burn::train::Trainable;
/// use entropo_core::training::{Finetuning, TrainSection};
/// let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smollm2");
/// let model = Decoder::<NdArray>::load(&dir, &Default::default()).unwrap();
/// let full = Trainable::init(&model, &TrainSection { finetuning: Finetuning::Full, ..Default::default() }, 0).unwrap();
/// assert_eq!(full.folder(), "model");
/// assert_eq!(full.num_parameters(), model.to_host().values().map(|w| w.data.len()).sum::<usize>());
/// let lora = Trainable::init(&model, &TrainSection::default(), 0).unwrap();
/// assert_eq!(lora.folder(), "adapter");
/// assert!(lora.num_parameters() < full.num_parameters());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Trainable {
    /// LoRA adapters; the base model stays frozen.
    Lora(LoraWeights),
    /// Every weight of the model, by HuggingFace name and layout.
    Full {
        /// The architecture.
        config: ModelConfig,
        /// The weights.
        tensors: BTreeMap<String, HostTensor>,
    },
}

impl Trainable {
    /// The starting point of a run on `model`: fresh adapters, or a copy of
    /// the model's weights.
    pub fn init<B: AttentionBackend>(model: &Decoder<B>, settings: &TrainSection, seed: u64) -> Result<Trainable, ModelError> {
        Ok(match settings.finetuning {
            Finetuning::Lora => Trainable::Lora(LoraWeights::init(&model.config, settings.lora.clone(), seed)?),
            Finetuning::Full => Trainable::Full { config: model.config.clone(), tensors: model.to_host() },
        })
    }

    /// Sizes of the trainable tensors, in [`Trainable::values_mut`] order.
    pub fn sizes(&self) -> Vec<usize> {
        match self {
            Trainable::Lora(l) => l.pairs.values().flat_map(|p| [p.a.data.len(), p.b.data.len()]).collect(),
            Trainable::Full { tensors, .. } => tensors.values().map(|t| t.data.len()).collect(),
        }
    }

    /// Number of trainable values.
    pub fn num_parameters(&self) -> usize {
        self.sizes().iter().sum()
    }

    /// The trainable values, in the order [`GradSource::grads`] returns gradients.
    pub fn values_mut(&mut self) -> Vec<&mut [f32]> {
        match self {
            Trainable::Lora(l) => l.pairs.values_mut().flat_map(|p| [&mut p.a.data[..], &mut p.b.data[..]]).collect(),
            Trainable::Full { tensors, .. } => tensors.values_mut().map(|t| &mut t.data[..]).collect(),
        }
    }

    /// The folder name [`Trainable::save`] writes under a run's output.
    pub fn folder(&self) -> &'static str {
        match self {
            Trainable::Lora(_) => "adapter",
            Trainable::Full { .. } => "model",
        }
    }

    /// Writes a PEFT adapter folder, or a model folder (`config.json`,
    /// `model.safetensors`).
    pub fn save(&self, dir: &Path) -> Result<(), ModelError> {
        match self {
            Trainable::Lora(l) => l.save_peft(dir, None),
            Trainable::Full { config, tensors } => save_folder(dir, config, tensors),
        }
    }

    /// Reads what [`Trainable::save`] wrote for a run on a `model`-shaped
    /// decoder, checking every tensor against `like` (the run's starting
    /// point, which has the right kind, names and shapes).
    pub fn load(dir: &Path, model: &ModelConfig, like: &Trainable) -> Result<Trainable, ModelError> {
        match like {
            Trainable::Lora(_) => Ok(Trainable::Lora(LoraWeights::load_peft(dir, model)?)),
            Trainable::Full { tensors, .. } => {
                let mut store = TensorStore::open_dir(dir)?;
                let loaded = tensors
                    .iter()
                    .map(|(name, t)| Ok((name.clone(), store.take(name, &t.shape)?)))
                    .collect::<Result<_, ModelError>>()?;
                Ok(Trainable::Full { config: model.clone(), tensors: loaded })
            }
        }
    }

    /// The values on `device` around `base`, tracking gradients when `train`.
    pub fn to_device<'m, B: AttentionBackend>(&self, base: &'m Decoder<B>, train: bool) -> Result<Live<'m, B>, ModelError> {
        Ok(match self {
            Trainable::Lora(l) => Live::Lora { base, adapters: l.to_device(base.device(), train) },
            Trainable::Full { config, tensors } => {
                let model = Decoder::from_host(config.clone(), tensors.clone(), base.device(), train)?;
                Live::Full(model.with_attention_blocks(base.attention_blocks()))
            }
        })
    }
}

/// A [`Trainable`] on the device: the model to run and the adapters to add.
pub enum Live<'m, B: AttentionBackend> {
    /// The frozen base with adapters.
    Lora {
        /// The base model.
        base: &'m Decoder<B>,
        /// The adapters.
        adapters: Adapters<B>,
    },
    /// A whole model whose weights track gradients.
    Full(Decoder<B>),
}

impl<B: AttentionBackend> Live<'_, B> {
    /// The model to call.
    pub fn model(&self) -> &Decoder<B> {
        match self {
            Live::Lora { base, .. } => base,
            Live::Full(m) => m,
        }
    }

    /// The adapters to pass to it, if any.
    pub fn adapters(&self) -> Option<&Adapters<B>> {
        match self {
            Live::Lora { adapters, .. } => Some(adapters),
            Live::Full(_) => None,
        }
    }
}

/// Trainable tensors on the device that can report their gradients.
pub trait GradSource<B: TrainBackend> {
    /// Gradients on the host, one per trainable tensor in
    /// [`Trainable::values_mut`] order (zeros for a tensor outside the graph).
    fn grads(&self, grads: &B::Gradients) -> Vec<Vec<f32>>;
}

impl<B: TrainBackend> GradSource<B> for Adapters<B> {
    fn grads(&self, grads: &B::Gradients) -> Vec<Vec<f32>> {
        self.pairs().flat_map(|(_, p)| [grad_host(&p.a, grads), grad_host(&p.b, grads)]).collect()
    }
}

impl<B: TrainBackend> GradSource<B> for Decoder<B> {
    fn grads(&self, grads: &B::Gradients) -> Vec<Vec<f32>> {
        self.grads_host(grads).into_values().collect()
    }
}

impl<B: TrainBackend> GradSource<B> for Live<'_, B> {
    fn grads(&self, grads: &B::Gradients) -> Vec<Vec<f32>> {
        match self {
            Live::Lora { adapters, .. } => adapters.grads(grads),
            Live::Full(m) => m.grads(grads),
        }
    }
}
