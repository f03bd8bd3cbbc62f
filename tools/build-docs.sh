#!/usr/bin/env bash
# Build the documentation site (Sphinx + MyST + autodoc + the notebooks as stored) into
# docs/_build/html, warnings as errors: a broken cross-reference fails the build.
# Installs the `docs` extra into the current virtualenv (activate one first; CI does), or into
# .venv when none is active.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${VIRTUAL_ENV:-}" ]; then
  PY=${PYTHON:-python3}
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  . .venv/bin/activate
fi
python -m pip install --quiet -e ".[docs]"
# -E: read every page again (autodoc does not notice a changed docstring otherwise)
python -m sphinx -E -W --keep-going -b html docs docs/_build/html "$@"
