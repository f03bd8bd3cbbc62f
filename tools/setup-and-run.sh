#!/usr/bin/env bash
# Set up a virtualenv in .venv (if missing), install keirin-sim with what the README's tour needs
# (the [sensitivity] extra: SALib), and replay the Tokyo 2020 men's keirin final: results table,
# lap gaps, and the gap-over-laps chart in tokyo.png.
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
PYTHONWARNINGS="ignore:Editable installation" python -m pip install --quiet -e ".[sensitivity]"
keirin-sim run --plot tokyo.png "$@"
