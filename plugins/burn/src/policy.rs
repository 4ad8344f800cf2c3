//! The in-process model as an agent [`Policy`]: the conversation goes through
//! the chat template with a generation prompt, the reply is sampled with a
//! KV cache and decoded.

use crate::attention::AttentionBackend;
use entropo_core::agent::{Policy, PolicyError, Reply};
use entropo_core::types::Message;
use entropo_text::{RenderOptions, Tokenizer};

use crate::lora::{Adapters, LoraWeights};
use crate::model::Decoder;
use crate::sample::{SamplingParams, generate};

/// A [`Decoder`] (optionally with a LoRA adapter) answering as an agent.
///
/// Each call samples with seed `params.seed + n` for the n-th call, so an
/// episode is reproducible and successive replies differ.
pub struct ChatPolicy<B: AttentionBackend> {
    model: Decoder<B>,
    adapters: Option<Adapters<B>>,
    tokenizer: Tokenizer,
    params: SamplingParams,
    calls: u64,
}

impl<B: AttentionBackend> ChatPolicy<B> {
    /// A policy sampling from `model` (with `adapter` applied, unmerged).
    pub fn new(model: Decoder<B>, adapter: Option<&LoraWeights>, tokenizer: Tokenizer, params: SamplingParams) -> Self {
        let adapters = adapter.map(|a| a.to_device(model.device(), false));
        ChatPolicy { model, adapters, tokenizer, params, calls: 0 }
    }
}

impl<B: AttentionBackend> Policy for ChatPolicy<B> {
    fn respond(&mut self, messages: &[Message]) -> Result<Reply, PolicyError> {
        let inference = |e: &dyn std::fmt::Display| PolicyError::Inference(e.to_string());
        let text = self.tokenizer.render_chat(messages, true, &RenderOptions::default()).map_err(|e| inference(&e))?;
        let prompt = self.tokenizer.encode(&text, false).map_err(|e| inference(&e))?;
        let params = SamplingParams { seed: self.params.seed.wrapping_add(self.calls), ..self.params.clone() };
        self.calls += 1;
        let generation = generate(&self.model, self.adapters.as_ref(), &prompt, self.tokenizer.eos_token_ids(), &params, |_| {})
            .map_err(|e| inference(&e))?;
        let text = self.tokenizer.decode(&generation.tokens, true).map_err(|e| inference(&e))?;
        Ok(Reply { text, prompt_tokens: prompt.len() as u64, completion_tokens: generation.tokens.len() as u64 })
    }
}
