//! R2E-Gym's `file_editor` and `search` tools, re-implemented in Rust for
//! WASI so that they run inside wasmtime with only the workspace visible.
//!
//! Each tool is a WASI command (`src/bin/*.rs`): it reads one call as JSON on
//! stdin, `{"mount": "/testbed", "params": {"command": "view", ...}}`, and
//! prints exactly what R2E-Gym's Python script prints for that call. The
//! logic lives here so that it also builds and tests natively.

#![warn(missing_docs)]

pub mod concise;
pub mod editor;
pub mod paths;
pub mod pytext;
pub mod search;

use std::collections::BTreeMap;
use std::io::Read;

/// One tool call as the host sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// Where the workspace is mounted (the tools' working directory).
    pub mount: String,
    /// Parameters, already stripped of surrounding whitespace as R2E does.
    pub params: BTreeMap<String, String>,
}

impl Call {
    /// Parses `{"mount": ..., "params": {...}}`; parameter values may be
    /// strings, numbers, booleans or arrays (rendered as JSON text) and are
    /// stripped like R2E strips the values it parses from a model's reply.
    pub fn parse(text: &str) -> Result<Call, String> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("invalid tool call JSON: {e}"))?;
        let mount = value
            .get("mount")
            .and_then(|m| m.as_str())
            .unwrap_or("/testbed")
            .to_string();
        let mut params = BTreeMap::new();
        if let Some(map) = value.get("params").and_then(|p| p.as_object()) {
            for (k, v) in map {
                let s = match v {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Null => continue,
                    other => other.to_string(),
                };
                params.insert(k.clone(), pytext::py_strip(&s).to_string());
            }
        }
        Ok(Call { mount: paths::py_path_str(&mount), params })
    }

    /// Reads and parses the call from stdin.
    pub fn from_stdin() -> Result<Call, String> {
        let mut buf = String::new();
        std::io::stdin()
            .read_to_string(&mut buf)
            .map_err(|e| format!("cannot read the tool call: {e}"))?;
        Call::parse(&buf)
    }

    /// A parameter's value, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

/// Exit code of a tool whose output the host refused (over its cap).
pub const OUTPUT_REFUSED_EXIT: i32 = 75;

/// Runs a tool's entry point: reads the call, prints the output. Output is
/// written in chunks so that a host-side cap keeps as much as fits; if the
/// host refuses a write the module exits with [`OUTPUT_REFUSED_EXIT`].
pub fn run_tool(tool: fn(&Call) -> String) {
    use std::io::Write;
    let out = match Call::from_stdin() {
        Ok(call) => tool(&call),
        Err(e) => format!("ERROR: {e}\n"),
    };
    let mut stdout = std::io::stdout().lock();
    for chunk in out.as_bytes().chunks(4096) {
        if stdout.write_all(chunk).and_then(|_| stdout.flush()).is_err() {
            std::process::exit(OUTPUT_REFUSED_EXIT);
        }
    }
}
