# -*- coding: utf-8 -*-
# Copyright: cri-client authors
# Apache License 2.0 (see LICENSE in the repository root)
"""The options and requirements every module of this collection shares."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  endpoint:
    description:
      - The runtime's CRI socket on the target, C(unix:///path) or C(/path).
      - When not set, the E(CONTAINER_RUNTIME_ENDPOINT) environment variable of the
        module is used, else the socket is discovered the way crictl finds it
        (C(/etc/crictl.yaml), then the usual containerd and CRI-O sockets).
    type: str
  timeout:
    description:
      - The default deadline of each call to the runtime, in seconds.
    type: float
    default: 60
requirements:
  - Python 3.10 or newer on the target, with the C(cri-client) library
    (C(python3 -m pip install cri-client)).
notes:
  - The modules talk to the runtime's socket directly, so they need the rights to open
    it on the target (usually as root, with C(become=true)).
"""
