"""Lists through one client, with the ``Stream*`` RPCs where the runtime has them.

Written once for asyncio; ``cri_client/_lister.py`` is generated from it for the sync
client by ``scripts/unasync.py``. The routes are in :mod:`cri_client._listing`.
"""

from __future__ import annotations

from typing import Any

from google.protobuf.message import Message

from cri_client._listing import Item, ListRoute
from cri_client._rpc import AsyncInvoker
from cri_client.errors import UnimplementedError


class AsyncLister:
    """Lists through one client, preferring ``Stream*`` until the runtime says it has
    none (remembered per client: a set add is atomic, so threads need no lock)."""

    def __init__(self, invoker: AsyncInvoker) -> None:
        self._invoker = invoker
        self._unimplemented: set[str] = set()

    def uses_stream(self, route: ListRoute[Any]) -> bool:
        """Whether the next list on this route will try the streaming RPC."""
        return route.stream.name not in self._unimplemented

    async def list(self, route: ListRoute[Item], filter: Message | None = None) -> list[Item]:
        fields = {} if filter is None else {"filter": filter}
        if self.uses_stream(route):
            try:
                replies = self._invoker.stream(route.stream, None, dict(fields), None)
                return [
                    item async for reply in replies for item in getattr(reply, route.stream_field)
                ]
            except UnimplementedError:
                self._unimplemented.add(route.stream.name)
        reply = await self._invoker.unary(route.unary, None, fields, None)
        return list(getattr(reply, route.unary_field))
