#!/usr/bin/env bash
# unit.sh [PYTEST ARGS] -- the unit tests alone: no root, no runtime, no apt.
# Needs only python3 (>= 3.10, with venv) and PyPI: .venv gets the package and the
# "test" dependency group (scripts/bootstrap.sh test). Exit status is pytest's.
set -euo pipefail
cd "$(dirname "$0")/.."
py=$(scripts/bootstrap.sh test)
exec "$py" -m pytest -q tests/unit "$@"
