//! Helpers shared by the integration tests: sample workspaces and tool calls.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use entropo_envs::wasm::{Tool, ToolLimits, ToolOutput, WasmTools};

pub const MOUNT: &str = "/testbed";

/// Writes `files` (relative path, content) under `root`.
pub fn write_files(root: &Path, files: &[(&str, &str)]) {
    for (rel, content) in files {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
}

pub fn params(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
    kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Runs a tool module on `ws` and returns the full result.
pub fn run_with(tool: Tool, ws: &Path, kv: &[(&str, &str)], limits: &ToolLimits) -> ToolOutput {
    WasmTools::global().unwrap().run(tool, ws, MOUNT, &params(kv), limits).unwrap()
}

/// Runs a tool module on `ws` with default limits and returns its text.
pub fn run(tool: Tool, ws: &Path, kv: &[(&str, &str)]) -> String {
    let limits = ToolLimits::default();
    run_with(tool, ws, kv, &limits).observation(tool, &limits)
}

pub fn editor(ws: &Path, kv: &[(&str, &str)]) -> String {
    run(Tool::FileEditor, ws, kv)
}

pub fn search(ws: &Path, kv: &[(&str, &str)]) -> String {
    run(Tool::Search, ws, kv)
}

/// The sample calculator repository: a bug in `add`, one failing and one
/// passing unittest.
pub fn calc_repo(root: &Path) {
    write_files(
        root,
        &[
            ("calc/__init__.py", ""),
            ("calc/ops.py", "def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a - b\n"),
            ("tests/__init__.py", ""),
            (
                "tests/test_ops.py",
                "import unittest\n\nfrom calc.ops import add, sub\n\n\nclass TestAdd(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n\n\nclass TestSub(unittest.TestCase):\n    def test_sub(self):\n        self.assertEqual(sub(5, 3), 2)\n",
            ),
            ("README.md", "# calc\n"),
        ],
    );
}
