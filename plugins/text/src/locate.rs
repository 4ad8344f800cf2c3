//! Finding each assistant turn in a rendered conversation.
//!
//! Templates may rewrite what they are given (Llama 3 strips contents,
//! Qwen3 drops `<think>` blocks from earlier turns and reformats the last
//! one), so each message is looked for in the forms a template may have
//! written it in, searching forward from where the previous message ended.
//! An assistant turn must be followed (after optional whitespace) by an
//! end-of-turn token, or end the rendering; the turn's span runs from its
//! text through that token, whitespace between them included.

use std::cmp::Reverse;
use std::ops::Range;

use entropo_core::types::{Message, Role};

use crate::error::{Result, TextError};

/// The byte spans of the assistant turns of `messages` in `rendered`: each
/// from the start of the text the template wrote for the turn through the
/// end-of-turn token (one of `closers`) that closes it. `specials` are all
/// special tokens, used to skip past other messages.
pub(crate) fn assistant_spans(
    rendered: &str,
    messages: &[Message],
    closers: &[String],
    specials: &[String],
) -> Result<Vec<Range<usize>>> {
    let mut cursor = 0;
    let mut spans = Vec::new();
    for (index, message) in messages.iter().enumerate() {
        let forms = rendered_forms(&message.content);
        if message.role == Role::Assistant {
            let span = find_assistant(rendered, cursor, &forms, closers).ok_or_else(|| {
                TextError::AssistantNotFound {
                    index,
                    closers: closers.join(" "),
                }
            })?;
            cursor = span.end;
            spans.push(span);
        } else if let Some(end) = find_other(rendered, cursor, &forms, closers, specials) {
            cursor = end;
        }
    }
    Ok(spans)
}

/// The texts a template may have written for `content`, most faithful
/// first: verbatim; stripped (Llama 3's `| trim`); without leading newlines
/// (Qwen3's `.lstrip('\n')`); and, for content holding a `<think>…</think>`
/// block, Qwen3's reformatted block followed by the answer, and the answer
/// alone (Qwen3 drops the reasoning of turns before the last user query).
fn rendered_forms(content: &str) -> Vec<String> {
    let mut forms = vec![
        content.to_owned(),
        content.trim().to_owned(),
        content.trim_start_matches('\n').to_owned(),
    ];
    if let Some((before, answer)) = content.rsplit_once("</think>") {
        let answer = answer.trim_start_matches('\n');
        let first = before.split("</think>").next().unwrap_or(before);
        let reasoning = first.trim_end_matches('\n');
        let reasoning = reasoning.rsplit("<think>").next().unwrap_or(reasoning);
        forms.push(format!(
            "<think>\n{}\n</think>\n\n{answer}",
            reasoning.trim_matches('\n')
        ));
        forms.push(answer.to_owned());
    }
    let mut unique: Vec<String> = Vec::with_capacity(forms.len());
    for form in forms {
        if !unique.contains(&form) {
            unique.push(form);
        }
    }
    unique
}

/// The first occurrence of any of `anchors` at or after `pos`, as the
/// anchor's byte range (the longest anchor when several start together).
fn next_anchor(text: &str, pos: usize, anchors: &[String]) -> Option<Range<usize>> {
    anchors
        .iter()
        .filter(|a| !a.is_empty())
        .filter_map(|a| {
            text[pos..]
                .find(a.as_str())
                .map(|i| pos + i..pos + i + a.len())
        })
        .min_by_key(|r| (r.start, Reverse(r.end)))
}

/// Where a form ends at `end`, or just before whitespace leading to `end`,
/// without starting before `from`: the start of the longest such form at
/// the latest such end.
fn form_before(text: &str, from: usize, end: usize, forms: &[String]) -> Option<usize> {
    let mut e = end;
    loop {
        let head = &text[from..e];
        if let Some(form) = forms
            .iter()
            .filter(|f| head.ends_with(f.as_str()))
            .max_by_key(|f| f.len())
        {
            return Some(e - form.len());
        }
        match head.chars().next_back() {
            Some(c) if c.is_whitespace() => e -= c.len_utf8(),
            _ => return None,
        }
    }
}

/// An assistant turn: the first end-of-turn token after `cursor` that one of
/// `forms` precedes, or else a form ending the rendering.
fn find_assistant(
    text: &str,
    cursor: usize,
    forms: &[String],
    closers: &[String],
) -> Option<Range<usize>> {
    let mut pos = cursor;
    while let Some(closer) = next_anchor(text, pos, closers) {
        if let Some(start) = form_before(text, cursor, closer.start, forms) {
            return Some(start..closer.end);
        }
        pos = closer.end;
    }
    form_before(text, cursor, text.len(), forms).map(|start| start..text.len())
}

/// Where a system, user or tool message ends (after its closing special
/// token when one follows it): it must precede the first end-of-turn token,
/// or else the first special token, after `cursor`; failing both, its first
/// occurrence counts. `None` when the template did not write it recognisably
/// or it is blank (a template may have left it out, and skipping nothing
/// is safe).
fn find_other(
    text: &str,
    cursor: usize,
    forms: &[String],
    closers: &[String],
    specials: &[String],
) -> Option<usize> {
    if forms.iter().all(|f| f.trim().is_empty()) {
        return None;
    }
    for anchors in [closers, specials] {
        if let Some(anchor) = next_anchor(text, cursor, anchors)
            && form_before(text, cursor, anchor.start, forms).is_some()
        {
            return Some(anchor.end);
        }
    }
    forms
        .iter()
        .filter(|f| !f.is_empty())
        .filter_map(|f| {
            text[cursor..]
                .find(f.as_str())
                .map(|i| (cursor + i, f.len()))
        })
        .min_by_key(|&(start, len)| (start, Reverse(len)))
        .map(|(start, len)| start + len)
}

#[cfg(test)]
#[allow(clippy::single_range_in_vec_init)] // lists of one span are meant
mod tests {
    use super::*;

    fn m(role: Role, content: &str) -> Message {
        Message::new(role, content)
    }

    fn strings(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    fn spans_text(
        rendered: &str,
        messages: &[Message],
        closers: &[&str],
        specials: &[&str],
    ) -> Vec<String> {
        assistant_spans(rendered, messages, &strings(closers), &strings(specials))
            .unwrap()
            .into_iter()
            .map(|r| rendered[r].to_owned())
            .collect()
    }

    const SPECIALS: &[&str] = &["<|im_start|>", "<|im_end|>"];

    #[test]
    fn chatml_turns_run_through_their_closer() {
        let msgs = [
            m(Role::User, "hi"),
            m(Role::Assistant, "hello"),
            m(Role::User, "bye"),
            m(Role::Assistant, "ciao"),
        ];
        let rendered = "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nhello<|im_end|>\n\
                        <|im_start|>user\nbye<|im_end|>\n<|im_start|>assistant\nciao<|im_end|>\n";
        assert_eq!(
            spans_text(rendered, &msgs, &["<|im_end|>"], SPECIALS),
            ["hello<|im_end|>", "ciao<|im_end|>"]
        );
    }

    #[test]
    fn assistant_text_repeating_the_user_or_a_header_is_found_in_its_own_turn() {
        // "assistant" also appears in the header, and the user said the same.
        let msgs = [m(Role::User, "assistant"), m(Role::Assistant, "assistant")];
        let rendered =
            "<|im_start|>user\nassistant<|im_end|>\n<|im_start|>assistant\nassistant<|im_end|>\n";
        let spans = assistant_spans(
            rendered,
            &msgs,
            &strings(&["<|im_end|>"]),
            &strings(SPECIALS),
        )
        .unwrap();
        let start = rendered.rfind("\nassistant<|im_end|>").unwrap() + 1;
        assert_eq!(spans, [start..rendered.len() - 1]);
    }

    #[test]
    fn llama_headers_are_not_mistaken_for_content() {
        let msgs = [m(Role::User, "user"), m(Role::Assistant, " user \n")];
        let rendered = "<|start_header_id|>user<|end_header_id|>\n\nuser<|eot_id|>\
                        <|start_header_id|>assistant<|end_header_id|>\n\nuser<|eot_id|>";
        let specials = ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"];
        let spans = assistant_spans(
            rendered,
            &msgs,
            &strings(&["<|eot_id|>"]),
            &strings(&specials),
        )
        .unwrap();
        let start = rendered.rfind("user<|eot_id|>").unwrap();
        assert_eq!(spans, [start..rendered.len()]);
    }

    #[test]
    fn qwen3_reasoning_is_dropped_early_and_reformatted_last() {
        let early = "<think>\nplan A\n</think>\n\nrun ls";
        let last = "<think>plan B</think>done";
        let msgs = [
            m(Role::User, "task"),
            m(Role::Assistant, early),
            m(Role::User, "out"),
            m(Role::Assistant, last),
        ];
        // Qwen3 keeps the reasoning only after the last user query.
        let rendered = "<|im_start|>user\ntask<|im_end|>\n<|im_start|>assistant\nrun ls<|im_end|>\n\
                        <|im_start|>user\nout<|im_end|>\n\
                        <|im_start|>assistant\n<think>\nplan B\n</think>\n\ndone<|im_end|>\n";
        assert_eq!(
            spans_text(rendered, &msgs, &["<|im_end|>"], SPECIALS),
            [
                "run ls<|im_end|>",
                "<think>\nplan B\n</think>\n\ndone<|im_end|>"
            ]
        );
    }

    #[test]
    fn whitespace_before_the_closer_and_a_missing_final_closer() {
        let msgs = [
            m(Role::User, "q"),
            m(Role::Assistant, "a"),
            m(Role::User, "q2"),
            m(Role::Assistant, "b"),
        ];
        let rendered = "[U] q\n<eot>[A] a \n<eot>[U] q2\n<eot>[A] b";
        assert_eq!(
            spans_text(rendered, &msgs, &["<eot>"], &["<eot>"]),
            ["a \n<eot>", "b"]
        );
    }

    #[test]
    fn an_empty_assistant_turn_is_just_its_closer() {
        let msgs = [m(Role::User, "q"), m(Role::Assistant, "")];
        let rendered = "<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n<|im_end|>\n";
        assert_eq!(
            spans_text(rendered, &msgs, &["<|im_end|>"], SPECIALS),
            ["<|im_end|>"]
        );
    }

    #[test]
    fn a_blank_user_message_the_template_dropped_is_skipped() {
        let msgs = [m(Role::User, ""), m(Role::Assistant, "hi")];
        let rendered = "<|im_start|>assistant\nhi<|im_end|>\n";
        assert_eq!(
            spans_text(rendered, &msgs, &["<|im_end|>"], SPECIALS),
            ["hi<|im_end|>"]
        );
    }

    #[test]
    fn an_assistant_turn_the_template_dropped_is_an_error() {
        let msgs = [m(Role::User, "q"), m(Role::Assistant, "answer")];
        let rendered = "<|im_start|>user\nq<|im_end|>\n";
        let err = assistant_spans(
            rendered,
            &msgs,
            &strings(&["<|im_end|>"]),
            &strings(SPECIALS),
        )
        .unwrap_err();
        assert!(
            matches!(err, TextError::AssistantNotFound { index: 1, .. }),
            "{err}"
        );
    }

    #[test]
    fn forms_of_qwen3_reasoning() {
        let forms = rendered_forms("\n<think>\nr\n\n</think>\n\nanswer\n");
        assert!(
            forms.contains(&"<think>\nr\n</think>\n\nanswer\n".to_owned()),
            "{forms:?}"
        );
        assert!(forms.contains(&"answer\n".to_owned()), "{forms:?}");
        assert!(
            forms.contains(&"<think>\nr\n\n</think>\n\nanswer".to_owned()),
            "{forms:?}"
        );
    }
}
