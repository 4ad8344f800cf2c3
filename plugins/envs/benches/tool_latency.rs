//! Per-call latency of the sandboxed tools beside Python scaffolds' way of
//! running them (see `entropo_envs::latency`); prints the Markdown table of
//! BENCHMARKS.md. The same as `entropo bench tools`.
//!
//!     cargo bench -p entropo-envs --bench tool_latency

fn main() -> Result<(), entropo_core::environment::EnvError> {
    print!("{}", entropo_envs::latency::measure(1.0)?.markdown());
    Ok(())
}
