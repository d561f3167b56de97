#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cri-client authors
# Apache License 2.0 (see LICENSE in the repository root)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cri_info
short_description: The container runtime's version, status, pods, containers and images
description:
  - Asks the node's CRI runtime (containerd, CRI-O) what it is and what it holds,
    through the cri-client library, and returns it as a result or as facts.
  - Changes nothing; runs in check mode too.
version_added: 0.1.0
author:
  - cri-client authors (@cri-client)
extends_documentation_fragment:
  - cri_client.cri.common
options:
  gather:
    description:
      - What to ask for. V(version) and V(status) cost one call each, the lists one each.
    type: list
    elements: str
    choices: [version, status, pods, containers, images]
    default: [version, status, pods, containers, images]
  as_facts:
    description:
      - Also set the result as the fact C(cri) (C(ansible_facts.cri)) for later tasks.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: What runs on each node
  cri_client.cri.cri_info:
  register: runtime

- name: Only the version, as facts
  cri_client.cri.cri_info:
    gather: [version]
    as_facts: true

- ansible.builtin.debug:
    msg: "{{ cri.version.runtime_name }} {{ cri.version.runtime_version }}"
"""

RETURN = r"""
version:
  description: The runtime's name and versions.
  returned: when V(version) is gathered
  type: dict
  sample: {runtime_name: containerd, runtime_version: v2.1.4, runtime_api_version: v1, version: 0.1.0}
status:
  description: The runtime's conditions and handlers; C(ready) and C(network_ready) as kubelet reads them.
  returned: when V(status) is gathered
  type: dict
  sample: {ready: true, network_ready: true, handlers: ["", "runc", "runsc"], conditions: []}
pods:
  description: Every pod sandbox, newest first.
  returned: when V(pods) is gathered
  type: list
  elements: dict
  sample: [{id: 2db93..., name: web, namespace: default, state: SANDBOX_READY, runtime_handler: ""}]
containers:
  description: Every container, in any state, newest first.
  returned: when V(containers) is gathered
  type: list
  elements: dict
images:
  description: Every image.
  returned: when V(images) is gathered
  type: list
  elements: dict
ansible_facts:
  description: The same values under C(cri), with O(as_facts=true).
  returned: when O(as_facts=true)
  type: dict
"""

from ansible_collections.cri_client.cri.plugins.module_utils.common import CRIModule
from ansible_collections.cri_client.cri.plugins.module_utils.views import (
    status_dict,
    version_dict,
)

GATHERERS = dict(
    version=lambda cri: version_dict(cri.version()),
    status=lambda cri: status_dict(cri.status()),
    pods=lambda cri: [pod.to_dict() for pod in cri.pods.list()],
    containers=lambda cri: [ctr.to_dict() for ctr in cri.containers.list(all=True)],
    images=lambda cri: [image.to_dict() for image in cri.images.list()],
)


def main():
    cri_module = CRIModule(
        dict(
            gather=dict(type="list", elements="str", choices=list(GATHERERS), default=list(GATHERERS)),
            as_facts=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    wanted = cri_module.params["gather"]
    result = cri_module.run(lambda cri: dict((what, GATHERERS[what](cri)) for what in wanted))
    if cri_module.params["as_facts"]:
        result["ansible_facts"] = dict(cri=dict(result))
    cri_module.exit(False, **result)


if __name__ == "__main__":
    main()
