#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cri-client authors
# Apache License 2.0 (see LICENSE in the repository root)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cri_pod
short_description: Run or remove a pod sandbox on the node's container runtime
description:
  - Makes sure a ready pod sandbox with this name runs in this namespace (V(present)),
    or that no pod of that name is left (V(absent)), built the way kubelet builds one.
  - A pod's config cannot change in place. The module keeps a hash of the options it
    was created from in the label C(cri-client.ansible/config-hash); when the options
    differ from that hash (or the label is missing), the pod is replaced, with its
    containers.
version_added: 0.1.0
author:
  - cri-client authors (@cri-client)
extends_documentation_fragment:
  - cri_client.cri.common
options:
  name:
    description: The pod's name.
    type: str
    required: true
  namespace:
    description: The pod's namespace.
    type: str
    default: default
  state:
    description:
      - V(present) runs the pod unless a ready one with the same options runs.
      - V(absent) stops and removes every pod of this name and namespace, and their
        containers.
    type: str
    choices: [present, absent]
    default: present
  labels:
    description: The pod's labels (Kubernetes label syntax).
    type: dict
    default: {}
  annotations:
    description: The pod's annotations.
    type: dict
    default: {}
  runtime_handler:
    description:
      - The runtime handler (C(runc), C(runsc), ...); empty for the runtime's default.
    type: str
    default: ""
  host_network:
    description: Share the node's network namespace.
    type: bool
    default: false
  hostname:
    description: The pod's hostname; derived from O(name) when not set.
    type: str
  log_directory:
    description: Where the pod's container logs go (kubelet's C(/var/log/pods) layout by default).
    type: str
  grace_period:
    description:
      - Seconds between SIGTERM and SIGKILL for the containers of a pod that is
        removed or replaced.
    type: float
    default: 10
  recreate:
    description: Replace the pod even when its options did not change.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: A pod under gVisor
  cri_client.cri.cri_pod:
    name: web
    namespace: shop
    labels: {app: web}
    runtime_handler: runsc

- name: Gone, with its containers
  cri_client.cri.cri_pod:
    name: web
    namespace: shop
    state: absent
"""

RETURN = r"""
pod:
  description: The ready pod after the task; null when absent (or in check mode before it exists).
  returned: always
  type: dict
  sample: {id: "2db9368d...", name: web, namespace: shop, state: ready, runtime_handler: runsc, ip: 10.88.0.7}
actions:
  description: What was done (or would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: ["removed pod 2db9368d233f (settings differ)", "ran pod shop/web"]
"""

from ansible_collections.cri_client.cri.plugins.module_utils.common import (
    CONFIG_HASH_LABEL,
    CRIModule,
    config_hash,
)
from ansible_collections.cri_client.cri.plugins.module_utils.lookup import find_pods

SETTINGS = ("labels", "annotations", "runtime_handler", "host_network", "hostname", "log_directory")


def pod_state(pod):
    """What --diff shows of a pod."""
    if pod is None:
        return dict(state="absent")
    labels = dict((k, v) for k, v in pod.labels.items() if k != CONFIG_HASH_LABEL)
    return dict(
        state=pod.state.value,
        id=pod.id,
        labels=labels,
        runtime_handler=pod.runtime_handler,
        config_hash=pod.labels.get(CONFIG_HASH_LABEL),
    )


def ensure(cri_module, cri):
    params = cri_module.params
    name, namespace = params["name"], params["namespace"]
    pods = find_pods(cri, name, namespace)
    ready = [pod for pod in pods if pod.ready]
    wanted_hash = config_hash(dict((key, params[key]) for key in SETTINGS))
    actions = []
    if params["state"] == "absent":
        doomed = pods
    else:
        doomed = [
            pod
            for pod in ready
            if params["recreate"] or pod.labels.get(CONFIG_HASH_LABEL) != wanted_hash
        ]
    for pod in doomed:
        actions.append("removed pod %s" % pod.id[:13])
        if not cri_module.check_mode:
            cri.pods.remove(pod, force=True, grace_period=params["grace_period"])
    doomed_ids = set(pod.id for pod in doomed)
    kept = [pod for pod in ready if pod.id not in doomed_ids]
    after = kept[0] if kept else None
    after_state = pod_state(after)
    if params["state"] == "present" and after is None:
        actions.append("ran pod %s/%s" % (namespace, name))
        after_state = dict(state="ready", labels=params["labels"],
                           runtime_handler=params["runtime_handler"], config_hash=wanted_hash)
        if not cri_module.check_mode:
            labels = dict(params["labels"])
            labels[CONFIG_HASH_LABEL] = wanted_hash
            after = cri.pods.run(
                name,
                namespace=namespace,
                labels=labels,
                annotations=params["annotations"],
                runtime_handler=params["runtime_handler"],
                host_network=params["host_network"],
                hostname=params["hostname"],
                log_directory=params["log_directory"],
            )
            after_state = pod_state(after)
    cri_module.exit(
        bool(actions),
        pod_state(ready[0] if ready else None),
        after_state,
        pod=after.to_dict() if after is not None else None,
        actions=actions,
    )


def main():
    cri_module = CRIModule(
        dict(
            name=dict(type="str", required=True),
            namespace=dict(type="str", default="default"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            labels=dict(type="dict", default={}),
            annotations=dict(type="dict", default={}),
            runtime_handler=dict(type="str", default=""),
            host_network=dict(type="bool", default=False),
            hostname=dict(type="str"),
            log_directory=dict(type="str"),
            grace_period=dict(type="float", default=10),
            recreate=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    cri_module.run(lambda cri: ensure(cri_module, cri))


if __name__ == "__main__":
    main()
