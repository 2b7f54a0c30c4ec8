#!/usr/bin/env bash
# Builds the addon against a pip torch's libtorch (how GPU machines have libtorch: pip torch 2.x,
# CUDA or CPU) into a build folder of its own, beside the default build against Debian's libtorch.
#
#   bash scripts/build-pip-torch.sh [PYTHON] [BUILD_DIR]     defaults: .venv/bin/python build-torch2
#
# Load that build with BERT_EMBED_ADDON=BUILD_DIR/Release/bert_embed_native.node.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-.venv/bin/python}
out=${2:-build-torch2}
prefix=$("$python" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')
echo "build-pip-torch: torch $("$python" -c 'import torch; print(torch.__version__)') from $prefix into $out/"
LIBTORCH_DIR="$prefix" npx cmake-js compile --out "$out"
