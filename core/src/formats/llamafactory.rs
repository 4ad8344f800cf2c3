//! LLaMA-Factory ShareGPT datasets: SFT, DPO (pairwise, multi-turn) and KTO.
//!
//! Rows, one JSON object each (LLaMA-Factory reads them from JSON Lines or a
//! JSON array; register them in `dataset_info.json` with `"formatting":
//! "sharegpt"`, `"columns": {"messages": "conversations", "system": "system"}`
//! plus `"chosen"`/`"rejected"` and `"ranking": true` for DPO, or
//! `"kto_tag": "kto_tag"` for KTO):
//!
//! | row | entropo type |
//! | --- | --- |
//! | [`SftRow`] `{"conversations": [{"from", "value"}…], "system"}` | [`SftSample`] |
//! | [`DpoRow`] `{"conversations", "chosen": [turns], "rejected": [turns], "system"}` | [`PreferencePair`] |
//! | [`KtoRow`] `{"conversations", "kto_tag", "system"}` | [`KtoSample`] |
//!
//! # Roles
//!
//! | entropo [`Role`] | ShareGPT `from` |
//! | --- | --- |
//! | `system` | the row's `system` field (only as the first message) |
//! | `user` (issue; R2E sends observations as user turns too) | `human` |
//! | `assistant` | `gpt` |
//! | `tool` | `observation` |
//!
//! On import `function_call` also becomes `assistant` (so it comes back as
//! `gpt`), and a leading `{"from": "system"}` turn is read as the system
//! prompt, as LLaMA-Factory does (it then wins over the `system` column).
//!
//! LLaMA-Factory needs turns to alternate: `human`/`observation` at even
//! positions, `gpt`/`function_call` at odd ones. The exporters check this and
//! fail with the offending message's field instead of letting LLaMA-Factory
//! drop the row with a warning, and the importers apply the same checks.
//!
//! # Multi-turn DPO
//!
//! Stock LLaMA-Factory takes `chosen` and `rejected` as one turn each
//! (`{"from": "gpt", "value": …}`). ENTROPO compares whole trajectories, so
//! the exporter writes each as a **list of turns**: the multi-turn
//! continuation after the shared `conversations` prefix, starting and ending
//! with a `gpt` turn. This is the representation of the ENTROPO authors'
//! LLaMA-Factory fork (`sherdencooper/LLaMA-Factory`, commit b3e49cb:
//! `SharegptDatasetConverter` accepts `chosen`/`rejected` as lists, and
//! `PairwiseDatasetProcessor._encode_data_example_multi_turn` encodes
//! `prompt + chosen` with `encode_multiturn`, masking the prompt's turns and
//! every observation and training on the continuation's assistant turns).
//! `conversations` holds an odd number of turns (it ends with the turn the
//! continuations answer). The importer accepts both lists and the stock
//! single-turn objects.
//!
//! # KTO
//!
//! `conversations` is the whole trajectory, prompt then completion, ending with
//! a `gpt` turn. Stock LLaMA-Factory trains only the last turn; the fork's
//! `multi_turn_kto: true` trains every assistant turn. On import the prompt is
//! everything before the first `gpt`/`function_call` turn.
//!
//! # Losses on a round trip
//!
//! - `task_id` is not written; importers take a `task_id` column when a row
//!   has one, else `<file stem>:<line>` (see [`import_file`](super::import_file)).
//! - Messages after the last assistant message of a conversation or
//!   continuation (a final observation) are dropped on export: they carry no
//!   learning signal and LLaMA-Factory cannot pair them.
//! - An empty system prompt is not written.
//! - KTO: assistant messages inside the prompt move to the completion.
//!
//! ```
//! use entropo_core::formats::llamafactory::DpoRow;
//! use entropo_core::types::{Message, PreferencePair, Role};
//! let pair = PreferencePair {
//!     task_id: "demo__calc-1".into(),
//!     prompt: vec![Message::new(Role::System, "You are a programming agent."),
//!                  Message::new(Role::User, "add() subtracts")],
//!     chosen: vec![Message::new(Role::Assistant, "<function=file_editor>…</function>"),
//!                  Message::new(Role::User, "Execution output of [file_editor]: …"),
//!                  Message::new(Role::Assistant, "<function=finish>…</function>")],
//!     rejected: vec![Message::new(Role::Assistant, "<function=finish>…</function>")],
//! };
//! let row = DpoRow::from_pair(&pair).unwrap();
//! let json = serde_json::to_value(&row).unwrap();
//! assert_eq!(json["system"], "You are a programming agent.");
//! assert_eq!(json["conversations"][0]["from"], "human");
//! assert_eq!(json["chosen"][1]["from"], "human");
//! assert_eq!(json["chosen"].as_array().unwrap().len(), 3);
//! assert_eq!(row.to_pair("demo__calc-1").unwrap(), pair);
//! ```

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::FormatError;
use crate::types::{KtoSample, Message, PreferencePair, Role, SftSample};

/// A ShareGPT speaker tag (`from`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShareGptRole {
    /// The user (entropo `user`).
    Human,
    /// The model (entropo `assistant`).
    Gpt,
    /// A tool result (entropo `tool`).
    Observation,
    /// A structured tool call by the model; read as entropo `assistant`.
    FunctionCall,
    /// A system prompt given as the first turn instead of the `system` column.
    System,
}

impl ShareGptRole {
    /// The tag as written in files.
    pub fn as_str(self) -> &'static str {
        match self {
            ShareGptRole::Human => "human",
            ShareGptRole::Gpt => "gpt",
            ShareGptRole::Observation => "observation",
            ShareGptRole::FunctionCall => "function_call",
            ShareGptRole::System => "system",
        }
    }

    fn side(self) -> Option<Side> {
        match self {
            ShareGptRole::Human | ShareGptRole::Observation => Some(Side::User),
            ShareGptRole::Gpt | ShareGptRole::FunctionCall => Some(Side::Model),
            ShareGptRole::System => None,
        }
    }
}

/// One ShareGPT turn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    /// Who speaks.
    pub from: ShareGptRole,
    /// The text.
    pub value: String,
}

/// A supervised row: `{"conversations": [...], "system": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SftRow {
    /// Alternating human/observation and gpt turns, ending with gpt.
    pub conversations: Vec<Turn>,
    /// The system prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
}

/// A pairwise row: the shared prefix in `conversations`, the two multi-turn
/// continuations in `chosen` and `rejected`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DpoRow {
    /// The shared prefix: an odd number of alternating turns.
    pub conversations: Vec<Turn>,
    /// The preferred continuation (read from one turn or a list).
    #[serde(deserialize_with = "one_or_many")]
    pub chosen: Vec<Turn>,
    /// The dispreferred continuation (read from one turn or a list).
    #[serde(deserialize_with = "one_or_many")]
    pub rejected: Vec<Turn>,
    /// The system prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
}

/// A KTO row: a whole trajectory and whether it is desirable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KtoRow {
    /// Prompt then completion, alternating, ending with gpt.
    pub conversations: Vec<Turn>,
    /// `true` for desirable.
    pub kto_tag: bool,
    /// The system prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
}

impl SftRow {
    /// Exports a supervised sample.
    pub fn from_sample(sample: &SftSample) -> Result<Self, FormatError> {
        let (system, rest, offset) = split_system(&sample.messages);
        let rest = trim_trailing(rest);
        check_messages(rest, "messages", offset, Side::User)?;
        require_model_turn(rest, "messages")?;
        Ok(SftRow { conversations: to_turns(rest), system })
    }

    /// Imports the row as a sample of `task_id`.
    pub fn to_sample(&self, task_id: impl Into<String>) -> Result<SftSample, FormatError> {
        let (system, turns, offset) = import_system(&self.conversations, self.system.as_deref());
        check_turns(turns, "conversations", offset, Side::User)?;
        check_ends_with_model(turns, "conversations")?;
        let mut messages = system_message(system);
        messages.extend(to_messages(turns));
        Ok(SftSample { task_id: task_id.into(), messages })
    }
}

impl DpoRow {
    /// Exports a preference pair (continuations as lists of turns).
    pub fn from_pair(pair: &PreferencePair) -> Result<Self, FormatError> {
        let (system, prompt, offset) = split_system(&pair.prompt);
        check_messages(prompt, "prompt", offset, Side::User)?;
        check_prompt_end(prompt.last().map(|m| side_of(m.role)), "prompt")?;
        let chosen = continuation(&pair.chosen, "chosen")?;
        let rejected = continuation(&pair.rejected, "rejected")?;
        Ok(DpoRow { conversations: to_turns(prompt), chosen, rejected, system })
    }

    /// Imports the row as a pair of `task_id`.
    pub fn to_pair(&self, task_id: impl Into<String>) -> Result<PreferencePair, FormatError> {
        let (system, turns, offset) = import_system(&self.conversations, self.system.as_deref());
        check_turns(turns, "conversations", offset, Side::User)?;
        check_prompt_end(turns.last().and_then(|t| t.from.side()), "conversations")?;
        let mut prompt = system_message(system);
        prompt.extend(to_messages(turns));
        Ok(PreferencePair {
            task_id: task_id.into(),
            prompt,
            chosen: import_continuation(&self.chosen, "chosen")?,
            rejected: import_continuation(&self.rejected, "rejected")?,
        })
    }
}

impl KtoRow {
    /// Exports a labelled trajectory (`conversations` = prompt + completion).
    pub fn from_sample(sample: &KtoSample) -> Result<Self, FormatError> {
        let (system, prompt, offset) = split_system(&sample.prompt);
        check_messages(prompt, "prompt", offset, Side::User)?;
        check_prompt_end(prompt.last().map(|m| side_of(m.role)), "prompt")?;
        let mut conversations = to_turns(prompt);
        conversations.extend(continuation(&sample.completion, "completion")?);
        Ok(KtoRow { conversations, kto_tag: sample.label, system })
    }

    /// Imports the row as a sample of `task_id`; the prompt is everything
    /// before the first assistant turn.
    pub fn to_sample(&self, task_id: impl Into<String>) -> Result<KtoSample, FormatError> {
        let (system, turns, offset) = import_system(&self.conversations, self.system.as_deref());
        check_turns(turns, "conversations", offset, Side::User)?;
        check_ends_with_model(turns, "conversations")?;
        let split = turns.iter().position(|t| t.from.side() == Some(Side::Model)).unwrap_or(turns.len());
        let mut prompt = system_message(system);
        prompt.extend(to_messages(&turns[..split]));
        Ok(KtoSample {
            task_id: task_id.into(),
            prompt,
            completion: to_messages(&turns[split..]),
            label: self.kto_tag,
        })
    }
}

/// Which side of the alternation a turn is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// human / observation (entropo user / tool).
    User,
    /// gpt / function_call (entropo assistant).
    Model,
}

impl Side {
    fn other(self) -> Side {
        match self {
            Side::User => Side::Model,
            Side::Model => Side::User,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Side::User => "a user or tool message (human/observation)",
            Side::Model => "an assistant message (gpt)",
        }
    }
}

fn side_of(role: Role) -> Side {
    if role == Role::Assistant { Side::Model } else { Side::User }
}

fn to_sharegpt(role: Role) -> ShareGptRole {
    match role {
        Role::System => ShareGptRole::System,
        Role::User => ShareGptRole::Human,
        Role::Assistant => ShareGptRole::Gpt,
        Role::Tool => ShareGptRole::Observation,
    }
}

fn from_sharegpt(from: ShareGptRole) -> Role {
    match from {
        ShareGptRole::Human => Role::User,
        ShareGptRole::Gpt | ShareGptRole::FunctionCall => Role::Assistant,
        ShareGptRole::Observation => Role::Tool,
        ShareGptRole::System => Role::System,
    }
}

fn to_turns(messages: &[Message]) -> Vec<Turn> {
    messages.iter().map(|m| Turn { from: to_sharegpt(m.role), value: m.content.clone() }).collect()
}

fn to_messages(turns: &[Turn]) -> Vec<Message> {
    turns.iter().map(|t| Message::new(from_sharegpt(t.from), t.value.clone())).collect()
}

fn system_message(system: Option<&str>) -> Vec<Message> {
    system.filter(|s| !s.is_empty()).map(|s| Message::new(Role::System, s)).into_iter().collect()
}

/// Takes a leading system message off; returns it (unless empty), the rest
/// and the index of the rest's first message. Later system messages are
/// rejected by [`check_messages`].
fn split_system(messages: &[Message]) -> (Option<String>, &[Message], usize) {
    match messages.first() {
        Some(m) if m.role == Role::System => {
            let system = (!m.content.is_empty()).then(|| m.content.clone());
            (system, &messages[1..], 1)
        }
        _ => (None, messages, 0),
    }
}

/// The system prompt of an imported row: a leading system turn, else the
/// `system` column.
fn import_system<'a>(turns: &'a [Turn], column: Option<&'a str>) -> (Option<&'a str>, &'a [Turn], usize) {
    match turns.first() {
        Some(t) if t.from == ShareGptRole::System => (Some(t.value.as_str()), &turns[1..], 1),
        _ => (column, turns, 0),
    }
}

/// Drops the messages after the last assistant message.
fn trim_trailing(messages: &[Message]) -> &[Message] {
    let end = messages.iter().rposition(|m| m.role == Role::Assistant).map_or(0, |i| i + 1);
    &messages[..end]
}

fn alternation_error(field: String, expected: Side, found: &str) -> FormatError {
    FormatError::invalid(
        field,
        format!(
            "expected {} here, found {found}: LLaMA-Factory ShareGPT turns must alternate between user/tool and assistant",
            expected.describe()
        ),
    )
}

fn check_messages(messages: &[Message], field: &str, offset: usize, first: Side) -> Result<(), FormatError> {
    let mut want = first;
    for (i, m) in messages.iter().enumerate() {
        if m.role == Role::System {
            return Err(FormatError::invalid(
                format!("{field}[{}].role", i + offset),
                "a system message is only allowed as the first message of the prompt",
            ));
        }
        if side_of(m.role) != want {
            let found = format!("a {} message", to_role_name(m.role));
            return Err(alternation_error(format!("{field}[{}].role", i + offset), want, &found));
        }
        want = want.other();
    }
    Ok(())
}

fn to_role_name(role: Role) -> &'static str {
    match role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool => "tool",
    }
}

fn check_turns(turns: &[Turn], field: &str, offset: usize, first: Side) -> Result<(), FormatError> {
    let mut want = first;
    for (i, t) in turns.iter().enumerate() {
        let Some(side) = t.from.side() else {
            return Err(FormatError::invalid(
                format!("{field}[{}].from", i + offset),
                "a system turn is only allowed first in `conversations`",
            ));
        };
        if side != want {
            let found = format!("`{}`", t.from.as_str());
            return Err(alternation_error(format!("{field}[{}].from", i + offset), want, &found));
        }
        want = want.other();
    }
    Ok(())
}

fn require_model_turn(messages: &[Message], field: &str) -> Result<(), FormatError> {
    if messages.is_empty() {
        return Err(FormatError::invalid(field, "no assistant message to learn from"));
    }
    Ok(())
}

fn check_prompt_end(last: Option<Side>, field: &str) -> Result<(), FormatError> {
    match last {
        Some(Side::User) => Ok(()),
        Some(Side::Model) => Err(FormatError::invalid(
            field,
            "must end with a user or tool message (the turn the continuations answer)",
        )),
        None => Err(FormatError::invalid(field, "empty: needs at least the issue as a user message")),
    }
}

fn check_ends_with_model(turns: &[Turn], field: &str) -> Result<(), FormatError> {
    match turns.last().and_then(|t| t.from.side()) {
        Some(Side::Model) => Ok(()),
        Some(Side::User) => Err(FormatError::invalid(
            field,
            format!("must end with a gpt turn; it has {} turns after the system prompt", turns.len()),
        )),
        None => Err(FormatError::invalid(field, "empty")),
    }
}

/// Exports a continuation: trailing observations dropped, assistant first,
/// alternating.
fn continuation(messages: &[Message], field: &str) -> Result<Vec<Turn>, FormatError> {
    let kept = trim_trailing(messages);
    check_messages(kept, field, 0, Side::Model)?;
    require_model_turn(kept, field)?;
    Ok(to_turns(kept))
}

fn import_continuation(turns: &[Turn], field: &str) -> Result<Vec<Message>, FormatError> {
    check_turns(turns, field, 0, Side::Model)?;
    check_ends_with_model(turns, field)?;
    Ok(to_messages(turns))
}

/// Reads `chosen`/`rejected` as one turn object (stock LLaMA-Factory) or a
/// list of turns (multi-turn), keeping field paths for errors.
fn one_or_many<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Turn>, D::Error> {
    struct OneOrMany;
    impl<'de> Visitor<'de> for OneOrMany {
        type Value = Vec<Turn>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a turn {\"from\", \"value\"} or a list of turns")
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Vec<Turn>, A::Error> {
            Ok(vec![Turn::deserialize(de::value::MapAccessDeserializer::new(map))?])
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Vec<Turn>, A::Error> {
            Vec::<Turn>::deserialize(de::value::SeqAccessDeserializer::new(seq))
        }
    }
    deserializer.deserialize_any(OneOrMany)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::testdata;
    use serde_json::json;

    #[test]
    fn sft_round_trips_and_maps_roles() {
        let s = testdata::sft();
        let row = SftRow::from_sample(&s).unwrap();
        assert_eq!(row.system.as_deref(), Some(testdata::SYSTEM));
        let froms: Vec<_> = row.conversations.iter().map(|t| t.from.as_str()).collect();
        assert_eq!(froms, ["human", "gpt", "human", "gpt", "observation", "gpt"]);
        assert_eq!(row.to_sample(&s.task_id).unwrap(), s);
    }

    #[test]
    fn dpo_and_kto_round_trip() {
        let p = testdata::pair();
        let row = DpoRow::from_pair(&p).unwrap();
        assert_eq!(row.conversations.len(), 1);
        assert_eq!(row.chosen.len(), 5);
        assert_eq!(row.rejected.len(), 3);
        assert_eq!(row.to_pair(&p.task_id).unwrap(), p);
        for label in [true, false] {
            let k = testdata::kto(label);
            let row = KtoRow::from_sample(&k).unwrap();
            assert_eq!(row.kto_tag, label);
            assert_eq!(row.conversations.len(), 1 + k.completion.len());
            assert_eq!(row.to_sample(&k.task_id).unwrap(), k);
        }
    }

    #[test]
    fn trailing_observations_are_dropped() {
        let mut p = testdata::pair();
        p.chosen.push(Message::new(Role::User, "<<< Finished >>>"));
        let row = DpoRow::from_pair(&p).unwrap();
        assert_eq!(row.chosen.len(), 5);
        assert_eq!(row.to_pair(&p.task_id).unwrap(), testdata::pair());
        let mut s = testdata::sft();
        s.messages.push(Message::new(Role::Tool, "done"));
        assert_eq!(SftRow::from_sample(&s).unwrap().to_sample("demo__calc-1").unwrap(), testdata::sft());
    }

    #[test]
    fn export_errors_name_the_message() {
        let mut p = testdata::pair();
        p.chosen.insert(1, Message::new(Role::Assistant, "again"));
        let e = DpoRow::from_pair(&p).unwrap_err().to_string();
        assert!(e.starts_with("chosen[1].role: expected a user or tool message"), "{e}");
        let mut p = testdata::pair();
        p.rejected.clear();
        assert_eq!(DpoRow::from_pair(&p).unwrap_err().to_string(), "rejected: no assistant message to learn from");
        let mut p = testdata::pair();
        p.prompt.push(Message::new(Role::Assistant, "hm"));
        let e = DpoRow::from_pair(&p).unwrap_err().to_string();
        assert!(e.starts_with("prompt: must end with a user or tool message"), "{e}");
        let mut s = testdata::sft();
        s.messages.insert(3, Message::new(Role::System, "late"));
        let e = SftRow::from_sample(&s).unwrap_err().to_string();
        assert!(e.starts_with("messages[3].role: a system message is only allowed"), "{e}");
    }

    #[test]
    fn imports_stock_single_turn_rows_and_system_turns() {
        let row: DpoRow = serde_json::from_value(json!({
            "conversations": [{"from": "system", "value": "be brief"}, {"from": "human", "value": "hi"}],
            "chosen": {"from": "gpt", "value": "hello"},
            "rejected": {"from": "function_call", "value": "{\"name\": \"x\"}"},
            "system": "ignored: the system turn wins"
        }))
        .unwrap();
        let p = row.to_pair("t").unwrap();
        assert_eq!(p.prompt, vec![Message::new(Role::System, "be brief"), Message::new(Role::User, "hi")]);
        assert_eq!(p.chosen, vec![Message::new(Role::Assistant, "hello")]);
        assert_eq!(p.rejected[0].role, Role::Assistant);
    }

    #[test]
    fn import_errors_name_the_turn() {
        let row: SftRow = serde_json::from_value(json!({
            "conversations": [{"from": "human", "value": "a"}, {"from": "observation", "value": "b"}]
        }))
        .unwrap();
        let e = row.to_sample("t").unwrap_err().to_string();
        assert!(e.starts_with("conversations[1].from: expected an assistant message (gpt) here, found `observation`"), "{e}");
        let row: KtoRow = serde_json::from_value(json!({
            "conversations": [{"from": "human", "value": "a"}], "kto_tag": true
        }))
        .unwrap();
        let e = row.to_sample("t").unwrap_err().to_string();
        assert!(e.starts_with("conversations: must end with a gpt turn"), "{e}");
        let bad = crate::formats::rows::from_value::<DpoRow>(json!({
            "conversations": [], "chosen": [{"from": "gpt", "value": "x"}, {"from": "bot", "value": "y"}],
            "rejected": []
        }))
        .unwrap_err()
        .to_string();
        assert!(bad.starts_with("chosen[1].from: unknown variant `bot`"), "{bad}");
        let bad = crate::formats::rows::from_value::<DpoRow>(json!({
            "conversations": [], "chosen": {"from": "gpt"}, "rejected": []
        }))
        .unwrap_err()
        .to_string();
        assert!(bad.starts_with("chosen.value: missing field `value`"), "{bad}");
    }
}
