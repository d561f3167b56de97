#!/usr/bin/env bash
# demo.sh -- the seed demo (examples/demo.py): nginx-style web pods under runc and
# gVisor, `uname -a` in both. Starts a throwaway containerd when no runtime socket
# is present (root needed for that): `python -m cri_client.testing install 2.1`
# apt-installs the tools it needs (runc, CNI plugins, skopeo, umoci, ...; none
# enables a service) and unpacks containerd 2.1, runsc and docker-registry privately
# under /tmp/cri-client; Debian's containerd package is not installed, and no
# system service is enabled or started. Exit status is the demo's.
set -euo pipefail
cd "$(dirname "$0")/.."
py=$(scripts/bootstrap.sh)
exec "$py" examples/demo.py
