"""Lists that survive big nodes: the ``Stream*`` RPCs where the runtime has them.

A unary list reply is capped by the gRPC message size; the streaming variants
(KEP 5825) split it. They are new, so most runtimes answer UNIMPLEMENTED: the
first such answer is remembered per client and the unary RPC is used from then on
(:mod:`cri_client._lister`, generated from :mod:`cri_client.aio._lister`).
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from google.protobuf.message import Message

from cri_client import _api
from cri_client._rpc import Rpc

Item = TypeVar("Item", bound=Message)


class ListRoute(Generic[Item]):
    """A unary list RPC, its streaming twin, and the repeated field each puts items in."""

    def __init__(
        self, unary: Rpc[Any, Any], unary_field: str, stream: Rpc[Any, Any], stream_field: str
    ) -> None:
        self.unary = unary
        self.unary_field = unary_field
        self.stream = stream
        self.stream_field = stream_field


POD_SANDBOXES: ListRoute[Any] = ListRoute(
    _api.LIST_POD_SANDBOX, "items", _api.STREAM_POD_SANDBOXES, "pod_sandboxes"
)
CONTAINERS: ListRoute[Any] = ListRoute(
    _api.LIST_CONTAINERS, "containers", _api.STREAM_CONTAINERS, "containers"
)
IMAGES: ListRoute[Any] = ListRoute(_api.LIST_IMAGES, "images", _api.STREAM_IMAGES, "images")
CONTAINER_STATS: ListRoute[Any] = ListRoute(
    _api.LIST_CONTAINER_STATS, "stats", _api.STREAM_CONTAINER_STATS, "container_stats"
)
POD_SANDBOX_STATS: ListRoute[Any] = ListRoute(
    _api.LIST_POD_SANDBOX_STATS, "stats", _api.STREAM_POD_SANDBOX_STATS, "pod_sandbox_stats"
)

