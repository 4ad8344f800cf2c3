#!/usr/bin/env python3
"""transformers peer of `entropo bench serve`: the same chat prompts through
the same model folder, as one batch of `model.generate` (greedy, left
padding), timed from the tokenised batch to the last token.

Prints one JSON line: generated tokens (up to each row's end-of-turn token),
seconds, tokens per second, the decoded texts and the peak RSS.

Usage: python3 scripts/bench/serve_peer.py MODEL_DIR PROMPTS.json MAX_TOKENS DEVICE
       (PROMPTS.json: a list of conversations, each a list of {role, content};
        DEVICE: cpu | cuda)
"""

import json
import sys
import time

import torch
from peak_rss import peak_rss_bytes
from transformers import AutoModelForCausalLM, AutoTokenizer


def main():
    model_dir, prompts_file, max_tokens, device = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    conversations = json.load(open(prompts_file))
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(model_dir, torch_dtype=torch.float32).to(device).eval()
    texts = [tokenizer.apply_chat_template(c, tokenize=False, add_generation_prompt=True) for c in conversations]
    batch = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(device)
    eos = model.generation_config.eos_token_id
    eos = set(eos if isinstance(eos, list) else [eos])
    with torch.inference_mode():
        start = time.perf_counter()
        out = model.generate(
            input_ids=batch["input_ids"],
            attention_mask=batch["attention_mask"],
            do_sample=False,
            max_new_tokens=max_tokens,
            pad_token_id=tokenizer.pad_token_id,
        )
        if device == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
    new = out[:, batch["input_ids"].shape[1]:].tolist()
    tokens, replies = 0, []
    for row in new:
        end = next((i for i, t in enumerate(row) if t in eos), len(row))
        tokens += end
        replies.append(tokenizer.decode(row[:end], skip_special_tokens=True))
    print(json.dumps({
        "tokens": tokens,
        "seconds": seconds,
        "tokens_per_second": tokens / seconds,
        "texts": replies,
        "peak_rss_bytes": peak_rss_bytes(),
    }))


if __name__ == "__main__":
    main()
