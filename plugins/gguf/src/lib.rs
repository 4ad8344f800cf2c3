//! GGUF reading and conversion to HuggingFace model folders.
