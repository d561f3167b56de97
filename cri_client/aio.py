"""The asyncio client: the same calls as :class:`~cri_client.CRIClient`, on ``grpc.aio``.

Requests, deadlines, error mapping and logging are the sync client's own code
(:mod:`cri_client._rpc`); only the transport differs.
"""

from __future__ import annotations

from cri_client._api import AsyncLowLevelAPI
from cri_client._client_base import BaseClient, client_settings
from cri_client._rpc import DEFAULT_TIMEOUT, AsyncInvoker
from cri_client.endpoint import DEFAULT_MAX_MESSAGE_SIZE
from cri_client.errors import UnimplementedError, UnsupportedAPIVersionError, unsupported_api_error
from cri_client.runtime import RuntimeStatus, RuntimeVersion

__all__ = ["AsyncCRIClient"]


class AsyncCRIClient(BaseClient):
    """An asyncio client for a CRI runtime; create it inside the running event loop::

        async with AsyncCRIClient() as cri:
            print(await cri.version())
            pods = (await cri.api.list_pod_sandbox()).items
            async with cri.api.get_container_events() as events:
                async for event in events:
                    ...

    Arguments are :class:`~cri_client.CRIClient`'s.
    """

    _invoker: AsyncInvoker

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        image_endpoint: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        allow_tcp: bool = False,
    ) -> None:
        self._invoker = AsyncInvoker(
            *client_settings(endpoint, image_endpoint, timeout, max_message_size, allow_tcp)
        )
        self.api = AsyncLowLevelAPI(self._invoker)
        """Every CRI RPC as a coroutine: see :class:`~cri_client._api.AsyncLowLevelAPI`."""

    async def version(self) -> RuntimeVersion:
        """The runtime's name and version, and the CRI version it speaks."""
        try:
            return RuntimeVersion.from_message(await self.api.version(version="v1"))
        except UnimplementedError as err:
            if isinstance(err, UnsupportedAPIVersionError):
                raise
            if not await self._invoker.serves_v1alpha2():
                raise
            raise unsupported_api_error(err.details, "Version") from None

    async def status(self, verbose: bool = False) -> RuntimeStatus:
        """The runtime's conditions and handlers; ``verbose=True`` adds its decoded info."""
        return RuntimeStatus.from_message(await self.api.status(verbose=verbose))

    async def close(self) -> None:
        """Close the channels. Calls made afterwards raise ClientClosedError."""
        await self._invoker.close()

    async def __aenter__(self) -> AsyncCRIClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
