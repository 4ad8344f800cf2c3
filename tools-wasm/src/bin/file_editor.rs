//! WASI command: R2E's `file_editor`. Reads the call as JSON on stdin.
fn main() {
    entropo_tools_wasm::run_tool(entropo_tools_wasm::editor::file_editor);
}
