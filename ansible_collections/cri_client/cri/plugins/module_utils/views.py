# -*- coding: utf-8 -*-
# Copyright: cri-client authors
# Apache License 2.0 (see LICENSE in the repository root)
"""JSON-able views of the library's values that have no ``to_dict()`` of their own."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def version_dict(version):
    return dict(
        runtime_name=version.runtime_name,
        runtime_version=version.runtime_version,
        runtime_api_version=version.runtime_api_version,
        version=version.version,
    )


def status_dict(status):
    return dict(
        ready=status.ready,
        network_ready=status.network_ready,
        handlers=[handler.name for handler in status.handlers],
        conditions=[
            dict(type=c.type, status=c.status, reason=c.reason, message=c.message)
            for c in status.conditions
        ],
    )
