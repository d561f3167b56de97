#!/usr/bin/env bash
# test.sh -- the whole test suite, from a fresh Debian machine of this kind, as root.
#
#   1. .venv with the package and its dev tools (scripts/bootstrap.sh dev)
#   2. system packages and the newer containerd debs (python -m cri_client.testing install)
#   3. ruff check and ruff format --check, mypy --strict on cri_client/ (generated stubs
#      excluded), freshness of the generated stubs, of the sync modules generated from
#      cri_client/_async/ and of the API reference (docs/api.md)
#   4. unit tests on the venv's Python, then on Python 3.10 and 3.13 (from pyenv)
#   5. integration tests against a throwaway containerd 2.1, 1.7 and 1.6 (real runtime)
#   6. the Ansible collection (ansible_collections/cri_client/cri): ansible-test sanity,
#      then real playbooks on three containerd nodes (1.6 over SSH, 1.7, 2.1) with the
#      newest and the oldest supported ansible-core (scripts/ansible.sh, tests/fleet/)
#
# Environment: CONTAINERD_VERSIONS (default "2.1 1.7 1.6"), UNIT_PYTHONS (default
# "3.10 3.13"). Any failure stops the run with a non-zero exit.
set -euo pipefail
cd "$(dirname "$0")/.."
versions=${CONTAINERD_VERSIONS:-2.1 1.7 1.6}
unit_pythons=${UNIT_PYTHONS:-3.10 3.13}
step() { printf '\n=== %s (%s)\n' "$*" "$(date +%T)"; }

step "python environment"
py=$(scripts/bootstrap.sh dev)

step "system packages and containerd ${versions// /, }"
# shellcheck disable=SC2086
"$py" -m cri_client.testing install $versions

step "openssh-server and the ansible-core venvs"
scripts/ansible.sh setup

step "lint and types"
.venv/bin/ruff check cri_client tests scripts benchmarks examples
.venv/bin/ruff format --check cri_client tests scripts benchmarks examples
.venv/bin/mypy --strict cri_client
"$py" scripts/generate.py --check
"$py" scripts/unasync.py --check
"$py" scripts/apidoc.py --check

step "unit tests ($("$py" -V))"
"$py" -m pytest -q tests/unit

# Other interpreters: pyenv's, else pythonX.Y on PATH. Missing one is a failure.
# shellcheck source=scripts/find_python.sh
source scripts/find_python.sh
for version in $unit_pythons; do
  interpreter=$(find_python "$version")
  venv=.venv-$version
  step "unit tests (Python $version)"
  [ -x "$venv/bin/python" ] || "$interpreter" -m venv "$venv"
  # pip>=25.1 for --group (PEP 735 dependency groups; see scripts/bootstrap.sh).
  "$venv/bin/python" -m pip install -q --disable-pip-version-check 'pip>=25.1'
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -e . --group test
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps \
    'container-runtime-interface-api>=2.0.1'
  "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/unit
done

for version in $versions; do
  step "integration tests (containerd $version)"
  CRI_CLIENT_TEST_CONTAINERD=$version "$py" -m pytest -q tests/integration
done
step "Ansible collection: ansible-test sanity"
scripts/ansible.sh sanity

step "Ansible collection: playbooks on three containerd nodes"
"$py" -m pytest -q tests/fleet
step "all passed"
