//! Reading the model's reply: the thought, the first function call (R2E
//! format or JSON), and what the model is told when the call is malformed.

use crate::environment::{StepResult, ToolCall, ToolSpec};

use super::call_error::CallError;
use super::{json_call, xml_call};

/// A call as written, before it is checked against the tools.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawCall {
    /// The function name.
    pub name: String,
    /// Parameters in the order written, repeats included.
    pub params: Vec<(String, String)>,
}

/// A call found in a reply: its byte range and what it holds.
#[derive(Debug)]
pub(crate) struct Block {
    /// Where the call starts.
    pub start: usize,
    /// Just past its end (the reply's end when it is unclosed).
    pub end: usize,
    /// The call, or why it cannot be read.
    pub call: Result<RawCall, CallError>,
    /// Further calls inside the same block (a JSON list).
    pub extra: usize,
}

const TAG_OPEN: &str = "<tool_call>";
const TAG_CLOSE: &str = "</tool_call>";

/// The next call at or after `from`, whichever starts first: a
/// `<tool_call>` block (holding JSON, or the R2E format as Qwen3-Coder
/// writes it), an R2E `<function=` call, or fenced or bare JSON.
fn next_block(text: &str, from: usize) -> Option<Block> {
    let tag = text[from..].find(TAG_OPEN).map(|i| from + i);
    let xml = xml_call::find(text, from);
    let json = json_call::find(text, from);
    let first = [tag, xml, json.map(|j| j.0)].into_iter().flatten().min()?;
    if tag == Some(first) {
        Some(tagged(text, first))
    } else if xml == Some(first) {
        Some(xml_call::parse_at(text, first))
    } else {
        json.map(|(start, wrap)| json_call::parse_at(text, start, wrap))
    }
}

/// The call in the `<tool_call>` block starting at `start`.
fn tagged(text: &str, start: usize) -> Block {
    let body = start + TAG_OPEN.len();
    let Some(len) = text[body..].find(TAG_CLOSE) else {
        let e = CallError::Unclosed("The <tool_call> block is not closed with </tool_call>.".into());
        return Block { start, end: text.len(), call: Err(e), extra: 0 };
    };
    let end = body + len + TAG_CLOSE.len();
    let inner = &text[body..body + len];
    match xml_call::find(inner, 0) {
        Some(at) if inner[..at].trim().is_empty() => {
            let b = xml_call::parse_at(inner, at);
            Block { start, end, call: b.call, extra: count_calls(inner, b.end) }
        }
        _ => match json_call::read_calls(json_call::strip_fence(inner)) {
            Ok((call, extra)) => Block { start, end, call: Ok(call), extra },
            Err(e) => Block { start, end, call: Err(e), extra: 0 },
        },
    }
}

/// How many calls start at or after `from`.
fn count_calls(text: &str, mut from: usize) -> usize {
    let mut n = 0;
    while let Some(b) = next_block(text, from) {
        n += 1 + b.extra;
        from = b.end;
    }
    n
}

/// A reply taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedReply {
    /// The text before the first call, stripped (the whole reply when there
    /// is no call).
    pub thought: String,
    /// The first call exactly as written (for a call never closed, up to the
    /// reply's end); empty when there is none.
    pub action: String,
    /// The call to execute, or why there is none.
    pub call: Result<ToolCall, CallError>,
    /// Calls after the first, which are not executed.
    pub ignored_calls: usize,
}

/// Parses a reply against the environment's `tools`.
///
/// The first call is taken, in R2E-Gym's format or as JSON (see the module
/// docs of [`crate::agent`]); later calls are counted in
/// [`ParsedReply::ignored_calls`] and not executed, and text after the
/// first call is dropped. The call is then checked: the function must
/// exist, each parameter appear once, required parameters be present and
/// restricted parameters hold an allowed value. Parameters the function
/// does not declare are passed through for the tool to judge.
///
/// ```
/// use entropo_core::agent::{CallError, parse_reply};
/// use entropo_core::environment::{ToolParam, ToolSpec};
/// let tools = [ToolSpec { name: "search".into(), description: String::new(), params: vec![
///     ToolParam { name: "search_term".into(), kind: "string".into(), description: String::new(), required: true, allowed: vec![] },
/// ] }];
/// let r = parse_reply("Look for it.\n<function=search>\n<parameter=search_term>  def add  </parameter>\n</function>", &tools);
/// assert_eq!(r.thought, "Look for it.");
/// assert_eq!(r.call.unwrap().params["search_term"], "def add");
///
/// let r = parse_reply("<tool_call>\n{\"name\": \"grep\", \"arguments\": {}}\n</tool_call>", &tools);
/// assert_eq!(r.call, Err(CallError::UnknownTool { name: "grep".into() }));
/// ```
pub fn parse_reply(text: &str, tools: &[ToolSpec]) -> ParsedReply {
    let Some(block) = next_block(text, 0) else {
        return ParsedReply {
            thought: text.trim().to_string(),
            action: String::new(),
            call: Err(CallError::NoCall),
            ignored_calls: 0,
        };
    };
    let ignored_calls = block.extra + count_calls(text, block.end);
    ParsedReply {
        thought: text[..block.start].trim().to_string(),
        action: text[block.start..block.end].trim().to_string(),
        call: block.call.and_then(|raw| validate(raw, tools)),
        ignored_calls,
    }
}

/// Checks a call against the tools' specs.
fn validate(raw: RawCall, tools: &[ToolSpec]) -> Result<ToolCall, CallError> {
    if raw.name.is_empty() {
        return Err(CallError::NoName);
    }
    let Some(spec) = tools.iter().find(|t| t.name == raw.name) else {
        return Err(CallError::UnknownTool { name: raw.name });
    };
    let mut call = ToolCall { name: raw.name, params: Default::default() };
    for (key, value) in raw.params {
        if call.params.contains_key(&key) {
            return Err(CallError::RepeatedParam { tool: call.name, param: key });
        }
        call.params.insert(key, value);
    }
    let missing: Vec<String> = spec
        .params
        .iter()
        .filter(|p| p.required && !call.params.contains_key(&p.name))
        .map(|p| p.name.clone())
        .collect();
    if !missing.is_empty() {
        return Err(CallError::MissingParams { tool: call.name, params: missing });
    }
    for p in spec.params.iter().filter(|p| !p.allowed.is_empty()) {
        if let Some(value) = call.params.get(&p.name)
            && !p.allowed.iter().any(|a| a == value.trim())
        {
            return Err(CallError::NotAllowed {
                tool: call.name.clone(),
                param: p.name.clone(),
                value: value.clone(),
                allowed: p.allowed.clone(),
            });
        }
    }
    Ok(call)
}

impl ParsedReply {
    /// The assistant message kept in the conversation: the thought, a blank
    /// line, and the first call as written (R2E-Gym keeps `thought` and the
    /// executed action the same way); just the thought when there is no call.
    ///
    /// ```
    /// let r = entropo_core::agent::parse_reply("Done.\n<function=finish>\n<parameter=command>submit</parameter>\n</function>\nBye!", &[]);
    /// assert_eq!(r.assistant_message(), "Done.\n\n<function=finish>\n<parameter=command>submit</parameter>\n</function>");
    /// ```
    pub fn assistant_message(&self) -> String {
        super::assistant_text(&self.thought, &self.action)
    }

    /// What the model reads after this reply: `run`'s result on a valid call
    /// (followed by a note when other calls were ignored), or the error
    /// observation of [`CallError::observation`] with `done` false.
    ///
    /// ```
    /// use entropo_core::environment::StepResult;
    /// let r = entropo_core::agent::parse_reply("no call here", &[]);
    /// let ran = |_: &_| Ok::<_, std::convert::Infallible>(StepResult { observation: "ran".into(), done: false });
    /// let out = r.observe(&[], ran).unwrap();
    /// assert!(out.observation.starts_with("ERROR: Your response contains no function call."));
    /// assert!(!out.done);
    /// ```
    pub fn observe<E>(
        &self,
        tools: &[ToolSpec],
        run: impl FnOnce(&ToolCall) -> Result<StepResult, E>,
    ) -> Result<StepResult, E> {
        let call = match &self.call {
            Ok(call) => call,
            Err(e) => return Ok(StepResult { observation: e.observation(tools), done: false }),
        };
        let mut result = run(call)?;
        if self.ignored_calls > 0 {
            let n = self.ignored_calls + 1;
            if !result.observation.ends_with('\n') {
                result.observation.push('\n');
            }
            result.observation.push_str(&format!(
                "\nNOTE: Your response contained {n} function calls; only the first one ({}) was executed. Call one function at a time.",
                call.name
            ));
        }
        Ok(result)
    }
}
