//! Reading the fields of HuggingFace's `tokenizer_config.json` and
//! `generation_config.json` that a chat tokenizer needs.

use std::path::Path;

use serde_json::{Map, Value};

use crate::error::{Result, TextError};

/// A JSON object from `path`.
pub(crate) fn read_object(path: &Path) -> Result<Map<String, Value>> {
    let text = std::fs::read_to_string(path).map_err(|source| TextError::Io {
        path: path.to_owned(),
        source,
    })?;
    match serde_json::from_str(&text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(field_error(path, "(top level)", "expected a JSON object")),
        Err(source) => Err(TextError::Json {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Writes `map` as pretty JSON to `path`.
pub(crate) fn write_object(path: &Path, map: &Map<String, Value>) -> Result<()> {
    // `{:#}` pretty-prints a JSON value, which cannot fail.
    let text = format!("{:#}\n", Value::Object(map.clone()));
    std::fs::write(path, text).map_err(|source| TextError::Io {
        path: path.to_owned(),
        source,
    })
}

fn field_error(path: &Path, field: &str, message: impl Into<String>) -> TextError {
    TextError::ConfigField {
        path: path.to_owned(),
        field: field.to_owned(),
        message: message.into(),
    }
}

/// A special token field such as `eos_token`: a string, an added-token
/// object `{"content": …}`, or null / absent.
pub(crate) fn token(
    config: &Map<String, Value>,
    field: &str,
    path: &Path,
) -> Result<Option<String>> {
    match config.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Object(obj)) => match obj.get("content") {
            Some(Value::String(s)) => Ok(Some(s.clone())),
            _ => Err(field_error(
                path,
                field,
                "an object token needs a string `content`",
            )),
        },
        Some(other) => Err(field_error(
            path,
            field,
            format!("expected a string or {{\"content\": …}}, found {other}"),
        )),
    }
}

/// The `chat_template` field: a string, or a list of `{name, template}` of
/// which the one named `default` is taken (as `transformers` does when no
/// name is asked for); `None` when absent, null, or a list without
/// `default`.
pub(crate) fn chat_template(config: &Map<String, Value>, path: &Path) -> Result<Option<String>> {
    const FIELD: &str = "chat_template";
    match config.get(FIELD) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let (Some(Value::String(name)), Some(Value::String(template))) =
                    (item.get("name"), item.get("template"))
                else {
                    return Err(field_error(
                        path,
                        &format!("{FIELD}[{i}]"),
                        "expected {\"name\": string, \"template\": string}",
                    ));
                };
                if name == "default" {
                    return Ok(Some(template.clone()));
                }
            }
            Ok(None)
        }
        Some(other) => Err(field_error(
            path,
            FIELD,
            format!("expected a string or a list of {{name, template}}, found {other}"),
        )),
    }
}

/// `eos_token_id` of `generation_config.json`: an id or a list of ids
/// (empty when absent or null).
pub(crate) fn eos_token_ids(config: &Map<String, Value>, path: &Path) -> Result<Vec<u32>> {
    const FIELD: &str = "eos_token_id";
    let id = |v: &Value| {
        v.as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| field_error(path, FIELD, format!("{v} is not a token id")))
    };
    match config.get(FIELD) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().map(id).collect(),
        Some(v) => Ok(vec![id(v)?]),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn tokens_as_strings_objects_or_null() {
        let c = obj(json!({
            "bos_token": null,
            "eos_token": {"__type": "AddedToken", "content": "</s>", "lstrip": false},
            "pad_token": "<pad>",
            "unk_token": 3,
        }));
        let p = Path::new("tokenizer_config.json");
        assert_eq!(token(&c, "bos_token", p).unwrap(), None);
        assert_eq!(token(&c, "eos_token", p).unwrap().as_deref(), Some("</s>"));
        assert_eq!(token(&c, "pad_token", p).unwrap().as_deref(), Some("<pad>"));
        assert_eq!(token(&c, "missing", p).unwrap(), None);
        let err = token(&c, "unk_token", p).unwrap_err().to_string();
        assert!(
            err.contains("tokenizer_config.json") && err.contains("unk_token"),
            "{err}"
        );
    }

    #[test]
    fn chat_template_as_string_or_named_list() {
        let p = Path::new("tokenizer_config.json");
        assert_eq!(
            chat_template(&obj(json!({"chat_template": "T"})), p)
                .unwrap()
                .as_deref(),
            Some("T")
        );
        let listed = obj(json!({"chat_template": [
            {"name": "tool_use", "template": "A"},
            {"name": "default", "template": "B"},
        ]}));
        assert_eq!(chat_template(&listed, p).unwrap().as_deref(), Some("B"));
        let no_default = obj(json!({"chat_template": [{"name": "rag", "template": "R"}]}));
        assert_eq!(chat_template(&no_default, p).unwrap(), None);
        let bad = obj(json!({"chat_template": [{"name": "default"}]}));
        assert!(
            chat_template(&bad, p)
                .unwrap_err()
                .to_string()
                .contains("chat_template[0]")
        );
    }

    #[test]
    fn generation_eos_as_int_or_list() {
        let p = Path::new("generation_config.json");
        assert_eq!(
            eos_token_ids(&obj(json!({"eos_token_id": 7})), p).unwrap(),
            vec![7]
        );
        assert_eq!(
            eos_token_ids(&obj(json!({"eos_token_id": [1, 9]})), p).unwrap(),
            vec![1, 9]
        );
        assert!(eos_token_ids(&obj(json!({})), p).unwrap().is_empty());
        let err = eos_token_ids(&obj(json!({"eos_token_id": [-1]})), p)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("generation_config.json") && err.contains("eos_token_id"),
            "{err}"
        );
    }
}
