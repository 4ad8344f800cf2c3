//! WASI command: R2E's `search`. Reads the call as JSON on stdin.
fn main() {
    entropo_tools_wasm::run_tool(entropo_tools_wasm::search::search);
}
