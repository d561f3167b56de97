"""cri-client: the Kubernetes Container Runtime Interface (CRI ``runtime.v1``) from Python.

>>> from cri_client import CRIClient
>>> with CRIClient() as cri:
...     print(cri.version())
containerd 2.1.9 (CRI v1)

The public surface is what ``__all__`` lists here, plus :mod:`cri_client.errors`
and :mod:`cri_client.testing` (a throwaway containerd for tests).
``AsyncCRIClient`` is the asyncio client, with the same surface awaited; its
objects (``AsyncPod``, ``AsyncContainer``, ...) are in :mod:`cri_client.aio`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cri_client._api import LowLevelAPI
    from cri_client._model import AmbiguousReferenceError, ContainerState, PodState
    from cri_client._rpc import ResponseStream
    from cri_client.aio import AsyncCRIClient
    from cri_client.client import CRIClient
    from cri_client.containers import Container, ExecResult
    from cri_client.endpoint import Endpoint
    from cri_client.errors import CRIError
    from cri_client.events import ContainerEvent, ContainerEventType, EventStream
    from cri_client.images import FilesystemUsage, Image, ImageFsInfo
    from cri_client.logs import LogRecord
    from cri_client.pods import Pod
    from cri_client.runtime import RuntimeCondition, RuntimeHandler, RuntimeStatus, RuntimeVersion
    from cri_client.stats import ContainerStats, PodStats
    from cri_client.streaming import ExecSession, PortForward

# Imported on first use (PEP 562): `import cri_client` stays cheap, and a program
# that never touches streams, logs or asyncio never loads them.
_EXPORTS = {
    "AmbiguousReferenceError": "cri_client._model",
    "AsyncCRIClient": "cri_client.aio",
    "CRIClient": "cri_client.client",
    "CRIError": "cri_client.errors",
    "Container": "cri_client.containers",
    "ContainerEvent": "cri_client.events",
    "ContainerEventType": "cri_client.events",
    "ContainerState": "cri_client._model",
    "ContainerStats": "cri_client.stats",
    "Endpoint": "cri_client.endpoint",
    "EventStream": "cri_client.events",
    "ExecResult": "cri_client.containers",
    "ExecSession": "cri_client.streaming",
    "FilesystemUsage": "cri_client.images",
    "Image": "cri_client.images",
    "ImageFsInfo": "cri_client.images",
    "LogRecord": "cri_client.logs",
    "LowLevelAPI": "cri_client._api",
    "Pod": "cri_client.pods",
    "PodState": "cri_client._model",
    "PodStats": "cri_client.stats",
    "PortForward": "cri_client.streaming",
    "ResponseStream": "cri_client._rpc",
    "RuntimeCondition": "cri_client.runtime",
    "RuntimeHandler": "cri_client.runtime",
    "RuntimeStatus": "cri_client.runtime",
    "RuntimeVersion": "cri_client.runtime",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'cri_client' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = [
    "AmbiguousReferenceError",
    "AsyncCRIClient",
    "CRIClient",
    "CRIError",
    "Container",
    "ContainerEvent",
    "ContainerEventType",
    "ContainerState",
    "ContainerStats",
    "Endpoint",
    "EventStream",
    "ExecResult",
    "ExecSession",
    "FilesystemUsage",
    "Image",
    "ImageFsInfo",
    "LogRecord",
    "LowLevelAPI",
    "Pod",
    "PodState",
    "PodStats",
    "PortForward",
    "ResponseStream",
    "RuntimeCondition",
    "RuntimeHandler",
    "RuntimeStatus",
    "RuntimeVersion",
]
__version__ = "0.1.0"
