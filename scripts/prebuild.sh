#!/usr/bin/env bash
# Builds the addon for every libtorch present and puts each, with the libtorch-free preload addon, under
# prebuilds/<platform>-<arch>/ as `npm pack` ships them (naming: scripts/libtorch-locator.cjs):
#   bert_embed_native.<key>.node     key: torch major.minor plus cpu or cuNNN, e.g. torch-2.14-cu130
#   bert_embed_preload.node
# The libtorches: the one the default build found (build/, usually the system's), and the pip torches
# of .venv (CPU) and .venv-cuda (CUDA; npm run setup:cuda), each built in build-<key>/ (incremental).
#
#   bash scripts/prebuild.sh [PYTHON_OR_LIBTORCH_DIR...]     default: as above
set -euo pipefail
cd "$(dirname "$0")/.."
platform=$(node -p 'process.platform + "-" + process.arch')
out=prebuilds/$platform
mkdir -p "$out"

# One libtorch into prebuilds/: $1 a python (its torch) or a libtorch folder; '' for the default build.
prebuild() {
  local hint=$1 dir json key
  if [ -z "$hint" ]; then
    json=$(node scripts/libtorch-locator.cjs)
    dir=build
  else
    [ -x "$hint" ] && [ ! -d "$hint" ] && hint=$("$hint" -c "import importlib.util as u; print(u.find_spec('torch').submodule_search_locations[0])")
    json=$(LIBTORCH_DIR=$hint node scripts/libtorch-locator.cjs)
    dir=
  fi
  key=$(node -p "JSON.parse(process.argv[1]).key" "$json")
  dir=${dir:-build-$key}
  echo "prebuild: $key from $(node -p "JSON.parse(process.argv[1]).libraryDir" "$json") in $dir/"
  LIBTORCH_DIR=$(node -p "JSON.parse(process.argv[1]).cmakePrefix" "$json") npx cmake-js compile --out "$dir"
  local built
  built=$(node -p "require('./$dir/Release/bert_embed_native.libtorch.json').key")
  if [ "$built" != "$key" ]; then echo "prebuild: $dir/ holds $built, not $key" >&2; exit 1; fi
  # A prebuilt addon names no folder of this machine: the loader loads its libtorch's libraries first.
  for file in bert_embed_native bert_embed_preload; do
    local target=$out/$file.node
    [ $file = bert_embed_native ] && target=$out/$file.$key.node
    cp "$dir/Release/$file.node" "$target"
    chmod u+w "$target"
    strip --strip-unneeded "$target"
    cmake -DFILE="$target" -P native/cmake/RemoveRpath.cmake
  done
}

if [ $# -eq 0 ]; then
  prebuild ''
  for python in .venv/bin/python .venv-cuda/bin/python; do
    if [ -x "$python" ] && "$python" -c "import importlib.util as u, sys; sys.exit(u.find_spec('torch') is None)" 2>/dev/null; then
      prebuild "$python"
    fi
  done
else
  for hint in "$@"; do prebuild "$hint"; done
fi
ls -l "$out"
