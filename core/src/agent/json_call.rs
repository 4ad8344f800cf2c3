//! OpenAI-style function calls written as JSON text:
//! `{"name": …, "arguments": {…}}` (Hermes and Qwen; `parameters` is
//! accepted for `arguments`) or `{"function": {"name": …, "arguments": …}}`
//! (an OpenAI `tool_calls` item), with the arguments an object or a string
//! holding one. A list of calls counts as several calls.
//!
//! Found here: JSON in a ```` ```json ```` fence or alone at the start of a
//! line, and only when it has a call's shape (a `name` with `arguments`, or
//! a `function`), so an ordinary JSON snippet in the reasoning is left
//! alone. JSON inside `<tool_call>` tags is found by [`super::reply`] and
//! read with [`read_calls`].

use std::fmt;

use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use serde_json::Value;

use super::call_error::CallError;
use super::reply::{Block, RawCall};

const FENCE: &str = "```";

/// How a JSON call is wrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wrap {
    /// A ```` ``` ```` fence (info string empty, `json` or `tool_call`);
    /// the fence's end is known.
    Fence {
        /// Start of the JSON text.
        body: usize,
        /// Start of the closing fence.
        close: usize,
    },
    /// Bare JSON at the start of a line, ending at `end`.
    Bare {
        /// Offset just past the JSON value.
        end: usize,
    },
}

/// The next fenced or bare JSON call at or after `from`: where it starts
/// and how it is wrapped.
pub(crate) fn find(text: &str, from: usize) -> Option<(usize, Wrap)> {
    let fence = find_fence(text, from, text.len());
    let bare = find_bare(text, from, fence.map_or(text.len(), |c| c.0));
    bare.or(fence)
}

/// A fenced call starting before `limit`.
fn find_fence(text: &str, from: usize, limit: usize) -> Option<(usize, Wrap)> {
    let mut at = from;
    while let Some(i) = text[at..limit].find(FENCE) {
        let start = at + i;
        let line_end = text[start..].find('\n').map_or(text.len(), |j| start + j);
        let info = text[start + FENCE.len()..line_end].trim();
        let body = (line_end + 1).min(text.len());
        let close = text[body..].find(FENCE).map(|j| body + j);
        match close {
            Some(close) if ["", "json", "tool_call"].contains(&info.to_ascii_lowercase().as_str()) => {
                if call_shaped(text[body..close].trim()) {
                    return Some((start, Wrap::Fence { body, close }));
                }
                at = close + FENCE.len();
            }
            Some(close) => at = close + FENCE.len(),
            None => return None,
        }
        if at >= limit {
            return None;
        }
    }
    None
}

/// A bare call starting at a line start before `limit`.
fn find_bare(text: &str, from: usize, limit: usize) -> Option<(usize, Wrap)> {
    let mut line_start = from;
    while line_start < limit {
        let line_end = text[line_start..].find('\n').map_or(text.len(), |j| line_start + j);
        let indent = text[line_start..line_end].len() - text[line_start..line_end].trim_start().len();
        let start = line_start + indent;
        if (from == 0 || line_start > from || text[..from].ends_with('\n'))
            && matches!(text.as_bytes().get(start), Some(b'{' | b'['))
        {
            let mut values = serde_json::Deserializer::from_str(&text[start..]).into_iter::<Value>();
            if let Some(Ok(v)) = values.next()
                && value_is_call(&v)
            {
                return Some((start, Wrap::Bare { end: start + values.byte_offset() }));
            }
        }
        line_start = line_end + 1;
    }
    None
}

/// Whether `json` parses as a call or a list starting with one.
fn call_shaped(json: &str) -> bool {
    serde_json::from_str::<Value>(json).is_ok_and(|v| value_is_call(&v))
}

fn value_is_call(v: &Value) -> bool {
    match v {
        Value::Array(items) => items.first().is_some_and(object_is_call),
        other => object_is_call(other),
    }
}

fn object_is_call(v: &Value) -> bool {
    let Some(o) = v.as_object() else { return false };
    let named =
        o.get("name").is_some_and(Value::is_string) && (o.contains_key("arguments") || o.contains_key("parameters"));
    named || o.get("function").and_then(Value::as_object).is_some_and(|f| f.contains_key("name"))
}

/// Parses the JSON call found by [`find`].
pub(crate) fn parse_at(text: &str, start: usize, wrap: Wrap) -> Block {
    let (json, end) = match wrap {
        Wrap::Fence { body, close } => (&text[body..close], close + FENCE.len()),
        Wrap::Bare { end } => (&text[start..end], end),
    };
    let (call, extra) = match read_calls(json.trim()) {
        Ok((call, extra)) => (Ok(call), extra),
        Err(e) => (Err(e), 0),
    };
    Block { start, end, call, extra }
}

/// `json` without a surrounding ```` ```json ```` fence, if it has one.
pub(crate) fn strip_fence(json: &str) -> &str {
    let t = json.trim();
    match t.strip_prefix(FENCE).and_then(|r| r.strip_suffix(FENCE)) {
        Some(inner) => inner.trim_start_matches(|c: char| c.is_ascii_alphabetic() || c == '_'),
        None => t,
    }
}

/// One call, or a list whose first call is executed: the call and how many
/// others the list held.
pub(crate) fn read_calls(json: &str) -> Result<(RawCall, usize), CallError> {
    let bad = |e: serde_json::Error| CallError::BadJson(e.to_string());
    if json.starts_with('[') {
        let calls: Vec<JsonCall> = serde_json::from_str(json).map_err(bad)?;
        let n = calls.len();
        let first = calls.into_iter().next().ok_or_else(|| CallError::BadJson("the list of calls is empty".into()))?;
        Ok((first.into_raw()?, n - 1))
    } else {
        let call: JsonCall = serde_json::from_str(json).map_err(bad)?;
        Ok((call.into_raw()?, 0))
    }
}

/// A JSON call as written; unknown fields (`id`, `type`) are ignored.
#[derive(Deserialize)]
struct JsonCall {
    #[serde(default)]
    name: Option<String>,
    #[serde(default, alias = "parameters")]
    arguments: Option<Args>,
    #[serde(default)]
    function: Option<Box<JsonCall>>,
}

impl JsonCall {
    fn into_raw(self) -> Result<RawCall, CallError> {
        if let Some(inner) = self.function {
            return inner.into_raw();
        }
        let name = self.name.map(|n| n.trim().to_string()).unwrap_or_default();
        let pairs = match self.arguments {
            None => Vec::new(),
            Some(Args::Pairs(p)) => p,
            Some(Args::Text(s)) if s.trim().is_empty() => Vec::new(),
            Some(Args::Text(s)) => match serde_json::from_str::<Args>(&s) {
                Ok(Args::Pairs(p)) => p,
                Ok(Args::Text(_)) => return Err(CallError::BadJson("\"arguments\" must be an object".into())),
                Err(e) => return Err(CallError::BadJson(format!("\"arguments\" is not a JSON object: {e}"))),
            },
        };
        let params = pairs
            .into_iter()
            .filter_map(|(k, v)| match v {
                Value::Null => None,
                Value::String(s) => Some((k, s)),
                other => Some((k, other.to_string())),
            })
            .collect();
        Ok(RawCall { name, params })
    }
}

/// Arguments as an object (every key kept, repeats included) or as a
/// string holding one.
enum Args {
    Pairs(Vec<(String, Value)>),
    Text(String),
}

impl<'de> Deserialize<'de> for Args {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ArgsVisitor)
    }
}

struct ArgsVisitor;

impl<'de> Visitor<'de> for ArgsVisitor {
    type Value = Args;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of arguments, or a string holding one")
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Args, E> {
        Ok(Args::Text(s.to_string()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Args, A::Error> {
        let mut pairs = Vec::new();
        while let Some(pair) = map.next_entry::<String, Value>()? {
            pairs.push(pair);
        }
        Ok(Args::Pairs(pairs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(text: &str) -> Block {
        let (start, wrap) = find(text, 0).expect("a call");
        parse_at(text, start, wrap)
    }

    #[test]
    fn plain_json_in_reasoning_is_not_a_call() {
        assert!(find("The config is\n{\"name\": \"x\", \"version\": 2}\nso…", 0).is_none());
        assert!(find("```json\n{\"a\": 1}\n```", 0).is_none());
        assert!(find("```python\nx = {\"name\": \"a\", \"arguments\": {}}\n```", 0).is_none());
    }

    #[test]
    fn arguments_as_a_string_and_non_string_values() {
        let b = first(
            "{\"function\": {\"name\": \"file_editor\", \"arguments\": \"{\\\"view_range\\\": [1, 5], \\\"concise\\\": true, \\\"x\\\": null}\"}}",
        );
        let c = b.call.unwrap();
        assert_eq!(c.name, "file_editor");
        assert_eq!(c.params, vec![("view_range".into(), "[1,5]".into()), ("concise".into(), "true".into())]);
    }

    #[test]
    fn a_list_counts_its_other_calls() {
        let b = first(
            "[{\"name\": \"search\", \"arguments\": {\"search_term\": \"a\"}}, {\"name\": \"finish\", \"arguments\": {}}]",
        );
        assert_eq!(b.extra, 1);
        assert_eq!(b.call.unwrap().name, "search");
    }

    #[test]
    fn repeated_keys_survive_for_the_validator() {
        let b = first("{\"name\": \"search\", \"arguments\": {\"path\": \"a\", \"path\": \"b\"}}");
        assert_eq!(b.call.unwrap().params.len(), 2);
    }
}
