//! Llama/Qwen-family decoders with LoRA on burn.
