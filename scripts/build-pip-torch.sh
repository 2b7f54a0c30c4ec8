#!/usr/bin/env bash
# Builds the addon against a pip torch's libtorch (how GPU machines have libtorch: pip torch 2.x,
# CUDA or CPU) into a build folder of its own, beside the default build against Debian's libtorch.
# A CUDA torch needs no CUDA toolkit here (native/cmake/FindLibtorch.cmake).
#
#   bash scripts/build-pip-torch.sh [PYTHON] [BUILD_DIR]     defaults: .venv/bin/python build-torch2
#
# Load that build with BERT_EMBED_ADDON=BUILD_DIR/Release/bert_embed_native.node.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-.venv/bin/python}
out=${2:-build-torch2}
# The torch package folder, found without importing torch (a CUDA torch takes seconds to import).
torch_dir=$("$python" -c "import importlib.util as u; print(u.find_spec('torch').submodule_search_locations[0])")
echo "build-pip-torch: torch at $torch_dir into $out/"
LIBTORCH_DIR="$torch_dir" npx cmake-js compile --out "$out"
