"""A fake CRI server on a unix socket, for fault injection and for replaying the exact
answers of a runtime CI cannot start (CRI-O).

It answers the RPCs a test gives it handlers for and UNIMPLEMENTED otherwise; it is
never a stand-in for containerd's behaviour, which the integration tests check.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent import futures
from typing import Any

import grpc

from cri_client._api import ALL_RPCS

Handler = Callable[[Any, grpc.ServicerContext], Any]


class FakeRuntime:
    """``FakeRuntime(path, {"Version": fn})``; ``calls`` records every RPC name received."""

    def __init__(self, socket_path: str, handlers: dict[str, Handler]) -> None:
        self.socket_path = socket_path
        self.endpoint = f"unix://{socket_path}"
        self.calls: list[str] = []
        self._lock = threading.Lock()
        self._server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="fake-runtime")
        )
        services: dict[str, dict[str, grpc.RpcMethodHandler]] = {}
        for rpc in ALL_RPCS:
            fn = handlers.get(rpc.name)
            if fn is None:
                continue
            make = (
                grpc.unary_stream_rpc_method_handler
                if rpc.server_streaming
                else grpc.unary_unary_rpc_method_handler
            )
            services.setdefault(f"runtime.v1.{rpc.service}", {})[rpc.name] = make(
                self._recording(rpc.name, fn),
                request_deserializer=rpc.request_type.FromString,
                response_serializer=rpc.response_type.SerializeToString,
            )
        for service, methods in services.items():
            self._server.add_generic_rpc_handlers(
                (grpc.method_handlers_generic_handler(service, methods),)
            )
        self._server.add_insecure_port(self.endpoint)

    def _recording(self, name: str, fn: Handler) -> Handler:
        def handler(request: Any, context: grpc.ServicerContext) -> Any:
            with self._lock:
                self.calls.append(name)
            return fn(request, context)

        return handler

    def add_raw_method(self, service: str, name: str, fn: Callable[[bytes], bytes]) -> None:
        """Serve a method with raw bytes (e.g. the old runtime.v1alpha2 Version)."""
        handler = grpc.unary_unary_rpc_method_handler(lambda req, ctx: fn(req))
        self._server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler(service, {name: handler}),)
        )

    def __enter__(self) -> FakeRuntime:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop(grace=None)


def stream_of(*replies: Any) -> Callable[[Any, grpc.ServicerContext], Iterator[Any]]:
    """A server-streaming handler that yields the given replies."""

    def handler(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        yield from replies

    return handler


def abort_with(code: grpc.StatusCode, details: str) -> Handler:
    """A handler that fails with the given status."""

    def handler(request: Any, context: grpc.ServicerContext) -> Any:
        context.abort(code, details)

    return handler
