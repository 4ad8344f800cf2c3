//! TRL's conversational preference (DPO) and unpaired preference (KTO) rows.
//!
//! | row | entropo type |
//! | --- | --- |
//! | [`DpoRow`] `{"prompt": [messages], "chosen": [messages], "rejected": [messages]}` | [`PreferencePair`] |
//! | [`KtoRow`] `{"prompt": [messages], "completion": [messages], "label": bool}` | [`KtoSample`] |
//!
//! Messages are OpenAI-style `{"role", "content"}` objects, which is exactly
//! how entropo's [`Message`] serialises (`system`, `user`, `assistant`,
//! `tool`), so roles pass through unchanged and nothing but `task_id` is lost
//! on a round trip (importers take a `task_id` column when a row has one, else
//! `<file stem>:<line>`). `chosen`, `rejected` and `completion` are the whole
//! multi-turn continuations, observations included.
//!
//! Note for training: TRL applies the chat template to `prompt + chosen` and
//! computes the loss on every token after the prompt, so observation turns
//! *inside* a continuation are learning targets there, unlike the paper (and
//! the LLaMA-Factory fork, see [`llamafactory`](super::llamafactory)), which
//! mask them.
//!
//! On import, message keys other than `role` and `content` (`tool_calls`,
//! `name`…) are ignored, and a DPO row without `prompt` (TRL's "implicit
//! prompt" form) gets the longest common opening of `chosen` and `rejected`
//! as its prompt.
//!
//! ```
//! use entropo_core::formats::trl::KtoRow;
//! use entropo_core::types::{KtoSample, Message, Role};
//! let s = KtoSample {
//!     task_id: "demo__calc-1".into(),
//!     prompt: vec![Message::new(Role::User, "add() subtracts")],
//!     completion: vec![Message::new(Role::Assistant, "<function=finish>…</function>")],
//!     label: false,
//! };
//! let row = KtoRow::from_sample(&s).unwrap();
//! assert_eq!(serde_json::to_string(&row).unwrap(),
//!   r#"{"prompt":[{"role":"user","content":"add() subtracts"}],"completion":[{"role":"assistant","content":"<function=finish>…</function>"}],"label":false}"#);
//! assert_eq!(row.to_sample("demo__calc-1").unwrap(), s);
//! ```

use serde::{Deserialize, Serialize};

use super::FormatError;
use crate::types::{KtoSample, Message, PreferencePair};

/// A conversational preference row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DpoRow {
    /// The shared opening (system prompt, issue).
    #[serde(default)]
    pub prompt: Vec<Message>,
    /// The preferred continuation.
    pub chosen: Vec<Message>,
    /// The dispreferred continuation.
    pub rejected: Vec<Message>,
}

/// A conversational unpaired preference row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KtoRow {
    /// The opening (system prompt, issue).
    pub prompt: Vec<Message>,
    /// The continuation.
    pub completion: Vec<Message>,
    /// `true` for desirable.
    pub label: bool,
}

impl DpoRow {
    /// Exports a preference pair.
    pub fn from_pair(pair: &PreferencePair) -> Result<Self, FormatError> {
        non_empty(&pair.prompt, "prompt")?;
        non_empty(&pair.chosen, "chosen")?;
        non_empty(&pair.rejected, "rejected")?;
        Ok(DpoRow { prompt: pair.prompt.clone(), chosen: pair.chosen.clone(), rejected: pair.rejected.clone() })
    }

    /// Imports the row as a pair of `task_id`.
    pub fn to_pair(&self, task_id: impl Into<String>) -> Result<PreferencePair, FormatError> {
        let (prompt, chosen, rejected) = if self.prompt.is_empty() {
            let shared = self.chosen.iter().zip(&self.rejected).take_while(|(a, b)| a == b).count();
            (self.chosen[..shared].to_vec(), &self.chosen[shared..], &self.rejected[shared..])
        } else {
            (self.prompt.clone(), &self.chosen[..], &self.rejected[..])
        };
        non_empty(&prompt, "prompt")?;
        non_empty(chosen, "chosen")?;
        non_empty(rejected, "rejected")?;
        Ok(PreferencePair { task_id: task_id.into(), prompt, chosen: chosen.to_vec(), rejected: rejected.to_vec() })
    }
}

impl KtoRow {
    /// Exports a labelled trajectory.
    pub fn from_sample(sample: &KtoSample) -> Result<Self, FormatError> {
        non_empty(&sample.prompt, "prompt")?;
        non_empty(&sample.completion, "completion")?;
        Ok(KtoRow { prompt: sample.prompt.clone(), completion: sample.completion.clone(), label: sample.label })
    }

    /// Imports the row as a sample of `task_id`.
    pub fn to_sample(&self, task_id: impl Into<String>) -> Result<KtoSample, FormatError> {
        non_empty(&self.prompt, "prompt")?;
        non_empty(&self.completion, "completion")?;
        Ok(KtoSample {
            task_id: task_id.into(),
            prompt: self.prompt.clone(),
            completion: self.completion.clone(),
            label: self.label,
        })
    }
}

fn non_empty(messages: &[Message], field: &str) -> Result<(), FormatError> {
    if messages.is_empty() {
        return Err(FormatError::invalid(field, "empty: needs at least one message"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::testdata;
    use crate::types::Role;
    use serde_json::json;

    #[test]
    fn round_trips_keep_every_message_and_role() {
        let p = testdata::pair();
        let row = DpoRow::from_pair(&p).unwrap();
        let v = serde_json::to_value(&row).unwrap();
        assert_eq!(v["prompt"][0]["role"], "system");
        assert_eq!(v["chosen"][3]["role"], "tool");
        assert_eq!(row.to_pair(&p.task_id).unwrap(), p);
        let mut p2 = p.clone();
        p2.chosen.push(Message::new(Role::User, "<<< Finished >>>"));
        assert_eq!(DpoRow::from_pair(&p2).unwrap().to_pair(&p.task_id).unwrap(), p2);
        for label in [true, false] {
            let k = testdata::kto(label);
            assert_eq!(KtoRow::from_sample(&k).unwrap().to_sample(&k.task_id).unwrap(), k);
        }
    }

    #[test]
    fn implicit_prompt_is_the_common_opening() {
        let p = testdata::pair();
        let mut chosen = p.prompt.clone();
        chosen.extend(p.chosen.clone());
        let mut rejected = p.prompt.clone();
        rejected.extend(p.rejected.clone());
        let row: DpoRow = serde_json::from_value(json!({"chosen": chosen, "rejected": rejected})).unwrap();
        assert_eq!(row.to_pair(&p.task_id).unwrap(), p);
    }

    #[test]
    fn empty_parts_are_errors() {
        let mut p = testdata::pair();
        p.chosen.clear();
        assert_eq!(DpoRow::from_pair(&p).unwrap_err().to_string(), "chosen: empty: needs at least one message");
        let row: KtoRow = serde_json::from_value(json!({"prompt": [], "completion": [], "label": true})).unwrap();
        assert_eq!(row.to_sample("t").unwrap_err().to_string(), "prompt: empty: needs at least one message");
        let e = crate::formats::rows::from_value::<DpoRow>(json!({
            "prompt": [{"role": "user", "content": "x"}],
            "chosen": [{"role": "assistant", "content": null, "tool_calls": []}], "rejected": []
        }))
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("chosen[0].content: invalid type: null"), "{e}");
    }
}
