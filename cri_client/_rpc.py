"""How one RPC is made: the request, the deadline, the call and its errors.

Everything here but the two invokers (:class:`SyncInvoker` on grpcio's sync
channels, :class:`AsyncInvoker` on ``grpc.aio``) is transport-independent, so the
sync and the asyncio clients build requests, choose deadlines, log and map errors
with the same code and cannot drift apart.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import math
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import grpc
from google.protobuf.message import Message

from cri_client._core.defaults import DEFAULT_TIMEOUT
from cri_client._core.public import publish
from cri_client._proto import api_pb2 as pb
from cri_client.endpoint import diagnose_socket
from cri_client.errors import (
    CancelledError,
    ClientClosedError,
    CRIError,
    DeadlineExceededError,
    EndpointError,
    ResourceExhaustedError,
    UnavailableError,
    error_from_rpc,
)
from cri_client.types import Endpoint

RPC_LOG = logging.getLogger("cri_client.rpc")

Req = TypeVar("Req", bound=Message)
Resp = TypeVar("Resp", bound=Message)


class Rpc(Generic[Req, Resp]):
    """One RPC of the CRI: its service, name and message types. Each RPC is one
    object, made once in the generated ``_api`` module, so equality is identity."""

    __slots__ = ("name", "request_type", "response_type", "server_streaming", "service")

    def __init__(
        self,
        service: str,
        name: str,
        request_type: type[Req],
        response_type: type[Resp],
        server_streaming: bool = False,
    ) -> None:
        self.service = service
        self.name = name
        self.request_type = request_type
        self.response_type = response_type
        self.server_streaming = server_streaming

    def __repr__(self) -> str:
        return f"Rpc({self.service}/{self.name})"

    @property
    def path(self) -> str:
        return f"/runtime.v1.{self.service}/{self.name}"


class AsyncInvokerProtocol(Protocol):
    """What the generated :class:`~cri_client._api.AsyncLowLevelAPI` calls."""

    async def unary(
        self,
        rpc: Rpc[Req, Resp],
        request: Req | None,
        fields: dict[str, Any],
        rpc_timeout: float | None,
    ) -> Resp: ...

    def stream(
        self,
        rpc: Rpc[Req, Resp],
        request: Req | None,
        fields: dict[str, Any],
        rpc_timeout: float | None,
    ) -> AsyncResponseStream[Resp]: ...


class Invoker(Protocol):
    """What the generated :class:`~cri_client._api.LowLevelAPI` calls."""

    def unary(
        self,
        rpc: Rpc[Req, Resp],
        request: Req | None,
        fields: dict[str, Any],
        rpc_timeout: float | None,
    ) -> Resp: ...

    def stream(
        self,
        rpc: Rpc[Req, Resp],
        request: Req | None,
        fields: dict[str, Any],
        rpc_timeout: float | None,
    ) -> ResponseStream[Resp]: ...


def build_request(rpc: Rpc[Req, Any], request: Req | None, fields: dict[str, Any]) -> Req:
    """The request message from either a message or its fields (nested dicts allowed)."""
    if request is None:
        try:
            return rpc.request_type(**fields)
        except (TypeError, ValueError) as err:
            raise type(err)(f"{rpc.name}: {err}") from None
    if fields:
        raise TypeError(f"{rpc.name}: pass a request message or keyword fields, not both")
    if not isinstance(request, rpc.request_type):
        raise TypeError(
            f"{rpc.name} takes a {rpc.request_type.__name__}, not {type(request).__name__}"
        )
    return request


def object_ref(request: Message) -> str | None:
    """What a request is about, for error messages: ``"container_id=3f2a..."``."""
    parts = []
    for field in ("container_id", "pod_sandbox_id"):
        value = getattr(request, field, "")
        if isinstance(value, str) and value:
            parts.append(f"{field}={value}")
    image = getattr(request, "image", None)
    if isinstance(image, pb.ImageSpec) and image.image:
        parts.append(f"image={image.image}")
    config = getattr(request, "config", None)
    if isinstance(config, pb.PodSandboxConfig | pb.ContainerConfig) and config.metadata.name:
        parts.append(f"name={config.metadata.name}")
    return ", ".join(parts) or None


V1ALPHA2_VERSION = "/runtime.v1alpha2.RuntimeService/Version"
V1ALPHA2_VERSION_REQUEST = pb.VersionRequest(version="v1alpha2").SerializeToString()

# gRPC's words for a peer that does not speak HTTP/2 (an HTTP/1 server, a silent one).
_NOT_GRPC_TEXTS = ("HTTP/2", "SETTINGS frame", "http1.x server")

_COMMAND_TIMEOUT_RPCS = frozenset({"StopContainer", "ExecSync", "CheckpointContainer"})
_UNBOUNDED_RPCS = frozenset({"PullImage", "GetContainerEvents"})


@dataclass(frozen=True, slots=True)
class DeadlinePolicy:
    """Per-operation deadlines, chosen the way kubelet's CRI client chooses them.

    * every RPC: ``default`` seconds;
    * RunPodSandbox: twice the default (it pulls the sandbox image and sets up the network);
    * StopContainer, ExecSync, CheckpointContainer: the request's own ``timeout`` (grace
      period, command timeout) plus the default;
    * PullImage and GetContainerEvents: none (a pull takes as long as the image is big;
      an event subscription lives as long as its reader).

    ``rpc_timeout`` on a call replaces all of this for that call; ``math.inf`` means none.
    """

    default: float = DEFAULT_TIMEOUT

    def __post_init__(self) -> None:
        check_timeout(self.default, "timeout")

    def deadline(
        self, rpc: Rpc[Any, Any], request: Message, rpc_timeout: float | None
    ) -> float | None:
        if rpc_timeout is not None:
            check_timeout(rpc_timeout, "rpc_timeout")
            return None if math.isinf(rpc_timeout) else rpc_timeout
        call_ends = _CALL_ENDS.get()
        if call_ends is not None:
            if math.isinf(call_ends):
                return None
            remaining = call_ends - time.monotonic()
            if remaining <= 0:
                raise DeadlineExceededError(
                    f"the call's rpc_timeout passed before {rpc.name} was sent", rpc=rpc.name
                )
            return remaining
        if rpc.name == "RunPodSandbox":
            return 2 * self.default
        if rpc.name in _COMMAND_TIMEOUT_RPCS:
            return self.default + max(0, int(getattr(request, "timeout", 0)))
        if rpc.name in _UNBOUNDED_RPCS:
            return None
        return self.default


_CALL_ENDS: ContextVar[float | None] = ContextVar("cri_client_call_ends", default=None)
"""When the high-level call under way must be done (``time.monotonic()``), if its
caller gave it an ``rpc_timeout``: every RPC it makes gets what is left. A context
variable, so each thread and each asyncio task has its own."""


class CancelScope:
    """The RPCs that one piece of background work (a pull watched for progress) has
    in flight on sync channels, so that the work can be cancelled as an asyncio task
    is: :meth:`cancel` cancels each gRPC call (the thread blocked in it gets
    :class:`~cri_client.errors.CancelledError`) and every call made after it. The
    thread doing the work calls :meth:`enter` first; its sync RPCs then run as
    cancellable futures."""

    def __init__(self) -> None:
        self._calls: set[grpc.Future[Any]] = set()
        self._lock = threading.Lock()
        self._cancelled = False

    def enter(self) -> None:
        """Make this scope the one of the current context (a thread's own copy)."""
        _CANCEL_SCOPE.set(self)

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            calls = list(self._calls)
        for call in calls:
            call.cancel()

    def call(self, fn: Any, message: Message, timeout: float | None) -> Any:
        """``fn(message, timeout=timeout)`` as a future this scope can cancel."""
        with self._lock:
            if self._cancelled:  # not started at all: the runtime never sees it
                raise grpc.FutureCancelledError()
            future = fn.future(message, timeout=timeout)
            self._calls.add(future)
        try:
            return future.result()
        finally:
            with self._lock:
                self._calls.discard(future)


_CANCEL_SCOPE: ContextVar[CancelScope | None] = ContextVar("cri_client_cancel", default=None)

Method = TypeVar("Method", bound=Callable[..., Any])


def takes_rpc_timeout(method: Method) -> Method:
    """Give a high-level method (sync or asyncio) a deadline for the whole call: the
    method declares ``rpc_timeout: float | None = None`` and this applies it to every
    RPC made until it returns (an inner call with its own ``rpc_timeout`` can only
    shorten it). Explicit per-RPC deadlines inside the call still win."""
    if inspect.iscoroutinefunction(method):

        @functools.wraps(method)
        async def call_async(*args: Any, **kwargs: Any) -> Any:
            token = _start_call(kwargs.get("rpc_timeout"))
            try:
                return await method(*args, **kwargs)
            finally:
                if token is not None:
                    _CALL_ENDS.reset(token)

        return call_async  # type: ignore[return-value]

    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        token = _start_call(kwargs.get("rpc_timeout"))
        try:
            return method(*args, **kwargs)
        finally:
            if token is not None:
                _CALL_ENDS.reset(token)

    return call  # type: ignore[return-value]


def _start_call(rpc_timeout: float | None) -> Token[float | None] | None:
    if rpc_timeout is None:
        return None
    check_timeout(rpc_timeout, "rpc_timeout")
    ends = time.monotonic() + rpc_timeout
    current = _CALL_ENDS.get()
    return _CALL_ENDS.set(ends if current is None else min(current, ends))


def check_timeout(value: float, name: str) -> None:
    """Timeouts are positive numbers of seconds; anything else is a caller's bug."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number of seconds, not {value!r}")
    if math.isnan(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")


def error_for_call(
    err: grpc.RpcError, rpc: Rpc[Any, Any], request: Message, endpoint: Endpoint
) -> CRIError:
    """The :class:`CRIError` for a failed call; an unreachable runtime is explained by
    looking at its socket, so the message says what is wrong and what to do."""
    error = error_from_rpc(err, rpc.name, object_ref(request))
    if isinstance(error, ResourceExhaustedError) and "larger than max" in error.details:
        return ResourceExhaustedError(
            f"{error.details}: the reply passed max_message_size; create the client with "
            "CRIClient(max_message_size=<bytes>) (default 16 MiB), or filter the request",
            rpc=rpc.name,
            object_id=error.object_id,
        )
    if not isinstance(error, UnavailableError):
        return error
    problem = diagnose_socket(endpoint.path) if endpoint.scheme == "unix" else None
    if problem is not None:
        return EndpointError(
            f"{problem} (endpoint from {endpoint.source}; gRPC said: {error.details})",
            rpc=rpc.name,
            object_id=error.object_id,
        )
    hint = ""
    if any(text in error.details for text in _NOT_GRPC_TEXTS):
        hint = "; something answers on this socket, but not a gRPC server: is it a CRI runtime's?"
    return UnavailableError(
        f"{error.details} (runtime at {endpoint.url}, from {endpoint.source}){hint}",
        rpc=rpc.name,
        object_id=error.object_id,
    )


def log_call(
    rpc: Rpc[Any, Any], request: Message, started: float, error: CRIError | None = None
) -> None:
    """One DEBUG record per RPC on the ``cri_client.rpc`` logger: the RPC, what it was
    about and how long it took (a stream: when it started). Never the request body,
    so credentials and other ``debug_redact`` fields cannot reach a log."""
    if not RPC_LOG.isEnabledFor(logging.DEBUG):
        return
    about = object_ref(request) or ""
    elapsed_ms = (time.perf_counter() - started) * 1000
    outcome = "ok" if error is None else (error.code.name if error.code else type(error).__name__)
    RPC_LOG.debug("%s(%s) %s %.1f ms", rpc.name, about, outcome, elapsed_ms)


class ResponseStream(Iterator[Resp]):
    """A server-streaming call as an iterator; errors arrive as :class:`CRIError`.

    ``close()`` (or leaving a ``with`` block) cancels the call at once.
    """

    def __init__(self, call: Any, map_error: Callable[[grpc.RpcError], CRIError]) -> None:
        self._call = call
        self._map_error = map_error

    def __iter__(self) -> ResponseStream[Resp]:
        return self

    def __next__(self) -> Resp:
        try:
            return next(self._call)  # type: ignore[no-any-return]
        except grpc.RpcError as err:
            if err.code() == grpc.StatusCode.CANCELLED and not self._call.is_active():
                raise StopIteration from None
            raise self._map_error(err) from None

    def close(self) -> None:
        self._call.cancel()

    def _ended_within(self, timeout: float) -> bool:
        """Whether the call ended (completed, failed or was cancelled) within
        ``timeout`` seconds; the messages it received are still there to read. The
        event stream uses it to tell a subscription that works from one that fails
        at once (grpcio's sync calls have no read with a timeout)."""
        try:
            self._call.exception(timeout=timeout)
        except grpc.FutureTimeoutError:
            return False
        except grpc.FutureCancelledError:
            return True
        return True

    def __enter__(self) -> ResponseStream[Resp]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class Channels:
    """The channels of one client (one per endpoint; one if they are equal) and the
    per-RPC callables on them. grpcio's sync and asyncio channels share this shape,
    so both invokers keep their channels here."""

    def __init__(
        self,
        runtime: Endpoint,
        image: Endpoint,
        options: list[tuple[str, Any]],
        policy: DeadlinePolicy,
        open_channel: Callable[..., Any],
    ) -> None:
        self.runtime_endpoint = runtime
        self.image_endpoint = image
        self.policy = policy
        self.runtime_channel = open_channel(runtime.url, options=options)
        self.image_channel = (
            self.runtime_channel
            if image.path == runtime.path
            else open_channel(image.url, options=options)
        )
        self._callables: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.closed = False

    def endpoint(self, rpc: Rpc[Any, Any]) -> Endpoint:
        return self.image_endpoint if rpc.service == "ImageService" else self.runtime_endpoint

    def callable(self, rpc: Rpc[Any, Any]) -> Any:
        """The multi-callable for ``rpc``, made once; ClientClosedError after close."""
        if self.closed:
            raise ClientClosedError("the client is closed; create a new client", rpc=rpc.name)
        fn = self._callables.get(rpc.name)
        if fn is None:
            channel = self.image_channel if rpc.service == "ImageService" else self.runtime_channel
            factory = channel.unary_stream if rpc.server_streaming else channel.unary_unary
            fn = factory(
                rpc.path,
                request_serializer=rpc.request_type.SerializeToString,
                response_deserializer=rpc.response_type.FromString,
            )
            with self._lock:
                self._callables[rpc.name] = fn
        return fn

    def containerd_callable(
        self, path: str, response_type: type[Message], *, server_streaming: bool = False
    ) -> Any:
        """A raw multi-callable for one of containerd's own services (``path`` such as
        ``/containerd.services.content.v1.Content/ListStatuses``) on the image channel:
        pull progress reads the content store there. Not a CRI RPC: the caller passes
        the namespace metadata and the deadline, and handles ``grpc.RpcError`` (which
        includes a runtime without the service)."""
        if self.closed:
            raise ClientClosedError("the client is closed; create a new client", rpc=path)
        fn = self._callables.get(path)
        if fn is None:
            factory = (
                self.image_channel.unary_stream
                if server_streaming
                else self.image_channel.unary_unary
            )
            fn = factory(
                path,
                request_serializer=lambda message: message.SerializeToString(),
                response_deserializer=response_type.FromString,
            )
            with self._lock:
                self._callables[path] = fn
        return fn

    def prepare(
        self,
        rpc: Rpc[Req, Any],
        request: Req | None,
        fields: dict[str, Any],
        rpc_timeout: float | None,
    ) -> tuple[Req, float | None, Any]:
        """(request message, deadline, multi-callable): everything before the call."""
        message = build_request(rpc, request, fields)
        return message, self.policy.deadline(rpc, message, rpc_timeout), self.callable(rpc)

    def failure(
        self, err: grpc.RpcError, rpc: Rpc[Any, Any], message: Message, started: float
    ) -> CRIError:
        """The CRIError for a failed unary call, logged."""
        error = error_for_call(err, rpc, message, self.endpoint(rpc))
        log_call(rpc, message, started, error)
        return error

    def error_mapper(
        self, rpc: Rpc[Any, Any], message: Message
    ) -> Callable[[grpc.RpcError], CRIError]:
        """How a stream of ``rpc`` turns its errors into CRIError."""
        endpoint = self.endpoint(rpc)
        return lambda err: error_for_call(err, rpc, message, endpoint)

    def v1alpha2_probe(self) -> Any:
        """A raw Version call on the old ``runtime.v1alpha2`` service: its request has
        the same wire format as v1's, so the v1 request bytes serve."""
        return self.runtime_channel.unary_unary(
            V1ALPHA2_VERSION, request_serializer=None, response_deserializer=None
        )

    def channels(self) -> list[Any]:
        """Every channel, once."""
        if self.image_channel is self.runtime_channel:
            return [self.runtime_channel]
        return [self.runtime_channel, self.image_channel]


class SyncInvoker(Channels):
    """Makes RPCs on grpcio's sync channels."""

    def __init__(
        self,
        runtime: Endpoint,
        image: Endpoint,
        options: list[tuple[str, Any]],
        policy: DeadlinePolicy,
    ) -> None:
        super().__init__(runtime, image, options, policy, grpc.insecure_channel)

    def unary(
        self,
        rpc: Rpc[Req, Resp],
        request: Req | None,
        fields: dict[str, Any],
        rpc_timeout: float | None,
    ) -> Resp:
        message, timeout, fn = self.prepare(rpc, request, fields, rpc_timeout)
        started = time.perf_counter()
        scope = _CANCEL_SCOPE.get()
        try:
            if scope is None:
                reply = fn(message, timeout=timeout)
            else:
                reply = scope.call(fn, message, timeout)
        except grpc.RpcError as err:
            raise self.failure(err, rpc, message, started) from None
        except grpc.FutureCancelledError:
            error = CancelledError(
                "cancelled by the caller",
                rpc=rpc.name,
                object_id=object_ref(message),
                code=grpc.StatusCode.CANCELLED,
            )
            log_call(rpc, message, started, error)
            raise error from None
        log_call(rpc, message, started)
        return reply  # type: ignore[no-any-return]

    def stream(
        self,
        rpc: Rpc[Req, Resp],
        request: Req | None,
        fields: dict[str, Any],
        rpc_timeout: float | None,
    ) -> ResponseStream[Resp]:
        message, timeout, fn = self.prepare(rpc, request, fields, rpc_timeout)
        call = fn(message, timeout=timeout)
        log_call(rpc, message, time.perf_counter())
        return ResponseStream(call, self.error_mapper(rpc, message))

    def serves_v1alpha2(self) -> bool:
        """Whether the runtime answers the old ``runtime.v1alpha2`` Version RPC."""
        try:
            self.v1alpha2_probe()(V1ALPHA2_VERSION_REQUEST, timeout=self.policy.default)
        except grpc.RpcError:
            return False
        return True

    def close(self) -> None:
        self.closed = True
        for channel in self.channels():
            channel.close()


class AsyncInvoker(Channels):
    """Makes RPCs on ``grpc.aio`` channels: the same requests, deadlines and errors
    as :class:`SyncInvoker`, awaited. Create it inside the event loop that uses it."""

    def __init__(
        self,
        runtime: Endpoint,
        image: Endpoint,
        options: list[tuple[str, Any]],
        policy: DeadlinePolicy,
    ) -> None:
        from grpc import aio

        super().__init__(runtime, image, options, policy, aio.insecure_channel)

    async def unary(
        self,
        rpc: Rpc[Req, Resp],
        request: Req | None,
        fields: dict[str, Any],
        rpc_timeout: float | None,
    ) -> Resp:
        message, timeout, fn = self.prepare(rpc, request, fields, rpc_timeout)
        started = time.perf_counter()
        try:
            reply = await fn(message, timeout=timeout)
        except grpc.RpcError as err:
            raise self.failure(err, rpc, message, started) from None
        log_call(rpc, message, started)
        return reply  # type: ignore[no-any-return]

    def stream(
        self,
        rpc: Rpc[Req, Resp],
        request: Req | None,
        fields: dict[str, Any],
        rpc_timeout: float | None,
    ) -> AsyncResponseStream[Resp]:
        message, timeout, fn = self.prepare(rpc, request, fields, rpc_timeout)
        call = fn(message, timeout=timeout)
        log_call(rpc, message, time.perf_counter())
        return AsyncResponseStream(call, self.error_mapper(rpc, message))

    async def serves_v1alpha2(self) -> bool:
        """Whether the runtime answers the old ``runtime.v1alpha2`` Version RPC."""
        try:
            await self.v1alpha2_probe()(V1ALPHA2_VERSION_REQUEST, timeout=self.policy.default)
        except grpc.RpcError:
            return False
        return True

    async def close(self) -> None:
        self.closed = True
        for channel in self.channels():
            await channel.close()


class AsyncResponseStream(AsyncIterator[Resp]):
    """A server-streaming call as an async iterator; errors arrive as :class:`CRIError`.

    ``close()`` (or leaving an ``async with`` block) cancels the call at once.
    """

    def __init__(self, call: Any, map_error: Callable[[grpc.RpcError], CRIError]) -> None:
        self._call = call
        self._map_error = map_error
        self._replies = call.__aiter__()
        self._closed = False

    def __aiter__(self) -> AsyncResponseStream[Resp]:
        return self

    async def __anext__(self) -> Resp:
        # grpc.aio cancels the call when the task reading it is cancelled, so a
        # cancelled call alone does not mean close() was called: only our own flag
        # turns a cancellation into the end of the stream. A cancelled task (a timeout
        # around the read, task.cancel()) stays cancelled.
        try:
            return await self._replies.__anext__()  # type: ignore[no-any-return]
        except grpc.RpcError as err:
            if err.code() == grpc.StatusCode.CANCELLED and self._closed:
                raise StopAsyncIteration from None
            raise self._map_error(err) from None
        except asyncio.CancelledError:
            if self._closed:
                raise StopAsyncIteration from None
            raise

    async def close(self) -> None:
        """Cancel the call; a read pending in another task ends (StopAsyncIteration).
        Awaited like every asyncio ``close()``, though it returns at once."""
        self._cancel()

    def _cancel(self) -> None:
        self._closed = True
        self._call.cancel()

    async def __aenter__(self) -> AsyncResponseStream[Resp]:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._cancel()


publish(ResponseStream, AsyncResponseStream)
