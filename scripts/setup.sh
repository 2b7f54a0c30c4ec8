#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine: installs the system packages that are missing
# (compiler, cmake, libtorch, the headers of its oneDNN, a fast BLAS; for the tests and benchmarks:
# python torch, numpy and onnx, python httpx as a socket client, curl, and script(1) from bsdutils
# for a pseudo-terminal), then installs the npm packages, builds the addon and compiles the TypeScript.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake g++ make libtorch-dev libdnnl-dev libopenblas0-pthread python3-torch python3-numpy python3-onnx python3-httpx curl bsdutils)
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

# onnxruntime-node (the transformers.js peer used by tests and benchmarks) would try to download
# CUDA binaries when it sees nvcc; the CPU build it ships is all we use.
export ONNXRUNTIME_NODE_INSTALL_CUDA=skip
npm ci
# npm ci builds the addon only when no build exists yet; make sure it matches the sources.
npm run build:native && npm run build:ts
