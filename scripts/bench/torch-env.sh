#!/usr/bin/env bash
# Creates .venv-torch/ beside the repository's root: PyTorch 2.9.0 (the
# LibTorch that burn 0.21's `tch` backend, through tch 0.22, is built
# against), transformers, peft and TRL. It serves two things:
#
#   - the peers of `entropo bench train` and `entropo bench preference`
#     (scripts/bench/*.py run with .venv-torch/bin/python);
#   - building the `tch` feature: `scripts/bench/torch-env.sh --print-env`
#     prints the variables torch-sys needs (LIBTORCH_USE_PYTORCH,
#     LD_LIBRARY_PATH), e.g. `eval "$(scripts/bench/torch-env.sh --print-env)"`.
#
# PyPI's Linux torch wheel pulls its CUDA libraries (about 3 GB installed);
# nothing here needs a GPU. Idempotent; not part of CI.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="$PWD/.venv-torch"
python="$venv/bin/python"

if [ "${1:-}" = "--print-env" ]; then
    lib=$("$python" -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
    echo "export LIBTORCH_USE_PYTORCH=1 PATH=\"$venv/bin:\$PATH\" LD_LIBRARY_PATH=\"$lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}\""
    exit 0
fi

if ! "$python" -c 'import torch, transformers, peft, trl' 2>/dev/null; then
    [ -x "$python" ] || python3 -m venv "$venv"
    "$python" -m pip install -q --upgrade pip
    "$python" -m pip install -q "torch==2.9.0" "transformers>=4.56,<5" "peft>=0.17" "trl>=0.23,<0.26" datasets accelerate
fi
"$python" -c 'import torch, transformers, peft, trl; print("torch", torch.__version__, "transformers", transformers.__version__, "peft", peft.__version__, "trl", trl.__version__)'
