//! The in-process burn model behind the OpenAI-compatible server
//! (`entropo serve`), so other tools — and entropo's own HTTP policy — can
//! sample from it.

use std::path::Path;

use entropo_burn::burn::backend::NdArray;
use entropo_burn::lora::{Adapters, LoraWeights};
use entropo_burn::model::Decoder;
use entropo_burn::sample::{FinishReason as Finish, SamplingParams, generate};
use entropo_openai::{ChatCompletion, ChatError, ChatModel, ChatRequest, FinishReason};
use entropo_text::{RenderOptions, Tokenizer};

type Cpu = NdArray<f32>;

/// A model folder (and optional LoRA adapter) answering chat requests.
pub struct BurnChat {
    id: String,
    model: Decoder<Cpu>,
    adapters: Option<Adapters<Cpu>>,
    tokenizer: Tokenizer,
    defaults: SamplingParams,
}

impl BurnChat {
    /// Loads `dir` (a HuggingFace folder) and `adapter` (PEFT), served as `id`.
    pub fn load(dir: &Path, adapter: Option<&Path>, id: String, defaults: SamplingParams) -> anyhow::Result<BurnChat> {
        let model = Decoder::<Cpu>::load(dir, &Default::default())?;
        let adapters = match adapter {
            Some(a) => Some(LoraWeights::load_peft(a, &model.config)?.to_device(model.device(), false)),
            None => None,
        };
        Ok(BurnChat { id, model, adapters, tokenizer: Tokenizer::from_dir(dir)?, defaults })
    }
}

impl ChatModel for BurnChat {
    fn model_id(&self) -> &str {
        &self.id
    }

    fn complete(&self, request: &ChatRequest) -> Result<ChatCompletion, ChatError> {
        let invalid = |e: &dyn std::fmt::Display| ChatError::InvalidRequest(e.to_string());
        let text = self.tokenizer.render_chat(&request.messages, true, &RenderOptions::default()).map_err(|e| invalid(&e))?;
        let prompt = self.tokenizer.encode(&text, false).map_err(|e| invalid(&e))?;
        let context = self.model.config.max_position_embeddings;
        if prompt.len() >= context {
            return Err(ChatError::InvalidRequest(format!("the prompt has {} tokens; the context holds {context}", prompt.len())));
        }
        let d = &self.defaults;
        let params = SamplingParams {
            temperature: request.temperature.map_or(d.temperature, f64::from),
            top_k: request.top_k.map_or(d.top_k, |k| k as usize),
            top_p: request.top_p.map_or(d.top_p, f64::from),
            max_tokens: request.max_tokens.map_or(d.max_tokens, |m| m as usize).min(context - prompt.len()),
            seed: request.seed.unwrap_or(d.seed),
        };
        let out = generate(&self.model, self.adapters.as_ref(), &prompt, self.tokenizer.eos_token_ids(), &params, |_| {})
            .map_err(|e| invalid(&e))?;
        let mut text = self.tokenizer.decode(&out.tokens, true).map_err(|e| ChatError::Inference(e.to_string()))?;
        let mut finish = match out.finish {
            Finish::Stop => FinishReason::Stop,
            Finish::Length => FinishReason::Length,
        };
        if let Some(cut) = request.stop.iter().filter_map(|s| text.find(s.as_str())).min() {
            text.truncate(cut);
            finish = FinishReason::Stop;
        }
        Ok(ChatCompletion {
            text,
            prompt_tokens: prompt.len() as u64,
            completion_tokens: out.tokens.len() as u64,
            finish_reason: finish,
        })
    }
}
