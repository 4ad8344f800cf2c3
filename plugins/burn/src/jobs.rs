//! Whole jobs — train, generate — on the backend a config names.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use crate::attention::{AttentionBackend, TrainBackend};
use entropo_core::Loss;
use entropo_core::training::{Finetuning, ModelSection, TrainSection};

use crate::backend::{BackendJob, BackendKind, attention_blocks, dispatch};
use crate::error::ModelError;
use crate::lora::LoraWeights;
use crate::model::Decoder;
use crate::sample::{Generation, SamplingParams, generate};
use crate::train::{Example, StepMetrics, TrainSummary, Trainer};

/// Loads `model`'s folder on `device` and merges its `merge_adapters`.
pub fn load_model<B: AttentionBackend>(
    model: &ModelSection,
    device: &B::Device,
) -> Result<Decoder<B>, ModelError> {
    let mut decoder = Decoder::load(&model.path, device)?.with_attention_blocks(attention_blocks(model.backend));
    for dir in &model.merge_adapters {
        LoraWeights::load_peft(dir, &decoder.config)?.merge_into(&mut decoder);
    }
    Ok(decoder)
}

/// Files of a model folder that are not weights, copied by [`merge_adapter`]
/// and into a fully fine-tuned model's folder.
const TOKENIZER_FILES: [&str; 4] =
    ["tokenizer.json", "tokenizer_config.json", "generation_config.json", "chat_template.jinja"];

/// Copies the tokenizer files of model folder `from` into `to`.
pub fn copy_tokenizer_files(from: &Path, to: &Path) -> Result<(), ModelError> {
    for name in TOKENIZER_FILES {
        let src = from.join(name);
        if src.exists() {
            std::fs::copy(&src, to.join(name)).map_err(|e| ModelError::io(&src, e))?;
        }
    }
    Ok(())
}

/// Merges the PEFT adapter in `adapter` into the model in `model` and writes
/// the result, with the tokenizer files, as a new HuggingFace folder `out`
/// (which must not exist yet; it appears complete or not at all).
pub fn merge_adapter(model: &Path, adapter: &Path, out: &Path) -> Result<(), ModelError> {
    if out.exists() {
        return Err(ModelError::Invalid(format!("{}: already exists; choose a new folder", out.display())));
    }
    let device = Default::default();
    let mut decoder = Decoder::<burn::backend::NdArray<f32>>::load(model, &device)?;
    LoraWeights::load_peft(adapter, &decoder.config)?.merge_into(&mut decoder);
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent).map_err(|e| ModelError::io(parent, e))?;
    let tmp = tempfile::Builder::new().prefix(".merge-").tempdir_in(parent).map_err(|e| ModelError::io(parent, e))?;
    decoder.save(tmp.path())?;
    copy_tokenizer_files(model, tmp.path())?;
    std::fs::rename(tmp.keep(), out).map_err(|e| ModelError::io(out, e))
}

/// A training run: [`Trainer::run`] on the backend `model.backend`.
pub struct TrainJob<'a> {
    /// The base model (and adapters merged into it first).
    pub model: &'a ModelSection,
    /// Optimisation settings.
    pub settings: &'a TrainSection,
    /// Tokenised examples.
    pub examples: &'a [Example],
    /// The objective.
    pub loss: &'a dyn Loss,
    /// Seed.
    pub seed: u64,
    /// Output folder.
    pub out: &'a Path,
    /// Called after every step.
    pub observer: &'a mut dyn FnMut(&StepMetrics) -> ControlFlow<()>,
}

impl BackendJob for TrainJob<'_> {
    type Output = TrainSummary;
    fn run<B: TrainBackend>(self, device: B::Device) -> Result<TrainSummary, ModelError> {
        let model = load_model::<B>(self.model, &device)?;
        let summary = Trainer::new(&model, self.loss, self.settings, self.seed, self.out)
            .run(self.examples, |m| (self.observer)(m))?;
        if self.settings.finetuning == Finetuning::Full && !summary.interrupted {
            copy_tokenizer_files(&self.model.path, &summary.output)?;
        }
        Ok(summary)
    }
}

/// Runs `job` on its model's backend.
pub fn train(job: TrainJob<'_>) -> Result<TrainSummary, ModelError> {
    dispatch(job.model.backend, job)
}

/// Sampling a continuation of a tokenised prompt.
pub struct GenerateJob<'a> {
    /// The model.
    pub model: ModelSection,
    /// A LoRA adapter applied without merging.
    pub adapter: Option<PathBuf>,
    /// Prompt token ids.
    pub prompt: &'a [u32],
    /// Token ids that end generation.
    pub stop: &'a [u32],
    /// Sampling settings.
    pub params: SamplingParams,
    /// Receives each token as it is produced.
    pub on_token: &'a mut dyn FnMut(u32),
}

impl BackendJob for GenerateJob<'_> {
    type Output = Generation;
    fn run<B: TrainBackend>(self, device: B::Device) -> Result<Generation, ModelError> {
        let model = load_model::<B::InnerBackend>(&self.model, &device)?;
        let adapters = match &self.adapter {
            Some(dir) => Some(LoraWeights::load_peft(dir, &model.config)?.to_device(&device, false)),
            None => None,
        };
        generate(&model, adapters.as_ref(), self.prompt, self.stop, &self.params, self.on_token)
    }
}

/// Runs `job` on `backend`.
pub fn generate_on(backend: BackendKind, job: GenerateJob<'_>) -> Result<Generation, ModelError> {
    dispatch(backend, job)
}
