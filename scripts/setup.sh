#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine: installs the system packages that are missing
# (compiler, cmake, libtorch, the headers of its oneDNN, a fast BLAS; for the tests and benchmarks:
# python torch, numpy and onnx, python httpx as a socket client, curl, and script(1) from bsdutils
# for a pseudo-terminal, python3-venv), creates the Python virtual environment .venv/ (a CPU torch 2.x with Hugging Face
# transformers, sentence-transformers and onnxruntime: the tests' ground truth and the benchmarks' Python peers),
# then installs the npm packages, builds the addon and compiles the TypeScript.
#
#   bash scripts/setup.sh              everything
#   bash scripts/setup.sh --venv-only  only the Debian packages and .venv/
set -euo pipefail
cd "$(dirname "$0")/.."

venv_only=false
case "${1:-}" in
  '') ;;
  --venv-only) venv_only=true ;;
  *) echo "usage: bash scripts/setup.sh [--venv-only]" >&2; exit 2 ;;
esac

# nginx: test/deploy/nginx.test.ts runs deploy/nginx.conf in front of two servers (as a foreground process of its own,
# under a temp prefix; Debian's package may also enable its own nginx.service on port 80 where systemd runs)
# chromium: test/server/dashboard.test.ts drives GET /dashboard in it, headless, through playwright-core
# redis-server: test/scale-out/ runs BullMQ on one it starts itself, on a free loopback port (Debian's package may also
# enable its own redis-server.service on port 6379 where systemd runs; the tests never use it)
packages=(cmake g++ make libtorch-dev libdnnl-dev libopenblas0-pthread python3-torch python3-numpy python3-onnx python3-httpx python3-venv curl bsdutils nginx chromium redis-server)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# .venv/: Debian's python3 with torch (CPU build), transformers, sentence-transformers, onnxruntime, safetensors, numpy,
# onnx, tensorflow-cpu (which writes the TensorFlow checkpoints of the bert-as-service tests) and ray[data] (the Ray Data
# scale-out tests and benchmark) from pip. Skipped when
# they all import already. pip reads its usual configuration (pip.conf, PIP_* variables); where that names extra
# indexes, the first becomes the index (so pip never waits on an unreachable pypi.org) and a CPU torch wheel found in
# the find-links folders is installed as a file (a plain `torch` would resolve to the much larger CUDA build).
# (bert_embed: the Python client of clients/python, installed last by setup_venv)
venv_modules=(torch transformers sentence_transformers onnxruntime safetensors numpy onnx tensorflow ray.data bert_embed)
# shellcheck source=scripts/pip-index.sh
source scripts/pip-index.sh
setup_venv() {
  local py=.venv/bin/python
  local import_all="import $(IFS=,; echo "${venv_modules[*]}"); print('torch', torch.__version__, 'transformers', transformers.__version__)"
  local versions
  if [ -x "$py" ] && versions=$("$py" -c "$import_all" 2>/dev/null); then
    echo "setup: .venv ready ($versions)"
    return
  fi
  if ! { [ -x "$py" ] && "$py" -m pip --version >/dev/null 2>&1; }; then
    echo "setup: creating .venv with /usr/bin/python3"
    /usr/bin/python3 -m venv --clear .venv
  fi
  local args links link wheel tag index
  pip_index_args "$py"
  args=(install --quiet --disable-pip-version-check "${PIP_INDEX_ARGS[@]}")
  links=("${PIP_FIND_LINKS_DIRS[@]}")
  index=$PIP_HAS_INDEX
  local torch=(torch)
  tag=$("$py" -c 'import sys; print("cp%d%d" % sys.version_info[:2])')
  for link in "${links[@]}"; do
    wheel=$(ls "$link"/torch-*+cpu-"$tag"-"$tag"-*linux*_"$(uname -m)".whl 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$wheel" ]; then torch=("$wheel"); fi
  done
  # No local CPU wheel and no index of our own (plain pypi.org, whose torch is the CUDA build): PyTorch's CPU index.
  if [ "${torch[0]}" = torch ] && [ -z "$index" ]; then torch+=(--index-url https://download.pytorch.org/whl/cpu); fi
  echo "setup: installing ${torch[0]##*/} transformers sentence-transformers onnxruntime safetensors numpy onnx tensorflow-cpu ray[data] into .venv"
  "$py" -m pip "${args[@]}" "${torch[@]}" 2> >(grep -v "$PIP_INDEX_NOISE" >&2)
  "$py" -m pip "${args[@]}" transformers sentence-transformers onnxruntime safetensors numpy onnx tensorflow-cpu 'ray[data]' 2> >(grep -v "$PIP_INDEX_NOISE" >&2)
  # The Python client (clients/python, bert-as-service's BertClient for our server), editable: test/clients/ runs
  # this checkout's code as pip installed it. Its build backend (setuptools) comes from the same index.
  echo "setup: installing clients/python (bert-embed-client) into .venv, editable"
  "$py" -m pip "${args[@]}" --editable clients/python 2> >(grep -v "$PIP_INDEX_NOISE" >&2)
  versions=$("$py" -c "$import_all")
  echo "setup: .venv ready ($versions)"
}
setup_venv
$venv_only && exit 0

# onnxruntime-node (the transformers.js peer used by tests and benchmarks) would try to download
# CUDA binaries when it sees nvcc; the CPU build it ships is all we use.
export ONNXRUNTIME_NODE_INSTALL_CUDA=skip
npm ci
# npm ci builds the addon only when no build exists yet; make sure it matches the sources.
npm run build:native && npm run build:ts
