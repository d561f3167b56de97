#!/usr/bin/env bash
# demo.sh -- the seed demo (examples/demo.py): nginx-style web pods under runc and
# gVisor, `uname -a` in both. Starts a throwaway containerd when no runtime socket
# is present (root needed for that). Exit status is the demo's.
set -euo pipefail
cd "$(dirname "$0")/.."
py=$(scripts/bootstrap.sh)
exec "$py" examples/demo.py
