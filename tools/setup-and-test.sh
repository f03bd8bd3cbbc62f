#!/usr/bin/env bash
# Set up a virtualenv in .venv (if missing), install keirin-sim with its dev extras, then lint,
# check formatting and the layers contract (import-linter), and run the whole test suite (slow
# suites included).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
. .venv/bin/activate
python -m pip install --quiet --upgrade pip
python -m pip install --quiet -e ".[dev]"
ruff check .
ruff format --check .
lint-imports --no-cache
set +e
python -m pytest -q "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: failing" >&2
  exit 1
fi
exit "$rc"
