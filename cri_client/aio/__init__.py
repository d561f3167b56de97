"""The asyncio client and its objects: the same surface as the sync client, awaited.

``cri_client/aio/`` holds the asyncio sources. The sync modules ``client``, ``pods``,
``containers``, ``images`` (and three internal ones) are generated from them by
``scripts/unasync.py``; the event stream, exec sessions and port-forward are
hand-written twins sharing their I/O-free code. ``tests/unit/test_sync_async_surface.py``
fails on any difference between the two surfaces that is not listed as deliberate.
See docs/asyncio.md.
"""

from cri_client._api import AsyncLowLevelAPI
from cri_client.aio.client import AsyncCRIClient
from cri_client.aio.containers import AsyncContainer, AsyncContainerManager
from cri_client.aio.events import AsyncEventStream
from cri_client.aio.images import AsyncImage, AsyncImageManager
from cri_client.aio.pods import AsyncPod, AsyncPodManager
from cri_client.aio.streaming import AsyncExecSession, AsyncPortForward

__all__ = [
    "AsyncCRIClient",
    "AsyncContainer",
    "AsyncContainerManager",
    "AsyncEventStream",
    "AsyncExecSession",
    "AsyncImage",
    "AsyncImageManager",
    "AsyncLowLevelAPI",
    "AsyncPod",
    "AsyncPodManager",
    "AsyncPortForward",
]
