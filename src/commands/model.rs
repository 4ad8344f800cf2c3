use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Subcommand;
use entropo_gguf::GgufFile;
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Convert a llama GGUF file into a HuggingFace model folder.
    ///
    /// Writes OUT_DIR/config.json, model.safetensors (every tensor
    /// dequantised to f32 under its HuggingFace name, Q/K rows put back in HF
    /// order), tokenizer.json, tokenizer_config.json (with the chat template)
    /// and generation_config.json, which transformers loads as
    /// LlamaForCausalLM. Reads F32, F16, BF16, Q8_0, Q4_0 and Q4_1 tensors and
    /// byte-level BPE ("gpt2") tokenizers. OUT_DIR must be absent or empty; it
    /// is written atomically.
    #[command(after_help = "Example:
  entropo model import-gguf target/fixtures/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf models/smollm2")]
    ImportGguf {
        /// The GGUF file (general.architecture = llama).
        file: PathBuf,
        /// The folder to create.
        out_dir: PathBuf,
    },
    /// Merge a LoRA adapter (PEFT folder) into a model's weights and write
    /// the result, with its tokenizer files, as a new HuggingFace folder.
    #[command(after_help = "Example:
  entropo model merge --model models/smollm2 --adapter runs/x/train/sft/adapter --out models/smollm2-sft")]
    Merge {
        /// The base model folder.
        #[arg(long)]
        model: PathBuf,
        /// The adapter folder (adapter_config.json, adapter_model.safetensors).
        #[arg(long)]
        adapter: PathBuf,
        /// The folder to create.
        #[arg(long)]
        out: PathBuf,
    },
    /// Print a GGUF file's architecture, metadata and tensor table.
    #[command(after_help = "Example:
  entropo model inspect target/fixtures/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")]
    Inspect {
        /// The GGUF file.
        file: PathBuf,
    },
}

impl ModelCommand {
    pub fn run(self) -> anyhow::Result<()> {
        match self {
            ModelCommand::ImportGguf { file, out_dir } => import(file, out_dir),
            ModelCommand::Inspect { file } => inspect(file),
            ModelCommand::Merge { model, adapter, out } => {
                entropo_burn::jobs::merge_adapter(&model, &adapter, &out)?;
                println!("{}: {} merged into {}", out.display(), adapter.display(), model.display());
                Ok(())
            }
        }
    }
}

fn import(file: PathBuf, out_dir: PathBuf) -> anyhow::Result<()> {
    let started = Instant::now();
    // Shown once the import has taken more than a second, on standard error
    // and only when it is a terminal.
    let mut bar: Option<ProgressBar> = None;
    let summary = entropo_gguf::import_llama_with_progress(&file, &out_dir, |done, total| {
        if bar.is_none() && started.elapsed() > Duration::from_secs(1) {
            let style =
                ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} tensors ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar = Some(
                ProgressBar::new(total as u64)
                    .with_style(style)
                    .with_message("converting"),
            );
        }
        if let Some(bar) = &bar {
            bar.set_position(done as u64);
        }
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let summary = summary?;
    println!(
        "imported {} into {} in {:.1} s: {summary}",
        file.display(),
        out_dir.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn inspect(file: PathBuf) -> anyhow::Result<()> {
    let gguf = GgufFile::open(&file)?;
    println!(
        "{}: GGUF v{}, architecture {}, {} metadata keys, {} tensors, data at byte {} (alignment {})",
        file.display(),
        gguf.version(),
        gguf.architecture().unwrap_or("(none)"),
        gguf.metadata().len(),
        gguf.tensors().len(),
        gguf.data_offset(),
        gguf.alignment()
    );
    println!("\nMETADATA");
    for (key, value) in gguf.metadata() {
        println!("  {key} = {}", value.summary(4));
    }
    println!(
        "\nTENSORS\n  {:<40} {:<8} {:<16} {:>12}",
        "NAME", "TYPE", "SHAPE", "OFFSET"
    );
    for t in gguf.tensors() {
        let shape = format!("{:?}", t.shape());
        println!(
            "  {:<40} {:<8} {:<16} {:>12}",
            t.name(),
            t.dtype().name(),
            shape,
            t.offset()
        );
    }
    Ok(())
}
