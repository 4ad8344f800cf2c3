#!/usr/bin/env python3
"""PyTorch peer of `cargo run -p entropo-burn --example train_throughput`.

LoRA (r 8, alpha 16, every linear layer; PEFT) training of a SmolLM2-135M-shaped
LlamaForCausalLM with random weights, fp32, batch 1, AdamW: forward + backward +
step tokens per second, the first step left out. Prints one JSON line.

Usage: python3 scripts/bench/train_peer.py DEVICE SEQ_LEN STEPS   (DEVICE: cpu | cuda)
"""

import json
import sys
import time

import torch
from peft import LoraConfig, get_peft_model
from peak_rss import peak_rss_bytes
from transformers import LlamaConfig, LlamaForCausalLM


def main():
    device, seq_len, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    torch.manual_seed(0)
    config = LlamaConfig(
        hidden_size=576,
        intermediate_size=1536,
        num_hidden_layers=30,
        num_attention_heads=9,
        num_key_value_heads=3,
        vocab_size=49152,
        tie_word_embeddings=True,
        rope_theta=100000.0,
        max_position_embeddings=max(8192, seq_len),
        attn_implementation="sdpa",
    )
    model = LlamaForCausalLM(config).float().to(device)
    lora = LoraConfig(
        r=8,
        lora_alpha=16,
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        task_type="CAUSAL_LM",
    )
    model = get_peft_model(model, lora)
    model.train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    times = []
    for i in range(steps + 1):
        ids = torch.tensor([[(t * 7919 + i * 104729) % 49000 + 1 for t in range(seq_len)]], device=device)
        t0 = time.perf_counter()
        out = model(input_ids=ids, labels=ids)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    secs = sum(times[1:]) / steps
    peak = torch.cuda.max_memory_allocated() if device == "cuda" else None
    print(json.dumps({"peer": "pytorch+peft", "torch": torch.__version__, "device": device, "seq_len": seq_len,
                      "steps": steps, "seconds_per_step": secs, "tokens_per_second": seq_len / secs,
                      "peak_gpu_bytes": peak,
                      "peak_rss_bytes": peak_rss_bytes()}))


if __name__ == "__main__":
    main()
