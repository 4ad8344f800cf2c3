//! The reply parser on replies shaped like real ones: R2E-Gym trajectories
//! (multi-line reasoning, code with `<` and `>`, indented `old_str`), Qwen's
//! `<tool_call>` JSON, Qwen3-Coder's `<tool_call>`-wrapped R2E format, an
//! OpenAI `tool_calls` item; and every malformed case.

mod agent_support;

use agent_support::r2e_tools;
use entropo_core::agent::{CallError, ParsedReply, parse_reply};
use entropo_core::environment::StepResult;

fn parse(text: &str) -> ParsedReply {
    parse_reply(text, &r2e_tools())
}

fn error_of(text: &str) -> CallError {
    parse(text).call.expect_err("a malformed call")
}

/// What the model would read for `text`, with a tool that echoes its name.
fn observation(text: &str) -> StepResult {
    parse(text)
        .observe(&r2e_tools(), |call| {
            Ok::<_, std::convert::Infallible>(StepResult { observation: format!("ran {}\n", call.name), done: false })
        })
        .unwrap()
}

/// An astropy-12907 step as R2E-Gym agents write it.
const R2E_STR_REPLACE: &str = r#"Now I understand the issue. In `_cstack`, when the right operand is already a
separability matrix (an ndarray), the code fills the bottom-right block with
ones instead of copying the matrix:

    cright[-right.shape[0]:, -right.shape[1]:] = 1

For nested compound models this loses the structure. Let me fix it by copying `right`.

<function=file_editor>
<parameter=command>str_replace</parameter>
<parameter=path>/testbed/astropy/modeling/separable.py</parameter>
<parameter=old_str>        cright = np.zeros((noutp, right.shape[1]))
        cright[-right.shape[0]:, -right.shape[1]:] = 1</parameter>
<parameter=new_str>        cright = np.zeros((noutp, right.shape[1]))
        cright[-right.shape[0]:, -right.shape[1]:] = right</parameter>
</function>"#;

#[test]
fn r2e_str_replace_with_indented_old_str() {
    let r = parse(R2E_STR_REPLACE);
    assert!(r.thought.starts_with("Now I understand the issue."), "{}", r.thought);
    assert!(r.thought.ends_with("Let me fix it by copying `right`."), "{}", r.thought);
    assert!(r.action.starts_with("<function=file_editor>") && r.action.ends_with("</function>"));
    let call = r.call.unwrap();
    assert_eq!(call.name, "file_editor");
    assert_eq!(call.params["command"], "str_replace");
    // R2E strips values: the first line's indentation goes, inner lines keep theirs.
    assert_eq!(
        call.params["old_str"],
        "cright = np.zeros((noutp, right.shape[1]))\n        cright[-right.shape[0]:, -right.shape[1]:] = 1"
    );
    assert!(call.params["new_str"].ends_with("= right"));
    assert_eq!(r.ignored_calls, 0);
}

#[test]
fn r2e_bash_and_create_with_angle_brackets() {
    let reply = "Let me create a script to reproduce the issue.\n\n<function=file_editor>\n<parameter=command>create</parameter>\n<parameter=path>/testbed/reproduce_issue.py</parameter>\n<parameter=file_text>\nfrom astropy.modeling import models as m\nfrom astropy.modeling.separable import separability_matrix\n\ncm = m.Linear1D(10) & m.Linear1D(5)\nresult = separability_matrix(m.Pix2Sky_TAN() & cm)\nassert result.shape[0] > 1 and result.shape[1] < 10, result\nprint(\"<ok>\" if (result == result.T).all() else \"<mismatch>\")\n</parameter>\n</function>";
    let call = parse(reply).call.unwrap();
    let text = &call.params["file_text"];
    assert!(text.starts_with("from astropy.modeling import models as m\n"), "{text}");
    assert!(text.ends_with("else \"<mismatch>\")"), "no trailing newline after stripping: {text:?}");
    assert!(text.contains("result.shape[0] > 1 and result.shape[1] < 10"));

    let reply = "Run it:\n<function=execute_bash>\n  <parameter=cmd>python /testbed/reproduce_issue.py 2>&1 | grep -E \"<class|->\" > /tmp/out.txt; cat /tmp/out.txt</parameter>\n</function>";
    let call = parse(reply).call.unwrap();
    assert_eq!(
        call.params["cmd"],
        "python /testbed/reproduce_issue.py 2>&1 | grep -E \"<class|->\" > /tmp/out.txt; cat /tmp/out.txt"
    );
}

#[test]
fn r2e_view_with_range_and_text_after_the_call() {
    let reply = "<function=file_editor>\n<parameter=command>view</parameter>\n<parameter=path>/testbed/astropy/modeling/separable.py</parameter>\n<parameter=view_range>[219, 250]</parameter>\n</function>\n\nI'll wait for the output.";
    let r = parse(reply);
    assert_eq!(r.thought, "");
    assert!(r.action.ends_with("</function>"), "text after the call is dropped: {}", r.action);
    assert_eq!(r.assistant_message(), r.action);
    assert_eq!(r.call.unwrap().params["view_range"], "[219, 250]");
}

#[test]
fn qwen_tool_call_json() {
    let reply = "I need to find where `_cstack` is defined before changing it.\n<tool_call>\n{\"name\": \"execute_bash\", \"arguments\": {\"cmd\": \"grep -rn \\\"def _cstack\\\" /testbed/astropy\"}}\n</tool_call>";
    let r = parse(reply);
    assert_eq!(r.thought, "I need to find where `_cstack` is defined before changing it.");
    assert!(r.action.starts_with("<tool_call>") && r.action.ends_with("</tool_call>"));
    assert_eq!(r.call.unwrap().params["cmd"], "grep -rn \"def _cstack\" /testbed/astropy");
}

#[test]
fn qwen3_coder_tool_call_wrapping_the_r2e_format() {
    let reply = "Let me search for it.\n\n<tool_call>\n<function=search>\n<parameter=search_term>\n_cstack\n</parameter>\n<parameter=path>\n/testbed/astropy/modeling\n</parameter>\n</function>\n</tool_call>";
    let r = parse(reply);
    assert_eq!(r.thought, "Let me search for it.");
    assert!(r.action.starts_with("<tool_call>") && r.action.ends_with("</tool_call>"));
    let call = r.call.unwrap();
    assert_eq!(
        (call.params["search_term"].as_str(), call.params["path"].as_str()),
        ("_cstack", "/testbed/astropy/modeling")
    );
}

#[test]
fn openai_tool_call_item_in_a_json_fence() {
    let reply = "Viewing the setup first.\n```json\n{\"id\": \"call_8f2\", \"type\": \"function\", \"function\": {\"name\": \"file_editor\", \"arguments\": \"{\\\"command\\\": \\\"view\\\", \\\"path\\\": \\\"/testbed/setup.py\\\", \\\"view_range\\\": [1, 20], \\\"concise\\\": false}\"}}\n```";
    let r = parse(reply);
    assert_eq!(r.thought, "Viewing the setup first.");
    let call = r.call.unwrap();
    assert_eq!(call.params["view_range"], "[1,20]");
    assert_eq!(call.params["concise"], "false");
}

#[test]
fn bare_json_call_and_json_in_the_reasoning() {
    let reply = "The package metadata is\n```json\n{\"name\": \"calc\", \"version\": \"1.0\"}\n```\nso the tests live in tests/.\n{\"name\": \"search\", \"parameters\": {\"search_term\": \"def add\"}}";
    let r = parse(reply);
    assert!(r.thought.ends_with("so the tests live in tests/."), "{}", r.thought);
    assert_eq!(r.call.unwrap().params["search_term"], "def add");
}

#[test]
fn no_call_keeps_the_whole_reply_as_the_thought() {
    let reply = "  I believe the fix is complete; the reproduction script now prints <ok>.\n";
    let r = parse(reply);
    assert_eq!(r.call, Err(CallError::NoCall));
    assert_eq!(r.thought, reply.trim());
    assert_eq!(r.action, "");
    assert_eq!(r.assistant_message(), reply.trim());
    let obs = observation(reply).observation;
    assert!(obs.starts_with("ERROR: Your response contains no function call."), "{obs}");
    assert!(obs.contains("Available functions: file_editor, execute_bash, search, finish."), "{obs}");
    assert!(obs.contains("<function=example_function_name>"), "{obs}");
}

#[test]
fn unknown_tool() {
    let reply = "<function=bash>\n<parameter=command>ls</parameter>\n</function>";
    assert_eq!(error_of(reply), CallError::UnknownTool { name: "bash".into() });
    let obs = observation(reply).observation;
    assert!(obs.starts_with("ERROR: Unknown function 'bash'.\n"), "{obs}");
    assert!(obs.contains("Available functions: file_editor, execute_bash, search, finish."));
}

#[test]
fn missing_required_parameters() {
    let reply = "<function=file_editor>\n<parameter=old_str>x</parameter>\n</function>";
    assert_eq!(
        error_of(reply),
        CallError::MissingParams { tool: "file_editor".into(), params: vec!["command".into(), "path".into()] }
    );
    let obs = observation(reply).observation;
    assert!(
        obs.starts_with("ERROR: Missing required parameters 'command', 'path' for function 'file_editor'.\n"),
        "{obs}"
    );
    assert!(
        obs.contains("  command (string, required), allowed values: [view, create, str_replace, insert, undo_edit]\n"),
        "{obs}"
    );
    assert!(obs.ends_with("<function=file_editor>\n<parameter=command>view</parameter>\n<parameter=path>VALUE</parameter>\n</function>"), "{obs}");
    // JSON calls are checked the same way.
    let json = "<tool_call>\n{\"name\": \"execute_bash\", \"arguments\": {\"command\": \"ls\"}}\n</tool_call>";
    assert_eq!(error_of(json), CallError::MissingParams { tool: "execute_bash".into(), params: vec!["cmd".into()] });
}

#[test]
fn value_outside_the_allowed_set() {
    let reply = "<function=file_editor>\n<parameter=command>delete</parameter>\n<parameter=path>/testbed/a.py</parameter>\n</function>";
    let e = error_of(reply);
    assert!(
        matches!(&e, CallError::NotAllowed { param, value, .. } if param == "command" && value == "delete"),
        "{e:?}"
    );
    assert!(e.to_string().contains("Allowed values: [view, create, str_replace, insert, undo_edit]"));
    let finish = "<function=finish>\n<parameter=command>done</parameter>\n</function>";
    assert!(matches!(error_of(finish), CallError::NotAllowed { .. }));
}

#[test]
fn unclosed_tags() {
    let cases = [
        ("<function=search>\n<parameter=search_term>foo</parameter>\n", "not closed with </function>"),
        (
            "<function=search>\n<parameter=search_term>foo\n</function>",
            "parameter 'search_term' is not closed with </parameter>",
        ),
        ("<function=search\n<parameter=search_term>foo</parameter>\n</function>", "<function=NAME> tag is not closed"),
        (
            "<function=search>\n<parameter=search_term\nfoo</parameter>\n</function>",
            "<parameter=NAME> tag is not closed",
        ),
        (
            "<tool_call>\n{\"name\": \"search\", \"arguments\": {\"search_term\": \"x\"}}",
            "<tool_call> block is not closed",
        ),
    ];
    for (reply, expected) in cases {
        let r = parse(reply);
        match &r.call {
            Err(e @ CallError::Unclosed(_)) => assert!(e.to_string().contains(expected), "{reply:?}: {e}"),
            other => panic!("{reply:?}: expected an unclosed-tag error, got {other:?}"),
        }
        // The broken call is kept as the action, so the model sees what it wrote.
        assert_eq!(r.action, reply.trim(), "{reply:?}");
        assert!(observation(reply).observation.starts_with("ERROR: "));
    }
}

#[test]
fn repeated_parameter() {
    let reply = "<function=file_editor>\n<parameter=command>view</parameter>\n<parameter=path>/testbed/a.py</parameter>\n<parameter=path>/testbed/b.py</parameter>\n</function>";
    assert_eq!(error_of(reply), CallError::RepeatedParam { tool: "file_editor".into(), param: "path".into() });
    let json = "{\"name\": \"search\", \"arguments\": {\"search_term\": \"a\", \"search_term\": \"b\"}}";
    assert_eq!(error_of(json), CallError::RepeatedParam { tool: "search".into(), param: "search_term".into() });
}

#[test]
fn broken_json_and_nameless_calls() {
    let bad = "<tool_call>\n{\"name\": \"search\", \"arguments\": {\"search_term\": }}\n</tool_call>";
    assert!(matches!(error_of(bad), CallError::BadJson(_)));
    let bad_args = "<tool_call>{\"name\": \"search\", \"arguments\": \"search_term=foo\"}</tool_call>";
    assert!(error_of(bad_args).to_string().contains("\"arguments\" is not a JSON object"));
    assert_eq!(error_of("<function=>\n</function>"), CallError::NoName);
    assert_eq!(error_of("<tool_call>{\"arguments\": {}}</tool_call>"), CallError::NoName);
}

#[test]
fn several_calls_run_the_first_and_say_so() {
    let reply = format!(
        "First the test, then finish.\n{}\n{}",
        "<function=execute_bash>\n<parameter=cmd>python -m pytest -q</parameter>\n</function>",
        "<function=finish>\n<parameter=command>submit</parameter>\n</function>"
    );
    let r = parse(&reply);
    assert_eq!(r.call.as_ref().unwrap().name, "execute_bash");
    assert_eq!(r.ignored_calls, 1);
    assert!(!r.action.contains("finish"), "only the first call is kept: {}", r.action);
    let obs = observation(&reply).observation;
    assert_eq!(
        obs,
        "ran execute_bash\n\nNOTE: Your response contained 2 function calls; only the first one (execute_bash) was executed. Call one function at a time."
    );
    // A JSON list and several <tool_call> blocks count the same way.
    let list = "[{\"name\": \"search\", \"arguments\": {\"search_term\": \"a\"}}, {\"name\": \"search\", \"arguments\": {\"search_term\": \"b\"}}]";
    assert_eq!(parse(list).ignored_calls, 1);
    let tags = "<tool_call>{\"name\": \"search\", \"arguments\": {\"search_term\": \"a\"}}</tool_call>\n<tool_call>{\"name\": \"finish\", \"arguments\": {\"command\": \"submit\"}}</tool_call>\n<function=finish>\n<parameter=command>submit</parameter>\n</function>";
    let r = parse(tags);
    assert_eq!((r.call.unwrap().params["search_term"].as_str(), r.ignored_calls), ("a", 2));
}

#[test]
fn a_malformed_first_call_is_not_replaced_by_a_later_one() {
    let reply = "<function=serach>\n<parameter=search_term>a</parameter>\n</function>\n<function=search>\n<parameter=search_term>a</parameter>\n</function>";
    let r = parse(reply);
    assert_eq!(r.call, Err(CallError::UnknownTool { name: "serach".into() }));
    assert_eq!(r.ignored_calls, 1);
}

proptest::proptest! {
    /// Any mix of the formats' fragments, cut anywhere, parses without
    /// panicking, and the thought and action are pieces of the reply.
    #[test]
    fn never_panics_on_fragments(parts in proptest::collection::vec(proptest::sample::select(vec![
        "<function=", "<function = search>", "file_editor>", "<parameter=", "command>", "view",
        "</parameter>", "</function>", "<tool_call>", "</tool_call>", "```json\n", "```", "\n", " ",
        "{", "}", "[", "]", "\"name\"", ":", "\"search\"", ",", "\"arguments\"", "\"function\"",
        "\"search_term\"", "é", "日本", "<", ">", "=",
    ]), 0..40)) {
        let text: String = parts.concat();
        let r = parse(&text);
        proptest::prop_assert!(text.contains(&r.thought));
        proptest::prop_assert!(text.contains(&r.action));
        let obs = observation(&text);
        proptest::prop_assert!(!obs.observation.is_empty());
    }
}
