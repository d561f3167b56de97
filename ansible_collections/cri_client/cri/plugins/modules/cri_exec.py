#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cri-client authors
# Apache License 2.0 (see LICENSE in the repository root)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cri_exec
short_description: Run a command in a running container and return its exit code and output
description:
  - Runs a command in a container with the CRI's C(ExecSync) and waits for it, as
    C(crictl exec) does.
  - A non-zero RV(rc) fails the task, as it does for C(ansible.builtin.command);
    C(failed_when) on RV(rc), RV(stdout) or RV(stderr) decides instead when given.
  - The command may change anything, so the task always reports a change, unless
    C(changed_when) says otherwise. In check mode it does not run and is skipped.
version_added: 0.1.0
author:
  - cri-client authors (@cri-client)
extends_documentation_fragment:
  - cri_client.cri.common
options:
  container:
    description:
      - The container, by full id, unique id prefix, name, or C(namespace/pod/container).
    type: str
    required: true
  argv:
    description: The command as a list of arguments.
    type: list
    elements: str
  command:
    description: The command as one string, split like a shell splits words (no shell runs it).
    type: str
  command_timeout:
    description:
      - The command's own limit in seconds; the runtime kills it when it passes, and
        the task fails. Defaults to O(timeout).
    type: float
  strip_empty_ends:
    description: Strip empty lines from the end of RV(stdout) and RV(stderr).
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Is the server answering inside its container? (1 means not yet)
  cri_client.cri.cri_exec:
    container: shop/web/httpd
    argv: [wget, -q, -O, -, http://127.0.0.1:8080/healthz]
  register: health
  changed_when: false
  failed_when: health.rc not in [0, 1]

- name: A command string
  cri_client.cri.cri_exec:
    container: shop/web/httpd
    command: sh -c 'echo $HOSTNAME'
"""

RETURN = r"""
rc:
  description: The command's exit code.
  returned: when the command ran
  type: int
  sample: 0
stdout:
  description: Its standard output, decoded as UTF-8 (invalid bytes replaced).
  returned: when the command ran
  type: str
  sample: "hello"
stderr:
  description: Its standard error, decoded as UTF-8 (invalid bytes replaced).
  returned: when the command ran
  type: str
  sample: ""
stdout_lines:
  description: RV(stdout) split into lines.
  returned: when the command ran
  type: list
  elements: str
stderr_lines:
  description: RV(stderr) split into lines.
  returned: when the command ran
  type: list
  elements: str
container:
  description: The id of the container the command ran in.
  returned: when the command ran
  type: str
msg:
  description: C(non-zero return code) when RV(rc) is not 0.
  returned: when RV(rc) is not 0
  type: str
"""

import shlex

from ansible_collections.cri_client.cri.plugins.module_utils.common import CRIModule


def decoded(output, strip_empty_ends):
    text = output.decode("utf-8", errors="replace")
    return text.rstrip("\r\n") if strip_empty_ends else text


def run(cri_module, cri):
    params = cri_module.params
    argv = params["argv"] if params["argv"] is not None else shlex.split(params["command"])
    if not argv:
        cri_module.fail("argv or command must name a program")
    container = cri.containers.get(params["container"])
    result = container.exec(argv, timeout=params["command_timeout"])
    stdout = decoded(result.stdout, params["strip_empty_ends"])
    stderr = decoded(result.stderr, params["strip_empty_ends"])
    outcome = dict(
        rc=result.exit_code,
        stdout=stdout,
        stderr=stderr,
        stdout_lines=stdout.splitlines(),
        stderr_lines=stderr.splitlines(),
        container=container.id,
    )
    if result.exit_code != 0:
        outcome["msg"] = "non-zero return code"
    cri_module.exit(True, **outcome)


def main():
    cri_module = CRIModule(
        dict(
            container=dict(type="str", required=True),
            argv=dict(type="list", elements="str"),
            command=dict(type="str"),
            command_timeout=dict(type="float"),
            strip_empty_ends=dict(type="bool", default=True),
        ),
        mutually_exclusive=[("argv", "command")],
        required_one_of=[("argv", "command")],
        supports_check_mode=True,
    )
    if cri_module.check_mode:
        cri_module.module.exit_json(changed=False, skipped=True, msg="the command would run without check mode")
    cri_module.run(lambda cri: run(cri_module, cri))


if __name__ == "__main__":
    main()
