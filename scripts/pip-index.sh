# Sourced by scripts/setup.sh and scripts/setup-cuda.sh: the pip arguments that name this machine's
# package indexes. pip reads its usual configuration (pip.conf, PIP_* variables); where that names extra
# indexes only, the first becomes the index, so pip never waits on an unreachable pypi.org.
#   pip_index_args PYTHON   sets PIP_INDEX_ARGS (array), PIP_FIND_LINKS_DIRS (array of local folders)
#                           and PIP_HAS_INDEX (non-empty when an index other than pypi.org is named)

pip_setting() { # $1: python, $2: environment variable, $3: pip config key; the variable wins, as in pip
  if [ -n "${!2:-}" ]; then echo "${!2}"; else "$1" -m pip config get "$3" 2>/dev/null || true; fi
}

pip_index_args() {
  local py=$1 index url link
  local -a extra links
  index=$(pip_setting "$py" PIP_INDEX_URL global.index-url)
  read -r -a extra <<<"$(pip_setting "$py" PIP_EXTRA_INDEX_URL global.extra-index-url)"
  read -r -a links <<<"$(pip_setting "$py" PIP_FIND_LINKS global.find-links)"
  PIP_INDEX_ARGS=()
  PIP_FIND_LINKS_DIRS=()
  PIP_HAS_INDEX=$index
  if [ -z "$index" ] && [ ${#extra[@]} -gt 0 ]; then
    PIP_INDEX_ARGS+=(--index-url "${extra[0]}")
    extra=("${extra[@]:1}")
    PIP_HAS_INDEX=set
  fi
  for url in "${extra[@]}"; do PIP_INDEX_ARGS+=(--extra-index-url "$url"); done
  for link in "${links[@]}"; do
    PIP_INDEX_ARGS+=(--find-links "$link")
    link=${link#file://}
    if [ -d "$link" ]; then PIP_FIND_LINKS_DIRS+=("$link"); fi
  done
}

# (pip 23 warns once per package missing from a file:// index: drop that noise)
PIP_INDEX_NOISE='is ignored: it is neither a file nor a directory'
