//! `entropo serve`: an OpenAI-compatible chat server over a model folder.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use entropo_burn::engine::EngineOptions;
use entropo_burn::sample::SamplingParams;
use entropo_openai::{Server, ServerOptions, shutdown_signal};

/// Serves `/v1/chat/completions`, `/v1/models` and `/health` on loopback.
#[derive(Debug, Args)]
#[command(after_help = "\
Point any OpenAI-compatible client at http://127.0.0.1:PORT/v1, including entropo's own
rollouts ([rollout] endpoints = [\"http://127.0.0.1:8000/v1\"]). Requests may set
temperature, top_p, top_k, max_tokens, seed and stop; `stream: true` is answered with
server-sent events, token by token; n asks for several completions at once. Concurrent
requests are batched; requests that share a prefix with an earlier one (an agent's next turn)
compute only their new tokens. A client that goes away stops its generation at once. Ctrl-C
or SIGTERM stops the server within about two seconds.

Examples:
  entropo serve --model models/smollm2-135m-instruct
  entropo serve --model runs/q/model/sft --adapter runs/q/train/entropo-kto/adapter --port 8001")]
pub struct ServeArgs {
    /// A HuggingFace model folder.
    #[arg(long)]
    model: PathBuf,
    /// A PEFT LoRA adapter applied on top (not merged).
    #[arg(long)]
    adapter: Option<PathBuf>,
    /// The model id clients see (default: the folder's name).
    #[arg(long)]
    name: Option<String>,
    /// Address to listen on; use 0.0.0.0 only on a trusted network.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// Port (0 picks a free one, printed at start).
    #[arg(long, default_value_t = entropo_openai::DEFAULT_PORT)]
    port: u16,
    /// Completions computed together, as one batch per step (a request
    /// with `n` choices counts `n`).
    #[arg(long, default_value_t = 16)]
    batch_size: usize,
    /// Requests that may wait for a slot; more are answered 503 with Retry-After.
    #[arg(long, default_value_t = 64)]
    queue: usize,
    /// Memory in MiB for keeping computed prompt prefixes, so that an
    /// agent's next call (the same conversation, one turn longer) computes
    /// only its new tokens (0 turns reuse off).
    #[arg(long, default_value_t = 1024)]
    cache_mib: usize,
    /// Prompt tokens computed per step beside the decoding requests.
    #[arg(long, default_value_t = 512)]
    prefill_chunk: usize,
}

impl ServeArgs {
    pub fn run(self) -> anyhow::Result<()> {
        let id = self.name.clone().unwrap_or_else(|| {
            self.model.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "model".into())
        });
        let batch = self.batch_size.max(1);
        let engine = EngineOptions { max_batch: batch, prefill_chunk: self.prefill_chunk, cache_bytes: self.cache_mib.saturating_mul(1 << 20) };
        let chat = Arc::new(entropo::serve::BurnChat::load(
            &self.model,
            self.adapter.as_deref(),
            id.clone(),
            SamplingParams::default(),
            engine,
        )?);
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
        let served = chat.clone();
        let result = runtime.block_on(async move {
            let options = ServerOptions { max_concurrency: batch, max_queue: self.queue, ..Default::default() };
            let server = Server::bind(served, SocketAddr::new(self.host, self.port), options).await?;
            eprintln!("serving {id} on http://{}/v1 (Ctrl-C stops)", server.local_addr());
            server.run(shutdown_signal()).await?;
            anyhow::Ok(())
        });
        // Completions still computing were told to stop; don't wait for them.
        runtime.shutdown_timeout(std::time::Duration::from_millis(500));
        let stats = chat.engine().stats();
        eprintln!(
            "served {} completions: {} prompt tokens ({:.0} % from the prefix cache), {} generated, mean batch {:.1}",
            stats.completions,
            stats.prompt_tokens,
            100.0 * stats.reuse_share(),
            stats.generated_tokens,
            stats.batched as f64 / stats.steps.max(1) as f64
        );
        result
    }
}
