"""What the sync and the asyncio clients share: settings, endpoints, raw stubs."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from cri_client._api import AsyncLowLevelAPI, LowLevelAPI
from cri_client._core.public import publish
from cri_client._rpc import Channels, DeadlinePolicy
from cri_client.endpoint import channel_options, resolve_endpoints
from cri_client.types import Endpoint

ClientSettings = tuple[Endpoint, Endpoint, list[tuple[str, Any]], DeadlinePolicy]


def client_settings(
    endpoint: str | None,
    image_endpoint: str | None,
    timeout: float,
    max_message_size: int,
    allow_tcp: bool,
) -> ClientSettings:
    """Validated settings for an invoker: (runtime, image, channel options, deadlines)."""
    policy = DeadlinePolicy(timeout)
    options = channel_options(max_message_size)
    runtime, image = resolve_endpoints(endpoint, image_endpoint, allow_tcp=allow_tcp)
    return runtime, image, options, policy


class BaseClient:
    """Properties every client has, whatever its transport."""

    _invoker: Channels

    @property
    def endpoint(self) -> Endpoint:
        """The runtime socket in use and where its name came from."""
        return self._invoker.runtime_endpoint

    @property
    def image_endpoint(self) -> Endpoint:
        """The image service socket in use (usually the runtime's)."""
        return self._invoker.image_endpoint

    @property
    def timeout(self) -> float:
        """The default deadline of a call, in seconds."""
        return self._invoker.policy.default

    @property
    def runtime_stub(self) -> Any:
        """The raw generated ``RuntimeServiceStub`` on this client's channel, for what
        the library does not wrap. It raises ``grpc.RpcError``, not CRIError."""
        return _grpc_module().RuntimeServiceStub(self._invoker.runtime_channel)

    @property
    def image_stub(self) -> Any:
        """The raw generated ``ImageServiceStub`` on this client's image channel."""
        return _grpc_module().ImageServiceStub(self._invoker.image_channel)

    def __repr__(self) -> str:
        state = " closed" if self._invoker.closed else ""
        return f"<{type(self).__name__} {self.endpoint.url}{state}>"


def _grpc_module() -> ModuleType:
    """The generated gRPC module, imported on first use: most programs never need it."""
    from cri_client._proto import api_pb2_grpc

    return api_pb2_grpc


# The generated low-level APIs are public as cri_client.LowLevelAPI and
# cri_client.aio.AsyncLowLevelAPI; every client imports this module.
publish(LowLevelAPI, AsyncLowLevelAPI)
