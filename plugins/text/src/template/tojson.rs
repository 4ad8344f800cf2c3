//! The `tojson` filter as HuggingFace defines it for chat templates:
//! Python's `json.dumps(x, ensure_ascii=False, indent=None, separators=None,
//! sort_keys=False)`, so tool schemas render byte for byte as in
//! `transformers` (`", "` and `": "` separators, no HTML escaping).

use std::fmt::Write as _;

use minijinja::value::{Kwargs, ValueKind};
use minijinja::{Error, ErrorKind, Value};

/// How to lay out the JSON, from the filter's arguments.
struct Style {
    indent: Option<String>,
    item_sep: String,
    key_sep: String,
    ensure_ascii: bool,
    sort_keys: bool,
}

/// The filter: `value | tojson`, `value | tojson(indent=2)`,
/// `value | tojson(4)`, with Python's `ensure_ascii`, `separators` and
/// `sort_keys` keyword arguments.
pub(crate) fn tojson(
    value: &Value,
    indent: Option<Value>,
    kwargs: Kwargs,
) -> Result<String, Error> {
    let indent = match indent {
        Some(v) => Some(v),
        None => kwargs.get::<Option<Value>>("indent")?,
    };
    let indent = match indent {
        None => None,
        Some(v) if v.is_none() => None,
        Some(v) => Some(indent_text(&v)?),
    };
    let ensure_ascii = kwargs.get::<Option<bool>>("ensure_ascii")?.unwrap_or(false);
    let sort_keys = kwargs.get::<Option<bool>>("sort_keys")?.unwrap_or(false);
    let separators = kwargs.get::<Option<Vec<String>>>("separators")?;
    kwargs.assert_all_used()?;
    let (item_sep, key_sep) = match separators {
        Some(pair) => match <[String; 2]>::try_from(pair) {
            Ok([item, key]) => (item, key),
            Err(_) => {
                return Err(Error::new(
                    ErrorKind::InvalidOperation,
                    "tojson: separators must be a pair (item_separator, key_separator)",
                ));
            }
        },
        // Python drops the space after ',' when indenting.
        None if indent.is_some() => (",".to_owned(), ": ".to_owned()),
        None => (", ".to_owned(), ": ".to_owned()),
    };
    let style = Style {
        indent,
        item_sep,
        key_sep,
        ensure_ascii,
        sort_keys,
    };
    let mut out = String::new();
    write_value(&mut out, value, &style, 0)?;
    Ok(out)
}

/// Python accepts an int (that many spaces) or a string as `indent`.
fn indent_text(v: &Value) -> Result<String, Error> {
    if let Some(s) = v.as_str() {
        return Ok(s.to_owned());
    }
    match v.as_i64() {
        Some(n) => Ok(" ".repeat(usize::try_from(n).unwrap_or(0))),
        None => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("tojson: indent must be an integer or a string, not {v}"),
        )),
    }
}

fn write_value(out: &mut String, value: &Value, style: &Style, level: usize) -> Result<(), Error> {
    match value.kind() {
        ValueKind::None => out.push_str("null"),
        ValueKind::Bool => out.push_str(if value.is_true() { "true" } else { "false" }),
        ValueKind::Number => write_number(out, value)?,
        ValueKind::String => {
            write_string(out, value.as_str().unwrap_or_default(), style.ensure_ascii)
        }
        ValueKind::Seq | ValueKind::Iterable => {
            let items: Vec<Value> = value.try_iter()?.collect();
            write_container(out, ('[', ']'), &items, style, level, |out, item, level| {
                write_value(out, item, style, level)
            })?;
        }
        ValueKind::Map => {
            let mut entries = Vec::new();
            for key in value.try_iter()? {
                let item = value.get_item(&key)?;
                entries.push((key_text(&key)?, item));
            }
            if style.sort_keys {
                entries.sort_by(|a, b| a.0.cmp(&b.0));
            }
            write_container(
                out,
                ('{', '}'),
                &entries,
                style,
                level,
                |out, (key, item), level| {
                    write_string(out, key, style.ensure_ascii);
                    out.push_str(&style.key_sep);
                    write_value(out, item, style, level)
                },
            )?;
        }
        kind => {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("tojson: a value of kind {kind} is not JSON serializable"),
            ));
        }
    }
    Ok(())
}

/// Writes `[a, b]` / `{…}` with Python's layout: items separated by the
/// item separator, and with an indent each on its own line.
fn write_container<T>(
    out: &mut String,
    (open, close): (char, char),
    items: &[T],
    style: &Style,
    level: usize,
    mut write_item: impl FnMut(&mut String, &T, usize) -> Result<(), Error>,
) -> Result<(), Error> {
    out.push(open);
    if items.is_empty() {
        out.push(close);
        return Ok(());
    }
    let newline = |level: usize| {
        style
            .indent
            .as_ref()
            .map(|unit| format!("\n{}", unit.repeat(level)))
    };
    if let Some(nl) = newline(level + 1) {
        out.push_str(&nl);
    }
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(&style.item_sep);
            if let Some(nl) = newline(level + 1) {
                out.push_str(&nl);
            }
        }
        write_item(out, item, level + 1)?;
    }
    if let Some(nl) = newline(level) {
        out.push_str(&nl);
    }
    out.push(close);
    Ok(())
}

/// Python turns str, int, float, bool and None keys into strings.
fn key_text(key: &Value) -> Result<String, Error> {
    match key.kind() {
        ValueKind::String => Ok(key.as_str().unwrap_or_default().to_owned()),
        ValueKind::None | ValueKind::Bool | ValueKind::Number => {
            let mut s = String::new();
            write_value(&mut s, key, &Style::plain(), 0)?;
            Ok(s)
        }
        kind => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("tojson: keys must be str, int, float, bool or None, not {kind}"),
        )),
    }
}

impl Style {
    fn plain() -> Self {
        Style {
            indent: None,
            item_sep: ", ".into(),
            key_sep: ": ".into(),
            ensure_ascii: false,
            sort_keys: false,
        }
    }
}

fn write_number(out: &mut String, value: &Value) -> Result<(), Error> {
    if value.is_integer() {
        let n = i128::try_from(value.clone())?;
        let _ = write!(out, "{n}");
    } else {
        let x = f64::try_from(value.clone())?;
        out.push_str(&python_float_repr(x));
    }
    Ok(())
}

/// Python's `repr(float)`: the shortest digits that round-trip, in fixed
/// notation when the decimal exponent is in -4..16, else as `1.5e-05` /
/// `1e+16`; `NaN`, `Infinity` and `-Infinity` as `json.dumps` writes them.
fn python_float_repr(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "-1.5e-5".
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if (-4..16).contains(&exp) {
        let point = exp + 1; // digits before the decimal point
        let body = if point <= 0 {
            format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
        } else {
            let point = point as usize;
            if digits.len() <= point {
                format!("{digits}{}.0", "0".repeat(point - digits.len()))
            } else {
                format!("{}.{}", &digits[..point], &digits[point..])
            }
        };
        format!("{sign}{body}")
    } else {
        let exp_sign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{mantissa}e{exp_sign}{:02}", exp.unsigned_abs())
    }
}

/// A JSON string literal as Python writes it.
fn write_string(out: &mut String, s: &str, ensure_ascii: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if ensure_ascii && !(' '..='~').contains(&c) => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(template: &str, value: serde_json::Value) -> String {
        let mut env = minijinja::Environment::new();
        env.add_filter("tojson", tojson);
        env.render_str(
            template,
            minijinja::context! { x => Value::from(minijinja::value::Serde(&value)) },
        )
        .unwrap()
    }

    // Expected strings are what CPython 3 prints for `json.dumps(x, ensure_ascii=False, …)`.
    #[test]
    fn matches_python_default_layout() {
        let x =
            serde_json::json!({"name": "view", "args": [1, 2.5, true, null], "d": "a\"b\\c\n<&>é"});
        assert_eq!(
            render("{{ x | tojson }}", x),
            r#"{"args": [1, 2.5, true, null], "d": "a\"b\\c\n<&>é", "name": "view"}"#
        );
    }

    #[test]
    fn matches_python_indent_and_empty_containers() {
        let x = serde_json::json!({"a": [1, {"b": []}], "c": {}});
        assert_eq!(
            render("{{ x | tojson(indent=2) }}", x.clone()),
            "{\n  \"a\": [\n    1,\n    {\n      \"b\": []\n    }\n  ],\n  \"c\": {}\n}"
        );
        assert_eq!(
            render("{{ x | tojson(1) }}", serde_json::json!([1])),
            "[\n 1\n]"
        );
    }

    #[test]
    fn keyword_options() {
        let x = serde_json::json!({"é": 1, "a": "\u{1F600}"});
        assert_eq!(
            render(
                "{{ x | tojson(ensure_ascii=true, separators=[',', ':']) }}",
                x
            ),
            r#"{"a":"\ud83d\ude00","\u00e9":1}"#
        );
    }

    #[test]
    fn dict_literals_keep_their_order_unless_sorted() {
        let mut env = minijinja::Environment::new();
        env.add_filter("tojson", tojson);
        let dict = "{'z': 1, 'a': 2}";
        assert_eq!(
            env.render_str(&format!("{{{{ {dict} | tojson }}}}"), ())
                .unwrap(),
            r#"{"z": 1, "a": 2}"#
        );
        assert_eq!(
            env.render_str(&format!("{{{{ {dict} | tojson(sort_keys=true) }}}}"), ())
                .unwrap(),
            r#"{"a": 2, "z": 1}"#
        );
    }

    #[test]
    fn floats_follow_python_repr() {
        // Each pair is (value, Python's repr of it).
        for (x, py) in [
            (0.1, "0.1"),
            (1.0, "1.0"),
            (-2.5, "-2.5"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (1e16, "1e+16"),
            (123456789012345.0, "123456789012345.0"),
            (1.5e300, "1.5e+300"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
        ] {
            assert_eq!(python_float_repr(x), py, "{x}");
        }
    }

    #[test]
    fn undefined_is_an_error() {
        let mut env = minijinja::Environment::new();
        env.add_filter("tojson", tojson);
        let err = env.render_str("{{ nothing | tojson }}", ()).unwrap_err();
        assert!(err.to_string().contains("not JSON serializable"), "{err}");
    }
}
