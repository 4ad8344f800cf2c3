//! The `lm-judge` verifier: a chat model that reads a trajectory and answers
//! YES (resolved) or NO; p(YES) is the softmax over the two answers' first
//! tokens at the answer position (as R2E-Gym's verifier and the paper).

use std::sync::Mutex;

use burn::tensor::activation::softmax;
use crate::attention::AttentionBackend;
use entropo_core::types::{Message, Role, SftSample, Task, Trajectory};
use entropo_core::verifier::VerifierError;
use entropo_core::{Verifier, agent::assistant_text};
use entropo_text::{RenderOptions, Tokenizer};
use serde::{Deserialize, Serialize};

use crate::error::ModelError;
use crate::lora::{Adapters, LoraWeights};
use crate::model::{Decoder, host_values};

/// The judge's instructions.
pub const JUDGE_SYSTEM: &str = "You are an expert judge evaluating AI assistant interactions. \
Your task is to determine if the assistant successfully resolved the user's request.";

/// The question after the trajectory.
pub const JUDGE_QUESTION: &str = "Did the AI assistant resolve the issue? Answer YES or NO.";

/// How trajectories are rendered for the judge.
///
/// ```
/// let s = entropo_burn::judge::JudgeSettings::default();
/// assert_eq!((s.max_prompt_tokens, s.min_observation_chars), (4096, 200));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JudgeSettings {
    /// Prompt budget in tokens; longer prompts are condensed.
    pub max_prompt_tokens: usize,
    /// Replies and observations are never condensed below this many characters.
    pub min_observation_chars: usize,
}

impl Default for JudgeSettings {
    fn default() -> Self {
        JudgeSettings { max_prompt_tokens: 4096, min_observation_chars: 200 }
    }
}

/// The step blocks of a trajectory: each step's reply, then its observation.
fn blocks(traj: &Trajectory) -> Vec<String> {
    traj.trajectory_steps
        .iter()
        .flat_map(|s| [assistant_text(&s.thought, &s.action).trim().to_string(), s.observation.clone()])
        .collect()
}

/// The judge's user message: the issue, every step as `[ASSISTANT]` /
/// `[USER]` blocks, the final patch and the question, with block `i`
/// shortened to `limits[i]` characters (head and tail kept).
fn render(traj: &Trajectory, blocks: &[String], limits: &[usize]) -> String {
    let mut out = format!("[ISSUE]\n{}\n[/ISSUE]\n", traj.problem_statement.trim());
    for (i, pair) in blocks.chunks(2).enumerate() {
        out.push_str("[ASSISTANT]\n");
        out.push_str(&condense(&pair[0], limits[2 * i]));
        out.push_str("\n[/ASSISTANT]\n[USER]\n");
        out.push_str(&condense(&pair[1], limits[2 * i + 1]));
        out.push_str("\n[/USER]\n");
    }
    out.push_str(&format!("[PATCH]\n{}\n[/PATCH]\n{JUDGE_QUESTION}", traj.output_patch.trim()));
    out
}

/// `text` cut to about `max` characters, keeping its head and tail.
///
/// ```
/// let c = entropo_burn::judge::condense(&"x".repeat(1000), 100);
/// assert!(c.len() < 200 && c.contains("condensed"));
/// assert_eq!(entropo_burn::judge::condense("short", 100), "short");
/// ```
pub fn condense(text: &str, max: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= max {
        return text.to_string();
    }
    let half = max / 2;
    let head: String = chars[..half].iter().collect();
    let tail: String = chars[chars.len() - half..].iter().collect();
    format!("{head}\n[… {} characters condensed …]\n{tail}", chars.len() - 2 * half)
}

/// The judge's conversation for `traj` (system and user messages), within
/// `settings.max_prompt_tokens` of `tokenizer`: the longest block — an
/// observation, or a reply once observations are short — is halved first,
/// again and again, down to `min_observation_chars`.
pub fn judge_messages(traj: &Trajectory, tokenizer: &Tokenizer, settings: &JudgeSettings) -> Result<Vec<Message>, ModelError> {
    let blocks = blocks(traj);
    let mut limits: Vec<usize> = blocks.iter().map(|b| b.chars().count()).collect();
    loop {
        let user = render(traj, &blocks, &limits);
        let messages = vec![Message::new(Role::System, JUDGE_SYSTEM), Message::new(Role::User, user)];
        let text = tokenizer.render_chat(&messages, true, &RenderOptions::default())?;
        if tokenizer.encode(&text, false)?.len() <= settings.max_prompt_tokens {
            return Ok(messages);
        }
        match limits.iter_mut().filter(|l| **l > settings.min_observation_chars).max_by_key(|l| **l) {
            Some(longest) => *longest = (*longest / 2).max(settings.min_observation_chars),
            // Nothing left to condense: the prompt is as short as it gets.
            None => return Ok(messages),
        }
    }
}

/// A training row for the judge: its conversation and the answer the tests
/// give (YES iff resolved).
pub fn judge_sample(task_id: &str, traj: &Trajectory, tokenizer: &Tokenizer, settings: &JudgeSettings) -> Result<SftSample, ModelError> {
    let mut messages = judge_messages(traj, tokenizer, settings)?;
    messages.push(Message::new(Role::Assistant, if traj.resolved() { "YES" } else { "NO" }));
    Ok(SftSample { task_id: task_id.to_string(), messages })
}

/// The `lm-judge` verifier over a model (and optional LoRA adapter).
pub struct LmJudge<B: AttentionBackend> {
    model: Decoder<B>,
    adapters: Option<Adapters<B>>,
    tokenizer: Tokenizer,
    settings: JudgeSettings,
    answers: [u32; 2],
    lock: Mutex<()>,
}

impl<B: AttentionBackend> LmJudge<B> {
    /// A judge answering with `model` (+ `adapter`); the answers' first
    /// tokens must differ.
    pub fn new(
        model: Decoder<B>,
        adapter: Option<&LoraWeights>,
        tokenizer: Tokenizer,
        settings: JudgeSettings,
    ) -> Result<Self, ModelError> {
        let first = |word: &str| -> Result<u32, ModelError> {
            tokenizer.encode(word, false)?.first().copied().ok_or_else(|| ModelError::Invalid(format!("{word:?} encodes to nothing")))
        };
        let answers = [first("YES")?, first("NO")?];
        if answers[0] == answers[1] {
            return Err(ModelError::Invalid("YES and NO start with the same token; the judge cannot tell them apart".into()));
        }
        let adapters = adapter.map(|a| a.to_device(model.device(), false));
        Ok(LmJudge { model, adapters, tokenizer, settings, answers, lock: Mutex::new(()) })
    }

    /// p(YES) for `traj`.
    pub fn probability(&self, traj: &Trajectory) -> Result<f64, ModelError> {
        let messages = judge_messages(traj, &self.tokenizer, &self.settings)?;
        let text = self.tokenizer.render_chat(&messages, true, &RenderOptions::default())?;
        let ids = self.tokenizer.encode(&text, false)?;
        let _one_at_a_time = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let both = host_values(self.model.last_logits(self.model.ids(&[ids])?, self.adapters.as_ref(), None));
        let pair = [both[self.answers[0] as usize], both[self.answers[1] as usize]];
        let device = self.model.device();
        let p = host_values(softmax(burn::tensor::Tensor::<B, 1>::from_floats(pair, device), 0));
        Ok(f64::from(p[0]))
    }
}

impl<B: AttentionBackend> Verifier for LmJudge<B>
where
    Decoder<B>: Sync,
    Adapters<B>: Sync,
{
    fn name(&self) -> &str {
        "lm-judge"
    }

    fn score(&self, _task: &Task, trajectory: &Trajectory) -> Result<f64, VerifierError> {
        self.probability(trajectory).map_err(|e| VerifierError::Plugin(e.to_string()))
    }
}
