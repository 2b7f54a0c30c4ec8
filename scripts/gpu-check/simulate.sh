#!/usr/bin/env bash
# Rehearses the device call of scripts/gpu-check.sh on this machine, as close to the device as a
# machine without a GPU gets: a scratch copy of what a call carries (tracked files, untracked files git
# does not ignore, and .gpu-check/ from --prepare; no node_modules, no dist, no ../shared), run with no
# network (unshare -n), an empty HOME, and a PATH that has no node, npm or npx, where python3 is
# PYTHON (default .venv/bin/python: a CPU torch standing in for the device's CUDA torch).
#
#   bash scripts/gpu-check.sh --prepare && bash scripts/gpu-check/simulate.sh [VAR=value ...]
#
# The VAR=value pairs go to the device half's environment; SIM_DIR (default /tmp/gpu-check-sim) is the
# scratch folder, emptied first; PYTHON is the python3 there; SIM_EXCLUDE a regular expression of
# untracked paths to leave out (what a device call would refuse to carry).
#
# The CUDA steps must come out 'skipped: no CUDA device'. GPU_CHECK_CPU_PLUMBING=1 is set, so the
# bench's code runs on the CPU with 64 sentences. The build runs on this machine's cores: give it more
# time than on the device with GPU_CHECK_BUILD_S=… GPU_CHECK_DEADLINE_S=….
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
scratch=${SIM_DIR:-/tmp/gpu-check-sim}
python=${PYTHON:-$root/.venv/bin/python}
[ -f .gpu-check/prepared.json ] || { echo "run bash scripts/gpu-check.sh --prepare first" >&2; exit 1; }
command -v unshare >/dev/null || { echo "needs unshare (util-linux)" >&2; exit 1; }

rm -rf "$scratch"
mkdir -p "$scratch/repo" "$scratch/bin" "$scratch/home" "$scratch/out"
# What the device tool sends.
# SIM_EXCLUDE: a regular expression of paths to leave out anyway (say, someone's unignored build folder).
git ls-files -co --exclude-standard -z | { if [ -n "${SIM_EXCLUDE:-}" ]; then grep -zEv "$SIM_EXCLUDE"; else cat; fi; } |
  tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "$scratch/repo"
[ -d shared ] && cp -a shared "$scratch/repo/"
cp -a .gpu-check "$scratch/repo/"
echo "simulate: carried $(du -sb "$scratch/repo" | awk '{ printf "%.1f MiB", $1 / 1048576 }') into $scratch/repo"

# A PATH without Node: every program of /usr/local/bin and /usr/bin but node, npm, npx, corepack.
for dir in /usr/local/bin /usr/bin; do
  for program in "$dir"/*; do
    name=$(basename "$program")
    case $name in node | nodejs | npm | npx | corepack | python3 | python) continue ;; esac
    [ -e "$scratch/bin/$name" ] || ln -s "$program" "$scratch/bin/$name"
  done
done
printf '#!/bin/sh\nexec %s "$@"\n' "$python" >"$scratch/bin/python3"
chmod +x "$scratch/bin/python3"
ln -s python3 "$scratch/bin/python"

cd "$scratch/repo"
started=$(date +%s)
set +e
unshare -n env -i HOME="$scratch/home" PATH="$scratch/bin" LANG=C.UTF-8 OUT="$scratch/out" GPU_CHECK_CPU_PLUMBING=1 "$@" \
  bash scripts/gpu-check.sh
rc=$?
set -e
echo "simulate: exit $rc after $(($(date +%s) - started)) s; report: $scratch/out/gpu-check.json"
ls -la "$scratch/out"
exit $rc
