"""AsyncCRIClient: the same requests, deadlines and errors as the sync client."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import grpc
import pytest

from cri_client import CRIClient
from cri_client._proto import api_pb2 as pb
from cri_client.aio import AsyncCRIClient
from cri_client.errors import (
    ClientClosedError,
    DeadlineExceededError,
    EndpointError,
    NotFoundError,
    UnsupportedAPIVersionError,
)

from .fake_runtime import FakeRuntime, abort_with


def version_reply(request: pb.VersionRequest, context: Any) -> pb.VersionResponse:
    return pb.VersionResponse(runtime_name="fake", runtime_version="1." + request.version)


def test_calls_errors_and_streams(sock: str) -> None:
    def events(request: Any, context: Any) -> Any:
        yield pb.ContainerEventResponse(container_id="a")
        yield pb.ContainerEventResponse(container_id="b")

    handlers = {
        "Version": version_reply,
        "ContainerStatus": abort_with(grpc.StatusCode.NOT_FOUND, "no such container"),
        "GetContainerEvents": events,
    }

    async def scenario(endpoint: str) -> None:
        async with AsyncCRIClient(endpoint) as cri:
            assert (await cri.version()).runtime_version == "1.v1"
            assert (await cri.api.version(version="x")).runtime_version == "1.x"
            with pytest.raises(NotFoundError) as info:
                await cri.api.container_status(container_id="c1")
            assert str(info.value) == (
                "ContainerStatus(container_id=c1): NOT_FOUND: no such container"
            )
            async with cri.api.get_container_events() as stream:
                assert [e.container_id async for e in stream] == ["a", "b"]
            with pytest.raises(TypeError, match="not both"):
                await cri.api.version(pb.VersionRequest(), version="z")
            assert "AsyncCRIClient unix://" in repr(cri)
        with pytest.raises(ClientClosedError):
            await cri.api.version()

    with FakeRuntime(sock, handlers) as fake:
        asyncio.run(scenario(fake.endpoint))


def test_deadlines_and_cancel(sock: str) -> None:
    release = threading.Event()

    def stall(request: Any, context: Any) -> pb.VersionResponse:
        release.wait(10)
        return pb.VersionResponse()

    def endless(request: Any, context: Any) -> Any:
        yield pb.ContainerEventResponse(container_id="first")
        release.wait(10)

    async def scenario(endpoint: str) -> None:
        async with AsyncCRIClient(endpoint, timeout=0.3) as cri:
            with pytest.raises(DeadlineExceededError, match="Version"):
                await cri.api.version()
            stream = cri.api.get_container_events()
            assert (await stream.__anext__()).container_id == "first"

            async def close_soon() -> None:
                await asyncio.sleep(0.2)
                await stream.close()

            closing = asyncio.create_task(close_soon())
            assert [e async for e in stream] == []  # close() ends a pending read
            await closing

            # Cancelling the reader is not closing: it stays a cancellation (grpc.aio
            # cancels the call with the task, which must not look like our close()).
            other = cri.api.get_container_events()
            assert (await other.__anext__()).container_id == "first"
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(other.__anext__(), 0.2)

            async def read_all() -> list[Any]:
                return [e async for e in cri.api.get_container_events()]

            reader = asyncio.ensure_future(read_all())
            await asyncio.sleep(0.2)
            reader.cancel()
            with pytest.raises(asyncio.CancelledError):
                await reader
            assert reader.cancelled()

    try:
        with FakeRuntime(sock, {"Version": stall, "GetContainerEvents": endless}) as fake:
            asyncio.run(scenario(fake.endpoint))
    finally:
        release.set()


def test_v1alpha2_only_runtime_and_missing_socket(sock: str, tmp_path: Any) -> None:
    fake = FakeRuntime(sock, {})
    fake.add_raw_method(
        "runtime.v1alpha2.RuntimeService",
        "Version",
        lambda raw: pb.VersionResponse().SerializeToString(),
    )

    async def old_runtime(endpoint: str) -> None:
        async with AsyncCRIClient(endpoint) as cri:
            with pytest.raises(UnsupportedAPIVersionError, match=r"runtime\.v1"):
                await cri.version()

    async def no_socket() -> None:
        async with AsyncCRIClient(str(tmp_path / "gone.sock")) as cri:
            with pytest.raises(EndpointError, match="does not exist"):
                await cri.status()

    with fake:
        asyncio.run(old_runtime(fake.endpoint))
    asyncio.run(no_socket())


def test_sync_and_async_low_level_apis_have_the_same_methods() -> None:
    from cri_client._api import AsyncLowLevelAPI, LowLevelAPI

    sync_names = {n for n in dir(LowLevelAPI) if not n.startswith("_")}
    async_names = {n for n in dir(AsyncLowLevelAPI) if not n.startswith("_")}
    assert sync_names == async_names and len(sync_names) == 41
    async_client = {n for n in dir(AsyncCRIClient) if not n.startswith("_")}
    assert async_client <= {n for n in dir(CRIClient) if not n.startswith("_")} | {"api"}
    assert {"version", "status", "close", "endpoint", "image_endpoint", "timeout"} <= async_client
