#!/usr/bin/env bash
# Training smoke test of one backend on the quickstart's model and data:
# SFT of every weight from the random initial model (the quickstart's
# settings), then entropo-kto LoRA preference training on top of it.
# Prints each stage's per-step losses and wall time; run it once per
# backend and compare the loss columns (same seed, data and order).
#
#   scripts/bench/train-smoke.sh ENTROPO BACKEND RUN OUT [SFT_STEPS] [PREF_STEPS]
#
#   ENTROPO  an entropo binary built with the backend's cargo feature
#   BACKEND  ndarray | tch | cuda
#   RUN      a finished quickstart run (model/init, data/sft, data/preference)
#   OUT      a new folder for the configs, metrics and weights
set -euo pipefail
entropo=$(realpath "$1"); backend=$2; run=$(realpath "$3"); out=$4
sft_steps=${5:-40}; pref_steps=${6:-10}
mkdir -p "$out"; out=$(realpath "$out")

cat >"$out/sft.toml" <<TOML
name = "train-smoke-sft"
output_dir = "$out"
seed = 0
[model]
path = "$run/model/init"
backend = "$backend"
[train]
data = "$run/data/sft/sft.jsonl"
output = "$out/sft"
finetuning = "full"
learning_rate = 2e-3
warmup_ratio = 0.05
epochs = 20
max_steps = $sft_steps
batch_size = 2
micro_batch_size = 1
save_every = 1000
cutoff = { max_tokens = 2048, on_overflow = "truncate" }
TOML

cat >"$out/preference.toml" <<TOML
name = "train-smoke-preference"
output_dir = "$out"
seed = 0
[loss]
name = "entropo-kto"
params = { alpha = 0.11, beta = 0.1 }
[model]
path = "$out/sft/model"
backend = "$backend"
[train]
data = "$run/data/preference/kto.jsonl"
output = "$out/entropo-kto"
learning_rate = 1e-3
epochs = 1
max_steps = $pref_steps
batch_size = 4
micro_batch_size = 2
save_every = 1000
lora = { r = 8, alpha = 16.0 }
cutoff = { max_tokens = 2048 }
TOML

for stage in sft preference; do
    start=$(date +%s.%N)
    "$entropo" train "$stage" --config "$out/$stage.toml"
    end=$(date +%s.%N)
    dir=$out/$([ "$stage" = sft ] && echo sft || echo entropo-kto)
    python3 - "$dir/metrics.jsonl" "$stage" "$backend" "$start" "$end" <<'PY'
import json, sys
path, stage, backend, start, end = sys.argv[1:]
rows = [json.loads(l) for l in open(path)]
print(f"{stage} on {backend}: {len(rows)} steps in {float(end) - float(start):.1f} s wall")
print("step loss entropy grad_norm")
for r in rows:
    print(r["step"], f'{r["loss"]:.6f}', f'{r["entropy"]:.6f}', f'{r["grad_norm"]:.6f}')
PY
done
