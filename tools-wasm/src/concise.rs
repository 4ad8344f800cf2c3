//! R2E's concise view of a Python file: bodies of functions spanning 4+
//! lines and the inside of class docstrings spanning 6+ lines are replaced by
//! `... eliding lines a-b ...`, keeping the original line numbers.
//!
//! R2E uses Python's `ast`; this is a small tokenizer that finds the same
//! statement extents (logical lines, strings, brackets, comments).

/// One logical line (a statement, or a compound statement's header).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Logical {
    /// 0-based first physical line.
    start: usize,
    /// 0-based last physical line holding one of its tokens.
    end: usize,
    /// Indentation column of the first line (tabs to multiples of 8).
    indent: usize,
    /// Whether it holds nothing but `str` literals (a docstring candidate).
    only_str: bool,
}

fn indent_of(line: &str) -> usize {
    let mut col = 0;
    for c in line.chars() {
        match c {
            ' ' => col += 1,
            '\t' => col = (col / 8 + 1) * 8,
            '\u{0c}' => col = 0,
            _ => break,
        }
    }
    col
}

/// Splits Python source into logical lines.
fn logical_lines(text: &str) -> Vec<Logical> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut line = 0usize;
    let mut line_starts = vec![0usize];
    for (i, c) in chars.iter().enumerate() {
        if *c == '\n' {
            line_starts.push(i + 1);
        }
    }
    let line_text = |l: usize| -> String {
        let s = line_starts[l];
        chars[s..].iter().take_while(|c| **c != '\n').collect()
    };
    let mut cur: Option<Logical> = None;
    let mut depth = 0i32;
    let mut i = 0;
    let n = chars.len();
    while i < n {
        let c = chars[i];
        match c {
            '\n' => {
                if depth == 0
                    && let Some(l) = cur.take()
                {
                    out.push(l);
                }
                line += 1;
                i += 1;
            }
            '#' => {
                while i < n && chars[i] != '\n' {
                    i += 1;
                }
            }
            '\\' if i + 1 < n && chars[i + 1] == '\n' => {
                line += 1;
                i += 2;
            }
            ' ' | '\t' | '\r' | '\u{0c}' => i += 1,
            _ => {
                let l = cur.get_or_insert_with(|| Logical {
                    start: line,
                    end: line,
                    indent: indent_of(&line_text(line)),
                    only_str: true,
                });
                // A string literal, possibly with a prefix.
                let mut j = i;
                while j < n && j - i < 2 && "rRuUbBfF".contains(chars[j]) {
                    j += 1;
                }
                if j < n && (chars[j] == '"' || chars[j] == '\'') {
                    let prefix: String = chars[i..j].iter().collect::<String>().to_lowercase();
                    if prefix.contains('b') || prefix.contains('f') {
                        l.only_str = false;
                    }
                    let q = chars[j];
                    let triple = j + 2 < n && chars[j + 1] == q && chars[j + 2] == q;
                    let mut k = if triple { j + 3 } else { j + 1 };
                    loop {
                        if k >= n {
                            break;
                        }
                        let ch = chars[k];
                        if ch == '\\' && k + 1 < n {
                            if chars[k + 1] == '\n' {
                                line += 1;
                            }
                            k += 2;
                            continue;
                        }
                        if ch == '\n' {
                            line += 1;
                            if !triple {
                                k += 1;
                                break;
                            }
                        }
                        if ch == q {
                            if !triple {
                                k += 1;
                                break;
                            }
                            if k + 2 < n && chars[k + 1] == q && chars[k + 2] == q {
                                k += 3;
                                break;
                            }
                        }
                        k += 1;
                    }
                    l.end = line;
                    i = k;
                    continue;
                }
                l.end = line;
                match c {
                    '(' | '[' | '{' => depth += 1,
                    ')' | ']' | '}' => depth = (depth - 1).max(0),
                    _ => {}
                }
                l.only_str = false;
                // Consume an identifier or number in one go.
                if c.is_alphanumeric() || c == '_' {
                    while i < n && (chars[i].is_alphanumeric() || chars[i] == '_') {
                        i += 1;
                    }
                } else {
                    i += 1;
                }
            }
        }
    }
    if let Some(l) = cur.take() {
        out.push(l);
    }
    out
}

fn first_word(line: &str) -> &str {
    let t = line.trim_start();
    t.split(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap_or("")
}

fn is_def(line: &str) -> bool {
    let t = line.trim_start();
    first_word(t) == "def" || (first_word(t) == "async" && first_word(&t[5..]) == "def")
}

/// Whether a header's body follows its colon on the same logical line
/// (`def f(): return 1`): something other than a comment after the last
/// top-level colon.
fn inline_body(lines: &[&str], l: &Logical) -> bool {
    let text = lines[l.end];
    let t = match text.find('#') {
        Some(p) if !text[..p].contains('"') && !text[..p].contains('\'') => &text[..p],
        _ => text,
    };
    !t.trim_end().ends_with(':')
}

/// Line ranges (0-based, inclusive) R2E elides.
pub fn elided_ranges(text: &str) -> Vec<(usize, usize)> {
    let lines: Vec<&str> = text.split('\n').collect();
    let logical = logical_lines(text);
    let mut ranges = Vec::new();
    for (k, l) in logical.iter().enumerate() {
        let head = lines[l.start];
        let is_class = first_word(head) == "class";
        if !is_def(head) && !is_class {
            continue;
        }
        if inline_body(&lines, l) {
            continue;
        }
        let body: Vec<&Logical> =
            logical[k + 1..].iter().take_while(|b| b.indent > l.indent).collect();
        let Some(first) = body.first() else { continue };
        if is_class {
            if first.only_str && first.end - first.start >= 4 {
                ranges.push((first.start + 1, first.end - 1));
            }
            continue;
        }
        // body[0].lineno: a decorated statement starts at its `def`/`class`.
        let start = body
            .iter()
            .find(|b| !lines[b.start].trim_start().starts_with('@'))
            .map_or(first.start, |b| b.start);
        let end = body.last().map_or(first.end, |b| b.end);
        if end >= start && end - start >= 3 {
            ranges.push((start, end));
        }
    }
    ranges
}

/// The concise view's `(0-based line, text)` entries: kept lines and one
/// `... eliding lines a-b ...` notice at the start of each elided range.
pub fn elided_lines(text: &str) -> Vec<(usize, String)> {
    let ranges = elided_ranges(text);
    let mut skip = std::collections::BTreeSet::new();
    for (s, e) in &ranges {
        skip.extend(*s..=*e);
    }
    let mut out: Vec<(usize, String)> =
        ranges.iter().map(|(s, e)| (*s, format!("... eliding lines {}-{} ...", s + 1, e + 1))).collect();
    out.extend(
        crate::pytext::splitlines(text)
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !skip.contains(i))
            .map(|(i, l)| (i, l.to_string())),
    );
    out.sort_by_key(|(i, _)| *i);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = r#"import os


class Calc:
    """A calculator.

    It adds.
    It subtracts.
    It multiplies.
    """

    def add(self, a, b):
        x = a
        y = b
        z = x + y
        return z

    def short(self):
        return 1

    def one(self): return 2

    def args(
        self,
        a,
    ):
        s = """
        text
        """
        return s


async def run():
    await x()
    await y()
    await z()
    # trailing comment
    return (1,
            2)
"#;

    #[test]
    fn ranges_match_python_ast() {
        // Python: ast-based R2E gives these (0-based) ranges.
        let r = elided_ranges(SRC);
        assert_eq!(r, vec![(5, 8), (12, 15), (26, 29), (33, 38)]);
    }

    #[test]
    fn notices_numbered_like_r2e() {
        let v = elided_lines(SRC);
        assert!(v.contains(&(12, "... eliding lines 13-16 ...".to_string())));
        assert!(v.contains(&(4, "    \"\"\"A calculator.".to_string())));
        assert!(!v.iter().any(|(i, _)| *i == 13));
    }
}
