#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cri-client authors
# Apache License 2.0 (see LICENSE in the repository root)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cri_prune
short_description: Remove exited containers, idle pods and unused images, with the reason for each
description:
  - Runs the cri-client prune plan on the node's runtime. Exited containers go first, then
    pods that run no container, then images nothing uses, each step freeing what the
    next may remove. Every candidate is reported with the reason it was removed or kept.
  - Never removed, whatever the options say, are a running container, a pod with one, an
    image a container of any state references, the sandbox image, a pinned image.
  - Check mode is the library's dry run; the result then lists what a run would
    remove.
  - A selected item the runtime refuses to remove fails the task, with the report.
version_added: 0.1.0
author:
  - cri-client authors (@cri-client)
extends_documentation_fragment:
  - cri_client.cri.common
options:
  containers:
    description: Prune exited containers.
    type: bool
    default: true
  pods:
    description: Prune pods that run no container.
    type: bool
    default: true
  images:
    description: Prune images nothing uses.
    type: bool
    default: true
  exited_before:
    description: Only containers that exited at least this many seconds ago.
    type: float
  labels:
    description: Only containers and pods with all these labels (images have none).
    type: dict
  not_ready:
    description: Prune pods that are not ready (stopped) and run no container.
    type: bool
    default: true
  no_running_containers:
    description: Also stop and prune ready pods none of whose containers runs.
    type: bool
    default: false
  keep:
    description: Keep images with a tag or digest matching one of these fnmatch patterns (for example C(*/pause:*)).
    type: list
    elements: str
    default: []
  min_age:
    description: Only images at least this many seconds old.
    type: float
  parallel:
    description: At most this many removals at a time (the library's default when not set).
    type: int
"""

EXAMPLES = r"""
- name: What would go (check mode is a dry run)
  cri_client.cri.cri_prune:
    exited_before: 3600
    keep: ["*/pause:*", "registry.example.com/base/*"]
  check_mode: true
  register: plan

- name: Unused images older than a day, nothing else
  cri_client.cri.cri_prune:
    containers: false
    pods: false
    min_age: 86400
"""

RETURN = r"""
report:
  description:
    - The library's prune report. C(items) lists every candidate with C(kind)
      (container, pod, image), C(id), C(name), C(selected), C(removed), C(reason) and
      C(detail); C(bytes_expected) is what the selected images take.
  returned: always
  type: dict
  sample:
    dry_run: false
    bytes_expected: 1062400
    items:
      - {kind: image, id: "sha256:3f2a...", name: "127.0.0.1:5000/old:1", selected: true, removed: true, reason: unused, detail: "", size: 1062400}
      - {kind: image, id: "sha256:8e1c...", name: "127.0.0.1:5000/pause:3.9", selected: false, removed: false, reason: sandbox_image, detail: "", size: 311000}
summary:
  description: Per kind, how many items were removed (in check mode, would be) and kept.
  returned: always
  type: dict
  sample: {containers: {removed: 2, kept: 1}, pods: {removed: 1, kept: 1}, images: {removed: 1, kept: 2}}
"""

import sys

from ansible_collections.cri_client.cri.plugins.module_utils.common import CRIModule

KINDS = (("containers", "container"), ("pods", "pod"), ("images", "image"))


def prune(cri_module, cri):
    params = cri_module.params
    if not hasattr(cri, "prune"):
        cri_module.fail("this cri-client has no prune API; upgrade it: %s -m pip install -U cri-client"
                        % sys.executable)
    dry_run = cri_module.check_mode
    shared = dict(dry_run=dry_run)
    if params["parallel"] is not None:
        shared["parallel"] = params["parallel"]
    container_options = dict(exited_before=params["exited_before"], labels=params["labels"])
    pod_options = dict(not_ready=params["not_ready"],
                       no_running_containers=params["no_running_containers"], labels=params["labels"])
    image_options = dict(keep=params["keep"], min_age=params["min_age"])
    if all(params[option] for option, kind in KINDS):
        # One plan: a dry run plans the pods and images as if the earlier steps had run.
        options = dict(container_options, **pod_options)
        options.update(image_options)
        report = cri.prune(**dict(options, **shared)).to_dict()
    else:
        steps = dict(
            containers=lambda: cri.containers.prune(**dict(container_options, **shared)),
            pods=lambda: cri.pods.prune(**dict(pod_options, **shared)),
            images=lambda: cri.images.prune(**dict(image_options, **shared)),
        )
        reports = [steps[option]().to_dict() for option, kind in KINDS if params[option]]
        report = dict(
            dry_run=dry_run,
            bytes_expected=sum(part["bytes_expected"] for part in reports),
            items=[item for part in reports for item in part["items"]],
        )
    done = "selected" if dry_run else "removed"
    summary = dict(
        (option, dict(
            removed=len([i for i in report["items"] if i["kind"] == kind and i[done]]),
            kept=len([i for i in report["items"] if i["kind"] == kind and not i["selected"]]),
        ))
        for option, kind in KINDS
        if params[option]
    )
    gone = sorted("%s %s" % (item["kind"], item["name"]) for item in report["items"] if item[done])
    failed = [item for item in report["items"] if item["reason"] == "failed"]
    if failed:
        cri_module.fail(
            "the runtime refused to remove: %s" % ", ".join(
                "%s %s (%s)" % (item["kind"], item["name"], item["detail"]) for item in failed),
            report=report, summary=summary,
        )
    cri_module.exit(bool(gone), dict(present=gone), dict(present=[]), report=report, summary=summary)


def main():
    cri_module = CRIModule(
        dict(
            containers=dict(type="bool", default=True),
            pods=dict(type="bool", default=True),
            images=dict(type="bool", default=True),
            exited_before=dict(type="float"),
            labels=dict(type="dict"),
            not_ready=dict(type="bool", default=True),
            no_running_containers=dict(type="bool", default=False),
            keep=dict(type="list", elements="str", default=[]),
            min_age=dict(type="float"),
            parallel=dict(type="int"),
        ),
        supports_check_mode=True,
    )
    cri_module.run(lambda cri: prune(cri_module, cri))


if __name__ == "__main__":
    main()
