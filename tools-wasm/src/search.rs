//! R2E-Gym's `search`: count matching lines per `.py` file under a
//! directory (hidden files and folders skipped), or `grep -n` one file.

use std::fs;

use crate::Call;
use crate::paths::{ToolPath, resolve};

/// Runs one `search` call and returns what it prints.
pub fn search(call: &Call) -> String {
    let Some(term) = call.get("search_term") else {
        return "ERROR: Missing required parameter 'search_term'.\n".to_string();
    };
    let path = match resolve(call.get("path").unwrap_or("."), &call.mount) {
        Ok(p) => p,
        Err(outside) => return format!("{}\n", outside.message()),
    };
    match fs::metadata(&path.abs) {
        Ok(m) if m.is_file() => search_in_file(term, &path),
        _ => search_in_directory(term, &path, &call.mount),
    }
}

fn search_in_directory(term: &str, dir: &ToolPath, mount: &str) -> String {
    let directory = &dir.abs;
    if !fs::metadata(directory).is_ok_and(|m| m.is_dir()) {
        return format!("Directory '{directory}' not found or not a directory.\n");
    }
    let mut matches: Vec<(String, usize)> = Vec::new();
    let mut unreadable = Vec::new();
    walk(directory, term, &mut matches, &mut unreadable);
    let note = crate::paths::unreadable_note(&unreadable);
    if matches.is_empty() {
        return format!("No matches found for \"{term}\" in {directory}\n{note}");
    }
    let num_matches: usize = matches.iter().map(|(_, n)| n).sum();
    if matches.len() > 100 {
        return format!(
            "More than {} files matched for \"{term}\" in {directory}. Please narrow your search.\n",
            matches.len()
        );
    }
    let mut out = format!("Found {num_matches} matches for \"{term}\" in {directory}:\n");
    for (file, n) in &matches {
        out.push_str(&format!("{} ({n} matches)\n", relpath(file, mount)));
    }
    out.push_str(&format!("End of matches for \"{term}\" in {directory}\n"));
    out.push_str(&note);
    out
}

/// `os.path.relpath(file, cwd)` with R2E's `./` prefix.
fn relpath(file: &str, cwd: &str) -> String {
    let cwd = cwd.trim_end_matches('/');
    if let Some(rest) = file.strip_prefix(&format!("{cwd}/")) {
        return format!("./{rest}");
    }
    let f: Vec<&str> = file.split('/').filter(|s| !s.is_empty()).collect();
    let c: Vec<&str> = cwd.split('/').filter(|s| !s.is_empty()).collect();
    let common = f.iter().zip(&c).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<&str> = vec![".."; c.len() - common];
    parts.extend(&f[common..]);
    let rel = parts.join("/");
    if rel.starts_with("./") { rel } else { format!("./{rel}") }
}

/// `os.walk` top-down: a folder's files first, then its sub-folders, in
/// name order; symlinked folders are not entered.
fn walk(dir: &str, term: &str, matches: &mut Vec<(String, usize)>, unreadable: &mut Vec<String>) {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => return unreadable.push(format!("{dir} ({e})")),
    };
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    for entry in crate::paths::entries(rd, dir, unreadable) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let is_real_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        let is_link_to_dir = entry.file_type().is_ok_and(|t| t.is_symlink())
            && fs::metadata(entry.path()).is_ok_and(|m| m.is_dir());
        if is_real_dir {
            dirs.push(name);
        } else if !is_link_to_dir {
            files.push(name);
        }
    }
    files.sort();
    dirs.sort();
    for name in files {
        if !name.ends_with(".py") {
            continue;
        }
        let file = format!("{}/{name}", dir.trim_end_matches('/'));
        let Ok(bytes) = fs::read(&file) else { continue };
        let text = String::from_utf8_lossy(&bytes).replace('\u{fffd}', "");
        let n = universal_lines(&text).filter(|l| l.contains(term)).count();
        if n > 0 {
            matches.push((file, n));
        }
    }
    for name in dirs {
        walk(&format!("{}/{name}", dir.trim_end_matches('/')), term, matches, unreadable);
    }
}

/// Lines as Python's text mode yields them (`\n`, `\r\n`, `\r`), each with
/// its newline.
fn universal_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let cut = match rest.find(['\n', '\r']) {
            None => rest.len(),
            Some(i) if rest[i..].starts_with("\r\n") => i + 2,
            Some(i) => i + 1,
        };
        let (line, tail) = rest.split_at(cut);
        rest = tail;
        Some(line)
    })
}

fn search_in_file(term: &str, file: &ToolPath) -> String {
    let filepath = &file.abs;
    let bytes = match fs::read(filepath) {
        Ok(b) => b,
        Err(e) => return format!("Error executing grep:\ngrep: {filepath}: {e}\n"),
    };
    let pattern = Bre::parse(term.as_bytes());
    let binary = bytes.contains(&0);
    let mut lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    if bytes.is_empty() || bytes.ends_with(b"\n") {
        // A final newline does not start another line.
        lines.pop();
    }
    let hits: Vec<String> = lines
        .iter()
        .enumerate()
        .filter(|(_, line)| pattern.is_match(line))
        .map(|(i, line)| format!("{}:{}", i + 1, String::from_utf8_lossy(line)))
        .collect();
    if hits.is_empty() {
        return format!("No matches found for \"{term}\" in {filepath}\n");
    }
    let body = if binary { format!("Binary file {filepath} matches") } else { hits.join("\n") };
    format!("Matches for \"{term}\" in {filepath}:\n{}\n", crate::pytext::py_strip(&body))
}

/// A POSIX basic regular expression as `grep` reads its pattern: literals,
/// `.`, `*`, `^`, `$`, bracket expressions, `\` escapes, and GNU's `\+`, `\?`.
/// Groups `\( \)` match their contents; intervals are taken literally.
#[derive(Debug, Clone)]
pub struct Bre {
    anchored_start: bool,
    anchored_end: bool,
    atoms: Vec<(Atom, Rep)>,
}

#[derive(Debug, Clone)]
enum Atom {
    Byte(u8),
    Any,
    Class { negated: bool, items: Vec<(u8, u8)> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rep {
    One,
    Star,
    Plus,
    Optional,
}

impl Atom {
    fn matches(&self, b: u8) -> bool {
        match self {
            Atom::Byte(x) => *x == b,
            Atom::Any => true,
            Atom::Class { negated, items } => items.iter().any(|(lo, hi)| (*lo..=*hi).contains(&b)) != *negated,
        }
    }
}

impl Bre {
    /// Parses a pattern; anything unparsable is taken literally.
    ///
    /// ```
    /// use entropo_tools_wasm::search::Bre;
    /// assert!(Bre::parse(b"def ad*").is_match(b"    def a(x):"));
    /// assert!(Bre::parse(b"^class [A-Z]").is_match(b"class Calc:"));
    /// assert!(!Bre::parse(b"x$").is_match(b"x y"));
    /// assert!(Bre::parse(b"a.b").is_match(b"a-b"));
    /// assert!(Bre::parse(b"a\\.b").is_match(b"a.b") && !Bre::parse(b"a\\.b").is_match(b"a-b"));
    /// ```
    pub fn parse(p: &[u8]) -> Bre {
        let mut i = 0;
        let anchored_start = p.first() == Some(&b'^');
        if anchored_start {
            i = 1;
        }
        let mut end = p.len();
        let anchored_end = end > i && p[end - 1] == b'$' && !(end >= 2 && p[end - 2] == b'\\');
        if anchored_end {
            end -= 1;
        }
        let mut atoms: Vec<(Atom, Rep)> = Vec::new();
        while i < end {
            let c = p[i];
            let atom = match c {
                b'.' => Atom::Any,
                b'*' if !atoms.is_empty() => {
                    atoms.last_mut().expect("checked").1 = Rep::Star;
                    i += 1;
                    continue;
                }
                b'\\' if i + 1 < end => {
                    i += 1;
                    match p[i] {
                        b'+' | b'?' if !atoms.is_empty() => {
                            atoms.last_mut().expect("checked").1 = if p[i] == b'+' { Rep::Plus } else { Rep::Optional };
                            i += 1;
                            continue;
                        }
                        b'(' | b')' => {
                            i += 1;
                            continue;
                        }
                        other => Atom::Byte(other),
                    }
                }
                b'[' => match parse_class(p, i, end) {
                    Some((atom, next)) => {
                        atoms.push((atom, Rep::One));
                        i = next;
                        continue;
                    }
                    None => Atom::Byte(b'['),
                },
                other => Atom::Byte(other),
            };
            atoms.push((atom, Rep::One));
            i += 1;
        }
        Bre { anchored_start, anchored_end, atoms }
    }

    /// Whether the pattern matches somewhere in `line`.
    pub fn is_match(&self, line: &[u8]) -> bool {
        if self.anchored_start {
            return self.match_at(0, line, 0);
        }
        (0..=line.len()).any(|s| self.match_at(0, line, s))
    }

    fn match_at(&self, k: usize, line: &[u8], pos: usize) -> bool {
        let Some((atom, rep)) = self.atoms.get(k) else {
            return !self.anchored_end || pos == line.len();
        };
        let (min, max) = match rep {
            Rep::One => (1, 1),
            Rep::Star => (0, usize::MAX),
            Rep::Plus => (1, usize::MAX),
            Rep::Optional => (0, 1),
        };
        let mut n = 0;
        while n < max && pos + n < line.len() && atom.matches(line[pos + n]) {
            n += 1;
        }
        if n < min {
            return false;
        }
        (min..=n).rev().any(|m| self.match_at(k + 1, line, pos + m))
    }
}

fn parse_class(p: &[u8], start: usize, end: usize) -> Option<(Atom, usize)> {
    let mut i = start + 1;
    let negated = p.get(i) == Some(&b'^');
    if negated {
        i += 1;
    }
    let mut items = Vec::new();
    let mut first = true;
    while i < end {
        let c = p[i];
        if c == b']' && !first {
            return Some((Atom::Class { negated, items }, i + 1));
        }
        first = false;
        if i + 2 < end && p[i + 1] == b'-' && p[i + 2] != b']' {
            items.push((c, p[i + 2]));
            i += 3;
        } else {
            items.push((c, c));
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relpaths() {
        assert_eq!(relpath("/testbed/a/b.py", "/testbed"), "./a/b.py");
        assert_eq!(relpath("/testbed/b.py", "/testbed/"), "./b.py");
    }

    #[test]
    fn lines() {
        let v: Vec<&str> = universal_lines("a\r\nb\rc\nd").collect();
        assert_eq!(v, vec!["a\r\n", "b\r", "c\n", "d"]);
    }

    #[test]
    fn bre_classes_and_reps() {
        assert!(Bre::parse(b"[^a-c]x").is_match(b"dx"));
        assert!(!Bre::parse(b"^[a-c]x").is_match(b"dx"));
        assert!(Bre::parse(b"ab\\+c").is_match(b"abbbc"));
        assert!(Bre::parse(b"a+b").is_match(b"a+b"));
        assert!(Bre::parse(b"").is_match(b"anything"));
    }
}
