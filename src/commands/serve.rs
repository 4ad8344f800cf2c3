//! `entropo serve`: an OpenAI-compatible chat server over a model folder.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use entropo_burn::sample::SamplingParams;
use entropo_openai::{Server, ServerOptions, shutdown_signal};

/// Serves `/v1/chat/completions`, `/v1/models` and `/health` on loopback.
#[derive(Debug, Args)]
#[command(after_help = "\
Point any OpenAI-compatible client at http://127.0.0.1:PORT/v1, including entropo's own
rollouts ([rollout] endpoints = [\"http://127.0.0.1:8000/v1\"]). Requests may set
temperature, top_p, top_k, max_tokens, seed and stop; `stream: true` is answered with
server-sent events. Ctrl-C stops the server.

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
    /// Requests computed at once (each uses every core it can).
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
}

impl ServeArgs {
    pub fn run(self) -> anyhow::Result<()> {
        let id = self.name.clone().unwrap_or_else(|| {
            self.model.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "model".into())
        });
        let chat = entropo::serve::BurnChat::load(&self.model, self.adapter.as_deref(), id.clone(), SamplingParams::default())?;
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
        runtime.block_on(async move {
            let options = ServerOptions { max_concurrency: self.concurrency.max(1), ..Default::default() };
            let server = Server::bind(Arc::new(chat), SocketAddr::new(self.host, self.port), options).await?;
            eprintln!("serving {id} on http://{}/v1 (Ctrl-C stops)", server.local_addr());
            server.run(shutdown_signal()).await?;
            anyhow::Ok(())
        })
    }
}
