//! A scripted teacher for the bundled suite: a stand-in for the teacher
//! model whose trajectories made the paper's SFT data.
//!
//! A [`Teacher`] is a [`Policy`] for one [`SuiteTask`]. It knows the gold
//! fix (from the task's patch) and works like a competent engineer in the
//! R2E scaffold: each reply is a short thought followed by exactly one R2E
//! function call. A typical run searches for the identifier the issue
//! names, views the buggy file (whole or a range), sometimes writes and runs
//! the issue's reproduction, `str_replace`s the buggy lines with the fixed
//! ones, runs the unit tests and submits.
//!
//! Everything optional is drawn from the seed: the extra steps (an overview
//! of the repository, a search of the tests, a look at the test file, the
//! reproduction before and after the fix), their order where it does not
//! matter, the wording of each thought, the test command. A share
//! [`TeacherConfig::imperfect_share`] of runs is planned imperfect (see
//! [`Flaw`]) so that the data holds unresolved trajectories too; every run
//! ends with `finish` (`command=submit`).
//!
//! The plan is fixed when the teacher is built ([`Teacher::plan`]). The
//! observations change it only where an engineer would react: an edit that
//! did not go through is retried with more context (a first try sometimes
//! uses the smallest snippet even when it is not unique), and a file that
//! came back as a condensed view is viewed again around the function. The
//! last thought says whether the tests it ran passed. So the same task,
//! seed and observations give the same replies, byte for byte.
//!
//! Imperfect runs never resolve a task of this crate's catalogue: the
//! flawed edits are kept away from the fix and from trivially equivalent
//! forms of it (`x - 0`, reordered operands), and `tests/teacher.rs` runs
//! every flawed edit that 60 seeds plan on every bug site and checks that a
//! test still fails. A run that reproduces the issue leaves
//! `reproduce_issue.py` in the repository (and so in the patch), as R2E-Gym
//! agents do.
//!
//! Token usage in the [`Reply`] is estimated at four characters a token.

use std::collections::VecDeque;
use std::fmt;
use std::path::PathBuf;

use entropo_core::agent::{Policy, PolicyError, Reply};
use entropo_core::types::{Message, Role};
use serde::{Deserialize, Serialize};

use crate::{ReproOutcome, SplitMix64, SuiteTask};

/// How a teacher's runs vary.
///
/// ```
/// use entropo_suite::teacher::TeacherConfig;
/// let c: TeacherConfig = serde_json::from_str(r#"{"imperfect_share": 0.5}"#).unwrap();
/// assert_eq!((c.imperfect_share, c.repro_share), (0.5, 0.5));
/// assert!(serde_json::from_str::<TeacherConfig>(r#"{"imperfect": 0.5}"#).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TeacherConfig {
    /// Share of runs planned imperfect (in `0..=1`; default 0.25).
    pub imperfect_share: f64,
    /// Share of runs that reproduce the issue before editing (in `0..=1`;
    /// default 0.5).
    pub repro_share: f64,
    /// Scales the chance of every optional look around (the repository
    /// root, the tests, the whole file rather than the function): 1 (the
    /// default) explores as a careful engineer does, 0 goes straight to the
    /// function, so runs are shorter (in `0..=1`).
    pub exploration: f64,
}

impl Default for TeacherConfig {
    fn default() -> Self {
        TeacherConfig {
            imperfect_share: 0.25,
            repro_share: 0.5,
            exploration: 1.0,
        }
    }
}

impl TeacherConfig {
    /// Checks that both shares lie in `0..=1`.
    ///
    /// ```
    /// use entropo_suite::teacher::TeacherConfig;
    /// assert!(TeacherConfig::default().validate().is_ok());
    /// let bad = TeacherConfig { imperfect_share: 1.5, ..TeacherConfig::default() };
    /// assert!(bad.validate().unwrap_err().to_string().contains("imperfect_share"));
    /// ```
    pub fn validate(&self) -> Result<(), TeacherError> {
        for (name, v) in [
            ("imperfect_share", self.imperfect_share),
            ("repro_share", self.repro_share),
            ("exploration", self.exploration),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(TeacherError::Config(format!(
                    "{name} must be in [0, 1], got {v}"
                )));
            }
        }
        Ok(())
    }
}

/// Why a teacher could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TeacherError {
    /// The configuration is out of range.
    #[error("invalid teacher config: {0}")]
    Config(String),
    /// The task's buggy file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The task cannot be scripted (no workspace or patch, a patch that does
    /// not apply to the buggy file…).
    #[error("task {task}: {message}")]
    Task {
        /// The task id.
        task: String,
        /// What is wrong.
        message: String,
    },
}

/// How an imperfect run goes wrong. Each still ends with `finish`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Flaw {
    /// A plausible but wrong change at the bug site: another operator or
    /// constant on the buggy line, or the missing guard added with
    /// `return None` as its body. Never the gold fix.
    WrongFix,
    /// A change to the nearest other line that has an operator or constant
    /// to change; the bug stays.
    WrongLine,
    /// Looks at the right code, then submits without editing.
    NoEdit,
    /// Reads unrelated files, then submits without editing.
    Wander,
}

impl Flaw {
    /// The kebab-case name.
    ///
    /// ```
    /// assert_eq!(entropo_suite::teacher::Flaw::WrongLine.as_str(), "wrong-line");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Flaw::WrongFix => "wrong-fix",
            Flaw::WrongLine => "wrong-line",
            Flaw::NoEdit => "no-edit",
            Flaw::Wander => "wander",
        }
    }
}

/// A `file_editor str_replace` edit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edit {
    /// The file, relative to the repository root.
    pub file: String,
    /// `old_str` as written in the call (whole lines, indentation kept).
    pub old_str: String,
    /// `new_str` as written in the call.
    pub new_str: String,
}

impl Edit {
    /// What the edit makes of `text`, as the tool does it: both values are
    /// stripped of surrounding white space (the R2E parser strips them) and
    /// `old_str` must occur exactly once; `None` otherwise.
    ///
    /// ```
    /// use entropo_suite::teacher::Edit;
    /// let e = Edit { file: "m.py".into(), old_str: "    return a - b\n".into(), new_str: "    return a + b\n".into() };
    /// assert_eq!(e.apply("def f(a, b):\n    return a - b\n").unwrap(), "def f(a, b):\n    return a + b\n");
    /// assert_eq!(e.apply("return a - b\nreturn a - b\n"), None);
    /// ```
    pub fn apply(&self, text: &str) -> Option<String> {
        let old = self.old_str.trim();
        if old.is_empty() || text.matches(old).count() != 1 {
            return None;
        }
        Some(text.replacen(old, self.new_str.trim(), 1))
    }
}

/// What a run is planned to do, fixed when the teacher is built.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// How the run goes wrong; `None` for a run that fixes the bug.
    pub flaw: Option<Flaw>,
    /// The edit the run makes (its final form, after any retry); `None` when
    /// it makes none.
    pub edit: Option<Edit>,
    /// The planned steps in order, one label each (`view-root`, `search`,
    /// `search-tests`, `view`, `view-range`, `view-tests`, `view-other`,
    /// `repro-create`, `repro-run`, `edit`, `verify`, `test`, `submit`). A
    /// retried edit or a zoom into a condensed view adds a step.
    pub outline: Vec<&'static str>,
}

impl Plan {
    /// Whether the run is planned imperfect.
    pub fn is_imperfect(&self) -> bool {
        self.flaw.is_some()
    }
}

impl fmt::Display for Plan {
    /// `perfect: search, view, edit, test, submit` or
    /// `wrong-fix: …`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = self.flaw.map_or("perfect", Flaw::as_str);
        write!(f, "{kind}: {}", self.outline.join(", "))
    }
}

/// The scripted teacher of one task (see the module docs).
///
/// ```
/// use entropo_core::agent::{Policy, parse_reply};
/// use entropo_core::types::{Message, Role};
/// use entropo_suite::teacher::{Teacher, TeacherConfig};
///
/// let dir = tempfile::tempdir().unwrap();
/// let suite = entropo_suite::generate(&entropo_suite::SuiteConfig { seed: 0, train: 1, test: 0 }, dir.path()).unwrap();
/// let config = TeacherConfig { imperfect_share: 0.0, ..TeacherConfig::default() };
/// let mut teacher = Teacher::new(&suite.train[0], 7, &config).unwrap();
/// assert!(!teacher.plan().is_imperfect());
/// assert_eq!(teacher.plan().outline.last(), Some(&"submit"));
/// // The gold edit turns the buggy file into the fixed one.
/// let edit = teacher.plan().edit.clone().unwrap();
/// let buggy = std::fs::read_to_string(suite.train[0].task.workspace.as_ref().unwrap().join(&edit.file)).unwrap();
/// assert!(edit.apply(&buggy).is_some());
///
/// let reply = teacher.respond(&[Message::new(Role::User, "the issue")]).unwrap();
/// let parsed = parse_reply(&reply.text, &[]);
/// assert!(!parsed.thought.is_empty() && parsed.action.starts_with("<function="));
/// assert_eq!(parsed.ignored_calls, 0);
/// ```
#[derive(Debug)]
pub struct Teacher {
    plan: Plan,
    moves: VecDeque<Move>,
    /// What to check in the observation of the move just made.
    pending: FollowUp,
}

impl Teacher {
    /// The teacher of `task` for run `seed`. Reads the buggy file from the
    /// task's workspace and applies the gold patch to it in memory.
    pub fn new(
        task: &SuiteTask,
        seed: u64,
        config: &TeacherConfig,
    ) -> Result<Teacher, TeacherError> {
        config.validate()?;
        let mut rng = SplitMix64::derive(seed, task_stream(&task.task.instance_id), 0x7eac);
        // The first draw decides imperfection alone, so its share is exact
        // in expectation whatever the task.
        let imperfect = unit(&mut rng) < config.imperfect_share;
        let site = Site::load(task)?;
        Builder::new(site, rng, config).build(imperfect)
    }

    /// What this run is planned to do.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }
}

impl Policy for Teacher {
    fn respond(&mut self, messages: &[Message]) -> Result<Reply, PolicyError> {
        let last = messages
            .last()
            .filter(|m| m.role == Role::User)
            .map_or("", |m| m.content.as_str());
        match std::mem::replace(&mut self.pending, FollowUp::None) {
            FollowUp::Retry(m) if !last.contains("has been edited") => self.moves.push_front(*m),
            FollowUp::Zoom(m) if last.contains("condensed view") => self.moves.push_front(*m),
            _ => {}
        }
        let mv = self.moves.pop_front().unwrap_or_else(|| Move {
            thought: "Submitting.".into(),
            if_failed: None,
            call: Call::new("finish").with("command", "submit"),
            follow_up: FollowUp::None,
        });
        let thought = match mv.if_failed {
            Some(alt) if tests_failed(last) => alt,
            _ => mv.thought,
        };
        self.pending = mv.follow_up;
        let text = format!("{thought}\n\n{}", mv.call.render());
        let prompt_chars: usize = messages.iter().map(|m| m.content.chars().count()).sum();
        Ok(Reply {
            prompt_tokens: estimate_tokens(prompt_chars),
            completion_tokens: estimate_tokens(text.chars().count()),
            text,
        })
    }
}

/// About four characters a token: the usage a tokenizer would report,
/// roughly.
fn estimate_tokens(chars: usize) -> u64 {
    chars.div_ceil(4) as u64
}

/// Whether an observation shows a failing test run or a crash.
fn tests_failed(observation: &str) -> bool {
    observation.contains("FAILED (") || observation.contains("Traceback (most recent call last)")
}

/// FNV-1a of a task id: the task's sub-stream of a seed.
fn task_stream(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A uniform draw in `[0, 1)`.
fn unit(rng: &mut SplitMix64) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// One function call.
#[derive(Debug)]
struct Call {
    name: &'static str,
    params: Vec<(&'static str, String)>,
}

impl Call {
    fn new(name: &'static str) -> Call {
        Call {
            name,
            params: Vec::new(),
        }
    }

    fn with(mut self, key: &'static str, value: impl Into<String>) -> Call {
        self.params.push((key, value.into()));
        self
    }

    /// R2E's format; a value of several lines starts on its own line.
    fn render(&self) -> String {
        let mut s = format!("<function={}>\n", self.name);
        for (k, v) in &self.params {
            let v = v.trim_end_matches('\n');
            if v.contains('\n') {
                s.push_str(&format!("<parameter={k}>\n{v}\n</parameter>\n"));
            } else {
                s.push_str(&format!("<parameter={k}>{v}</parameter>\n"));
            }
        }
        s.push_str("</function>");
        s
    }
}

/// What to do depending on a move's observation.
#[derive(Debug)]
enum FollowUp {
    None,
    /// If the edit did not go through, this one (the same edit with more
    /// context).
    Retry(Box<Move>),
    /// If the file came back as a condensed view, this range view.
    Zoom(Box<Move>),
}

/// One planned reply.
#[derive(Debug)]
struct Move {
    thought: String,
    /// The thought used instead when the previous observation shows failing
    /// tests.
    if_failed: Option<String>,
    call: Call,
    follow_up: FollowUp,
}

/// A line-level change: `removed` lines from line `at` (0-based) replaced
/// by `added`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Change {
    at: usize,
    removed: Vec<String>,
    added: Vec<String>,
}

fn split_lines(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

/// The smallest change of whole lines turning `before` into `after`.
fn line_change(before: &str, after: &str) -> Change {
    let a = split_lines(before);
    let b = split_lines(after);
    let (prefix, suffix) = crate::render::common_ends(&a, &b);
    Change {
        at: prefix,
        removed: a[prefix..a.len() - suffix]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        added: b[prefix..b.len() - suffix]
            .iter()
            .map(|s| s.to_string())
            .collect(),
    }
}

/// Applies a unified diff's hunks for one file to `text`.
fn apply_patch(text: &str, patch: &str) -> Option<String> {
    let mut lines: Vec<String> = split_lines(text).into_iter().map(String::from).collect();
    let mut hunks = Vec::new();
    let mut rows = patch.lines().peekable();
    while let Some(row) = rows.next() {
        let Some(header) = row.strip_prefix("@@ -") else {
            continue;
        };
        let (start, len) = header
            .split(' ')
            .next()?
            .split_once(',')
            .unwrap_or((header, "1"));
        let (start, len): (usize, usize) = (start.parse().ok()?, len.parse().ok()?);
        let (mut old, mut new) = (Vec::new(), Vec::new());
        while let Some(body) = rows.next_if(|r| r.starts_with([' ', '-', '+'])) {
            let line = format!("{}\n", &body[1..]);
            match body.as_bytes()[0] {
                b' ' => {
                    old.push(line.clone());
                    new.push(line);
                }
                b'-' => old.push(line),
                _ => new.push(line),
            }
        }
        let at = if len == 0 {
            start
        } else {
            start.checked_sub(1)?
        };
        hunks.push((at, old, new));
    }
    if hunks.is_empty() {
        return None;
    }
    for (at, old, new) in hunks.into_iter().rev() {
        if lines.get(at..at + old.len())? != old.as_slice() {
            return None;
        }
        lines.splice(at..at + old.len(), new);
    }
    Some(lines.concat())
}

/// The smallest `str_replace` turning `before` into `after`: a block of
/// whole lines around the change, widened (preceding lines first) until its
/// stripped text occurs once and the tool's replacement gives `after`.
/// Returns that edit and the "sloppy" first attempt: the block without
/// widening for uniqueness (the same edit when it is already unique).
fn minimal_edit(file: &str, before: &str, after: &str) -> Option<(Edit, Edit)> {
    let a = split_lines(before);
    let b = split_lines(after);
    let c = line_change(before, after);
    let (prefix, suffix) = (c.at, a.len() - c.at - c.removed.len());
    let block = |k: usize, j: usize| Edit {
        file: file.to_string(),
        old_str: a[prefix - k..prefix + c.removed.len() + j].concat(),
        new_str: b[prefix - k..prefix + c.added.len() + j].concat(),
    };
    let mut sloppy = None;
    for w in 0..=a.len() {
        for k in (0..=w).rev() {
            let j = w - k;
            if k > prefix || j > suffix {
                continue;
            }
            let edit = block(k, j);
            let old = edit.old_str.trim();
            if old.is_empty() || !same_trim(&edit.old_str, &edit.new_str) {
                continue;
            }
            let first = sloppy.get_or_insert_with(|| edit.clone()).clone();
            if edit.apply(before).as_deref() == Some(after) {
                return Some((edit, first));
            }
        }
    }
    None
}

/// Whether stripping both texts removes the same leading and trailing
/// white space, so the stripped replacement equals the intended one.
fn same_trim(old: &str, new: &str) -> bool {
    let lead = |s: &str| s.len() - s.trim_start().len();
    let trail = |s: &str| s.len() - s.trim_end().len();
    old[..lead(old)] == new[..lead(new)]
        && old[old.len() - trail(old)..] == new[new.len() - trail(new)..]
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// The last line (inclusive) of the block opened by line `start`.
fn block_end(lines: &[&str], start: usize) -> usize {
    let base = indent(lines[start]);
    let mut end = start;
    for (i, line) in lines.iter().enumerate().skip(start + 1) {
        if line.trim().is_empty() {
            continue;
        }
        if indent(line) <= base {
            break;
        }
        end = i;
    }
    end
}

/// The `def` whose body holds line `at` (or that is line `at`).
fn enclosing_def(lines: &[&str], at: usize) -> Option<usize> {
    let at = at.min(lines.len().saturating_sub(1));
    if lines[at].trim_start().starts_with("def ") {
        return Some(at);
    }
    let ind = indent(lines[at]);
    (0..at).rev().find(|&i| {
        lines[i].trim_start().starts_with("def ")
            && indent(lines[i]) < ind
            && block_end(lines, i) >= at
    })
}

/// Where `name` is defined as a function or class: the line and the
/// keyword.
fn definition(lines: &[&str], name: &str) -> Option<(usize, &'static str)> {
    lines.iter().enumerate().find_map(|(i, l)| {
        let t = l.trim_start();
        ["def", "class"].into_iter().find_map(|kw| {
            let rest = t.strip_prefix(kw)?.strip_prefix(' ')?.strip_prefix(name)?;
            rest.starts_with(['(', ':']).then_some((i, kw))
        })
    })
}

/// Identifiers written after a `.` in a script, in order, without repeats.
fn attribute_names(script: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, _) in script.match_indices('.') {
        let name: String = script[i + 1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') && !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// Single-token substitutions a hurried engineer might try on a line of
/// code: `(start, end, replacement)` byte ranges outside strings and
/// comments. Operators must stand between spaces (so `[-1]` is left alone);
/// integers must not be part of a name or a float.
fn mutations(line: &str) -> Vec<(usize, usize, String)> {
    const OPS: [(&str, &[&str]); 6] = [
        ("<=", &["<", ">="]),
        (">=", &[">", "<="]),
        ("<", &["<=", ">"]),
        (">", &[">=", "<"]),
        ("+", &["-"]),
        ("-", &["+"]),
    ];
    let b = line.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut out = Vec::new();
    let mut quote = None;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if let Some(q) = quote {
            if c == b'\\' {
                i += 1;
            } else if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        match c {
            b'"' | b'\'' => quote = Some(c),
            b'#' => break,
            b' ' => {
                if let Some((op, reps)) = OPS.iter().find(|(op, _)| {
                    line[i + 1..].starts_with(op) && b.get(i + 1 + op.len()) == Some(&b' ')
                }) {
                    for r in *reps {
                        out.push((i + 1, i + 1 + op.len(), r.to_string()));
                    }
                    i += op.len();
                }
            }
            _ if word(c) && (i == 0 || !word(b[i - 1])) => {
                let end = (i..b.len()).find(|&j| !word(b[j])).unwrap_or(b.len());
                let token = &line[i..end];
                let float = (i > 0 && b[i - 1] == b'.') || b.get(end) == Some(&b'.');
                if let Ok(n) = token.parse::<u64>() {
                    // `x - 1` → `x - 0` would drop the term, the very fix
                    // of an off-by-one.
                    let additive = line[..i].ends_with("+ ") || line[..i].ends_with("- ");
                    if !float {
                        out.push((i, end, (n + 1).to_string()));
                        if n > 1 || (n == 1 && !additive) {
                            out.push((i, end, (n - 1).to_string()));
                        }
                    }
                } else {
                    let swap = match token {
                        "and" => Some("or"),
                        "or" => Some("and"),
                        "True" => Some("False"),
                        "False" => Some("True"),
                        _ => None,
                    };
                    if let Some(s) = swap {
                        out.push((i, end, s.to_string()));
                    }
                }
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// The tokens of a line of code, sorted: names, numbers and single
/// punctuation characters.
fn tokens(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    for c in line.chars() {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        if !c.is_whitespace() {
            out.push(c.to_string());
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out.sort();
    out
}

/// The differing parts of two versions of a line, widened to white space
/// and to balanced brackets, without a trailing `,` or `:`:
/// `("<", "<=")` for `if a < b:` → `if a <= b:`.
fn fragments(before: &str, after: &str) -> (String, String) {
    let (x, y) = (before.trim_end().as_bytes(), after.trim_end().as_bytes());
    let mut start = x.iter().zip(y).take_while(|(a, b)| a == b).count();
    // Bytes of the common suffix left outside the fragments.
    let mut suffix = x[start..]
        .iter()
        .rev()
        .zip(y[start..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let floor = indent(before).min(start);
    loop {
        let (old_start, old_suffix) = (start, suffix);
        while start > floor && x[start - 1] != b' ' {
            start -= 1;
        }
        while suffix > 0 && x[x.len() - suffix] != b' ' {
            suffix -= 1;
        }
        // Unmatched closing (left) and opening (right) brackets.
        let unmatched = |v: &[u8]| {
            let (mut depth, mut low) = (0i32, 0i32);
            for &c in v {
                depth += match c {
                    b'(' | b'[' | b'{' => 1,
                    b')' | b']' | b'}' => -1,
                    _ => 0,
                };
                low = low.min(depth);
            }
            (low < 0, depth > low)
        };
        let (lx, rx) = unmatched(&x[start..x.len() - suffix]);
        let (ly, ry) = unmatched(&y[start..y.len() - suffix]);
        if (lx || ly) && start > floor {
            start -= 1;
        } else if (rx || ry) && suffix > 0 {
            suffix -= 1;
        }
        if (start, suffix) == (old_start, old_suffix) {
            break;
        }
    }
    let cut = |v: &[u8]| String::from_utf8_lossy(&v[start..v.len() - suffix]).into_owned();
    let (mut a, mut b) = (cut(x), cut(y));
    for end in [',', ':'] {
        if a.len() > 1 && b.len() > 1 && a.ends_with(end) && b.ends_with(end) {
            a.pop();
            b.pop();
        }
    }
    (a, b)
}

/// A repro outcome in words: "`25.0`", "a `ValueError`".
fn outcome_words(o: &ReproOutcome) -> String {
    match o {
        ReproOutcome::Value(v) => {
            let quoted = v.len() >= 2 && (v.starts_with('\'') && v.ends_with('\''));
            format!("`{}`", if quoted { &v[1..v.len() - 1] } else { v })
        }
        ReproOutcome::Raises(e) => {
            let an = e.starts_with(['A', 'E', 'I', 'O', 'U']);
            format!("{} `{e}`", if an { "an" } else { "a" })
        }
    }
}

/// Everything about the task the plan is made from.
struct Site {
    id: String,
    mount: String,
    /// The buggy file, relative to the root.
    file: String,
    module: String,
    buggy: String,
    fixed: String,
    /// The identifier the issue names, its keyword (`def` / `class`) and
    /// its definition's head (`def median(`, `class Cart:`).
    name: String,
    keyword: &'static str,
    head: String,
    /// The function holding the bug: first and last line, 0-based.
    func: (usize, usize),
    script: String,
    expected: String,
    actual: String,
    fail_to_pass: Vec<String>,
    /// Other files of the repository worth a look, relative to the root.
    others: Vec<String>,
}

impl Site {
    fn load(t: &SuiteTask) -> Result<Site, TeacherError> {
        let err = |message: String| TeacherError::Task {
            task: t.task.instance_id.clone(),
            message,
        };
        let workspace = t
            .task
            .workspace
            .as_ref()
            .ok_or_else(|| err("no workspace".into()))?;
        let patch = t
            .task
            .patch
            .as_deref()
            .ok_or_else(|| err("no gold patch".into()))?;
        let file = t.meta.file.clone();
        if !patch.contains(&format!("--- a/{file}\n")) {
            return Err(err(format!("the gold patch does not change {file}")));
        }
        let path = workspace.join(&file);
        let buggy =
            std::fs::read_to_string(&path).map_err(|source| TeacherError::Io { path, source })?;
        let fixed = apply_patch(&buggy, patch)
            .ok_or_else(|| err(format!("the gold patch does not apply to {file}")))?;
        if fixed == buggy {
            return Err(err("the gold patch changes nothing".into()));
        }
        let (pkg, module) = file
            .strip_suffix(".py")
            .and_then(|f| f.rsplit_once('/'))
            .ok_or_else(|| err(format!("{file} is not a module of a package")))?;
        let lines = split_lines(&buggy);
        let at = line_change(&buggy, &fixed).at;
        let def = enclosing_def(&lines, at)
            .ok_or_else(|| err(format!("no function holds line {} of {file}", at + 1)))?;
        let func = (def, block_end(&lines, def));
        // The name the issue uses: of those its reproduction calls, the one
        // defined innermost around the bug, else the first defined, else the
        // function itself.
        let defined: Vec<(String, usize, &'static str)> = attribute_names(&t.meta.repro.script)
            .into_iter()
            .filter_map(|n| definition(&lines, &n).map(|(i, kw)| (n, i, kw)))
            .collect();
        let around = defined
            .iter()
            .filter(|(_, i, _)| *i <= at && block_end(&lines, *i) >= at)
            .max_by_key(|(_, i, _)| *i);
        let (name, keyword, line) = match around.or(defined.first()) {
            Some((n, i, kw)) => (n.clone(), *kw, *i),
            None => {
                let t = lines[def].trim_start().trim_start_matches("def ");
                (t[..t.find('(').unwrap_or(t.len())].to_string(), "def", def)
            }
        };
        // `def name(` or `class Name:`, as written.
        let head = lines[line]
            .trim_start()
            .chars()
            .take(keyword.len() + name.len() + 2)
            .collect();
        let mut modules: Vec<&str> = t
            .task
            .pass_to_pass
            .iter()
            .chain(&t.task.fail_to_pass)
            .filter_map(|id| id.strip_prefix("tests.test_")?.split('.').next())
            .filter(|m| *m != module)
            .collect();
        modules.sort_unstable();
        modules.dedup();
        let mut others: Vec<String> = modules
            .iter()
            .flat_map(|m| [format!("{pkg}/{m}.py"), format!("tests/test_{m}.py")])
            .collect();
        others.push(format!("{pkg}/__init__.py"));
        Ok(Site {
            id: t.task.instance_id.clone(),
            mount: t.task.mount_at.trim_end_matches('/').to_string(),
            module: module.to_string(),
            buggy: buggy.clone(),
            fixed,
            name,
            keyword,
            head,
            func,
            script: t.meta.repro.script.clone(),
            expected: outcome_words(&t.meta.repro.expected),
            actual: outcome_words(&t.meta.repro.actual),
            fail_to_pass: t.task.fail_to_pass.clone(),
            others,
            file,
        })
    }

    fn abs(&self, rel: &str) -> String {
        format!("{}/{rel}", self.mount)
    }

    fn test_file(&self) -> String {
        format!("tests/test_{}.py", self.module)
    }
}

/// What a run turns the buggy file into, and the edits that do it.
struct Target {
    change: Change,
    /// The edit that makes the change (old text unique).
    careful: Edit,
    /// A first try that may not be unique (the same edit when it is).
    sloppy: Edit,
}

/// Makes the plan and its moves.
struct Builder<'a> {
    site: Site,
    rng: SplitMix64,
    config: &'a TeacherConfig,
    moves: Vec<Move>,
    outline: Vec<&'static str>,
    /// Said at the start of the next thought (about the last observation).
    note: Option<String>,
}

const REPRO_FILE: &str = "reproduce_issue.py";

/// Outcomes longer than this together are not quoted in a thought.
const LONG: usize = 60;

impl<'a> Builder<'a> {
    fn new(site: Site, rng: SplitMix64, config: &'a TeacherConfig) -> Builder<'a> {
        Builder {
            site,
            rng,
            config,
            moves: Vec::new(),
            outline: Vec::new(),
            note: None,
        }
    }

    fn chance(&mut self, p: f64) -> bool {
        unit(&mut self.rng) < p
    }

    /// Whether to take an optional look around ([`TeacherConfig::exploration`]).
    fn detour(&mut self, p: f64) -> bool {
        let p = p * self.config.exploration;
        self.chance(p)
    }

    /// One of `options`, with `{name}`, `{file}`, `{test_file}`,
    /// `{expected}`, `{actual}` and the `extra` pairs filled in.
    fn say(&mut self, options: &[&str], extra: &[(&str, &str)]) -> String {
        let mut s = self.rng.pick(options).to_string();
        let test_file = self.site.test_file();
        let site = [
            ("name", self.site.name.as_str()),
            ("file", self.site.file.as_str()),
            ("test_file", test_file.as_str()),
            ("expected", self.site.expected.as_str()),
            ("actual", self.site.actual.as_str()),
        ];
        for (k, v) in extra.iter().chain(&site) {
            s = s.replace(&format!("{{{k}}}"), v);
        }
        s
    }

    fn make(&mut self, thought: String, call: Call) -> Move {
        let thought = match self.note.take() {
            Some(note) => format!("{note} {thought}"),
            None => thought,
        };
        Move {
            thought,
            if_failed: None,
            call,
            follow_up: FollowUp::None,
        }
    }

    fn push(&mut self, label: &'static str, mv: Move) {
        self.outline.push(label);
        self.moves.push(mv);
    }

    fn view_call(&self, rel: Option<&str>, range: Option<(usize, usize)>) -> Call {
        let path = rel.map_or_else(|| self.site.mount.clone(), |r| self.site.abs(r));
        let call = Call::new("file_editor")
            .with("command", "view")
            .with("path", path);
        match range {
            Some((a, b)) => call.with("view_range", format!("[{a}, {b}]")),
            None => call,
        }
    }

    /// The function's lines (1-based), with a few lines of margin drawn.
    fn func_range(&mut self) -> (usize, usize) {
        let total = split_lines(&self.site.buggy).len();
        let (first, last) = self.site.func;
        let (before, after) = (self.rng.below(3), self.rng.below(4));
        (
            (first + 1).saturating_sub(before).max(1),
            (last + 1 + after).min(total),
        )
    }

    fn build(mut self, imperfect: bool) -> Result<Teacher, TeacherError> {
        let flaw = imperfect.then(|| {
            *self.rng.pick(&[
                Flaw::WrongFix,
                Flaw::WrongFix,
                Flaw::WrongLine,
                Flaw::NoEdit,
                Flaw::Wander,
            ])
        });
        let gold = self
            .target(&self.site.fixed)
            .ok_or_else(|| TeacherError::Task {
                task: self.site.id.clone(),
                message: format!("no str_replace makes the gold fix of {}", self.site.file),
            })?;
        let (flaw, target) = match flaw {
            None => (None, Some(gold)),
            Some(Flaw::WrongFix) => match self.wrong_fix() {
                Some(t) => (Some(Flaw::WrongFix), Some(t)),
                None => self.wrong_line_or_no_edit(),
            },
            Some(Flaw::WrongLine) => self.wrong_line_or_no_edit(),
            Some(other) => (Some(other), None),
        };
        let edit = match (flaw, target) {
            (Some(Flaw::Wander), _) => {
                self.wander();
                None
            }
            (_, None) => {
                self.no_edit();
                None
            }
            (flaw, Some(target)) => Some(self.editing_run(flaw, target)),
        };
        let plan = Plan {
            flaw,
            edit,
            outline: self.outline,
        };
        Ok(Teacher {
            plan,
            moves: self.moves.into(),
            pending: FollowUp::None,
        })
    }

    /// The target for the file `after`, if a `str_replace` can make it.
    fn target(&self, after: &str) -> Option<Target> {
        let (careful, sloppy) = minimal_edit(&self.site.file, &self.site.buggy, after)?;
        Some(Target {
            change: line_change(&self.site.buggy, after),
            careful,
            sloppy,
        })
    }

    /// Another operator or constant where the buggy line and the fixed one
    /// differ (a change of either that is neither), or the missing guard
    /// returning `None`.
    fn wrong_fix(&mut self) -> Option<Target> {
        let gold = line_change(&self.site.buggy, &self.site.fixed);
        let lines = split_lines(&self.site.buggy);
        let mut pool = Vec::new();
        for (k, (buggy, fixed)) in gold.removed.iter().zip(&gold.added).enumerate() {
            for (line, other) in [(buggy, fixed), (fixed, buggy)] {
                // The bytes of `line` that differ from `other`.
                let (x, y) = (line.as_bytes(), other.as_bytes());
                let p = x.iter().zip(y).take_while(|(a, b)| a == b).count();
                let s = x[p..]
                    .iter()
                    .rev()
                    .zip(y[p..].iter().rev())
                    .take_while(|(a, b)| a == b)
                    .count();
                let span_end = x.len() - s;
                for (start, end, rep) in mutations(line) {
                    if start > span_end || end < p {
                        continue;
                    }
                    let wrong = format!("{}{rep}{}", &line[..start], &line[end..]);
                    // Neither side, nor the fix's tokens reordered (`a + b`
                    // for `b + a`).
                    if wrong == *buggy || tokens(&wrong) == tokens(fixed) {
                        continue;
                    }
                    let mut out: Vec<&str> = lines.clone();
                    out[gold.at + k] = &wrong;
                    pool.push(out.concat());
                }
            }
        }
        pool.sort();
        pool.dedup();
        self.rng.shuffle(&mut pool);
        if let Some(t) = pool.iter().find_map(|after| self.target(after)) {
            return Some(t);
        }
        // A guard added with the wrong body.
        if !gold.removed.is_empty()
            || gold.added.len() < 2
            || !gold.added[0].trim_end().ends_with(':')
        {
            return None;
        }
        let body_indent = " ".repeat(indent(&gold.added[1]));
        let wrong = [gold.added[0].clone(), format!("{body_indent}return None\n")];
        if wrong[..] == gold.added[..] {
            return None;
        }
        let mut out: Vec<&str> = lines[..gold.at].to_vec();
        out.extend(wrong.iter().map(String::as_str));
        out.extend(&lines[gold.at..]);
        self.target(&out.concat())
    }

    /// The first mutation of the nearest code line of the same function
    /// outside the bug (earlier lines first on ties), if any.
    fn wrong_line(&self) -> Option<Target> {
        let gold = line_change(&self.site.buggy, &self.site.fixed);
        let lines = split_lines(&self.site.buggy);
        let (lo, hi) = (gold.at, gold.at + gold.removed.len());
        let (first, last) = self.site.func;
        let mut in_doc = false;
        let mut code = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let quotes = line.matches("\"\"\"").count();
            if !in_doc
                && quotes == 0
                && (first..=last).contains(&i)
                && !(lo..hi).contains(&i)
                && !line.trim_start().starts_with('#')
            {
                code.push(i);
            }
            in_doc ^= quotes % 2 == 1;
        }
        let distance = |i: usize| if i < lo { (lo - i, 0) } else { (i + 1 - hi, 1) };
        code.sort_by_key(|&i| distance(i));
        code.into_iter().find_map(|i| {
            let (start, end, rep) = mutations(lines[i]).into_iter().next()?;
            let mut out: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
            out[i] = format!("{}{rep}{}", &lines[i][..start], &lines[i][end..]);
            self.target(&out.concat())
        })
    }

    fn wrong_line_or_no_edit(&mut self) -> (Option<Flaw>, Option<Target>) {
        match self.wrong_line() {
            Some(t) => (Some(Flaw::WrongLine), Some(t)),
            None => (Some(Flaw::NoEdit), None),
        }
    }

    fn view_root(&mut self) {
        let thought = self.say(
            &[
                "Let me get an overview of the repository first.",
                "I'll start by looking at the repository layout.",
                "First, a quick look at how the repository is organised.",
            ],
            &[],
        );
        let mv = self.make(thought, self.view_call(None, None));
        self.push("view-root", mv);
    }

    fn search(&mut self) {
        let thought = self.say(
            &[
                "Let me find where `{name}` is defined.",
                "I'll search the code for `{name}`.",
                "First I need to locate `{name}` in the repository.",
                "The issue is about `{name}`; let me find its definition.",
            ],
            &[],
        );
        let term = match self.rng.below(3) {
            0 => self.site.name.clone(),
            1 => format!("{} {}", self.site.keyword, self.site.name),
            _ => self.site.head.clone(),
        };
        let mut call = Call::new("search").with("search_term", term);
        match self.rng.below(3) {
            0 => {}
            1 => call = call.with("path", self.site.mount.clone()),
            _ => {
                let pkg = self
                    .site
                    .file
                    .rsplit_once('/')
                    .map_or("", |(p, _)| p)
                    .to_string();
                call = call.with("path", self.site.abs(&pkg));
            }
        }
        let mv = self.make(thought, call);
        self.push("search", mv);
    }

    fn search_tests(&mut self) {
        let thought = self.say(
            &[
                "Let me also see where the tests use `{name}`.",
                "I'll check which tests cover `{name}`.",
            ],
            &[],
        );
        let call = Call::new("search")
            .with("search_term", self.site.name.clone())
            .with("path", self.site.abs("tests"));
        let mv = self.make(thought, call);
        self.push("search-tests", mv);
    }

    /// Views the buggy file, whole or around the function; `extra` widens
    /// the range to hold that line (0-based) too.
    fn view_file(&mut self, whole: bool, extra: Option<usize>) {
        let (mut a, mut b) = self.func_range();
        if let Some(i) = extra {
            let total = split_lines(&self.site.buggy).len();
            a = a.min((i + 1).saturating_sub(2).max(1));
            b = b.max((i + 3).min(total));
        }
        let (sa, sb) = (a.to_string(), b.to_string());
        let range = [("a", sa.as_str()), ("b", sb.as_str())];
        let file = self.site.file.clone();
        if whole {
            let thought = self.say(
                &[
                    "`{name}` is defined in {file}. Let me read that file.",
                    "Found it in {file}; let me view the whole module.",
                    "Let me open {file} to see `{name}` in context.",
                ],
                &[],
            );
            let zoom_thought = self.say(
                &[
                    "That was only a condensed view; let me look at `{name}` itself (lines {a}-{b}).",
                    "The file is long, so let me view lines {a}-{b} where `{name}` is.",
                ],
                &range,
            );
            let mut mv = self.make(thought, self.view_call(Some(&file), None));
            let zoom = self.make(zoom_thought, self.view_call(Some(&file), Some((a, b))));
            mv.follow_up = FollowUp::Zoom(Box::new(zoom));
            self.push("view", mv);
        } else {
            let thought = self.say(
                &[
                    "`{name}` is in {file}; let me look at lines {a}-{b}.",
                    "Let me view the definition of `{name}` in {file} (lines {a}-{b}).",
                    "I'll look at the code of `{name}` around lines {a}-{b}.",
                ],
                &range,
            );
            let mv = self.make(thought, self.view_call(Some(&file), Some((a, b))));
            self.push("view-range", mv);
        }
    }

    fn view_tests(&mut self) {
        let thought = self.say(
            &[
                "Let me see what the tests expect from `{name}`.",
                "Before changing anything, I'll read {test_file} to see the expected behaviour.",
            ],
            &[],
        );
        let test_file = self.site.test_file();
        let mv = self.make(thought, self.view_call(Some(&test_file), None));
        self.push("view-tests", mv);
    }

    /// Writes the issue's example to a script and runs it.
    fn reproduce(&mut self) {
        let thought = self.say(
            &[
                "I'll put the example from the issue into reproduce_issue.py to confirm the bug.",
                "Let me reproduce the issue first with the snippet from the report.",
                "To confirm the problem, I'll write the issue's example to a script.",
            ],
            &[],
        );
        let call = Call::new("file_editor")
            .with("command", "create")
            .with("path", self.site.abs(REPRO_FILE))
            .with("file_text", self.site.script.clone());
        let mv = self.make(thought, call);
        self.push("repro-create", mv);
        let thought = self.say(
            &[
                "Now let me run it.",
                "Running the reproduction script.",
                "Let me run the script.",
            ],
            &[],
        );
        let mv = self.make(
            thought,
            Call::new("execute_bash").with("cmd", format!("python3 {REPRO_FILE}")),
        );
        self.push("repro-run", mv);
        let options: &[&str] = if self.site.actual.len() + self.site.expected.len() > LONG {
            &[
                "The output matches the report, so the bug is confirmed.",
                "That reproduces the problem described in the issue.",
            ]
        } else {
            &[
                "It gives {actual} instead of {expected}, so the bug is confirmed.",
                "The script shows the problem: {actual} where {expected} is expected.",
                "Confirmed: {actual} rather than {expected}.",
            ]
        };
        self.note = Some(self.say(options, &[]));
    }

    /// The thought of an edit: what is wrong and what it becomes.
    fn diagnose(&mut self, change: &Change) -> String {
        let line = (change.at + 1).to_string();
        match (change.removed.as_slice(), change.added.as_slice()) {
            ([before], [after]) => {
                let (a, b) = fragments(before, after);
                self.say(
                    &[
                        "The bug is on line {line}: `{a}` should be `{b}`.",
                        "Line {line} is wrong: it has `{a}` where it needs `{b}`. Let me fix that.",
                        "I see the problem: on line {line}, `{a}` should read `{b}`.",
                    ],
                    &[("line", &line), ("a", &a), ("b", &b)],
                )
            }
            ([], [guard, body @ ..]) if !body.is_empty() => {
                let body: Vec<&str> = body.iter().map(|l| l.trim()).collect();
                let body = body.join(" ");
                self.say(
                    &[
                        "`{name}` does not handle this input. I'll add `{guard}` with `{body}` before line {line}.",
                        "The check for this case is missing; let me add `{guard}` → `{body}` at line {line}.",
                    ],
                    &[("line", &line), ("guard", guard.trim()), ("body", &body)],
                )
            }
            _ => self.say(
                &[
                    "The code from line {line} is wrong; let me rewrite it.",
                    "Lines from {line} on need changing; let me fix them.",
                ],
                &[("line", &line)],
            ),
        }
    }

    /// Explores, edits the file into `target`, checks, submits; returns the
    /// edit made.
    fn editing_run(&mut self, flaw: Option<Flaw>, target: Target) -> Edit {
        let perfect = flaw.is_none();
        if self.detour(0.3) {
            self.view_root();
        }
        let repro = self.chance(self.config.repro_share);
        let repro_first = repro && self.chance(0.3);
        if repro_first {
            self.reproduce();
        }
        self.search();
        if self.detour(0.2) {
            self.search_tests();
        }
        let whole = self.detour(0.5);
        let wrong_line = (flaw == Some(Flaw::WrongLine)).then_some(target.change.at);
        self.view_file(whole, wrong_line);
        // Optional steps whose order does not matter: `true` reproduces,
        // `false` views the tests.
        let mut extras = Vec::new();
        if repro && !repro_first {
            extras.push(true);
        }
        if self.detour(0.25) {
            extras.push(false);
        }
        self.rng.shuffle(&mut extras);
        for reproduce in extras {
            match reproduce {
                true => self.reproduce(),
                false => self.view_tests(),
            }
        }
        let edit = self.edit(&target);
        // Checks.
        if repro && self.chance(0.8) {
            let thought = self.say(
                &[
                    "Let me rerun the reproduction script to check the fix.",
                    "Now the script should print the expected result; let me check.",
                ],
                &[],
            );
            let mv = self.make(
                thought,
                Call::new("execute_bash").with("cmd", format!("python3 {REPRO_FILE}")),
            );
            self.push("verify", mv);
        } else if !repro && self.chance(0.3) {
            let thought = self.say(
                &[
                    "Let me check the issue's example against the change.",
                    "A quick check with the snippet from the issue.",
                ],
                &[],
            );
            let cmd = format!("python3 - <<'EOF'\n{}EOF", self.site.script);
            let mv = self.make(thought, Call::new("execute_bash").with("cmd", cmd));
            self.push("verify", mv);
        }
        if perfect && self.outline.last() == Some(&"verify") {
            let options: &[&str] = if self.site.expected.len() > LONG / 2 {
                &[
                    "The example now gives the expected result.",
                    "The output is now what the issue expects.",
                ]
            } else {
                &[
                    "The example now gives {expected}.",
                    "That matches the expected {expected}.",
                ]
            };
            self.note = Some(self.say(options, &[]));
        }
        let tested = perfect || self.chance(0.6);
        if tested {
            self.run_tests();
        }
        let thought = if tested {
            self.say(
                &[
                    "All tests pass. Submitting the fix.",
                    "The tests pass, so the issue is resolved. Submitting.",
                    "Everything passes; I'm done.",
                ],
                &[],
            )
        } else {
            self.say(
                &[
                    "The change is in place. Submitting.",
                    "That should fix it; submitting.",
                ],
                &[],
            )
        };
        let mut mv = self.make(thought, Call::new("finish").with("command", "submit"));
        if tested {
            mv.if_failed = Some(self.say(
                &[
                    "A test still fails, but it looks unrelated to this change; submitting.",
                    "Some tests fail, though I think my change is right. Submitting.",
                ],
                &[],
            ));
        }
        self.push("submit", mv);
        edit
    }

    /// The `str_replace` into `target` (a sloppy first try, sometimes).
    fn edit(&mut self, target: &Target) -> Edit {
        let Target {
            careful,
            sloppy,
            change,
        } = target;
        // Sometimes one more line of context than needed.
        let careful = match self.chance(0.25) {
            true => widened(careful, &self.site.buggy).unwrap_or_else(|| careful.clone()),
            false => careful.clone(),
        };
        let thought = self.diagnose(change);
        let first = if self.chance(0.3) {
            sloppy.clone()
        } else {
            careful.clone()
        };
        let mut mv = self.make(thought, self.replace_call(&first));
        if first != careful {
            let retry_thought = self.say(
                &[
                    "That snippet is not unique in the file; let me include more context.",
                    "The replacement did not go through; I'll retry with the surrounding lines.",
                ],
                &[],
            );
            let retry = self.make(retry_thought, self.replace_call(&careful));
            mv.follow_up = FollowUp::Retry(Box::new(retry));
        }
        self.push("edit", mv);
        careful
    }

    fn replace_call(&self, edit: &Edit) -> Call {
        Call::new("file_editor")
            .with("command", "str_replace")
            .with("path", self.site.abs(&edit.file))
            .with("old_str", edit.old_str.clone())
            .with("new_str", edit.new_str.clone())
    }

    fn run_tests(&mut self) {
        let module = format!("tests.test_{}", self.site.module);
        let (cmd, thought) = match self.rng.below(4) {
            0 => (
                format!("python3 -m unittest {module}"),
                self.say(
                    &[
                        "Now let me run the unit tests of that module to check for regressions.",
                        "Let me run {test_file} to make sure nothing broke.",
                    ],
                    &[],
                ),
            ),
            1 => (
                format!("python3 -m unittest -v {module}"),
                self.say(
                    &[
                        "Let me run the module's tests verbosely.",
                        "Now the tests in {test_file}.",
                    ],
                    &[],
                ),
            ),
            2 => (
                crate::TEST_COMMAND.to_string(),
                self.say(
                    &[
                        "Let me run the whole test suite.",
                        "Running all the tests to check for regressions.",
                    ],
                    &[],
                ),
            ),
            _ => (
                format!("python3 -m unittest {}", self.site.fail_to_pass.join(" ")),
                self.say(
                    &[
                        "Let me run the tests that cover this behaviour.",
                        "Now the tests for `{name}`.",
                    ],
                    &[],
                ),
            ),
        };
        let mv = self.make(thought, Call::new("execute_bash").with("cmd", cmd));
        self.push("test", mv);
    }

    /// Looks at the right code, then submits unchanged.
    fn no_edit(&mut self) {
        if self.detour(0.3) {
            self.view_root();
        }
        self.search();
        let whole = self.detour(0.5);
        self.view_file(whole, None);
        if self.detour(0.5) {
            self.view_tests();
        }
        let thought = self.say(
            &[
                "The code of `{name}` looks correct to me; the reported behaviour seems intended, so I'll submit without changes.",
                "I don't see a defect in `{name}`. Submitting without changes.",
            ],
            &[],
        );
        let mv = self.make(thought, Call::new("finish").with("command", "submit"));
        self.push("submit", mv);
    }

    /// Reads unrelated files, then submits unchanged.
    fn wander(&mut self) {
        self.view_root();
        self.search();
        let mut others = self.site.others.clone();
        self.rng.shuffle(&mut others);
        let n = (2 + self.rng.below(2)).min(others.len());
        for other in &others[..n] {
            let thought = self.say(
                &[
                    "Maybe the problem is elsewhere; let me look at {other}.",
                    "Let me check {other} too.",
                    "I'll look at {other} for related code.",
                ],
                &[("other", other)],
            );
            let mv = self.make(thought, self.view_call(Some(other), None));
            self.push("view-other", mv);
        }
        let thought = self.say(
            &[
                "I could not find the cause of the issue; submitting without changes.",
                "I haven't been able to locate the problem, so I'll submit as is.",
            ],
            &[],
        );
        let mv = self.make(thought, Call::new("finish").with("command", "submit"));
        self.push("submit", mv);
    }
}

/// `edit` with one more line of context (before it if there is one, else
/// after), if that still makes the same change.
fn widened(edit: &Edit, before: &str) -> Option<Edit> {
    let lines = split_lines(before);
    let at = before.find(edit.old_str.as_str())?;
    let first = before[..at].matches('\n').count();
    let (pre, post) = match first.checked_sub(1) {
        Some(prev) => (lines[prev], ""),
        None => ("", *lines.get(split_lines(&edit.old_str).len())?),
    };
    let wider = Edit {
        file: edit.file.clone(),
        old_str: format!("{pre}{}{post}", edit.old_str),
        new_str: format!("{pre}{}{post}", edit.new_str),
    };
    let goal = edit.apply(before)?;
    (wider.old_str.trim() != edit.old_str.trim()
        && same_trim(&wider.old_str, &wider.new_str)
        && wider.apply(before) == Some(goal))
    .then_some(wider)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutations_skip_strings_unary_minus_and_floats() {
        // `[-1]`: the sign stays, the integer may change.
        let m = mutations("    if x[-1] <= limit and name != \"a < b\" or 1.5 > 2:\n");
        let reps: Vec<&str> = m.iter().map(|(_, _, r)| r.as_str()).collect();
        assert_eq!(
            reps,
            ["2", "0", "<", ">=", "or", "and", ">=", "<", "3", "1"]
        );
    }

    #[test]
    fn no_identity_terms_and_reordered_fixes_are_seen() {
        let reps: Vec<String> = mutations("k - 1").into_iter().map(|m| m.2).collect();
        assert_eq!(reps, ["+", "2"]);
        assert_eq!(tokens("(o[m] + o[m - 1])"), tokens("(o[m - 1] + o[m])"));
        assert_ne!(tokens("a < b"), tokens("a <= b"));
    }

    #[test]
    fn fragments_widen_to_spaces() {
        assert_eq!(
            fragments("    if len(t) < width:\n", "    if len(t) <= width:\n"),
            ("<".into(), "<=".into())
        );
        assert_eq!(
            fragments(
                "    for s in range(len(v) - window):\n",
                "    for s in range(len(v) - window + 1):\n"
            ),
            (
                "range(len(v) - window)".into(),
                "range(len(v) - window + 1)".into()
            )
        );
        assert_eq!(
            fragments(
                "    r = round(n * (1 + TAX), 2)\n",
                "    r = round(n * (2 + TAX), 2)\n"
            ),
            ("(1 + TAX)".into(), "(2 + TAX)".into())
        );
        assert_eq!(
            fragments(
                "    o = [a(x) for x in y if x >= t]\n",
                "    o = [a(x) for x in y if x > t]\n"
            ),
            (">=".into(), ">".into())
        );
        assert_eq!(
            fragments("x = a + b\n", "x = a - b\n"),
            ("+".into(), "-".into())
        );
    }

    #[test]
    fn minimal_edit_widens_until_unique() {
        let before = "def f(v):\n    v = list(v)\n    return v\n\n\ndef g(v):\n    v = list(v)\n    return v[0]\n";
        let after = "def f(v):\n    v = list(v)\n    return v\n\n\ndef g(v):\n    v = list(v)\n    if not v:\n        return None\n    return v[0]\n";
        let (careful, sloppy) = minimal_edit("m.py", before, after).unwrap();
        assert_eq!(sloppy.old_str, "    v = list(v)\n");
        assert_eq!(sloppy.apply(before), None);
        assert_eq!(careful.old_str, "    return v[0]\n");
        assert_eq!(careful.apply(before).unwrap(), after);
        let wider = widened(&careful, before).unwrap();
        assert_eq!(wider.old_str, "    v = list(v)\n    return v[0]\n");
    }

    fn mv(thought: &str, name: &'static str, follow_up: FollowUp) -> Move {
        Move {
            thought: thought.into(),
            if_failed: (name == "finish").then(|| "Tests fail.".into()),
            call: Call::new(name).with("command", "x"),
            follow_up,
        }
    }

    fn teacher(moves: Vec<Move>) -> Teacher {
        let plan = Plan {
            flaw: None,
            edit: None,
            outline: Vec::new(),
        };
        Teacher {
            plan,
            moves: moves.into(),
            pending: FollowUp::None,
        }
    }

    /// The thought of the reply to a conversation ending in `observation`.
    fn next(t: &mut Teacher, observation: &str) -> String {
        let reply = t.respond(&[Message::new(Role::User, observation)]).unwrap();
        reply.text.split("\n\n").next().unwrap().to_string()
    }

    #[test]
    fn observations_trigger_retries_zooms_and_honest_verdicts() {
        let retry = || FollowUp::Retry(Box::new(mv("Retry.", "file_editor", FollowUp::None)));
        let zoom = FollowUp::Zoom(Box::new(mv("Zoom.", "file_editor", FollowUp::None)));
        let mut t = teacher(vec![
            mv("Edit.", "file_editor", retry()),
            mv("View.", "file_editor", zoom),
            mv("Edit again.", "file_editor", retry()),
            mv("Tests pass.", "finish", FollowUp::None),
        ]);
        assert_eq!(next(&mut t, "the issue"), "Edit.");
        assert_eq!(next(&mut t, "ERROR: Multiple occurrences of 'x'"), "Retry.");
        assert_eq!(
            next(&mut t, "The file /testbed/m.py has been edited."),
            "View."
        );
        assert_eq!(
            next(&mut t, "Here is a condensed view for file: m.py"),
            "Zoom."
        );
        assert_eq!(
            next(&mut t, "Here's the result of running `cat -n`"),
            "Edit again."
        );
        assert_eq!(
            next(&mut t, "The file /testbed/m.py has been edited."),
            "Tests pass."
        );
        // Past the plan, it submits again.
        let reply = t.respond(&[]).unwrap();
        assert!(
            reply
                .text
                .ends_with("<function=finish>\n<parameter=command>submit</parameter>\n</function>")
        );

        let mut t = teacher(vec![mv("Tests pass.", "finish", FollowUp::None)]);
        assert_eq!(
            next(&mut t, "Ran 3 tests in 0.001s\n\nFAILED (failures=1)"),
            "Tests fail."
        );
    }

    #[test]
    fn patches_apply_hunk_by_hunk() {
        let patch =
            "diff --git a/m.py b/m.py\n--- a/m.py\n+++ b/m.py\n@@ -1,2 +1,2 @@\n a\n-b\n+B\n";
        assert_eq!(apply_patch("a\nb\nc\n", patch).unwrap(), "a\nB\nc\n");
        assert_eq!(apply_patch("a\nx\nc\n", patch), None);
    }
}
