#!/usr/bin/env bash
# bootstrap.sh [GROUP] -- create or update .venv with cri-client installed editable.
#   GROUP: a dependency group of pyproject.toml: "dev" (everything scripts/test.sh
#   uses), "test" (pytest and hypothesis: the unit tests); none for the demo.
# Prints the venv's python path on stdout. Uses $PYTHON (default python3), >= 3.10.
set -euo pipefail
cd "$(dirname "$0")/.."
group=${1:-}
python=${PYTHON:-python3}
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || {
  echo "bootstrap: $python is older than Python 3.10" >&2; exit 1; }
[ -x .venv/bin/python ] || "$python" -m venv .venv >&2
pip=(.venv/bin/python -m pip -q --disable-pip-version-check)
# `pip install --group` (PEP 735 dependency groups) needs pip 25.1; a venv starts
# with its Python's bundled pip. No -U: once satisfied, this is a no-op offline.
"${pip[@]}" install 'pip>=25.1' >&2
"${pip[@]}" install -e . ${group:+--group "$group"} >&2
# The tests import PyPI's other CRI stubs beside ours (tests/unit/test_coexistence.py).
# --no-deps: they pin protobuf 6.x, which the pinned grpcio-tools cannot share; their
# imports work on ours.
[ -n "$group" ] && "${pip[@]}" install --no-deps 'container-runtime-interface-api>=2.0.1' >&2
echo "$PWD/.venv/bin/python"
