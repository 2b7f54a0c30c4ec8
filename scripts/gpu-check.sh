#!/usr/bin/env bash
# The one check to run when a session is lent a GPU (the device tool; issue 21, part 3).
#
# The device machine has python3 with a CUDA torch (2.11+cu130 when this was written), nvcc, cmake and
# ninja, but no Node, and nothing can be fetched there. So it is done in two halves:
#
#   bash scripts/gpu-check.sh --prepare     HERE, after `npm ci`: fills the ignored folder .gpu-check/,
#                                           which the device call carries, and prints what will travel.
#   bash scripts/gpu-check.sh               THERE (in the device call): builds, tests, measures, reports.
#
# What --prepare puts in .gpu-check/ (about 36 MiB; the tracked tree adds about 2 MiB; a call carries
# at most 64 MiB and --prepare refuses more):
#   node.xz               this machine's `node` binary, xz-compressed (Node 20 needs glibc 2.28 there);
#   node_modules.tar.xz   what the device half runs from node_modules, with everything those packages
#                         need (scripts/gpu-check/closure.mjs reads package-lock.json): vitest, so that
#                         the CUDA tests run as they are, from test/, not a copy of them; cmake-js and
#                         node-addon-api for the build; package.json's "dependencies", which lib/ imports;
#   dist/                 lib/ compiled by tsc (the bench loads the package as a user does; the tests
#                         load lib/ itself through vitest); prepared.json records a hash of lib/ so the
#                         report says when the tree that travelled differs from what was compiled;
#   shared/               the model configs and vocabularies (bert-tiny, all-MiniLM-L6-v2,
#                         bert-base-uncased) and the STS-B test sentences, from ../shared, which no
#                         device call carries. Weights are never carried: the random-weight checkpoints
#                         are written there (scripts/make-checkpoint.mjs, seconds).
#
# What the device half does, each step under its own time limit inside one deadline
# (GPU_CHECK_DEADLINE_S, default 420 s, so a call with timeout_s 480 always gets the report back;
# the build, tests and bench steps' own caps, 300, 180 and 300 s, are GPU_CHECK_BUILD_S, _TESTS_S, _BENCH_S):
#   env      torch's version, CUDA version and GPU, nvcc/cmake/ninja/c++ versions;
#   unpack   node onto PATH (build-gpu-check/bin), node_modules and dist/ into the tree, unless the
#            tree already has an npm-installed node_modules or its own dist/ (a developer's checkout);
#   build    the addon from source against the device's torch (its ABI has no prebuilt addon):
#            LIBTORCH_DIR=<torch's package folder> cmake-js compile --out build-gpu, as
#            scripts/build-pip-torch.sh does (native/cmake/FindLibtorch.cmake decides how); then loads
#            it and records libtorchInfo(); fails when torch sees a GPU and the addon does not;
#   tests    the tests that need CUDA, through vitest with BERT_EMBED_ADDON=build-gpu/...: the files
#            test/engine/dtypes.test.ts, bert-as-service-options.test.ts and bad-input.test.ts, filtered
#            to the tests whose names say CUDA (float16, bfloat16 and float32 on CUDA against float32 on
#            the CPU; gpuMemoryFraction on CUDA; the CUDA refusals). On a device, every test named
#            'on CUDA' must have run and passed;
#   bench    scripts/gpu-check/bench.mjs: fp32, fp16 and bf16 sentences/s and one-sentence p50 of the
#            bert-base shape on the STS-B test sentences, ours against sentence-transformers on the
#            same GPU (scripts/gpu-check/st_peer.py; transformers with mean pooling if it is missing),
#            vectors checked; and two workers on one GPU (workers: 2) against one;
#   report   one JSON file, $OUT/gpu-check.json (rewritten after every step, so a run cut short still
#            returns one): each step's pass/fail/skipped and seconds, the versions, the GPU, the figures.
#            Logs beside it: env.log, build.log, tests.log, bench.log.
# Without a CUDA device the tests step runs what applies on the CPU and reports 'skipped: no CUDA
# device', and so does the bench; GPU_CHECK_CPU_PLUMBING=1 then runs the bench's code on the CPU with
# 64 sentences (its figures mean nothing; it proves the plumbing).
#
# The device call (see the device tool's README: name the carried folder, leave time to rerun):
#   run  command: bash scripts/gpu-check.sh   carry: [".gpu-check"]   timeout_s: 480
# Exit code 0 when no step failed.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CARRY=.gpu-check
# What the device half runs from node_modules (package.json's "dependencies" travel too: lib/ imports them).
PACKAGES=(vitest cmake-js node-addon-api)
MODELS=(bert-tiny all-MiniLM-L6-v2 bert-base-uncased)
LIMIT_MIB=64

die() {
  echo "gpu-check: $*" >&2
  exit 1
}

mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

# Bytes of the files `git ls-files ARGS` lists (those that exist).
tree_bytes() {
  git ls-files -z "$@" | xargs -0 -r stat -c %s -- 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'
}

lib_hash() {
  find lib -type f \( -name '*.ts' -o -name '*.mts' \) -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16
}

prepare() {
  set -e
  local started=$SECONDS
  command -v node >/dev/null || die "--prepare needs node here"
  command -v xz >/dev/null || die "--prepare needs xz"
  [ -f node_modules/.package-lock.json ] || die "--prepare needs an npm-installed node_modules: run npm ci first"
  local shared=${BERT_EMBED_SHARED:-../shared}
  [ -d "$shared/models" ] || die "no $shared/models (set BERT_EMBED_SHARED)"
  mkdir -p "$CARRY"
  # Anything else in the folder would travel too.
  find "$CARRY" -mindepth 1 -maxdepth 1 ! -name node.xz ! -name node.stamp ! -name node_modules.tar.xz ! -name node_modules.stamp \
    -exec rm -rf {} +

  local node_bin stamp
  node_bin=$(readlink -f "$(command -v node)")
  stamp="$(node --version) $(stat -c '%s %Y' "$node_bin")"
  if [ ! -f "$CARRY/node.xz" ] || [ "$(cat "$CARRY/node.stamp" 2>/dev/null)" != "$stamp" ]; then
    echo "gpu-check --prepare: compressing $node_bin ($(node --version), $(mib "$(stat -c %s "$node_bin")")) …"
    xz -T0 -6 -c "$node_bin" >"$CARRY/node.xz.tmp"
    mv "$CARRY/node.xz.tmp" "$CARRY/node.xz"
    echo "$stamp" >"$CARRY/node.stamp"
  fi

  local folders
  folders=$(node scripts/gpu-check/closure.mjs --dependencies "${PACKAGES[@]}") || die "could not list the node_modules to carry"
  stamp="$(sha256sum package.json package-lock.json scripts/gpu-check/closure.mjs | sha256sum | cut -c1-16) ${PACKAGES[*]}"
  if [ ! -f "$CARRY/node_modules.tar.xz" ] || [ "$(cat "$CARRY/node_modules.stamp" 2>/dev/null)" != "$stamp" ]; then
    # shellcheck disable=SC2086
    echo "gpu-check --prepare: packing $(echo "$folders" | wc -l) node_modules folders ($(mib "$(du -scb $folders | tail -1 | cut -f1)")) …"
    # shellcheck disable=SC2086
    tar -cf - $folders | xz -T0 -6 >"$CARRY/node_modules.tar.xz.tmp"
    mv "$CARRY/node_modules.tar.xz.tmp" "$CARRY/node_modules.tar.xz"
    echo "$stamp" >"$CARRY/node_modules.stamp"
  fi

  echo "gpu-check --prepare: compiling lib/ into $CARRY/dist …"
  node_modules/.bin/tsc -p tsconfig.json --outDir "$CARRY/dist" --declaration false --sourceMap false ||
    die "tsc failed: the tree does not compile"

  mkdir -p "$CARRY/shared/models" "$CARRY/shared/data/stsbenchmark"
  for model in "${MODELS[@]}"; do
    cp -rL "$shared/models/$model" "$CARRY/shared/models/"
    rm -f "$CARRY/shared/models/$model/README.md"
  done
  cp -L "$shared/data/stsbenchmark/sts-test.csv" "$CARRY/shared/data/stsbenchmark/"
  chmod -R u+w "$CARRY/shared"

  local dirty=false
  [ -n "$(git status --porcelain 2>/dev/null)" ] && dirty=true
  cat >"$CARRY/prepared.json" <<EOF
{"prepared_at": "$(date -u +%Y-%m-%dT%H:%M:%SZ)", "commit": "$(git rev-parse HEAD 2>/dev/null)", "uncommitted_changes": $dirty,
 "node": "$(node --version)", "lib_hash": "$(lib_hash)", "packages": "$(echo "${PACKAGES[*]}")"}
EOF

  # What a device call carries: tracked and untracked-not-ignored files, shared/ if the checkout has
  # one, and the carried folder.
  local tracked untracked shared_in_repo=0 carried total
  tracked=$(tree_bytes)
  untracked=$(tree_bytes -o --exclude-standard)
  [ -d shared ] && shared_in_repo=$(du -sb shared | cut -f1)
  carried=$(du -sb "$CARRY" | cut -f1)
  total=$((tracked + untracked + shared_in_repo + carried))
  echo "gpu-check --prepare: done in $((SECONDS - started)) s. What a device call with carry [\"$CARRY\"] sends:"
  printf '  %-34s %s\n' "tracked files" "$(mib "$tracked")" "untracked, not ignored files" "$(mib "$untracked")"
  [ "$shared_in_repo" -gt 0 ] && printf '  %-34s %s\n' "shared/" "$(mib "$shared_in_repo")"
  (cd "$CARRY" && du -sb node.xz node_modules.tar.xz dist shared) | while read -r bytes name; do
    printf '  %-34s %s\n' "$CARRY/$name" "$(mib "$bytes")"
  done
  printf '  %-34s %s (limit %s MiB)\n' "total" "$(mib "$total")" "$LIMIT_MIB"
  [ "$total" -le $((LIMIT_MIB * 1048576)) ] || die "that is over the device call's limit"
}

# ---------------------------------------------------------------------------------------------------------------
# The device half.

check() {
  local deadline=${GPU_CHECK_DEADLINE_S:-420}
  RUN=$ROOT/build-gpu-check
  OUT=${OUT:-$RUN/out}
  mkdir -p "$OUT" "$RUN"
  rm -rf "$RUN/steps" "$RUN"/*.json
  [ -f "$CARRY/prepared.json" ] || die "no $CARRY/prepared.json: run bash scripts/gpu-check.sh --prepare on the developer's machine and carry $CARRY"
  cp "$CARRY/prepared.json" "$RUN/prepared.json"
  export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 NO_COLOR=1
  local PY
  PY=$(command -v python3) || die "no python3 on PATH"
  report() { "$PY" "$ROOT/scripts/gpu-check/report.py" "$@"; }

  # Seconds the next step may take: its own cap, and what the deadline leaves (15 s kept for the report).
  budget() {
    local left=$((deadline - SECONDS - 15))
    if [ "$1" -lt "$left" ]; then echo "$1"; else echo "$left"; fi
  }
  # record NAME STATUS STARTED_AT [--detail FILE] [--log NAME]: the step's file, then the report again.
  record() {
    local name=$1 status=$2 at=$3
    shift 3
    report step "$RUN" "$name" "$status" "$((SECONDS - at))" "$@" || echo "gpu-check: could not record step $name" >&2
    GPU_CHECK_ELAPSED=$SECONDS report assemble "$RUN" "$OUT/gpu-check.json" >/dev/null || echo "gpu-check: could not write the report" >&2
    echo "gpu-check: [${SECONDS}s] $name: $status"
  }
  # limited CAP LOG COMMAND...: runs it under `timeout` for at most CAP seconds (less near the deadline),
  # its output appended to LOG; sets RC (124/137: out of time; 125: not started, the deadline is near).
  limited() {
    local cap=$1 log=$2 t
    shift 2
    t=$(budget "$cap")
    if [ "$t" -lt 10 ]; then
      RC=125
      echo "gpu-check: no time left for: $*" >>"$log"
      return
    fi
    timeout -k 10 "$t" "$@" >>"$log" 2>&1
    RC=$?
  }

  # xz where the image has it, else Python's lzma (always built into the python that holds torch).
  unxz_to() {
    if command -v xz >/dev/null; then xz -dc "$1" >"$2"; else
      "$PY" -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"
    fi
  }
  untar_xz() {
    if command -v xz >/dev/null; then tar -xJf "$1"; else
      "$PY" -c 'import sys, tarfile; tarfile.open(sys.argv[1], "r:xz").extractall(".")' "$1"
    fi
  }

  echo "gpu-check: started $(date -u +%H:%M:%SZ), deadline ${deadline} s, report in $OUT/gpu-check.json"

  # env ----------------------------------------------------------------------------------------------
  local at=$SECONDS has_cuda=0 prefix no_cuda
  : >"$OUT/env.log"
  limited 120 "$OUT/env.log" bash -c '"$0" "$1" env >"$2"' "$PY" "$ROOT/scripts/gpu-check/report.py" "$RUN/env.json"
  if [ "$RC" -ne 0 ]; then
    record env "fail: python3 could not import torch (exit $RC); see env.log" "$at" --log env.log
    tail -20 "$OUT/env.log"
    return 1
  fi
  prefix=$(report get "$RUN/env.json" torch.torch_dir)
  [ "$(report get "$RUN/env.json" torch.cuda_device_count 0)" -gt 0 ] && has_cuda=1
  no_cuda="skipped: no CUDA device (torch $(report get "$RUN/env.json" torch.torch))"
  record env pass "$at" --detail "$RUN/env.json" --log env.log

  # unpack -------------------------------------------------------------------------------------------
  at=$SECONDS
  local notes=() pkg missing=()
  : >"$RUN/unpack.log"
  if ! (
    set -e
    mkdir -p "$RUN/bin"
    if [ ! -x "$RUN/bin/node" ] || ! cmp -s "$RUN/bin/node.stamp" "$CARRY/node.stamp"; then
      unxz_to "$CARRY/node.xz" "$RUN/bin/node.tmp"
      chmod +x "$RUN/bin/node.tmp"
      mv "$RUN/bin/node.tmp" "$RUN/bin/node"
      cp "$CARRY/node.stamp" "$RUN/bin/node.stamp"
    fi
    "$RUN/bin/node" --version
  ) >>"$RUN/unpack.log" 2>&1; then
    record unpack "fail: the carried node does not run here: $(tail -1 "$RUN/unpack.log")" "$at"
    return 1
  fi
  export PATH="$RUN/bin:$PATH" # cmake (native/cmake) and cmake-js call `node` too
  if [ -f node_modules/.package-lock.json ]; then
    notes+=("node_modules: the tree's own (npm-installed), not the carried one")
  elif untar_xz "$CARRY/node_modules.tar.xz" >>"$RUN/unpack.log" 2>&1; then
    notes+=("node_modules: carried")
  else
    record unpack "fail: could not unpack node_modules: $(tail -1 "$RUN/unpack.log")" "$at"
    return 1
  fi
  if [ ! -d dist ] || [ -f dist/.gpu-check-copy ]; then
    rm -rf dist && cp -a "$CARRY/dist" dist && touch dist/.gpu-check-copy
    if [ "$(lib_hash)" = "$(report get "$CARRY/prepared.json" lib_hash)" ]; then
      notes+=("dist: carried, compiled from this lib/")
    else
      notes+=("dist: carried, but compiled from another lib/ than the one here: run --prepare again")
    fi
  else
    notes+=("dist: the tree's own")
  fi
  for pkg in "${PACKAGES[@]}"; do [ -f "node_modules/$pkg/package.json" ] || missing+=("$pkg"); done
  if [ ${#missing[@]} -gt 0 ]; then
    record unpack "fail: node_modules lacks ${missing[*]}" "$at"
    return 1
  fi
  printf '%s\n' "node $(node --version)" "${notes[@]}" | "$PY" -c 'import json,sys; print(json.dumps({"notes": sys.stdin.read().splitlines()}))' >"$RUN/unpack.json"
  record unpack pass "$at" --detail "$RUN/unpack.json"

  # build --------------------------------------------------------------------------------------------
  at=$SECONDS
  local addon=$ROOT/build-gpu/Release/bert_embed_native.node addon_devices
  : >"$OUT/build.log"
  echo "gpu-check: building against $prefix into build-gpu/" | tee -a "$OUT/build.log"
  rm -f "$addon"
  limited "${GPU_CHECK_BUILD_S:-300}" "$OUT/build.log" \
    env LIBTORCH_DIR="$prefix" node node_modules/cmake-js/bin/cmake-js compile --out build-gpu --parallel "$(nproc)"
  if [ "$RC" -ne 0 ] || [ ! -f "$addon" ]; then
    record build "fail: cmake-js compile (exit $RC); see build.log" "$at" --log build.log
    tail -25 "$OUT/build.log"
    record tests "skipped: the build failed" "$SECONDS"
    record bench "skipped: the build failed" "$SECONDS"
    return 1
  fi
  BERT_EMBED_ADDON=$addon node -e 'console.log(JSON.stringify(require("./dist/index.js").libtorchInfo()))' >"$RUN/addon.json" 2>>"$OUT/build.log"
  addon_devices=$(report get "$RUN/addon.json" cudaDeviceCount -1)
  if [ "$addon_devices" = -1 ]; then
    record build "fail: the addon built but did not load; see build.log" "$at" --log build.log
    tail -15 "$OUT/build.log"
    return 1
  elif [ "$has_cuda" = 1 ] && [ "$addon_devices" = 0 ]; then
    record build "fail: torch sees a CUDA device, the addon does not (CUDA compiled in: $(report get "$RUN/addon.json" cudaCompiled))" \
      "$at" --detail "$RUN/addon.json" --log build.log
    return 1
  fi
  export BERT_EMBED_ADDON=$addon
  record build pass "$at" --detail "$RUN/addon.json" --log build.log

  # tests --------------------------------------------------------------------------------------------
  at=$SECONDS
  : >"$OUT/tests.log"
  limited "${GPU_CHECK_TESTS_S:-180}" "$OUT/tests.log" \
    env BERT_EMBED_SHARED="$ROOT/$CARRY/shared" BERT_EMBED_PYTHON="$PY" BERT_EMBED_VENV_PYTHON="$PY" \
    node node_modules/vitest/vitest.mjs run test/engine/dtypes.test.ts test/engine/bert-as-service-options.test.ts \
    test/engine/bad-input.test.ts -t CUDA --reporter=default --reporter=json --outputFile.json="$RUN/vitest.json"
  local test_rc=$RC
  report tests "$RUN/vitest.json" "$has_cuda" >"$RUN/tests.json" 2>>"$OUT/tests.log"
  record tests "$(report tests-status "$RUN/tests.json" "$has_cuda" "$test_rc" "$no_cuda")" "$at" --detail "$RUN/tests.json" --log tests.log

  # bench, two workers included ----------------------------------------------------------------------
  at=$SECONDS
  : >"$OUT/bench.log"
  local bench_args=() t statuses
  if [ "$has_cuda" = 1 ]; then
    bench_args=(--device cuda)
  elif [ "${GPU_CHECK_CPU_PLUMBING:-0}" = 1 ]; then
    bench_args=(--device cpu --sentences 64 --passes 1 --latency-samples 5)
  fi
  if [ ${#bench_args[@]} -eq 0 ]; then
    record bench "$no_cuda" "$at"
    record two_workers "$no_cuda" "$at"
  else
    t=$(budget "${GPU_CHECK_BENCH_S:-300}")
    limited "${GPU_CHECK_BENCH_S:-300}" "$OUT/bench.log" env BERT_EMBED_SHARED="$ROOT/$CARRY/shared" \
      node scripts/gpu-check/bench.mjs --out "$RUN/bench.json" --python "$PY" --peer-timeout-s $((t * 6 / 10)) "${bench_args[@]}"
    statuses=$(report bench-status "$RUN/bench.json" "$has_cuda" "$RC" "$no_cuda")
    record bench "$(sed -n 1p <<<"$statuses")" "$at" --log bench.log
    record two_workers "$(sed -n 2p <<<"$statuses")" "$SECONDS"
  fi

  GPU_CHECK_ELAPSED=$SECONDS report assemble "$RUN" "$OUT/gpu-check.json"
  # The bench's table last, for the device tool's reply.
  sed -n '/STS-B sentences, bert-base shape/,$p' "$OUT/bench.log"
  [ "$(report get "$OUT/gpu-check.json" ok)" = true ]
}

case "${1:-}" in
  --prepare) prepare ;;
  "") check ;;
  -h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' ;;
  *) die "unknown argument $1 (--prepare, or none on the device)" ;;
esac
