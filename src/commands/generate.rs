//! `entropo generate`: sample from a model folder.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use entropo_burn::sample::SamplingParams;
use entropo_core::training::{Backend, ModelSection};
use entropo_core::types::{Message, Role};

/// Sample a continuation of a prompt (or a chat reply) with a KV cache.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  entropo generate --model models/smollm2 --chat --temperature 0 \\
      --prompt 'What is the capital of France?'
  entropo generate --model runs/q/model --adapter runs/q/train/sft/adapter --prompt 'def add('")]
pub struct GenerateArgs {
    /// A HuggingFace model folder (config.json, safetensors, tokenizer.json).
    #[arg(long)]
    model: PathBuf,
    /// The prompt text (a user message with --chat).
    #[arg(long)]
    prompt: String,
    /// Wrap the prompt as a user message in the model's chat template.
    #[arg(long)]
    chat: bool,
    /// A system message (with --chat).
    #[arg(long)]
    system: Option<String>,
    /// A PEFT LoRA adapter folder to apply.
    #[arg(long)]
    adapter: Option<PathBuf>,
    /// Tensor backend (ndarray, tch, cuda; the last two need their cargo feature).
    #[arg(long, default_value = "ndarray", value_parser = parse_backend)]
    backend: Backend,
    /// Softmax temperature; 0 is greedy.
    #[arg(long, default_value_t = 0.7)]
    temperature: f64,
    /// Keep the k most likely tokens (0: all).
    #[arg(long, default_value_t = 20)]
    top_k: usize,
    /// Nucleus sampling mass.
    #[arg(long, default_value_t = 0.8)]
    top_p: f64,
    /// Most new tokens.
    #[arg(long, default_value_t = 256)]
    max_tokens: usize,
    /// Random seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

pub(super) fn parse_backend(s: &str) -> Result<Backend, String> {
    serde_json::from_value(serde_json::Value::String(s.into()))
        .map_err(|_| format!("unknown backend {s:?} (expected ndarray, tch or cuda)"))
}

impl GenerateArgs {
    pub fn run(self) -> anyhow::Result<()> {
        let tokenizer = entropo_text::Tokenizer::from_dir(&self.model)?;
        let prompt = if self.chat {
            let mut messages = Vec::new();
            if let Some(system) = &self.system {
                messages.push(Message::new(Role::System, system.clone()));
            }
            messages.push(Message::new(Role::User, self.prompt.clone()));
            let text = tokenizer.render_chat(&messages, true, &Default::default())?;
            tokenizer.encode(&text, false)?
        } else {
            tokenizer.encode(&self.prompt, true)?
        };
        let params = SamplingParams {
            temperature: self.temperature,
            top_k: self.top_k,
            top_p: self.top_p,
            max_tokens: self.max_tokens,
            seed: self.seed,
        };
        // Decode the whole output each time and print what is new, so
        // multi-byte characters split over tokens come out whole.
        let mut tokens = Vec::new();
        let mut printed = 0;
        let mut stdout = std::io::stdout();
        let mut on_token = |t: u32| {
            tokens.push(t);
            if let Ok(text) = tokenizer.decode(&tokens, true)
                && text.len() > printed
                && text.is_char_boundary(printed)
                && !text.ends_with('\u{FFFD}')
            {
                let _ = write!(stdout, "{}", &text[printed..]);
                let _ = stdout.flush();
                printed = text.len();
            }
        };
        let model = ModelSection { path: self.model.clone(), backend: self.backend, merge_adapters: vec![] };
        let generation = entropo_burn::jobs::generate_on(
            self.backend,
            entropo_burn::jobs::GenerateJob {
                model,
                adapter: self.adapter.clone(),
                prompt: &prompt,
                stop: tokenizer.eos_token_ids(),
                params,
                on_token: &mut on_token,
            },
        )?;
        println!();
        tracing::info!(tokens = generation.tokens.len(), finish = ?generation.finish, "generated");
        Ok(())
    }
}
