#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cri-client authors
# Apache License 2.0 (see LICENSE in the repository root)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cri_container
short_description: Create, start, stop or remove a container in a pod
description:
  - Makes sure a container of this name runs (V(started)), exists without running
    (V(stopped)), exists in any state (V(present)), or is gone (V(absent)) in a ready
    pod on the node's container runtime.
  - Settings come from options (O(image), O(command), ...), or from a complete CRI
    C(ContainerConfig) in O(config).
  - The module keeps a hash of the settings in the label
    C(cri-client.ansible/config-hash) and the settings themselves in the annotation
    C(cri-client.ansible/settings). The container is recreated only when the hash
    differs (as community.docker's docker_container recreates on a changed setting),
    or with O(recreate=true).
  - A CRI container that has exited cannot be started again; V(started) then makes a
    new one from the same settings (the next attempt, as kubelet restarts one).
    O(recreate=true) without O(image) or O(config) restarts a container this module
    made from its stored settings, and any other container from the runtime's copy of
    the config it was created with (O(state=started) only).
version_added: 0.1.0
author:
  - cri-client authors (@cri-client)
extends_documentation_fragment:
  - cri_client.cri.common
options:
  name:
    description: The container's name in its pod.
    type: str
    required: true
  pod:
    description:
      - The ready pod, C(namespace/name), C(name) (namespace C(default)), or a pod id or
        unique id prefix.
    type: str
    required: true
  state:
    description:
      - V(started) creates the container when needed and starts it.
      - V(stopped) creates it when needed, and stops it when it runs.
      - V(present) creates it when needed and leaves it as it is otherwise.
      - V(absent) removes every container of this name in the pod (a running one is
        stopped first, with O(stop_timeout)).
    type: str
    choices: [started, stopped, present, absent]
    default: started
  image:
    description:
      - The image reference. Needed to create a container from options, unless the
        settings are in O(config) or stored on the existing container.
    type: str
  pull:
    description: Pull O(image) when the node does not have it.
    type: bool
    default: true
  command:
    description: The entrypoint, instead of the image's.
    type: list
    elements: str
  args:
    description: The arguments, instead of the image's.
    type: list
    elements: str
  env:
    description: Environment variables.
    type: dict
    default: {}
  working_dir:
    description: The working directory (an absolute path).
    type: str
    default: ""
  labels:
    description: The container's labels.
    type: dict
    default: {}
  annotations:
    description: The container's annotations.
    type: dict
    default: {}
  mounts:
    description: Bind mounts from the node.
    type: list
    elements: dict
    default: []
    suboptions:
      host_path:
        description: The path on the node.
        type: str
        required: true
      container_path:
        description: The path in the container.
        type: str
        required: true
      readonly:
        description: Mount it read-only.
        type: bool
        default: false
  privileged:
    description: Run privileged.
    type: bool
    default: false
  run_as_user:
    description: The uid to run as, instead of the image's user.
    type: int
  tty:
    description: Allocate a terminal.
    type: bool
    default: false
  stdin:
    description: Keep stdin open.
    type: bool
    default: false
  config:
    description:
      - A complete CRI C(ContainerConfig) as a dict (protobuf JSON field names, for
        example C(metadata), C(image.image), C(command), C(envs), C(linux)), instead of
        the options above; env values are text. C(metadata.name) must be O(name) or
        left out.
    type: dict
  stop_timeout:
    description: Seconds between SIGTERM and SIGKILL when the container is stopped or replaced.
    type: float
    default: 10
  recreate:
    description: Replace the container even when its settings did not change.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: A web server in the pod shop/web
  cri_client.cri.cri_container:
    pod: shop/web
    name: httpd
    image: registry.example.com/busybox:1.36
    command: [httpd, -f, -p, "8080"]
    env: {LANG: C.UTF-8}

- name: From a complete ContainerConfig
  cri_client.cri.cri_container:
    pod: shop/web
    name: worker
    config:
      image: {image: registry.example.com/app/worker:2.4.1}
      command: [worker, --queue, orders]
      linux: {resources: {memory_limit_in_bytes: 268435456}}

- name: Restart it from the settings it was made with
  cri_client.cri.cri_container:
    pod: shop/web
    name: worker
    recreate: true

- name: Stopped, not removed
  cri_client.cri.cri_container:
    pod: shop/web
    name: httpd
    state: stopped
"""

RETURN = r"""
container:
  description: The container after the task; null when absent (or in check mode before it exists).
  returned: always
  type: dict
  sample: {id: "5b1e...", name: httpd, attempt: 0, state: running, image: "registry.example.com/busybox:1.36", labels: {}}
actions:
  description: What was done (or would be, in check mode), with the reason for a replacement.
  returned: always
  type: list
  elements: str
  sample: ["removed container 5b1e4c0d9a2f (settings differ)", "created httpd", "started httpd"]
"""

import json

from ansible_collections.cri_client.cri.plugins.module_utils.common import (
    CONFIG_HASH_LABEL,
    CRIModule,
    config_hash,
)
from ansible_collections.cri_client.cri.plugins.module_utils.lookup import find_containers, find_ready_pod

try:
    from cri_client import configs, pb
    from google.protobuf.json_format import ParseError
except ImportError:
    pass  # CRIModule fails with the install hint first

SETTINGS_ANNOTATION = "cri-client.ansible/settings"
OPTION_SETTINGS = (
    "image", "command", "args", "env", "working_dir", "labels", "annotations", "mounts",
    "privileged", "run_as_user", "tty", "stdin",
)  # fmt: skip


def wanted_settings(params, current):
    """The settings asked for: the options, ``config``, or those stored on ``current``;
    None when there are none (a container this module did not make)."""
    if params["config"] is not None:
        return dict(config=params["config"])
    if params["image"] is not None:
        return dict((key, params[key]) for key in OPTION_SETTINGS)
    if current is not None and SETTINGS_ANNOTATION in current.annotations:
        return json.loads(current.annotations[SETTINGS_ANNOTATION])
    return None


def build_config(pod, name, settings, attempt):
    """The ContainerConfig for ``settings``, carrying their hash and themselves."""
    if "config" in settings:
        try:
            config = configs.message_from_dict(settings["config"], pb.ContainerConfig)
        except ParseError as err:
            raise ValueError("config is not a ContainerConfig: %s" % err)
        if config.metadata.name not in ("", name):
            raise ValueError("config.metadata.name is %r, not the name %r" % (config.metadata.name, name))
        config.metadata.name = name
        config.metadata.attempt = attempt
    else:
        options = dict((key, settings[key]) for key in OPTION_SETTINGS if key != "image")
        options["env"] = dict((key, str(value)) for key, value in settings["env"].items())
        config = configs.container_config(
            name, settings["image"], pod=pod.config(), attempt=attempt, **options
        )
    config.labels[CONFIG_HASH_LABEL] = config_hash(settings)
    config.annotations[SETTINGS_ANNOTATION] = json.dumps(settings, sort_keys=True)
    return config


def container_state(container):
    """What --diff shows of a container."""
    if container is None:
        return dict(state="absent")
    return dict(
        state=container.state.value,
        id=container.id,
        attempt=container.attempt,
        image=container.image,
        config_hash=container.labels.get(CONFIG_HASH_LABEL),
    )


def replacement_reason(params, current, wanted_hash):
    """Why ``current`` must be replaced, or None; ``wanted_hash`` None: settings unknown."""
    if current is None:
        return None
    if params["recreate"]:
        return "recreate"
    if wanted_hash is not None and current.labels.get(CONFIG_HASH_LABEL) != wanted_hash:
        return "settings differ"
    if params["state"] == "started" and current.state.value in ("exited", "unknown"):
        return "it exited"
    return None


class ContainerTask(object):
    def __init__(self, cri_module, cri):
        self.cri_module = cri_module
        self.cri = cri
        self.params = cri_module.params
        self.actions = []

    def act(self, description, call, *args, **kwargs):
        """Record ``description`` and make the call unless in check mode."""
        self.actions.append(description)
        return None if self.cri_module.check_mode else call(*args, **kwargs)

    def remove_all(self, existing, reason):
        for container in existing:
            self.act(
                "removed container %s (%s)" % (container.id[:13], reason),
                self.cri.containers.remove, container, force=True,
            )

    def ensure(self):
        params = self.params
        name, state = params["name"], params["state"]
        pod = find_ready_pod(self.cri, params["pod"])
        if pod is None and state != "absent" and not self.cri_module.check_mode:
            # (in check mode the play may be about to make the pod in an earlier task)
            self.cri_module.fail("no ready pod %s to put %s in" % (params["pod"], name))
        existing = find_containers(self.cri, pod, name) if pod is not None else []
        current = existing[0] if existing else None
        if state == "absent":
            self.remove_all(existing, "state=absent")
            return self.finish(current, None, dict(state="absent"))
        settings = wanted_settings(params, current)
        if settings is None and (current is None or state != "started"):
            self.cri_module.fail("image or config is required for %s in state %s" % (name, state))
        wanted_hash = config_hash(settings) if settings is not None else None
        reason = replacement_reason(params, current, wanted_hash)
        after = current
        if settings is None and reason is not None:
            # Not made by this module: the library recreates it from the runtime's copy
            # of its config (the next attempt, as kubelet restarts a container).
            after = self.act("recreated %s from its config (%s)" % (name, reason),
                             self.cri.containers.recreate, current, timeout=params["stop_timeout"])
        elif current is None or reason is not None:
            if reason is not None:
                if current.state.value == "running":
                    self.act("stopped %s" % name, current.stop, timeout=params["stop_timeout"])
                self.remove_all(existing, reason)
            attempt = current.attempt + 1 if current is not None else 0
            if self.cri_module.check_mode:
                after = None
                self.actions.append("created %s" % name)
            else:
                config = build_config(pod, name, settings, attempt)
                after = self.act("created %s" % name, self.cri.containers.create, pod, name,
                                 config.image.image, config=config, pull=params["pull"])
        after_state = container_state(after) if after is not None else dict(
            state="running" if settings is None else "created", config_hash=wanted_hash)
        running = after_state["state"] == "running"
        if state == "started" and not running:
            after = self.act("started %s" % name, self.cri.containers.start, after) or after
            after_state = dict(after_state, state="running")
        elif state == "stopped" and running:
            after = self.act("stopped %s" % name, self.cri.containers.stop, after,
                             params["stop_timeout"]) or after
            after_state = dict(after_state, state="exited")
        if after is not None and not self.cri_module.check_mode:
            after = after.reload()
            after_state = container_state(after)
        return self.finish(current, after, after_state)

    def finish(self, before, after, after_state):
        self.cri_module.exit(
            bool(self.actions),
            container_state(before),
            after_state,
            container=after.to_dict() if after is not None and not self.cri_module.check_mode else None,
            actions=self.actions,
        )


def main():
    cri_module = CRIModule(
        dict(
            name=dict(type="str", required=True),
            pod=dict(type="str", required=True),
            state=dict(type="str", choices=["started", "stopped", "present", "absent"], default="started"),
            image=dict(type="str"),
            pull=dict(type="bool", default=True),
            command=dict(type="list", elements="str"),
            args=dict(type="list", elements="str"),
            env=dict(type="dict", default={}),
            working_dir=dict(type="str", default=""),
            labels=dict(type="dict", default={}),
            annotations=dict(type="dict", default={}),
            mounts=dict(
                type="list",
                elements="dict",
                default=[],
                options=dict(
                    host_path=dict(type="str", required=True),
                    container_path=dict(type="str", required=True),
                    readonly=dict(type="bool", default=False),
                ),
            ),
            privileged=dict(type="bool", default=False),
            run_as_user=dict(type="int"),
            tty=dict(type="bool", default=False),
            stdin=dict(type="bool", default=False),
            config=dict(type="dict"),
            stop_timeout=dict(type="float", default=10),
            recreate=dict(type="bool", default=False),
        ),
        mutually_exclusive=[("config", option) for option in ("image", "command", "args")],
        supports_check_mode=True,
    )
    cri_module.run(lambda cri: ContainerTask(cri_module, cri).ensure())


if __name__ == "__main__":
    main()
