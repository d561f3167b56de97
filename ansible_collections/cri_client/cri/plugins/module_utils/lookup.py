# -*- coding: utf-8 -*-
# Copyright: cri-client authors
# Apache License 2.0 (see LICENSE in the repository root)
"""Finding the pods, containers and images a task names, by exact name (the library's
``name=`` filters are regular expressions, as crictl's are)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.cri_client.cri.plugins.module_utils.common import NotFoundError


def exactly(text):
    return "^%s$" % re.escape(text)


def find_pods(cri, name, namespace):
    """Every pod with this name in this namespace, newest first (ready or not)."""
    return cri.pods.list(name=exactly(name), namespace=exactly(namespace))


def find_ready_pod(cri, reference):
    """The ready pod ``reference`` names: ``namespace/name``, ``name`` (in ``default``),
    or a pod id or unique id prefix; None when no such pod is ready. Pods of the same
    name that are not ready are older incarnations, not this one."""
    namespace, separator, name = reference.rpartition("/")
    ready = [pod for pod in find_pods(cri, name, namespace if separator else "default") if pod.ready]
    if ready or separator:
        return ready[0] if ready else None
    try:
        pod = cri.pods.get(reference)
    except NotFoundError:
        return None
    return pod if pod.ready else None


def find_containers(cri, pod, name):
    """The containers of this name in ``pod``, in any state, newest first."""
    return cri.containers.list(all=True, pod=pod, name=exactly(name))


def find_image(cri, reference):
    """The image ``reference`` names (tag, digest, id or id prefix), or None."""
    try:
        return cri.images.get(reference)
    except NotFoundError:
        return None
