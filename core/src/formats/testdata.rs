//! A small R2E-style episode for the unit tests of the converters.

use crate::types::{KtoSample, Message, PreferencePair, Role, SftSample};

pub(crate) const SYSTEM: &str = "You are a programming agent who is provided a github issue and repository bash environment and is tasked to solve certain tasks (e.g., file localization, testcase generation, code repair and editing etc) to resolve the issue.";

pub(crate) fn prompt() -> Vec<Message> {
    vec![
        Message::new(Role::System, SYSTEM),
        Message::new(
            Role::User,
            "<github_issue>\nadd() subtracts instead of adding\n</github_issue>\n\nSteps Remaining: 200",
        ),
    ]
}

pub(crate) fn good_run() -> Vec<Message> {
    vec![
        Message::new(
            Role::Assistant,
            "Let me look at calc.py.\n<function=file_editor>\n  <parameter=command>view</parameter>\n  <parameter=path>/testbed/calc.py</parameter>\n</function>",
        ),
        Message::new(
            Role::User,
            "Execution output of [file_editor]:\nHere's the result of running `cat -n` on the file: /testbed/calc.py:\n     1 def add(a, b):\n     2     return a - b\n\nSteps Remaining: 199",
        ),
        Message::new(
            Role::Assistant,
            "The operator is wrong.\n<function=file_editor>\n  <parameter=command>str_replace</parameter>\n  <parameter=path>/testbed/calc.py</parameter>\n  <parameter=old_str>return a - b</parameter>\n  <parameter=new_str>return a + b</parameter>\n</function>",
        ),
        Message::new(
            Role::Tool,
            "Execution output of [file_editor]:\nThe file /testbed/calc.py has been edited.",
        ),
        Message::new(
            Role::Assistant,
            "<function=finish>\n  <parameter=command>submit</parameter>\n  <parameter=result>fixed add()</parameter>\n</function>",
        ),
    ]
}

pub(crate) fn bad_run() -> Vec<Message> {
    vec![
        Message::new(
            Role::Assistant,
            "<function=execute_bash>\n  <parameter=cmd>python -c 'import calc; print(calc.add(1, 2))'</parameter>\n</function>",
        ),
        Message::new(Role::User, "Exit code: 0\nExecution output of [execute_bash]:\n-1\n\nSteps Remaining: 199"),
        Message::new(
            Role::Assistant,
            "<function=finish>\n  <parameter=command>submit</parameter>\n  <parameter=result>cannot reproduce</parameter>\n</function>",
        ),
    ]
}

pub(crate) fn sft() -> SftSample {
    let mut messages = prompt();
    messages.extend(good_run());
    SftSample { task_id: "demo__calc-1".into(), messages }
}

pub(crate) fn pair() -> PreferencePair {
    PreferencePair { task_id: "demo__calc-1".into(), prompt: prompt(), chosen: good_run(), rejected: bad_run() }
}

pub(crate) fn kto(label: bool) -> KtoSample {
    KtoSample {
        task_id: "demo__calc-1".into(),
        prompt: prompt(),
        completion: if label { good_run() } else { bad_run() },
        label,
    }
}
