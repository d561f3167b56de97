#!/usr/bin/env bash
# bootstrap.sh [EXTRA] -- create or update .venv with cri-client installed editable.
#   EXTRA: the pip extra to install ("dev" for the test suite; none for the demo).
# Prints the venv's python path on stdout. Uses $PYTHON (default python3), >= 3.10.
set -euo pipefail
cd "$(dirname "$0")/.."
extra=${1:-}
python=${PYTHON:-python3}
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || {
  echo "bootstrap: $python is older than Python 3.10" >&2; exit 1; }
[ -x .venv/bin/python ] || "$python" -m venv .venv >&2
spec=.
[ -n "$extra" ] && spec=".[$extra]"
.venv/bin/python -m pip install -q --disable-pip-version-check -e "$spec" >&2
echo "$PWD/.venv/bin/python"
