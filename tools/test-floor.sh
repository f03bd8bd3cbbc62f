#!/usr/bin/env bash
# The fast suite on the lowest dependency versions pyproject.toml declares
# (tools/floor-constraints.txt), on Python 3.11 (the lowest it supports), in a fresh
# .venv-floor. CI runs it after the full suite on the latest versions.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${FLOOR_PYTHON:-}
if [ -z "$PY" ]; then
  for cand in python3.11 "$HOME/.pyenv/versions/3.11"*/bin/python; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import venv' 2>/dev/null; then
      PY=$cand
      break
    fi
  done
fi
if [ -z "$PY" ]; then
  PY=python3
  echo "test-floor: no Python 3.11 on this machine: the floor versions run on $($PY --version)"
fi
rm -rf .venv-floor
"$PY" -m venv .venv-floor
. .venv-floor/bin/activate
python -m pip install --quiet --upgrade pip
PYTHONWARNINGS="ignore:Editable installation" python -m pip install --quiet -c tools/floor-constraints.txt -e ".[test]"
echo "test-floor: $(python --version) with $(python -m pip list 2>/dev/null | grep -iE '^(numpy|numba|pandas|pyarrow|matplotlib|simpy) ' | tr -s ' ' | paste -sd, -)"
# the floor's numba writes its own compile cache, not the one of the latest versions
export NUMBA_CACHE_DIR="$PWD/.venv-floor/numba-cache"
set +e
python -m pytest -q -p no:cacheprovider -m "not slow" "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: failing" >&2
  exit 1
fi
exit "$rc"
