//! Built-in loss plugins: sft, dpo, kto, entropo-dpo, entropo-kto.
