#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cri-client authors
# Apache License 2.0 (see LICENSE in the repository root)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cri_image
short_description: Pull or remove an image on the node's container runtime
description:
  - Makes sure an image is on the node (V(present)), pulled again from its registry
    (V(pulled)), or gone (V(absent)), through the CRI image service.
  - Credentials come from O(username) and O(password), else from docker's
    C(config.json) (and its credential helpers) or podman's C(auth.json) on the
    target, else the pull is anonymous.
version_added: 0.1.0
author:
  - cri-client authors (@cri-client)
extends_documentation_fragment:
  - cri_client.cri.common
options:
  name:
    description:
      - The image reference (C(registry/repository:tag), C(repository@sha256:...)),
        or for O(state=absent) also an image id.
    type: str
    required: true
  state:
    description:
      - V(present) pulls the image only when the runtime does not have it.
      - V(pulled) always pulls (as C(docker_image)'s C(force_source)); it reports a
        change only when the reference now names another image id. In check mode a
        pull is not made, so it reports the change it might make.
      - V(absent) removes the image (a tag removes that tag, an id every tag). The
        runtime refuses to remove an image a container uses.
    type: str
    choices: [present, pulled, absent]
    default: present
  username:
    description:
      - The registry user for the pull.
    type: str
  password:
    description:
      - The registry password or token for the pull.
    type: str
"""

EXAMPLES = r"""
- name: Pre-pull the next release on every node
  cri_client.cri.cri_image:
    name: registry.example.com/app/web:2.4.1

- name: Pull again, even when present (a moving tag)
  cri_client.cri.cri_image:
    name: registry.example.com/app/web:stable
    state: pulled
    username: "{{ registry_user }}"
    password: "{{ registry_password }}"

- name: Remove an old release
  cri_client.cri.cri_image:
    name: registry.example.com/app/web:2.3.0
    state: absent
"""

RETURN = r"""
image:
  description: The image after the task; null when it is absent.
  returned: always
  type: dict
  sample: {id: "sha256:3f2a...", repo_tags: ["127.0.0.1:5000/busybox:1.35"], repo_digests: [], size: 1062400, pinned: false}
actions:
  description: What was done (or would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: ["pulled 127.0.0.1:5000/busybox:1.35"]
"""

from ansible_collections.cri_client.cri.plugins.module_utils.common import CRIModule
from ansible_collections.cri_client.cri.plugins.module_utils.lookup import find_image


def image_state(image):
    """What --diff shows of an image: whether it is there, its id and tags."""
    if image is None:
        return dict(present=False)
    return dict(present=True, id=image.id, repo_tags=sorted(image.repo_tags))


def ensure(cri_module, cri):
    params = cri_module.params
    name, state = params["name"], params["state"]
    before = after = find_image(cri, name)
    after_state = image_state(before)
    actions = []
    if state == "absent" and before is not None:
        actions.append("removed %s" % name)
        if not cri_module.check_mode:
            cri.images.remove(name, missing_ok=True)
        after, after_state = None, image_state(None)
    elif state != "absent" and (before is None or state == "pulled"):
        actions.append("pulled %s" % name)
        if cri_module.check_mode:
            after_state = dict(present=True, pulled=name)
        else:
            auth = (params["username"], params["password"]) if params["username"] else None
            after = cri.images.pull(name, auth)
            after_state = image_state(after)
    # A forced pull that finds the same image changes nothing.
    changed = bool(actions) and (cri_module.check_mode or image_state(before) != after_state)
    cri_module.exit(
        changed,
        image_state(before),
        after_state,
        image=after.to_dict() if after is not None else None,
        actions=actions,
    )


def main():
    cri_module = CRIModule(
        dict(
            name=dict(type="str", required=True),
            state=dict(type="str", choices=["present", "pulled", "absent"], default="present"),
            username=dict(type="str"),
            password=dict(type="str", no_log=True),
        ),
        required_together=[("username", "password")],
        supports_check_mode=True,
    )
    cri_module.run(lambda cri: ensure(cri_module, cri))


if __name__ == "__main__":
    main()
