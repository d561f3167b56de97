"""Stand-in for pypa's get-pip.py, which ansible-test downloads from ci-files.testing.ansible.com
to put pip into the virtual environments of its sanity tests: that host is not reachable
from CI (only the package index is). scripts/ansible.sh installs this file where
ansible-test caches the download; it takes the same arguments (pip's options and the
packages, e.g. ``pip==24.2``), bootstraps pip from the interpreter's own ``ensurepip``
and then installs what was asked for from the package index.
"""

import ensurepip
import subprocess
import sys

GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}

ensurepip.bootstrap()
arguments = [argument for argument in sys.argv[1:] if argument not in GET_PIP_ONLY]
subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", *arguments])
