//! The agent loop of the R2E scaffold (paper appendix D.2): a [`Policy`]
//! writes messages, [`parse_reply`] finds the function call in each, the
//! [`Environment`](crate::Environment) executes it, and [`run_episode`]
//! drives the loop under [`Limits`] and writes the R2E-Gym trajectory.
//!
//! # Function calls
//!
//! A reply is free reasoning followed by one function call, in R2E-Gym's
//! format (what the system prompt teaches):
//!
//! ```text
//! I will look at the file first.
//! <function=file_editor>
//! <parameter=command>view</parameter>
//! <parameter=path>/testbed/calc/ops.py</parameter>
//! </function>
//! ```
//!
//! or as OpenAI-style JSON, bare, in a ```` ```json ```` fence or in
//! Qwen's `<tool_call>` tags:
//!
//! ```text
//! <tool_call>
//! {"name": "execute_bash", "arguments": {"cmd": "python -m pytest -q"}}
//! </tool_call>
//! ```
//!
//! The thought is the text before the call. R2E-format values are stripped
//! of surrounding white space, as R2E-Gym does (JSON values are taken as
//! written; the tools strip them anyway).
//!
//! **Several calls**: as in R2E-Gym, only the first is executed and the
//! text after it is dropped from the conversation; entropo adds a line to
//! the observation saying how many calls there were and that one was run.
//!
//! **Malformed calls** (no call, unknown function, missing required
//! parameter, a value outside the allowed set, an unclosed tag, a repeated
//! parameter, unreadable JSON) are never executed: the model reads an
//! `ERROR:` observation saying what is wrong, with the function's
//! parameters or the list of functions and the expected format
//! ([`CallError::observation`]), and the step counts like any other.
//!
//! # Prompts
//!
//! [`PromptTemplate`] reads `configs/prompts/r2e.toml` (the paper's system
//! prompt and R2E-Gym's issue prompt); [`render_tools`] writes the
//! environment's tools into it, and [`openai_tools`] gives the same tools as
//! function-calling schemas.

mod call_error;
mod conversation;
mod episode;
mod json_call;
mod limits;
mod policy;
mod prompt;
mod reply;
mod tool_schema;
mod xml_call;

pub use call_error::CallError;
pub use conversation::{assistant_text, conversation};
pub use episode::{AgentError, run_episode};
pub use limits::{FINAL_STEP_MESSAGE, Limits};
pub use policy::{Policy, PolicyError, Reply};
pub use prompt::{PromptError, PromptTemplate, render_signatures, render_tools};
pub use reply::{ParsedReply, parse_reply};
pub use tool_schema::openai_tools;
