//! The prompt template file in configs/prompts and its errors.

mod agent_support;

use agent_support::{prompt_path, r2e_tools};
use entropo_core::agent::{PromptError, PromptTemplate};

#[test]
fn the_shipped_template_renders_the_papers_prompt() {
    let t = PromptTemplate::load(&prompt_path()).unwrap();
    let system = t.system_prompt(&r2e_tools(), "/testbed");
    assert!(
        system
            .starts_with("You are a programming agent who is provided a github issue and repository bash environment")
    );
    let begin = system.find("–– BEGIN FUNCTION #1: file_editor ––\nDescription:\nCustom editing tool").unwrap();
    let second = system.find("–– BEGIN FUNCTION #2: execute_bash ––").unwrap();
    assert!(begin < second);
    assert!(system.contains(
        "  1.\tcommand (string, required)\nAllowed values: [view, create, str_replace, insert, undo_edit]\n"
    ));
    assert!(system.contains("If you choose to call a function ONLY reply in the following format with NO suffix:"));
    assert!(system.ends_with("and function call (in above format) to solve the task."));

    let user = t.user_prompt("Issue with {braces} and \\backslashes\\", "/repo");
    assert!(user.starts_with("I have uploaded a python code repository in the /repo directory."));
    assert!(user.contains("<github_issue>\nIssue with {braces} and \\backslashes\\\n</github_issue>"));
    assert!(user.contains("Create a script at '/repo/reproduce_issue.py'"));
    assert!(!user.contains("{working_dir}") && !user.contains("/testbed"));
}

#[test]
fn errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.toml");
    let e = PromptTemplate::load(&missing).unwrap_err();
    assert!(matches!(e, PromptError::Read { .. }));
    assert!(e.to_string().starts_with(&format!("{}: cannot read the prompt template", missing.display())), "{e}");

    let cases = [
        ("system = '{tools}'\n", "missing field `user`"),
        ("system = '{tools}'\nuser = '{problem_statement}'\nextra = 1\n", "line 3: unknown field `extra`"),
        ("system = '{tools}\nuser = 'x'\n", "line 1: "),
        ("system = 'no tools'\nuser = '{problem_statement}'\n", "`system` must contain the placeholder {tools}"),
        ("system = '{tools}'\nuser = 'no issue'\n", "`user` must contain the placeholder {problem_statement}"),
    ];
    for (text, expected) in cases {
        let file = dir.path().join("p.toml");
        std::fs::write(&file, text).unwrap();
        let e = PromptTemplate::load(&file).unwrap_err().to_string();
        assert!(e.starts_with(&format!("{}: ", file.display())), "{text:?}: {e}");
        assert!(e.contains(expected), "{text:?}: {e}");
    }
}
