"""cri-client: the Kubernetes Container Runtime Interface (CRI ``runtime.v1``) from Python.

>>> from cri_client import CRIClient
>>> with CRIClient() as cri:
...     print(cri.version())
containerd 2.1.9 (CRI v1)

This module is the sync client and its objects. The other public modules:
:mod:`cri_client.aio` (the asyncio client), :mod:`cri_client.errors` (every
exception), :mod:`cri_client.types` (the values calls return, the state enums),
:mod:`cri_client.pb` (the CRI protobuf messages), :mod:`cri_client.endpoint` (finding
the runtime socket), :mod:`cri_client.logs` (reading any container log file) and
:mod:`cri_client.testing` (a throwaway containerd for tests). The most used errors
and value types are also exported here.
"""

from __future__ import annotations

import typing as _typing

if _typing.TYPE_CHECKING:
    from cri_client._api import (
        LowLevelAPI as LowLevelAPI,
    )
    from cri_client._rpc import (
        ResponseStream as ResponseStream,
    )
    from cri_client._sync.client import (
        CRIClient as CRIClient,
    )
    from cri_client._sync.containers import (
        Container as Container,
    )
    from cri_client._sync.containers import (
        ContainerManager as ContainerManager,
    )
    from cri_client._sync.events import (
        EventStream as EventStream,
    )
    from cri_client._sync.images import (
        Image as Image,
    )
    from cri_client._sync.images import (
        ImageManager as ImageManager,
    )
    from cri_client._sync.logstream import (
        LogStream as LogStream,
    )
    from cri_client._sync.pods import (
        Pod as Pod,
    )
    from cri_client._sync.pods import (
        PodManager as PodManager,
    )
    from cri_client._sync.portforward import (
        PortForward as PortForward,
    )
    from cri_client._sync.sessions import (
        ExecSession as ExecSession,
    )
    from cri_client.aio import (
        AsyncCRIClient as AsyncCRIClient,
    )
    from cri_client.errors import (
        AmbiguousReferenceError as AmbiguousReferenceError,
    )
    from cri_client.errors import (
        CRIError as CRIError,
    )
    from cri_client.types import (
        BulkOutcome as BulkOutcome,
    )
    from cri_client.types import (
        ContainerEvent as ContainerEvent,
    )
    from cri_client.types import (
        ContainerEventType as ContainerEventType,
    )
    from cri_client.types import (
        ContainerState as ContainerState,
    )
    from cri_client.types import (
        ContainerStats as ContainerStats,
    )
    from cri_client.types import (
        Endpoint as Endpoint,
    )
    from cri_client.types import (
        ExecResult as ExecResult,
    )
    from cri_client.types import (
        FilesystemUsage as FilesystemUsage,
    )
    from cri_client.types import (
        ImageFsInfo as ImageFsInfo,
    )
    from cri_client.types import (
        LayerProgress as LayerProgress,
    )
    from cri_client.types import (
        LogRecord as LogRecord,
    )
    from cri_client.types import (
        PodState as PodState,
    )
    from cri_client.types import (
        PodStats as PodStats,
    )
    from cri_client.types import (
        PruneItem as PruneItem,
    )
    from cri_client.types import (
        PruneReason as PruneReason,
    )
    from cri_client.types import (
        PruneReport as PruneReport,
    )
    from cri_client.types import (
        PullPhase as PullPhase,
    )
    from cri_client.types import (
        PullProgress as PullProgress,
    )
    from cri_client.types import (
        Resubscribed as Resubscribed,
    )
    from cri_client.types import (
        RuntimeCondition as RuntimeCondition,
    )
    from cri_client.types import (
        RuntimeHandler as RuntimeHandler,
    )
    from cri_client.types import (
        RuntimeStatus as RuntimeStatus,
    )
    from cri_client.types import (
        RuntimeVersion as RuntimeVersion,
    )

__version__ = "0.1.0"

# Where each export is defined. They are imported on first use (PEP 562): `import
# cri_client` stays cheap, and a program that never touches streams, events or
# asyncio never loads them (docs/performance.md).
_EXPORTS = {
    "AmbiguousReferenceError": "cri_client.errors",
    "AsyncCRIClient": "cri_client.aio",
    "BulkOutcome": "cri_client.types",
    "CRIClient": "cri_client._sync.client",
    "CRIError": "cri_client.errors",
    "Container": "cri_client._sync.containers",
    "ContainerEvent": "cri_client.types",
    "ContainerEventType": "cri_client.types",
    "ContainerManager": "cri_client._sync.containers",
    "ContainerState": "cri_client.types",
    "ContainerStats": "cri_client.types",
    "Endpoint": "cri_client.types",
    "EventStream": "cri_client._sync.events",
    "ExecResult": "cri_client.types",
    "ExecSession": "cri_client._sync.sessions",
    "FilesystemUsage": "cri_client.types",
    "Image": "cri_client._sync.images",
    "ImageFsInfo": "cri_client.types",
    "ImageManager": "cri_client._sync.images",
    "LayerProgress": "cri_client.types",
    "LogRecord": "cri_client.types",
    "LogStream": "cri_client._sync.logstream",
    "LowLevelAPI": "cri_client._api",
    "Pod": "cri_client._sync.pods",
    "PodManager": "cri_client._sync.pods",
    "PodState": "cri_client.types",
    "PodStats": "cri_client.types",
    "PortForward": "cri_client._sync.portforward",
    "PruneItem": "cri_client.types",
    "PruneReason": "cri_client.types",
    "PruneReport": "cri_client.types",
    "PullPhase": "cri_client.types",
    "PullProgress": "cri_client.types",
    "ResponseStream": "cri_client._rpc",
    "Resubscribed": "cri_client.types",
    "RuntimeCondition": "cri_client.types",
    "RuntimeHandler": "cri_client.types",
    "RuntimeStatus": "cri_client.types",
    "RuntimeVersion": "cri_client.types",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> object:
    from importlib import import_module

    if name not in _EXPORTS:
        raise AttributeError(f"module 'cri_client' has no attribute {name!r}")
    value = getattr(import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return [*__all__, "__version__"]
