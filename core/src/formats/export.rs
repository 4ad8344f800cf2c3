//! Whole-file conversion between entropo's native JSONL and training formats.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::rows::{from_value, parse_jsonl_rows, parse_value_rows, read_text, task_id_for};
use super::{FormatError, llamafactory, trl};
use crate::types::{KtoSample, PreferencePair, SftSample};

/// The native row type a format is made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InputKind {
    /// [`SftSample`] rows.
    Sft,
    /// [`PreferencePair`] rows.
    Preference,
    /// [`KtoSample`] rows.
    Kto,
}

impl fmt::Display for InputKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InputKind::Sft => "SftSample",
            InputKind::Preference => "PreferencePair",
            InputKind::Kto => "KtoSample",
        })
    }
}

/// A training-data format entropo writes (and reads back).
///
/// ```
/// use entropo_core::formats::{ExportFormat, InputKind};
/// let f: ExportFormat = "llamafactory-dpo".parse().unwrap();
/// assert_eq!(f, ExportFormat::LlamaFactoryDpo);
/// assert_eq!(f.to_string(), "llamafactory-dpo");
/// assert_eq!(f.input_kind(), InputKind::Preference);
/// assert_eq!(ExportFormat::ALL.len(), 5);
/// let err = "alpaca".parse::<ExportFormat>().unwrap_err().to_string();
/// assert!(err.contains("sharegpt, llamafactory-dpo, llamafactory-kto, trl-dpo, trl-kto"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExportFormat {
    /// `sharegpt`: LLaMA-Factory ShareGPT SFT ([`llamafactory::SftRow`]) from [`SftSample`].
    ShareGpt,
    /// `llamafactory-dpo`: LLaMA-Factory pairwise rows with multi-turn
    /// continuations ([`llamafactory::DpoRow`]) from [`PreferencePair`].
    LlamaFactoryDpo,
    /// `llamafactory-kto`: LLaMA-Factory KTO rows ([`llamafactory::KtoRow`]) from [`KtoSample`].
    LlamaFactoryKto,
    /// `trl-dpo`: TRL conversational preference rows ([`trl::DpoRow`]) from [`PreferencePair`].
    TrlDpo,
    /// `trl-kto`: TRL conversational unpaired preference rows ([`trl::KtoRow`]) from [`KtoSample`].
    TrlKto,
}

impl ExportFormat {
    /// Every format, in a stable order.
    pub const ALL: [ExportFormat; 5] = [
        ExportFormat::ShareGpt,
        ExportFormat::LlamaFactoryDpo,
        ExportFormat::LlamaFactoryKto,
        ExportFormat::TrlDpo,
        ExportFormat::TrlKto,
    ];

    /// The name used on the command line and in configs.
    pub fn name(self) -> &'static str {
        match self {
            ExportFormat::ShareGpt => "sharegpt",
            ExportFormat::LlamaFactoryDpo => "llamafactory-dpo",
            ExportFormat::LlamaFactoryKto => "llamafactory-kto",
            ExportFormat::TrlDpo => "trl-dpo",
            ExportFormat::TrlKto => "trl-kto",
        }
    }

    /// The native rows this format is exported from (and imported into).
    pub fn input_kind(self) -> InputKind {
        match self {
            ExportFormat::ShareGpt => InputKind::Sft,
            ExportFormat::LlamaFactoryDpo | ExportFormat::TrlDpo => InputKind::Preference,
            ExportFormat::LlamaFactoryKto | ExportFormat::TrlKto => InputKind::Kto,
        }
    }
}

impl fmt::Display for ExportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ExportFormat {
    type Err = FormatError;

    fn from_str(s: &str) -> Result<Self, FormatError> {
        ExportFormat::ALL.into_iter().find(|f| f.name() == s).ok_or_else(|| FormatError::UnknownFormat {
            name: s.to_string(),
            expected: ExportFormat::ALL.map(ExportFormat::name).join(", "),
        })
    }
}

/// Reads entropo's native JSONL at `input` (rows of
/// [`format.input_kind()`](ExportFormat::input_kind)), converts every row and
/// writes `output` atomically as JSON Lines. Returns the number of rows.
///
/// A row that cannot be read or converted is an error naming the file, the
/// line, the row's `task_id` and the field; nothing is written then.
///
/// ```
/// use entropo_core::formats::{ExportFormat, export_file};
/// let dir = tempfile::tempdir().unwrap();
/// let input = dir.path().join("pairs.jsonl");
/// std::fs::write(&input, concat!(
///     r#"{"task_id":"t1","prompt":[{"role":"user","content":"issue"}],"#,
///     r#""chosen":[{"role":"assistant","content":"fix"}],"rejected":[{"role":"assistant","content":"give up"}]}"#,
///     "\n")).unwrap();
/// let out = dir.path().join("dpo.jsonl");
/// assert_eq!(export_file(ExportFormat::TrlDpo, &input, &out).unwrap(), 1);
/// assert!(std::fs::read_to_string(&out).unwrap().starts_with(r#"{"prompt":[{"role":"user""#));
///
/// std::fs::write(&input, "{\"task_id\":\"t1\",\"prompt\":[]}\n").unwrap();
/// let err = export_file(ExportFormat::TrlDpo, &input, &out).unwrap_err().to_string();
/// assert!(err.contains("pairs.jsonl:1: ") && err.contains("missing field `chosen`"), "{err}");
/// ```
pub fn export_file(format: ExportFormat, input: &Path, output: &Path) -> Result<usize, FormatError> {
    let text = read_text(input)?;
    match format {
        ExportFormat::ShareGpt => {
            export_rows(&text, input, output, |s: &SftSample| (&s.task_id, llamafactory::SftRow::from_sample(s)))
        }
        ExportFormat::LlamaFactoryDpo => {
            export_rows(&text, input, output, |p: &PreferencePair| (&p.task_id, llamafactory::DpoRow::from_pair(p)))
        }
        ExportFormat::LlamaFactoryKto => {
            export_rows(&text, input, output, |s: &KtoSample| (&s.task_id, llamafactory::KtoRow::from_sample(s)))
        }
        ExportFormat::TrlDpo => {
            export_rows(&text, input, output, |p: &PreferencePair| (&p.task_id, trl::DpoRow::from_pair(p)))
        }
        ExportFormat::TrlKto => {
            export_rows(&text, input, output, |s: &KtoSample| (&s.task_id, trl::KtoRow::from_sample(s)))
        }
    }
}

/// Reads `input` in `format` (JSON Lines or a JSON array) and writes the rows
/// as entropo's native JSONL ([`format.input_kind()`](ExportFormat::input_kind))
/// at `output`, atomically. Returns the number of rows.
///
/// Each row's `task_id` comes from its own `task_id` column when it has one,
/// else it is `<file stem>:<line>` (`<file stem>[<index>]` in an array).
/// What else a round trip loses is listed in [`llamafactory`] and [`trl`].
///
/// ```
/// use entropo_core::formats::{ExportFormat, import_file};
/// use entropo_core::types::SftSample;
/// let dir = tempfile::tempdir().unwrap();
/// let input = dir.path().join("sft.json");
/// std::fs::write(&input, r#"[{"conversations": [{"from": "human", "value": "fix add()"},
///     {"from": "gpt", "value": "<function=finish></function>"}], "system": "You are an agent."}]"#).unwrap();
/// let out = dir.path().join("sft.jsonl");
/// assert_eq!(import_file(ExportFormat::ShareGpt, &input, &out).unwrap(), 1);
/// let back: Vec<SftSample> = entropo_core::io::read_jsonl(&out).unwrap();
/// assert_eq!(back[0].task_id, "sft[0]");
/// assert_eq!(back[0].messages.len(), 3);
/// ```
pub fn import_file(format: ExportFormat, input: &Path, output: &Path) -> Result<usize, FormatError> {
    let text = read_text(input)?;
    match format {
        ExportFormat::ShareGpt => import_rows(&text, input, output, |r: llamafactory::SftRow, id| r.to_sample(id)),
        ExportFormat::LlamaFactoryDpo => {
            import_rows(&text, input, output, |r: llamafactory::DpoRow, id| r.to_pair(id))
        }
        ExportFormat::LlamaFactoryKto => {
            import_rows(&text, input, output, |r: llamafactory::KtoRow, id| r.to_sample(id))
        }
        ExportFormat::TrlDpo => import_rows(&text, input, output, |r: trl::DpoRow, id| r.to_pair(id)),
        ExportFormat::TrlKto => import_rows(&text, input, output, |r: trl::KtoRow, id| r.to_sample(id)),
    }
}

fn export_rows<T, R>(
    text: &str,
    input: &Path,
    output: &Path,
    convert: impl Fn(&T) -> (&String, Result<R, FormatError>),
) -> Result<usize, FormatError>
where
    T: DeserializeOwned,
    R: Serialize,
{
    let mut out = Vec::new();
    for (row, native) in parse_jsonl_rows::<T>(text, input)? {
        let (id, converted) = convert(&native);
        out.push(converted.map_err(|e| e.at(input, row, Some(id)))?);
    }
    crate::io::write_jsonl(output, &out)?;
    Ok(out.len())
}

fn import_rows<R, T>(
    text: &str,
    input: &Path,
    output: &Path,
    convert: impl Fn(R, String) -> Result<T, FormatError>,
) -> Result<usize, FormatError>
where
    R: DeserializeOwned,
    T: Serialize,
{
    let mut out = Vec::new();
    for (row, value) in parse_value_rows(text, input)? {
        let own_id = value.get("task_id").and_then(Value::as_str).map(str::to_string);
        let task_id = task_id_for(&value, input, row);
        let native = from_value::<R>(value)
            .and_then(|r| convert(r, task_id))
            .map_err(|e| e.at(input, row, own_id.as_deref()))?;
        out.push(native);
    }
    crate::io::write_jsonl(output, &out)?;
    Ok(out.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::testdata;

    #[test]
    fn names_parse_back() {
        for f in ExportFormat::ALL {
            assert_eq!(f.name().parse::<ExportFormat>().unwrap(), f);
        }
        let kinds: Vec<_> = ExportFormat::ALL.iter().map(|f| f.input_kind().to_string()).collect();
        assert_eq!(kinds, ["SftSample", "PreferencePair", "KtoSample", "PreferencePair", "KtoSample"]);
    }

    #[test]
    fn every_format_round_trips_through_files() {
        let dir = tempfile::tempdir().unwrap();
        let (sft, pairs, kto) = (dir.path().join("sft.jsonl"), dir.path().join("pairs.jsonl"), dir.path().join("kto.jsonl"));
        crate::io::write_jsonl(&sft, &[testdata::sft()]).unwrap();
        crate::io::write_jsonl(&pairs, &[testdata::pair(), testdata::pair()]).unwrap();
        crate::io::write_jsonl(&kto, &[testdata::kto(true), testdata::kto(false)]).unwrap();
        for f in ExportFormat::ALL {
            let input = match f.input_kind() {
                InputKind::Sft => &sft,
                InputKind::Preference => &pairs,
                InputKind::Kto => &kto,
            };
            let exported = dir.path().join(format!("{f}.jsonl"));
            let back = dir.path().join(format!("{f}.back.jsonl"));
            let n = export_file(f, input, &exported).unwrap();
            assert_eq!(import_file(f, &exported, &back).unwrap(), n);
            let stem = format!("{f}");
            let fix = |mut v: Value, line: usize| {
                v["task_id"] = Value::String(format!("{stem}:{line}"));
                v
            };
            let original: Vec<Value> = crate::io::read_jsonl(input).unwrap();
            let imported: Vec<Value> = crate::io::read_jsonl(&back).unwrap();
            let expected: Vec<Value> = original.into_iter().enumerate().map(|(i, v)| fix(v, i + 1)).collect();
            assert_eq!(imported, expected, "{f}");
        }
    }

    #[test]
    fn conversion_errors_name_file_line_task_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("pairs.jsonl");
        let mut bad = testdata::pair();
        bad.task_id = "django__django-11099".into();
        bad.chosen.insert(0, crate::types::Message::new(crate::types::Role::User, "hm"));
        let text = format!(
            "{}\n\n{}\n",
            serde_json::to_string(&testdata::pair()).unwrap(),
            serde_json::to_string(&bad).unwrap()
        );
        std::fs::write(&input, text).unwrap();
        let out = dir.path().join("out.jsonl");
        let e = export_file(ExportFormat::LlamaFactoryDpo, &input, &out).unwrap_err().to_string();
        let want = format!("{}:3 (django__django-11099): chosen[0].role: expected an assistant message", input.display());
        assert!(e.starts_with(&want), "{e}");
        assert!(!out.exists());
        // TRL accepts any role order, so the same file exports there.
        assert_eq!(export_file(ExportFormat::TrlDpo, &input, &out).unwrap(), 2);
    }

    #[test]
    fn import_errors_name_file_row_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("kto.json");
        std::fs::write(&input, r#"[{"prompt": [{"role": "user", "content": "x"}], "completion": [], "label": 1}]"#).unwrap();
        let e = import_file(ExportFormat::TrlKto, &input, &dir.path().join("o.jsonl")).unwrap_err().to_string();
        assert!(e.starts_with(&format!("{}[0]: label: invalid type: integer `1`", input.display())), "{e}");
    }
}
