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
# setuptools' editable install of a package at the top of its checkout prints an "Editable
# installation ... be careful with folders in your working directory with the same name as your
# package" note (a warning of its class BuildBackendWarning): here that folder *is* the package.
# Only that note is filtered.
PYTHONWARNINGS="ignore:Editable installation" python -m pip install --quiet -e ".[dev]"
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
