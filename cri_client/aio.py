"""The asyncio client and its objects: the sync client's surface, awaited.

>>> from cri_client.aio import AsyncCRIClient
>>> async with AsyncCRIClient() as cri:
...     print(await cri.version())

The code that calls the runtime is written once, as asyncio code, in
``cri_client/_async/``, and the sync client is generated from it; the event stream,
exec sessions and port-forward are twins over shared I/O-free code
(docs/asyncio.md, docs/design.md).
"""

from cri_client._api import AsyncLowLevelAPI
from cri_client._async.client import AsyncCRIClient
from cri_client._async.containers import AsyncContainer, AsyncContainerManager
from cri_client._async.events import AsyncEventStream
from cri_client._async.images import AsyncImage, AsyncImageManager
from cri_client._async.logstream import AsyncLogStream
from cri_client._async.pods import AsyncPod, AsyncPodManager
from cri_client._async.portforward import AsyncPortForward
from cri_client._async.sessions import AsyncExecSession
from cri_client._rpc import AsyncResponseStream

__all__ = [
    "AsyncCRIClient",
    "AsyncContainer",
    "AsyncContainerManager",
    "AsyncEventStream",
    "AsyncExecSession",
    "AsyncImage",
    "AsyncImageManager",
    "AsyncLogStream",
    "AsyncLowLevelAPI",
    "AsyncPod",
    "AsyncPodManager",
    "AsyncPortForward",
    "AsyncResponseStream",
]
