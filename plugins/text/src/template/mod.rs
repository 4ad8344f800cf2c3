//! HuggingFace jinja chat templates, rendered with `minijinja`.

mod globals;
mod tojson;

use entropo_core::types::Message;
use minijinja::syntax::SyntaxConfig;
use minijinja::value::Serde;
use minijinja::{Environment, Value};

use crate::error::{Result, TextError};

/// A plain ChatML template for models trained from scratch:
/// `<|im_start|>role\ncontent<|im_end|>\n` per message and
/// `<|im_start|>assistant\n` as the generation prompt.
///
/// ```
/// use entropo_core::types::{Message, Role};
/// use entropo_text::{CHATML_TEMPLATE, ChatTemplate, RenderOptions};
/// let t = ChatTemplate::new(CHATML_TEMPLATE).unwrap();
/// let text = t.render(&[Message::new(Role::User, "hi")], true, &RenderOptions::default()).unwrap();
/// assert_eq!(text, "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
/// ```
pub const CHATML_TEMPLATE: &str = "{%- for message in messages %}\
{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}\
{%- endfor %}\
{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

/// The name the template source is registered under in its environment.
const NAME: &str = "chat_template";

/// Extra inputs of a rendering besides the messages.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RenderOptions {
    /// JSON schemas of the tools the model may call, passed to the template
    /// as `tools` (HF's `tools=`); `none` when absent. Object keys render in
    /// `serde_json::Map` order.
    pub tools: Option<Vec<serde_json::Value>>,
    /// Further template variables (HF's `**kwargs` of `apply_chat_template`),
    /// e.g. `enable_thinking = false` for Qwen3. They may override
    /// `bos_token` / `eos_token` but not `messages`, `tools`, `documents` or
    /// `add_generation_prompt`.
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// A compiled HuggingFace chat template.
///
/// It sees what `transformers`' `apply_chat_template` gives a template:
/// `messages` (a list of `{role, content}` with lowercase role names),
/// `add_generation_prompt`, `tools`, `documents` (always `none`),
/// `bos_token` / `eos_token` when set, `raise_exception(msg)`,
/// `strftime_now(fmt)`, HF's `tojson` filter (Python `json.dumps`), loop
/// controls (`break`, `continue`), `namespace`, and Python string, list and
/// dict methods (`.strip()`, `.split()`, `.startswith()`, `.items()`…).
/// Blocks are trimmed as HF configures jinja (`trim_blocks`,
/// `lstrip_blocks`).
///
/// ```
/// use entropo_core::types::{Message, Role};
/// use entropo_text::{ChatTemplate, RenderOptions};
/// let t = ChatTemplate::new(
///     "{{ bos_token }}{% for m in messages %}[{{ m.role }}] {{ m.content.strip() }}\n{% endfor %}",
/// )
/// .unwrap()
/// .with_special_tokens(Some("<s>"), None);
/// let msgs = [Message::new(Role::System, " be brief "), Message::new(Role::User, "hi")];
/// let text = t.render(&msgs, false, &RenderOptions::default()).unwrap();
/// assert_eq!(text, "<s>[system] be brief\n[user] hi\n");
/// ```
#[derive(Debug, Clone)]
pub struct ChatTemplate {
    env: Environment<'static>,
    source: String,
    bos_token: Option<String>,
    eos_token: Option<String>,
}

impl ChatTemplate {
    /// Compiles `source`; a syntax error is a [`TextError::Template`] with
    /// its line.
    pub fn new(source: impl Into<String>) -> Result<Self> {
        let source = source.into();
        let mut env = Environment::new();
        let syntax = SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build();
        env.set_syntax(syntax.map_err(TextError::Template)?);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_filter("tojson", tojson::tojson);
        env.add_function("raise_exception", globals::raise_exception);
        env.add_function("strftime_now", globals::strftime_now);
        env.add_template_owned(NAME, source.clone())
            .map_err(TextError::Template)?;
        Ok(ChatTemplate {
            env,
            source,
            bos_token: None,
            eos_token: None,
        })
    }

    /// Sets the `bos_token` and `eos_token` variables (undefined when `None`,
    /// as in HF).
    pub fn with_special_tokens(mut self, bos_token: Option<&str>, eos_token: Option<&str>) -> Self {
        self.bos_token = bos_token.map(str::to_owned);
        self.eos_token = eos_token.map(str::to_owned);
        self
    }

    /// The template's jinja source.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Renders a conversation. With `add_generation_prompt` the text ends
    /// with what opens an assistant turn (if the template honours it). A
    /// `raise_exception(msg)` in the template gives
    /// [`TextError::TemplateException`] with `msg`.
    pub fn render(
        &self,
        messages: &[Message],
        add_generation_prompt: bool,
        options: &RenderOptions,
    ) -> Result<String> {
        let mut ctx: Vec<(String, Value)> = Vec::new();
        if let Some(bos) = &self.bos_token {
            ctx.push(("bos_token".into(), Value::from(bos.as_str())));
        }
        if let Some(eos) = &self.eos_token {
            ctx.push(("eos_token".into(), Value::from(eos.as_str())));
        }
        for (key, value) in &options.extra {
            ctx.push((key.clone(), Value::from(Serde(value))));
        }
        let tools = options
            .tools
            .as_ref()
            .map_or(Value::from(()), |t| Value::from(Serde(t)));
        ctx.extend([
            ("messages".into(), Value::from(Serde(messages))),
            (
                "add_generation_prompt".into(),
                Value::from(add_generation_prompt),
            ),
            ("tools".into(), tools),
            ("documents".into(), Value::from(())),
        ]);
        // Later pairs win, so the fixed variables override `extra`.
        let ctx = Value::from_pairs(ctx);
        let template = self.env.get_template(NAME).map_err(TextError::Template)?;
        template
            .render(ctx)
            .map_err(|err| match globals::raised_message(&err) {
                Some(message) => TextError::TemplateException { message },
                None => TextError::Template(err),
            })
    }
}

#[cfg(test)]
mod tests {
    use entropo_core::types::Role;

    use super::*;

    fn chat() -> Vec<Message> {
        vec![
            Message::new(Role::System, "sys"),
            Message::new(Role::User, "question"),
            Message::new(Role::Assistant, "answer"),
        ]
    }

    #[test]
    fn chatml_renders_each_turn_and_the_prompt() {
        let t = ChatTemplate::new(CHATML_TEMPLATE).unwrap();
        let text = t.render(&chat(), false, &RenderOptions::default()).unwrap();
        assert_eq!(
            text,
            "<|im_start|>system\nsys<|im_end|>\n<|im_start|>user\nquestion<|im_end|>\n\
             <|im_start|>assistant\nanswer<|im_end|>\n"
        );
        let prompt = t
            .render(&chat()[..2], true, &RenderOptions::default())
            .unwrap();
        assert!(
            prompt.ends_with("question<|im_end|>\n<|im_start|>assistant\n"),
            "{prompt}"
        );
    }

    #[test]
    fn raise_exception_gives_its_message() {
        let t = ChatTemplate::new(
            "{% if messages[0].role != 'user' %}{{ raise_exception('Conversations must start with user') }}{% endif %}",
        )
        .unwrap();
        let err = t
            .render(&chat(), false, &RenderOptions::default())
            .unwrap_err();
        match err {
            TextError::TemplateException { message } => {
                assert_eq!(message, "Conversations must start with user")
            }
            other => panic!("expected TemplateException, got {other}"),
        }
    }

    #[test]
    fn syntax_errors_are_reported_with_the_line() {
        let err = ChatTemplate::new("line one\n{% for m in messages %}").unwrap_err();
        assert!(
            matches!(&err, TextError::Template(e) if e.line() == Some(2)),
            "{err}"
        );
        assert!(err.to_string().contains("syntax error"), "{err}");
    }

    #[test]
    fn variables_like_huggingface() {
        let t = ChatTemplate::new(
            "{{ bos_token is defined }} {{ eos_token }} {{ tools is none }} {{ documents is none }} \
             {{ add_generation_prompt }} {{ enable_thinking }}",
        )
        .unwrap()
        .with_special_tokens(None, Some("</s>"));
        let mut options = RenderOptions::default();
        options.extra.insert("enable_thinking".into(), false.into());
        // `extra` cannot replace the fixed variables.
        options
            .extra
            .insert("add_generation_prompt".into(), "no".into());
        assert_eq!(
            t.render(&chat(), true, &options).unwrap(),
            "False </s> True True True False"
        );
    }

    #[test]
    fn tools_are_passed_as_json() {
        let t = ChatTemplate::new(
            "{% for tool in tools %}{{ tool | tojson }}|{{ tool.name }}{% endfor %}",
        )
        .unwrap();
        let options = RenderOptions {
            tools: Some(vec![
                serde_json::json!({"name": "search", "parameters": {"type": "object"}}),
            ]),
            ..RenderOptions::default()
        };
        assert_eq!(
            t.render(&[], false, &options).unwrap(),
            r#"{"name": "search", "parameters": {"type": "object"}}|search"#
        );
    }

    #[test]
    fn python_methods_loops_and_namespace() {
        let t = ChatTemplate::new(
            "{%- set ns = namespace(n=0) %}\n\
             {%- for m in messages[::-1] %}\n\
               {%- if m.role == 'user' %}{% set ns.n = loop.index0 %}{% break %}{% endif %}\n\
             {%- endfor %}\n\
             {{- ns.n }}|{{ 'a</think>b'.split('</think>')[-1] }}|{{ '\\n\\nx\\n'.lstrip('\\n').rstrip() }}|\
             {{- 'abc'.startswith('ab') }}|{{ messages | length }}",
        )
        .unwrap();
        assert_eq!(
            t.render(&chat(), false, &RenderOptions::default()).unwrap(),
            "1|b|x|True|3"
        );
    }

    #[test]
    fn trim_and_lstrip_blocks_like_huggingface() {
        let t = ChatTemplate::new("{% for m in messages %}\n    {% if true %}\n{{ m.role }}\n    {% endif %}\n{% endfor %}")
            .unwrap();
        assert_eq!(
            t.render(&chat()[..2], false, &RenderOptions::default())
                .unwrap(),
            "system\nuser\n"
        );
    }
}
