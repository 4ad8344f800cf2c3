//! Shared by the agent tests: the R2E tools' specs as the `local`
//! environment declares them (core cannot depend on it), a scripted policy
//! and a fake environment that records what it was asked.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use entropo_core::agent::{Policy, PolicyError, Reply};
use entropo_core::environment::{
    EnvError, Environment, StepResult, TestReport, TestStatus, ToolCall, ToolParam, ToolSpec,
};
use entropo_core::types::{Message, Task, Trajectory};

fn param(name: &str, kind: &str, required: bool, allowed: &[&str]) -> ToolParam {
    ToolParam {
        name: name.into(),
        kind: kind.into(),
        description: format!("The {name}."),
        required,
        allowed: allowed.iter().map(|s| s.to_string()).collect(),
    }
}

/// file_editor, execute_bash, search and finish with R2E's parameters.
pub fn r2e_tools() -> Vec<ToolSpec> {
    vec![
        ToolSpec {
            name: "file_editor".into(),
            description: "Custom editing tool for viewing, creating and editing files.".into(),
            params: vec![
                param("command", "string", true, &["view", "create", "str_replace", "insert", "undo_edit"]),
                param("path", "string", true, &[]),
                param("file_text", "string", false, &[]),
                param("old_str", "string", false, &[]),
                param("new_str", "string", false, &[]),
                param("insert_line", "integer", false, &[]),
                param("view_range", "array", false, &[]),
                param("concise", "boolean", false, &[]),
            ],
        },
        ToolSpec {
            name: "execute_bash".into(),
            description: "Execute a bash command in the terminal.".into(),
            params: vec![param("cmd", "string", true, &[])],
        },
        ToolSpec {
            name: "search".into(),
            description: "Search for a term in a directory or a single file.".into(),
            params: vec![param("search_term", "string", true, &[]), param("path", "string", false, &[])],
        },
        ToolSpec {
            name: "finish".into(),
            description: "Finish the interaction.".into(),
            params: vec![param("command", "string", true, &["submit"]), param("result", "string", false, &[])],
        },
    ]
}

/// A task for the fake environment.
pub fn task() -> Task {
    serde_json::from_str(
        r#"{"instance_id": "demo__calc-1", "repo": "demo/calc",
            "problem_statement": "add(2, 3) returns -1 instead of 5.",
            "fail_to_pass": ["tests.test_ops.TestAdd.test_add"],
            "pass_to_pass": ["tests.test_ops.TestSub.test_sub"]}"#,
    )
    .unwrap()
}

/// The repository's prompt template.
pub fn prompt() -> entropo_core::agent::PromptTemplate {
    entropo_core::agent::PromptTemplate::load(&prompt_path()).unwrap()
}

pub fn prompt_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/prompts/r2e.toml")
}

/// An R2E-format call.
pub fn xml(thought: &str, name: &str, params: &[(&str, &str)]) -> String {
    let mut s = format!("{thought}\n<function={name}>\n");
    for (k, v) in params {
        s.push_str(&format!("<parameter={k}>{v}</parameter>\n"));
    }
    s.push_str("</function>");
    s
}

pub fn bash(cmd: &str) -> String {
    xml("Let me run a command.", "execute_bash", &[("cmd", cmd)])
}

pub fn finish() -> String {
    xml("The fix is in place.", "finish", &[("command", "submit")])
}

/// One step of a script: a reply with token counts, or a failure.
pub enum Turn {
    Say(String, u64, u64),
    Fail(PolicyError),
}

pub fn say(text: String) -> Turn {
    Turn::Say(text, 1000, 50)
}

/// Answers from a script, recording every conversation it is given and,
/// when `watch` is set, how many steps the trajectory file held at each call.
pub struct Scripted {
    pub turns: std::vec::IntoIter<Turn>,
    pub seen: Vec<Vec<Message>>,
    pub watch: Option<PathBuf>,
    pub on_disk: Vec<(usize, bool)>,
}

impl Scripted {
    pub fn new(turns: Vec<Turn>) -> Scripted {
        Scripted { turns: turns.into_iter(), seen: Vec::new(), watch: None, on_disk: Vec::new() }
    }
}

impl Policy for Scripted {
    fn respond(&mut self, messages: &[Message]) -> Result<Reply, PolicyError> {
        self.seen.push(messages.to_vec());
        if let Some(path) = &self.watch {
            let t: Trajectory = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
            self.on_disk.push((t.steps(), t.exit_reason.is_none()));
        }
        match self.turns.next() {
            Some(Turn::Say(text, p, c)) => Ok(Reply { text, prompt_tokens: p, completion_tokens: c }),
            Some(Turn::Fail(e)) => Err(e),
            None => Err(PolicyError::InvalidResponse("the script ran out".into())),
        }
    }
}

/// Executes bash by echoing the command, finishes on `finish`; fails on the
/// call numbered `fail_at` (0-based) if set.
pub struct FakeEnv {
    pub calls: Vec<ToolCall>,
    pub fail_at: Option<usize>,
    pub resets: usize,
    pub tests_pass: bool,
}

impl FakeEnv {
    pub fn new() -> FakeEnv {
        FakeEnv { calls: Vec::new(), fail_at: None, resets: 0, tests_pass: true }
    }
}

impl Environment for FakeEnv {
    fn tools(&self) -> Vec<ToolSpec> {
        r2e_tools()
    }

    fn reset(&mut self, _task: &Task) -> Result<(), EnvError> {
        self.resets += 1;
        Ok(())
    }

    fn step(&mut self, call: &ToolCall) -> Result<StepResult, EnvError> {
        if self.fail_at == Some(self.calls.len()) {
            return Err(EnvError::Sandbox("the sandbox died".into()));
        }
        self.calls.push(call.clone());
        if call.name == "finish" {
            return Ok(StepResult { observation: "<<< Finished >>>".into(), done: true });
        }
        let what = call.params.get("cmd").cloned().unwrap_or_default();
        Ok(StepResult {
            observation: format!("Exit code: 0\nExecution output of [execute_bash]:\n{what}\n"),
            done: false,
        })
    }

    fn patch(&mut self) -> Result<String, EnvError> {
        Ok(format!("diff --git a/calc.py b/calc.py\n+# {} calls\n", self.calls.len()))
    }

    fn run_tests(&mut self) -> Result<TestReport, EnvError> {
        let status = if self.tests_pass { TestStatus::Passed } else { TestStatus::Failed };
        let ids = |id: &str, s| BTreeMap::from([(id.to_string(), s)]);
        Ok(TestReport {
            fail_to_pass: ids("tests.test_ops.TestAdd.test_add", status),
            pass_to_pass: ids("tests.test_ops.TestSub.test_sub", TestStatus::Passed),
            output: "Ran 2 tests in 0.001s\n\nOK\n".into(),
        })
    }
}

/// The trajectory file as written.
pub fn read_trajectory(path: &Path) -> Trajectory {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}
