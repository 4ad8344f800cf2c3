//! The in-process burn model behind the OpenAI-compatible server
//! (`entropo serve`), so other tools — and entropo's own HTTP policy — can
//! sample from it. Requests are sampled by one [`Engine`]: concurrent
//! requests share its batched steps, and requests that share a prefix (an
//! agent's successive calls) share its computed keys and values.

use std::ops::ControlFlow;
use std::path::Path;

use entropo_burn::burn::backend::NdArray;
use entropo_burn::engine::{Engine, EngineOptions, Request};
use entropo_burn::lora::LoraWeights;
use entropo_burn::model::Decoder;
use entropo_burn::sample::{FinishReason as Finish, SamplingParams};
use entropo_openai::{ChatCompletion, ChatError, ChatModel, ChatRequest, FinishReason};
use entropo_text::{RenderOptions, Tokenizer};

type Cpu = NdArray<f32>;

/// A model folder (and optional LoRA adapter) answering chat requests.
pub struct BurnChat {
    id: String,
    engine: Engine,
    context: usize,
    tokenizer: Tokenizer,
    defaults: SamplingParams,
}

impl BurnChat {
    /// Loads `dir` (a HuggingFace folder) and `adapter` (PEFT), served as `id`.
    pub fn load(
        dir: &Path,
        adapter: Option<&Path>,
        id: String,
        defaults: SamplingParams,
        engine: EngineOptions,
    ) -> anyhow::Result<BurnChat> {
        let model = Decoder::<Cpu>::load(dir, &Default::default())?;
        let adapters = match adapter {
            Some(a) => Some(LoraWeights::load_peft(a, &model.config)?.to_device(model.device(), false)),
            None => None,
        };
        let context = model.config.max_position_embeddings;
        let engine = Engine::start(model, adapters, engine);
        Ok(BurnChat { id, engine, context, tokenizer: Tokenizer::from_dir(dir)?, defaults })
    }

    /// The engine sampling the requests (for its statistics).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

impl ChatModel for BurnChat {
    fn model_id(&self) -> &str {
        &self.id
    }

    fn complete(&self, request: &ChatRequest) -> Result<ChatCompletion, ChatError> {
        self.complete_streaming(request, &mut |_| ControlFlow::Continue(()))
    }

    fn complete_streaming(
        &self,
        request: &ChatRequest,
        on_text: &mut dyn FnMut(&str) -> ControlFlow<()>,
    ) -> Result<ChatCompletion, ChatError> {
        let invalid = |e: &dyn std::fmt::Display| ChatError::InvalidRequest(e.to_string());
        let text = self.tokenizer.render_chat(&request.messages, true, &RenderOptions::default()).map_err(|e| invalid(&e))?;
        let prompt = self.tokenizer.encode(&text, false).map_err(|e| invalid(&e))?;
        if prompt.len() >= self.context {
            return Err(ChatError::InvalidRequest(format!(
                "the prompt has {} tokens; the context holds {}",
                prompt.len(),
                self.context
            )));
        }
        let d = &self.defaults;
        let params = SamplingParams {
            temperature: request.temperature.map_or(d.temperature, f64::from),
            top_k: request.top_k.map_or(d.top_k, |k| k as usize),
            top_p: request.top_p.map_or(d.top_p, f64::from),
            max_tokens: request.max_tokens.map_or(d.max_tokens, |m| m as usize).min(self.context - prompt.len()),
            seed: request.seed.unwrap_or(d.seed),
        };
        let prompt_tokens = prompt.len() as u64;
        let pending = self
            .engine
            .submit(Request { prompt, stop: self.tokenizer.eos_token_ids().to_vec(), params })
            .map_err(|e| invalid(&e))?;
        let mut text = StopText::new(&request.stop);
        let mut tokens = Vec::new();
        let mut decode_error = None;
        let generation = pending
            .wait(|token| {
                tokens.push(token);
                match self.tokenizer.decode(&tokens, true) {
                    Ok(decoded) => text.update(decoded, on_text),
                    Err(e) => {
                        decode_error = Some(e.to_string());
                        ControlFlow::Break(())
                    }
                }
            })
            .map_err(|e| ChatError::Inference(e.to_string()))?;
        if let Some(e) = decode_error {
            return Err(ChatError::Inference(e));
        }
        let finish = match generation.finish {
            _ if text.stopped => FinishReason::Stop,
            Finish::Stop => FinishReason::Stop,
            Finish::Length => FinishReason::Length,
        };
        let text = text.finish(on_text);
        Ok(ChatCompletion { text, prompt_tokens, completion_tokens: generation.tokens.len() as u64, finish_reason: finish })
    }
}

/// The text of a completion as its tokens arrive, cut before the first stop
/// string. Text is passed on only once no stop string can still begin in it
/// and no character is still half-decoded.
struct StopText<'a> {
    stop: &'a [String],
    text: String,
    sent: usize,
    stopped: bool,
}

impl<'a> StopText<'a> {
    fn new(stop: &'a [String]) -> Self {
        StopText { stop, text: String::new(), sent: 0, stopped: false }
    }

    /// Takes the whole text decoded so far; passes on what is safe to send
    /// and breaks at a stop string (or when `on_text` breaks).
    fn update(&mut self, decoded: String, on_text: &mut dyn FnMut(&str) -> ControlFlow<()>) -> ControlFlow<()> {
        self.text = decoded;
        if let Some(cut) = self.stop.iter().filter(|s| !s.is_empty()).filter_map(|s| self.text.find(s.as_str())).min() {
            self.text.truncate(cut);
            self.stopped = true;
        }
        let safe = if self.stopped { self.text.len() } else { self.safe_len() };
        let flow = self.send(safe, on_text);
        if self.stopped { ControlFlow::Break(()) } else { flow }
    }

    /// Bytes of the text that no stop string can extend into, and that end
    /// on a whole character (a trailing U+FFFD may be half a character).
    fn safe_len(&self) -> usize {
        let t = self.text.trim_end_matches('\u{FFFD}');
        let held = self
            .stop
            .iter()
            .flat_map(|s| (1..s.len()).filter(|&k| s.is_char_boundary(k)).map(move |k| &s[..k]))
            .filter(|prefix| t.ends_with(prefix))
            .map(str::len)
            .max()
            .unwrap_or(0);
        t.len() - held
    }

    fn send(&mut self, upto: usize, on_text: &mut dyn FnMut(&str) -> ControlFlow<()>) -> ControlFlow<()> {
        // A decoder whose earlier text changed under a later token (never
        // seen with byte-level BPE) sends nothing more until the end.
        if upto <= self.sent || !self.text.is_char_boundary(self.sent) {
            return ControlFlow::Continue(());
        }
        let flow = on_text(&self.text[self.sent..upto]);
        self.sent = upto;
        flow
    }

    /// The final text, after passing on what was held back.
    fn finish(mut self, on_text: &mut dyn FnMut(&str) -> ControlFlow<()>) -> String {
        let _ = self.send(self.text.len(), on_text);
        self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(stop: &[&str], pieces: &[&str]) -> (Vec<String>, String, bool) {
        let stop: Vec<String> = stop.iter().map(|s| s.to_string()).collect();
        let mut text = StopText::new(&stop);
        let mut sent = Vec::new();
        let mut so_far = String::new();
        for p in pieces {
            so_far.push_str(p);
            if text.update(so_far.clone(), &mut |t| {
                sent.push(t.to_string());
                ControlFlow::Continue(())
            })
            .is_break()
            {
                break;
            }
        }
        let stopped = text.stopped;
        let whole = text.finish(&mut |t| {
            sent.push(t.to_string());
            ControlFlow::Continue(())
        });
        (sent, whole, stopped)
    }

    #[test]
    fn text_stops_before_a_stop_string_split_across_tokens() {
        let (sent, whole, stopped) = run(&["</function>"], &["a <", "/func", "tion> b"]);
        assert_eq!(whole, "a ");
        assert!(stopped);
        assert_eq!(sent.concat(), "a ", "a held-back prefix of the stop string is never sent");
    }

    #[test]
    fn held_back_text_is_sent_once_it_cannot_start_a_stop_string() {
        let (sent, whole, stopped) = run(&["STOP"], &["ab S", "T", "x", "\u{FFFD}", "é"]);
        assert!(!stopped);
        assert_eq!(whole, "ab STx\u{FFFD}é");
        assert_eq!(sent, ["ab ", "STx", "\u{FFFD}é"]);
    }
}
