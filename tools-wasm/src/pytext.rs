//! Python string semantics the R2E tools rely on: `str.strip`,
//! `str.splitlines`, `str.expandtabs`, `str.count`, UTF-8 decode errors.

/// Python's `str.strip()` with no argument (Unicode whitespace).
pub fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

fn is_py_space(c: char) -> bool {
    // Python's str.isspace: Unicode White_Space plus the ASCII separators
    // 0x1c-0x1f that Python also treats as whitespace.
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{0b}' | '\u{0c}' | '\u{1c}' | '\u{1d}' | '\u{1e}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// Python's `str.splitlines()` (no trailing empty line, `\r\n` is one break).
///
/// ```
/// assert_eq!(entropo_tools_wasm::pytext::splitlines("a\r\nb\rc\n"), vec!["a", "b", "c"]);
/// assert!(entropo_tools_wasm::pytext::splitlines("").is_empty());
/// ```
pub fn splitlines(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if is_line_break(c) {
            out.push(&s[start..i]);
            let mut end = i + c.len_utf8();
            if c == '\r'
                && let Some(&(j, '\n')) = chars.peek()
            {
                chars.next();
                end = j + 1;
            }
            start = end;
        }
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// Python's `str.expandtabs()` with tab size 8.
///
/// ```
/// assert_eq!(entropo_tools_wasm::pytext::expandtabs("a\tb\n\tc"), "a       b\n        c");
/// ```
pub fn expandtabs(s: &str) -> String {
    if !s.contains('\t') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 16);
    let mut col = 0usize;
    for c in s.chars() {
        match c {
            '\t' => {
                let n = 8 - col % 8;
                out.extend(std::iter::repeat_n(' ', n));
                col += n;
            }
            '\n' | '\r' => {
                out.push(c);
                col = 0;
            }
            _ => {
                out.push(c);
                col += 1;
            }
        }
    }
    out
}

/// Python's `str.count(sub)` (non-overlapping; an empty `sub` counts
/// `len + 1` positions).
pub fn count(hay: &str, sub: &str) -> usize {
    if sub.is_empty() {
        hay.chars().count() + 1
    } else {
        hay.matches(sub).count()
    }
}

/// Python's text of a failed UTF-8 decode, e.g.
/// `'utf-8' codec can't decode byte 0xff in position 0: invalid start byte`.
pub fn utf8_error(bytes: &[u8], err: &std::str::Utf8Error) -> String {
    let pos = err.valid_up_to();
    let byte = bytes[pos];
    let reason = match err.error_len() {
        None => "unexpected end of data",
        Some(_) if (0xc2..=0xf4).contains(&byte) => "invalid continuation byte",
        Some(_) => "invalid start byte",
    };
    format!("'utf-8' codec can't decode byte 0x{byte:02x} in position {pos}: {reason}")
}

/// Decodes UTF-8 like Python's `read_text(encoding="utf-8")`: an error
/// carries Python's message.
pub fn decode_utf8(bytes: Vec<u8>) -> Result<String, String> {
    match String::from_utf8(bytes) {
        Ok(s) => Ok(s),
        Err(e) => Err(utf8_error(e.as_bytes(), &e.utf8_error())),
    }
}

/// R2E's `maybe_truncate`: past 10 000 characters the text is cut and
/// [`TRUNCATED_MESSAGE`] appended.
pub fn maybe_truncate(content: &str) -> String {
    match content.char_indices().nth(MAX_RESPONSE_LEN) {
        None => content.to_string(),
        Some((cut, _)) => format!("{}{}", &content[..cut], TRUNCATED_MESSAGE),
    }
}

/// Longest tool response, in characters, before it is clipped.
pub const MAX_RESPONSE_LEN: usize = 10_000;

/// What R2E appends to a clipped response.
pub const TRUNCATED_MESSAGE: &str = "<response clipped><NOTE>To save on context only part of this file has been shown to you. You should retry this tool after you have searched inside the file with `grep -n` in order to find the line numbers of what you are looking for.</NOTE>";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_and_count() {
        assert_eq!(py_strip("  \n x \t\n"), "x");
        assert_eq!(count("aaaa", "aa"), 2);
        assert_eq!(count("ab", ""), 3);
    }

    #[test]
    fn utf8_messages() {
        assert_eq!(decode_utf8(vec![0xff]).unwrap_err(), "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte");
        assert_eq!(decode_utf8(vec![b'a', 0xc3, b'(']).unwrap_err(), "'utf-8' codec can't decode byte 0xc3 in position 1: invalid continuation byte");
        assert_eq!(decode_utf8(vec![b'a', 0xe2, 0x82]).unwrap_err(), "'utf-8' codec can't decode byte 0xe2 in position 1: unexpected end of data");
    }

    #[test]
    fn truncation() {
        let long = "x".repeat(10_001);
        let t = maybe_truncate(&long);
        assert!(t.starts_with(&"x".repeat(10_000)));
        assert!(t.ends_with("</NOTE>"));
        assert_eq!(maybe_truncate("short"), "short");
    }
}
