//! Training data from JSONL files: SFT samples, preference pairs or KTO
//! samples (entropo's own formats, see `entropo data export` for others),
//! rendered with the model's chat template and masked to assistant tokens.

use std::path::Path;

use entropo_core::io::read_jsonl;
use entropo_core::training::Cutoff;
use entropo_core::types::{KtoSample, Message, PreferencePair, SftSample};
use entropo_text::{ApplyCutoff, CutoffCounts, EncodedChat, RenderOptions, Tokenizer, encode_chat};
use serde::Serialize;

use crate::error::ModelError;
use crate::logprob::Sequence;
use crate::train::Example;

/// Which rows a data file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DataKind {
    /// `{"task_id", "messages"}` rows.
    Sft,
    /// `{"task_id", "prompt", "chosen", "rejected"}` rows.
    Pairs,
    /// `{"task_id", "prompt", "completion", "label"}` rows.
    Kto,
}

impl DataKind {
    /// Guesses the kind from the first row's keys.
    pub fn detect(path: &Path) -> Result<DataKind, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|e| ModelError::io(path, e))?;
        let first = text.lines().find(|l| !l.trim().is_empty()).ok_or_else(|| {
            ModelError::Invalid(format!("{}: no rows", path.display()))
        })?;
        let row: serde_json::Value = serde_json::from_str(first)
            .map_err(|e| ModelError::Json { path: path.to_path_buf(), reason: format!("line 1: {e}") })?;
        if row.get("chosen").is_some() {
            Ok(DataKind::Pairs)
        } else if row.get("label").is_some() {
            Ok(DataKind::Kto)
        } else if row.get("messages").is_some() {
            Ok(DataKind::Sft)
        } else {
            Err(ModelError::Json {
                path: path.to_path_buf(),
                reason: "line 1: expected SFT rows (messages), preference pairs (chosen, rejected) or KTO samples (completion, label)".into(),
            })
        }
    }
}

/// What loading a data file did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DataReport {
    /// Rows read.
    pub rows: usize,
    /// Examples kept.
    pub examples: usize,
    /// Sequences kept whole, truncated and dropped by the cutoff.
    pub cutoff: CutoffCounts,
}

/// Reads `path`, renders every conversation with `tokenizer`'s chat template
/// and applies `cutoff`. An example any of whose sequences is dropped is left
/// out (and counted).
pub fn load_examples(
    path: &Path,
    tokenizer: &Tokenizer,
    cutoff: Cutoff,
) -> Result<(DataKind, Vec<Example>, DataReport), ModelError> {
    let kind = DataKind::detect(path)?;
    let mut report = DataReport::default();
    let options = RenderOptions::default();
    let mut encode = |messages: &[Message], row: usize, what: &str| -> Result<Option<Sequence>, ModelError> {
        let chat: EncodedChat = encode_chat(tokenizer, messages, &options)
            .map_err(|e| ModelError::Invalid(format!("{}:{row}: {what}: {e}", path.display())))?;
        Ok(cutoff.apply(chat, &mut report.cutoff).map(|c| Sequence {
            ids: c.ids,
            mask: c.mask.into_iter().map(u8::from).collect(),
        }))
    };
    let mut examples = Vec::new();
    match kind {
        DataKind::Sft => {
            let rows: Vec<SftSample> = read_jsonl(path)?;
            for (i, r) in rows.iter().enumerate() {
                if let Some(s) = encode(&r.messages, i + 1, "messages")? {
                    examples.push(Example::Sft(s));
                }
            }
            report.rows = rows.len();
        }
        DataKind::Pairs => {
            let rows: Vec<PreferencePair> = read_jsonl(path)?;
            for (i, r) in rows.iter().enumerate() {
                let chosen = encode(&[r.prompt.clone(), r.chosen.clone()].concat(), i + 1, "chosen")?;
                let rejected = encode(&[r.prompt.clone(), r.rejected.clone()].concat(), i + 1, "rejected")?;
                if let (Some(chosen), Some(rejected)) = (chosen, rejected) {
                    examples.push(Example::Pair { chosen, rejected });
                }
            }
            report.rows = rows.len();
        }
        DataKind::Kto => {
            let rows: Vec<KtoSample> = read_jsonl(path)?;
            let n = rows.len();
            for (i, r) in rows.iter().enumerate() {
                let seq = encode(&[r.prompt.clone(), r.completion.clone()].concat(), i + 1, "completion")?;
                // KTO's reference point: this prompt with the next sample's completion.
                let other = &rows[(i + 1) % n];
                let kl = if n > 1 {
                    encode(&[r.prompt.clone(), other.completion.clone()].concat(), i + 1, "kl sample")?
                } else {
                    None
                };
                if let Some(seq) = seq {
                    examples.push(Example::Kto { seq, label: r.label, kl });
                }
            }
            report.rows = n;
        }
    }
    report.examples = examples.len();
    Ok((kind, examples, report))
}
