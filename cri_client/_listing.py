"""Lists that survive big nodes: the ``Stream*`` RPCs where the runtime has them.

A unary list reply is capped by the gRPC message size; the streaming variants
(KEP 5825) split it. They are new, so most runtimes answer UNIMPLEMENTED: the
first such answer is remembered per client and the unary RPC is used from then on.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from google.protobuf.message import Message

from cri_client import _api
from cri_client._rpc import Invoker, Rpc
from cri_client.errors import UnimplementedError

Item = TypeVar("Item", bound=Message)


@dataclass(frozen=True, eq=False)
class ListRoute(Generic[Item]):
    """A unary list RPC, its streaming twin, and the repeated field each puts items in."""

    unary: Rpc[Any, Any]
    unary_field: str
    stream: Rpc[Any, Any]
    stream_field: str


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


class Lister:
    """Lists through one client, preferring ``Stream*`` until the runtime says it has none."""

    def __init__(self, invoker: Invoker) -> None:
        self._invoker = invoker
        self._unimplemented: set[str] = set()
        self._lock = threading.Lock()

    def uses_stream(self, route: ListRoute[Any]) -> bool:
        """Whether the next list on this route will try the streaming RPC."""
        return route.stream.name not in self._unimplemented

    def list(self, route: ListRoute[Item], filter: Message | None = None) -> list[Item]:
        fields = {} if filter is None else {"filter": filter}
        if self.uses_stream(route):
            try:
                replies = self._invoker.stream(route.stream, None, dict(fields), None)
                return [item for reply in replies for item in getattr(reply, route.stream_field)]
            except UnimplementedError:
                with self._lock:
                    self._unimplemented.add(route.stream.name)
        reply = self._invoker.unary(route.unary, None, fields, None)
        return list(getattr(reply, route.unary_field))
