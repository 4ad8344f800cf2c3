//! Placeholder filling, test-id extraction and unified diffs.

use std::collections::BTreeMap;

/// Parameters of one module in one task: `pkg`, `module` and axis bindings.
pub(crate) type Params = BTreeMap<&'static str, String>;

/// Replaces every `${name}` in `text`; an unknown name is returned as `Err`.
pub(crate) fn fill(text: &str, params: &Params) -> Result<String, String> {
    let mut out = String::with_capacity(text.len() + 64);
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("unclosed placeholder in {:?}", &rest[start..]))?;
        let name = &after[..end];
        let value = params
            .get(name)
            .ok_or_else(|| format!("unknown placeholder ${{{name}}}"))?;
        out.push_str(value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// `Class.method` of every test method in a unittest file, in file order:
/// methods named `test…` indented once inside a `class X(unittest.TestCase):`.
pub(crate) fn test_methods(tests: &str) -> Vec<String> {
    let mut class: Option<&str> = None;
    let mut out = Vec::new();
    for line in tests.lines() {
        if let Some(rest) = line.strip_prefix("class ") {
            class = rest
                .strip_suffix("(unittest.TestCase):")
                .filter(|c| !c.contains(['(', ' ']));
        } else if let Some(rest) = line.strip_prefix("    def test") {
            if let (Some(c), Some(open)) = (class, rest.find('(')) {
                out.push(format!("{c}.test{}", &rest[..open]));
            }
        } else if !line.is_empty() && !line.starts_with(' ') {
            class = None;
        }
    }
    out
}

/// Replaces the one occurrence of the whole lines `from` in `text` by `to`.
/// `Err` says how many occurrences there were when not exactly one.
pub(crate) fn replace_block(text: &str, from: &str, to: &str) -> Result<String, String> {
    if from.is_empty() || !from.ends_with('\n') {
        return Err("the block to replace must be whole lines ending in a newline".into());
    }
    let mut hits = Vec::new();
    let mut pos = 0;
    while let Some(i) = text[pos..].find(from) {
        let at = pos + i;
        if at == 0 || text.as_bytes()[at - 1] == b'\n' {
            hits.push(at);
        }
        pos = at + 1;
    }
    match hits.as_slice() {
        [at] => Ok(format!(
            "{}{}{}",
            &text[..*at],
            to,
            &text[at + from.len()..]
        )),
        _ => Err(format!(
            "block found {} times, expected once: {from:?}",
            hits.len()
        )),
    }
}

/// How many leading and (not overlapping them) trailing items `a` and `b`
/// share: what is left between them is what changed.
pub(crate) fn common_ends<T: PartialEq>(a: &[T], b: &[T]) -> (usize, usize) {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let max_suffix = a.len().min(b.len()) - prefix;
    let suffix = a.iter().rev().zip(b.iter().rev()).take(max_suffix).take_while(|(x, y)| x == y).count();
    (prefix, suffix)
}

/// A git-style unified diff turning `old` into `new` (one file, one hunk
/// around the changed lines, three lines of context). Both texts must end in
/// a newline.
pub(crate) fn unified_diff(path: &str, old: &str, new: &str) -> String {
    const CONTEXT: usize = 3;
    let a: Vec<&str> = old.split_inclusive('\n').collect();
    let b: Vec<&str> = new.split_inclusive('\n').collect();
    let (prefix, suffix) = common_ends(&a, &b);
    let start = prefix.saturating_sub(CONTEXT);
    let after = suffix.min(CONTEXT);
    let removed = &a[prefix..a.len() - suffix];
    let added = &b[prefix..b.len() - suffix];
    let old_len = (prefix - start) + removed.len() + after;
    let new_len = (prefix - start) + added.len() + after;
    let range = |len: usize| {
        if len == 0 {
            format!("{start},0")
        } else {
            format!("{},{len}", start + 1)
        }
    };
    let mut out = format!(
        "diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n@@ -{} +{} @@\n",
        range(old_len),
        range(new_len)
    );
    for line in &a[start..prefix] {
        out.push(' ');
        out.push_str(line);
    }
    for line in removed {
        out.push('-');
        out.push_str(line);
    }
    for line in added {
        out.push('+');
        out.push_str(line);
    }
    for line in &a[a.len() - suffix..a.len() - suffix + after] {
        out.push(' ');
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_replaces_and_rejects_unknown_names() {
        let mut p = Params::new();
        p.insert("a", "x".into());
        assert_eq!(
            fill("${a}+${a}=${b", &p).unwrap_err(),
            "unclosed placeholder in \"${b\""
        );
        assert_eq!(fill("f(${a}) {}", &p).unwrap(), "f(x) {}");
        assert!(fill("${zz}", &p).unwrap_err().contains("zz"));
    }

    #[test]
    fn test_methods_follow_classes() {
        let src = "import unittest\n\nclass TestA(unittest.TestCase):\n    def test_x(self):\n        pass\n\n    def helper(self):\n        pass\n\n\ndef test_free():\n    pass\n\n\nclass TestB(unittest.TestCase):\n    def test_y(self):\n        pass\n";
        assert_eq!(test_methods(src), vec!["TestA.test_x", "TestB.test_y"]);
    }

    #[test]
    fn replace_block_needs_exactly_one_whole_line_match() {
        assert_eq!(
            replace_block("a\nb\nc\n", "b\n", "B\nB\n").unwrap(),
            "a\nB\nB\nc\n"
        );
        assert!(replace_block("b\nb\n", "b\n", "").is_err());
        assert!(replace_block("ab\n", "b\n", "").is_err());
    }

    #[test]
    fn diff_hunk_header_counts_context() {
        let old = "1\n2\n3\n4\n5\n6\n7\n8\n";
        let new = "1\n2\n3\n4\nfive\n6\n7\n8\n";
        let d = unified_diff("f.py", old, new);
        assert!(
            d.contains("@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"),
            "{d}"
        );
        let inserted = unified_diff("f.py", "a\nb\n", "a\nx\ny\nb\n");
        assert!(
            inserted.ends_with("@@ -1,2 +1,4 @@\n a\n+x\n+y\n b\n"),
            "{inserted}"
        );
    }
}
