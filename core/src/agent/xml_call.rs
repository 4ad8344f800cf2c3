//! R2E-Gym's call format:
//!
//! ```text
//! <function=NAME>
//! <parameter=KEY>VALUE</parameter>
//! </function>
//! ```
//!
//! As in R2E-Gym's `Action.from_string`, names, keys and values are
//! stripped of surrounding white space, a value runs to the first
//! `</parameter>` and text between parameters is ignored. Unlike it, an
//! unclosed tag or a repeated parameter is an error instead of a silently
//! dropped or overwritten parameter, and a value may contain `</function>`.

use super::call_error::CallError;
use super::reply::{Block, RawCall};

const OPEN: &str = "<function";
const CLOSE: &str = "</function>";
const PARAM_OPEN: &str = "<parameter";
const PARAM_CLOSE: &str = "</parameter>";

/// Where `<` + `tag` + optional white space + `=` starts at or after `from`.
fn find_tag(text: &str, tag: &str, from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(i) = text.get(at..)?.find(tag) {
        let start = at + i;
        if text[start + tag.len()..].trim_start().starts_with('=') {
            return Some(start);
        }
        at = start + tag.len();
    }
    None
}

/// Start of the next `<function=` tag at or after `from`.
pub(crate) fn find(text: &str, from: usize) -> Option<usize> {
    find_tag(text, OPEN, from)
}

/// Reads `<tag = NAME>` at `start` (the `<`): the trimmed name and the offset
/// after `>`. The name must be on one line and hold no `<`.
fn header<'a>(text: &'a str, start: usize, tag: &str) -> Option<(&'a str, usize)> {
    let after = &text[start + tag.len()..];
    let eq = after.find('=')?;
    let rest = &after[eq + 1..];
    let close = rest.find(['>', '<', '\n'])?;
    if !rest[close..].starts_with('>') {
        return None;
    }
    let end = start + tag.len() + eq + 1 + close + 1;
    Some((rest[..close].trim(), end))
}

/// Parses the call whose `<function=` tag starts at `start`.
pub(crate) fn parse_at(text: &str, start: usize) -> Block {
    let unclosed = |call| Block { start, end: text.len(), call: Err(call), extra: 0 };
    let Some((name, mut pos)) = header(text, start, OPEN) else {
        return unclosed(CallError::Unclosed(
            "The <function=NAME> tag is not closed with '>' on the same line.".into(),
        ));
    };
    let mut params = Vec::new();
    loop {
        let next_param = find_tag(text, PARAM_OPEN, pos);
        let next_close = text[pos..].find(CLOSE).map(|i| pos + i);
        match (next_param, next_close) {
            (Some(p), close) if close.is_none_or(|c| p < c) => {
                let Some((key, value_start)) = header(text, p, PARAM_OPEN) else {
                    return unclosed(CallError::Unclosed(
                        "A <parameter=NAME> tag is not closed with '>' on the same line.".into(),
                    ));
                };
                let Some(len) = text[value_start..].find(PARAM_CLOSE) else {
                    return unclosed(CallError::Unclosed(format!(
                        "The value of parameter '{key}' is not closed with </parameter>."
                    )));
                };
                params.push((key.to_string(), text[value_start..value_start + len].trim().to_string()));
                pos = value_start + len + PARAM_CLOSE.len();
            }
            (_, Some(c)) => {
                let call = RawCall { name: name.to_string(), params };
                return Block { start, end: c + CLOSE.len(), call: Ok(call), extra: 0 };
            }
            (_, None) => {
                return unclosed(CallError::Unclosed(format!("The call to '{name}' is not closed with </function>.")));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> (RawCall, usize) {
        let start = find(text, 0).expect("a call");
        let b = parse_at(text, start);
        (b.call.expect("a valid call"), b.end)
    }

    #[test]
    fn spaces_around_equals_and_names_are_accepted() {
        let (c, end) = ok("x <function = search >\n<parameter =search_term > foo </parameter>\n</function> tail");
        assert_eq!(c.name, "search");
        assert_eq!(c.params, vec![("search_term".to_string(), "foo".to_string())]);
        assert_eq!(end, "x <function = search >\n<parameter =search_term > foo </parameter>\n</function>".len());
    }

    #[test]
    fn closing_tag_is_not_an_opening_one() {
        assert_eq!(find("</function> <functions> <function=a>", 0), Some(24));
    }

    #[test]
    fn value_may_hold_function_close_text() {
        let (c, _) = ok("<function=file_editor>\n<parameter=file_text>a</function>b</parameter>\n</function>");
        assert_eq!(c.params[0].1, "a</function>b");
    }

    #[test]
    fn name_broken_over_lines_is_unclosed() {
        let b = parse_at("<function=file_editor\n<parameter=path>/x</parameter></function>", 0);
        assert!(matches!(b.call, Err(CallError::Unclosed(_))), "{:?}", b.call);
    }
}
