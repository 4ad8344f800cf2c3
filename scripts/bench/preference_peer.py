#!/usr/bin/env python3
"""TRL peer of `entropo bench preference`: one epoch of DPO with TRL's default
set-up on the same model, pairs and settings.

LoRA (r 8, alpha 16, every linear layer; PEFT) on the model folder, fp32,
`DPOTrainer` with its defaults: the reference model is the same weights with
the adapters disabled, and its log-probs are computed again at every step
(`precompute_ref_log_probs=False`). Times `trainer.train()` alone (loading and
tokenising are left out, to the peer's advantage) and prints one JSON line.

Usage: python3 scripts/bench/preference_peer.py MODEL_DIR TRL_DPO.jsonl BATCH MAX_LENGTH DEVICE
       (DEVICE: cpu | cuda; the rows are TRL conversational preference rows)
"""

import dataclasses
import json
import sys
import tempfile
import time

import torch
from datasets import load_dataset
from peft import LoraConfig
from peak_rss import peak_rss_bytes
from transformers import AutoModelForCausalLM, AutoTokenizer
import trl
from trl import DPOConfig, DPOTrainer


def main():
    model_dir, data, batch, max_length, device = sys.argv[1:6]
    batch, max_length = int(batch), int(max_length)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    dataset = load_dataset("json", data_files=data, split="train")
    with tempfile.TemporaryDirectory() as out:
        wanted = dict(
            output_dir=out,
            per_device_train_batch_size=batch,
            num_train_epochs=1,
            learning_rate=1e-3,
            beta=0.1,
            max_length=max_length,
            max_prompt_length=None,
            use_cpu=device == "cpu",
            report_to=[],
            save_strategy="no",
            logging_steps=1,
            seed=0,
            disable_tqdm=True,
        )
        # TRL's options move between releases: pass those this one has.
        known = {f.name for f in dataclasses.fields(DPOConfig)}
        args = DPOConfig(**{k: v for k, v in wanted.items() if k in known})
        lora = LoraConfig(r=8, lora_alpha=16, target_modules="all-linear", task_type="CAUSAL_LM")
        trainer = DPOTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer, peft_config=lora)
        start = time.perf_counter()
        result = trainer.train()
        if device == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated() if device == "cuda" else None
    print(json.dumps({"peer": "trl-dpo", "trl": trl.__version__, "torch": torch.__version__, "device": device,
                      "gradient_checkpointing": args.gradient_checkpointing, "pairs": len(dataset),
                      "steps": result.global_step, "seconds": seconds, "final_loss": result.training_loss,
                      "peak_gpu_bytes": peak,
                      "peak_rss_bytes": peak_rss_bytes()}))


if __name__ == "__main__":
    main()
