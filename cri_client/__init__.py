"""cri-client: the Kubernetes Container Runtime Interface (CRI ``runtime.v1``) from Python.

>>> from cri_client import CRIClient
>>> with CRIClient() as cri:
...     print(cri.version())
containerd 2.1.9 (CRI v1)

The public surface is what ``__all__`` lists here, plus :mod:`cri_client.errors`
and :mod:`cri_client.testing` (a throwaway containerd for tests).
"""

from cri_client._api import LowLevelAPI
from cri_client._model import AmbiguousReferenceError, ContainerState, PodState
from cri_client._rpc import ResponseStream
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

__all__ = [
    "AmbiguousReferenceError",
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
