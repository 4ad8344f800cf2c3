//! Issue texts: a site's symptom written up in one of several report styles.

use crate::ReproOutcome;
use crate::rng::SplitMix64;

/// The rendered pieces of one report.
pub(crate) struct IssueParts<'a> {
    pub pkg: &'a str,
    pub module: &'a str,
    pub summary: &'a str,
    pub context: &'a str,
    /// The reproduction script, exactly as shown.
    pub code: &'a str,
    pub expected: &'a ReproOutcome,
    pub actual: &'a ReproOutcome,
}

/// "a `ValueError`", "an `IndexError`".
fn article(e: &str) -> String {
    let an = e.starts_with(['A', 'E', 'I', 'O', 'U']);
    format!("{} `{e}`", if an { "an" } else { "a" })
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// "`v`" or "a `E`".
fn noun(o: &ReproOutcome) -> String {
    match o {
        ReproOutcome::Value(v) => format!("`{v}`"),
        ReproOutcome::Raises(e) => article(e),
    }
}

/// "it returns `v`" or "it raises `E`".
fn clause(o: &ReproOutcome) -> String {
    match o {
        ReproOutcome::Value(v) => format!("it returns `{v}`"),
        ReproOutcome::Raises(e) => format!("it raises `{e}`"),
    }
}

/// "give `v`" or "raise a `E`" (after "should").
fn should(o: &ReproOutcome) -> String {
    match o {
        ReproOutcome::Value(v) => format!("give `{v}`"),
        ReproOutcome::Raises(e) => format!("raise {}", article(e)),
    }
}

fn short(o: &ReproOutcome) -> String {
    match o {
        ReproOutcome::Value(v) => format!("`{v}`"),
        ReproOutcome::Raises(e) => format!("`{e}` is raised"),
    }
}

/// How many report styles there are.
pub(crate) const STYLES: usize = 5;

/// Writes the report in style `rng.below(STYLES)`.
pub(crate) fn write(parts: &IssueParts<'_>, rng: &mut SplitMix64) -> String {
    let IssueParts {
        pkg,
        module,
        summary,
        context,
        code,
        expected,
        actual,
    } = parts;
    let cap = capitalise(summary);
    let block = format!("```python\n{code}```");
    let (exp, act) = (noun(expected), clause(actual));
    match rng.below(STYLES) {
        0 => format!(
            "### Describe the bug\n\n{cap}.\n\n### To reproduce\n\n{block}\n\n\
             ### Expected behaviour\n\nThe call should {}.\n\n### Actual behaviour\n\n{}.\n\n\
             ### Environment\n\n- Python 3.11\n- `{pkg}` from the current main branch\n",
            should(expected),
            capitalise(&act),
        ),
        1 => format!(
            "Hi! I was {context} and ran into a problem: {summary}.\n\n\
             Minimal example:\n\n{block}\n\nI expected {exp}, but {act}. \
             Am I using it wrong, or is this a bug?\n"
        ),
        2 => format!(
            "{cap}\n\nSteps:\n\n{block}\n\nExpected: {}\nActual: {}\n",
            short(expected),
            short(actual)
        ),
        3 => format!(
            "**What I was doing**\n\nI was {context}.\n\n**What went wrong**\n\n\
             {cap}. Here is a reduced example:\n\n{block}\n\n\
             This should {}; instead {act}.\n",
            should(expected)
        ),
        _ => format!(
            "{cap} (`{pkg}.{module}`)\n\nWhile {context}, I noticed the following. Running\n\n\
             {block}\n\ngives {} where I would expect {exp}. \
             Happy to send more details if needed.\n",
            noun(actual)
        ),
    }
}
