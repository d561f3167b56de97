#!/usr/bin/env bash
# ansible.sh COMMAND -- what the Ansible collection (ansible_collections/cri_client/cri)
# needs for its tests, on a fresh Debian machine as root.
#
#   setup    openssh-server from Debian (the fleet tests start their own sshd on
#            127.0.0.1; the package's own service is not started), and one venv per
#            tested ansible-core: .venv-ansible-<newest> and .venv-ansible-<oldest>
#   sanity   ansible-test sanity on the collection, with the newest ansible-core,
#            target Python 3.13 only (see docs/fleet.md, "Tests")
#   venvs    print the venv directories, newest first (tests/fleet reads them)
#
# Versions: ANSIBLE_NEWEST (default 2.19, on Python 3.13) and ANSIBLE_OLDEST (2.16, the
# oldest meta/runtime.yml allows, on Python 3.10: its controller supports 3.10-3.12).
set -euo pipefail
cd "$(dirname "$0")/.."
newest=${ANSIBLE_NEWEST:-2.19}
oldest=${ANSIBLE_OLDEST:-2.16}
declare -A controller_python=(["$newest"]=3.13 ["$oldest"]=3.10)
collection=ansible_collections/cri_client/cri

# shellcheck source=scripts/find_python.sh
source scripts/find_python.sh

install_sshd() {
  [ -x /usr/sbin/sshd ] && return 0
  # Keep Debian from starting its own sshd on port 22 (policy-rc.d: 101 = not allowed),
  # unless the machine already has a policy of its own.
  local policy=/usr/sbin/policy-rc.d made=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy" && made=1
  fi
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends openssh-server \
    || { [ -n "$made" ] && rm -f "$policy"; return 1; }
  [ -n "$made" ] && rm -f "$policy"
  return 0
}

make_venv() {  # make_venv VERSION: .venv-ansible-VERSION with ansible-core VERSION.*
  local version=$1 venv=.venv-ansible-$1
  [ -x "$venv/bin/ansible-playbook" ] && return 0
  "$(find_python "${controller_python[$version]}")" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "ansible-core==$version.*"
}

case ${1:-} in
  setup)
    install_sshd
    make_venv "$newest"
    make_venv "$oldest"
    ;;
  sanity)
    venv=$PWD/.venv-ansible-$newest
    # ansible-test puts pip into its test venvs with a script it downloads from
    # ci-files.testing.ansible.com, which CI cannot reach: tests/fleet/get_pip.py
    # stands in for it, in the cache of a HOME private to this venv.
    home=$venv/home
    pip_version=$("$venv/bin/python" -c 'import ansible_test._internal.python_requirements as r, inspect, re; print(re.search(r"pip=.(\d+\.\d+)", inspect.getsource(r.get_venv_packages)).group(1))')
    mkdir -p "$home/.ansible/test/cache"
    cp tests/fleet/get_pip.py "$home/.ansible/test/cache/get_pip_${pip_version//./_}.py"
    cd "$collection"
    HOME=$home "$venv/bin/ansible-test" sanity --venv --requirements --python 3.13 --color no
    ;;
  venvs)
    echo "$PWD/.venv-ansible-$newest $PWD/.venv-ansible-$oldest"
    ;;
  *)
    echo "usage: scripts/ansible.sh setup|sanity|venvs" >&2
    exit 2
    ;;
esac
