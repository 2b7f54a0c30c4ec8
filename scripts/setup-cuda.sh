#!/usr/bin/env bash
# Makes .venv-cuda/: pip's default Linux torch (the CUDA build, as a GPU user has it) with the nvidia-*
# libraries it loads, for building and testing the addon's CUDA variant (npm run build:native:cuda). Opt-in
# (about 4.4 GB); `npm run setup` stays light. It needs no GPU: a CUDA libtorch loads and runs on the CPU.
#
#   bash scripts/setup-cuda.sh [TORCH_REQUIREMENT]     default: torch==2.14.1 (2.14.1+cu130)
#
# The torch wheel is installed with --no-deps: it requires cuda-bindings, which libtorch does not use (and
# which an offline index may lack), and triton, which only torch.compile uses. Its nvidia-* libraries are
# installed from its own requirements; numpy and the small pure-python packages let `import torch` work.
set -euo pipefail
cd "$(dirname "$0")/.."
requirement=${1:-torch==2.14.1}
py=.venv-cuda/bin/python
started=$(date +%s)

if [ -x "$py" ] && version=$("$py" -c 'import torch; assert torch.version.cuda; print(torch.__version__)' 2>/dev/null); then
  echo "setup-cuda: .venv-cuda ready (torch $version)"
  exit 0
fi
echo "setup-cuda: creating .venv-cuda with /usr/bin/python3"
/usr/bin/python3 -m venv --clear .venv-cuda
# shellcheck source=scripts/pip-index.sh
source scripts/pip-index.sh
pip_index_args "$py"
pip=("$py" -m pip install --quiet --disable-pip-version-check "${PIP_INDEX_ARGS[@]}")
"${pip[@]}" --no-deps "$requirement" 2> >(grep -v "$PIP_INDEX_NOISE" >&2)
# torch's own requirements, less the two above and its optional extras, with their markers evaluated.
mapfile -t requirements < <("$py" - <<'PY'
import importlib.util, pathlib, re
from importlib.metadata import requires
from pip._vendor.packaging.requirements import Requirement
for line in requires('torch') or []:
    requirement = Requirement(line)
    if requirement.name in ('cuda-bindings', 'triton'):
        continue
    if requirement.marker is None or requirement.marker.evaluate({'extra': ''}):
        print(str(requirement).split(';')[0].strip())
# The rest of the CUDA runtime's headers (cuda_runtime.h includes crt/host_config.h): 130 KB that building
# the addon needs and running it does not. torch/version.py says which CUDA: cuda: Optional[str] = '13.0'.
version_py = pathlib.Path(importlib.util.find_spec('torch').submodule_search_locations[0], 'version.py').read_text()
cuda = re.search(r"^cuda\b[^=]*=\s*'([0-9.]+)'", version_py, re.M)
if cuda:
    print(f'nvidia-cuda-crt=={cuda[1]}.*')
PY
)
echo "setup-cuda: installing ${requirements[*]}"
"${pip[@]}" "${requirements[@]}" numpy 2> >(grep -v "$PIP_INDEX_NOISE" >&2)
version=$("$py" -c 'import torch; print(torch.__version__, "CUDA", torch.version.cuda, "devices", torch.cuda.device_count())')
echo "setup-cuda: .venv-cuda ready (torch $version; $(du -sh .venv-cuda | cut -f1), $(($(date +%s) - started)) s)"
