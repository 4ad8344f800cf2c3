//! The in-process model as an agent [`Policy`]: the conversation goes through
//! the chat template with a generation prompt, the reply is sampled by the
//! shared [`Engine`] (batched with the other rollouts' replies, with the
//! conversation's earlier turns taken from its prefix cache) and decoded.

use std::ops::ControlFlow;

use entropo_core::agent::{Policy, PolicyError, Reply};
use entropo_core::types::Message;
use entropo_text::{RenderOptions, Tokenizer};

use crate::engine::{Engine, Request};
use crate::sample::SamplingParams;

/// An [`Engine`]'s model answering as an agent.
///
/// Each call samples with seed `params.seed + n` for the n-th call, so an
/// episode is reproducible and successive replies differ.
pub struct ChatPolicy {
    engine: Engine,
    tokenizer: Tokenizer,
    params: SamplingParams,
    calls: u64,
}

impl ChatPolicy {
    /// A policy sampling from `engine`'s model.
    pub fn new(engine: Engine, tokenizer: Tokenizer, params: SamplingParams) -> Self {
        ChatPolicy { engine, tokenizer, params, calls: 0 }
    }
}

impl Policy for ChatPolicy {
    fn respond(&mut self, messages: &[Message]) -> Result<Reply, PolicyError> {
        let inference = |e: &dyn std::fmt::Display| PolicyError::Inference(e.to_string());
        let text = self.tokenizer.render_chat(messages, true, &RenderOptions::default()).map_err(|e| inference(&e))?;
        let prompt = self.tokenizer.encode(&text, false).map_err(|e| inference(&e))?;
        let params = SamplingParams { seed: self.params.seed.wrapping_add(self.calls), ..self.params.clone() };
        self.calls += 1;
        let prompt_tokens = prompt.len() as u64;
        let request = Request { prompt, stop: self.tokenizer.eos_token_ids().to_vec(), params };
        let generation = self.engine.generate(request, |_| ControlFlow::Continue(())).map_err(|e| inference(&e))?;
        let text = self.tokenizer.decode(&generation.tokens, true).map_err(|e| inference(&e))?;
        Ok(Reply { text, prompt_tokens, completion_tokens: generation.tokens.len() as u64 })
    }
}
