//! Types of the template library: module templates and their bug sites.
//!
//! The texts live in [`crate::templates`]; this file only says what they
//! mean. Every text may hold `${name}` placeholders, filled from the task's
//! parameters (package and module name, plus one option of each axis).

use serde::{Deserialize, Serialize};

/// The kind of mistake injected into a task.
///
/// ```
/// use entropo_suite::BugFamily;
/// assert_eq!(serde_json::to_string(&BugFamily::OffByOne).unwrap(), "\"off-by-one\"");
/// assert_eq!(BugFamily::ALL.len(), 5);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BugFamily {
    /// A wrong operator: `+`↔`-`, `<`↔`<=`, `>`↔`>=`, `and`↔`or`.
    WrongOperator,
    /// A bound or slice one too long or too short.
    OffByOne,
    /// A guard for empty input, zero or `None` left out.
    MissingEdgeCase,
    /// A default argument changed.
    WrongDefault,
    /// Two arguments of a call passed in the wrong order.
    SwappedArguments,
}

impl BugFamily {
    /// Every family, in a fixed order.
    pub const ALL: [BugFamily; 5] = [
        BugFamily::WrongOperator,
        BugFamily::OffByOne,
        BugFamily::MissingEdgeCase,
        BugFamily::WrongDefault,
        BugFamily::SwappedArguments,
    ];

    /// The kebab-case name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            BugFamily::WrongOperator => "wrong-operator",
            BugFamily::OffByOne => "off-by-one",
            BugFamily::MissingEdgeCase => "missing-edge-case",
            BugFamily::WrongDefault => "wrong-default",
            BugFamily::SwappedArguments => "swapped-arguments",
        }
    }
}

/// What a reproduction prints or raises.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Outcome {
    /// `repr()` of the value returned (a template).
    Value(&'static str),
    /// The name of the exception raised.
    Raises(&'static str),
}

/// One place in a module template where a bug can be injected.
pub(crate) struct Site {
    /// Unique within its template, e.g. `mean-empty`.
    pub id: &'static str,
    pub family: BugFamily,
    /// The mistake in a few words, e.g. "`-` → `+`".
    pub kind: &'static str,
    /// Whole lines of the correct module (each ending in `\n`), found once.
    pub fixed: &'static str,
    /// What replaces them in the buggy module (may be empty).
    pub buggy: &'static str,
    /// The tests this bug breaks, as `Class.method` of the template's tests.
    pub breaks: &'static [&'static str],
    /// One-sentence symptom, as a user would put it.
    pub summary: &'static str,
    /// What the reporter was doing: follows "I was …".
    pub context: &'static str,
    /// Reproduction set-up lines (after the import of the module).
    pub setup: &'static str,
    /// The expression the reproduction prints.
    pub expr: &'static str,
    /// What the expression gives on the correct code.
    pub expected: Outcome,
    /// What it gives on the buggy code.
    pub actual: Outcome,
}

/// One axis of variation: the task draws one option, each a set of bindings.
pub(crate) type Axis = &'static [&'static [(&'static str, &'static str)]];

/// A module of realistic utility code, its unittest file and its bug sites.
pub(crate) struct Template {
    /// Short key, e.g. `stats`.
    pub key: &'static str,
    /// What the module does, for the generated README.
    pub blurb: &'static str,
    /// Names the module file may take (without `.py`).
    pub modules: &'static [&'static str],
    pub axes: &'static [Axis],
    /// The correct module.
    pub source: &'static str,
    /// The unittest file (`tests/test_<module>.py`).
    pub tests: &'static str,
    pub sites: &'static [Site],
}
