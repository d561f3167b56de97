"""AsyncEventStream and the asyncio wait_for, with a fake server for the faults."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import grpc
import pytest

from cri_client._async.events import wait_for
from cri_client.aio import AsyncCRIClient, AsyncEventStream
from cri_client.errors import UnavailableError, UnimplementedError, WaitTimeoutError

from .fake_runtime import FakeRuntime, abort_with
from .test_events_stats import check_first_event, event


def until_cancelled(context: grpc.ServicerContext) -> None:
    """Keep a server stream open until the client goes away."""
    while context.is_active():
        time.sleep(0.02)


def other_tasks() -> set[asyncio.Task[Any]]:
    """The tasks besides this one, except grpc.aio's own status handler of a cancelled
    call, which ends when the status comes back from gRPC's core, a moment later."""
    return {
        task
        for task in asyncio.all_tasks()
        if task is not asyncio.current_task()
        and not task.get_coro().__qualname__.startswith("_AioCall.")  # type: ignore[union-attr]
    }


def test_typed_events_and_resubscription_after_the_stream_ends_or_breaks(sock: str) -> None:
    subscriptions: list[int] = []

    def events(request: Any, context: grpc.ServicerContext) -> Any:
        subscriptions.append(1)
        n = len(subscriptions)
        yield event(f"c{n}")
        if n == 1:
            return  # the runtime ends the stream
        if n == 2:
            context.abort(grpc.StatusCode.UNAVAILABLE, "restarting")
        until_cancelled(context)

    async def scenario(fake: FakeRuntime) -> None:
        async with AsyncCRIClient(fake.endpoint) as cri:
            stream = AsyncEventStream(cri)
            assert fake.calls == []  # creating the stream does no I/O
            got = [await stream.__anext__() for _ in range(3)]
            assert [e.container_id for e in got] == ["c1", "c2", "c3"]
            assert stream.reconnections == 2
            check_first_event(got[0])

            async def close_soon() -> None:
                await asyncio.sleep(0.3)
                await stream.close()

            closer = asyncio.create_task(close_soon())
            started = time.monotonic()
            assert [e async for e in stream] == []  # close() from another task ends it
            assert time.monotonic() - started < 2
            await closer
            assert other_tasks() == set()
            assert [e async for e in stream] == []  # closed for good
            assert fake.calls == ["GetContainerEvents"] * 3

    with FakeRuntime(sock, {"GetContainerEvents": events}) as fake:
        asyncio.run(scenario(fake))


def test_a_timeout_around_anext_loses_no_event_and_keeps_the_subscription(sock: str) -> None:
    second = threading.Event()

    def events(request: Any, context: grpc.ServicerContext) -> Any:
        yield event("c1")
        second.wait(10)
        yield event("c2")
        until_cancelled(context)

    async def scenario(fake: FakeRuntime) -> None:
        async with AsyncCRIClient(fake.endpoint) as cri, AsyncEventStream(cri) as stream:
            assert (await stream.__anext__()).container_id == "c1"
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(stream.__anext__(), 0.2)
            second.set()
            assert (await asyncio.wait_for(stream.__anext__(), 5)).container_id == "c2"
            assert stream.reconnections == 0 and fake.calls == ["GetContainerEvents"]

            reader = asyncio.create_task(stream.__anext__())
            await asyncio.sleep(0.1)
            with pytest.raises(RuntimeError, match="another task is already reading"):
                await stream.__anext__()  # two readers would both get the next event
            reader.cancel()  # cancelling a reading task cancels it (not an end of stream)
            with pytest.raises(asyncio.CancelledError):
                await reader
            assert stream.reconnections == 0
        assert other_tasks() == set()

    with FakeRuntime(sock, {"GetContainerEvents": events}) as fake:
        asyncio.run(scenario(fake))


def test_unimplemented_on_the_first_anext_and_no_resubscribe(sock: str) -> None:
    unimplemented = abort_with(
        grpc.StatusCode.UNIMPLEMENTED, "method GetContainerEvents not implemented"
    )

    async def first_event_fails(endpoint: str) -> None:
        async with AsyncCRIClient(endpoint) as cri:
            stream = AsyncEventStream(cri)
            with pytest.raises(UnimplementedError, match="GetContainerEvents"):
                await stream.__anext__()
            assert [e async for e in stream] == []  # it ended, like a generator that raised

    with FakeRuntime(sock, {"GetContainerEvents": unimplemented}) as fake:
        asyncio.run(first_event_fails(fake.endpoint))
        assert fake.calls == ["GetContainerEvents"]

    def ends(request: Any, context: grpc.ServicerContext) -> Any:
        yield event("c1")

    async def no_resubscribe(endpoint: str) -> None:
        async with AsyncCRIClient(endpoint) as cri:
            stream = AsyncEventStream(cri, resubscribe=False)
            assert [e.container_id async for e in stream] == ["c1"]
            assert stream.reconnections == 0

    with FakeRuntime(sock, {"GetContainerEvents": ends}) as fake:
        asyncio.run(no_resubscribe(fake.endpoint))
        assert fake.calls == ["GetContainerEvents"]

    def breaks(request: Any, context: grpc.ServicerContext) -> Any:
        yield event("c1")
        context.abort(grpc.StatusCode.UNAVAILABLE, "restarting")

    async def no_resubscribe_after_a_break(endpoint: str) -> None:
        async with AsyncCRIClient(endpoint) as cri:
            seen = []
            with pytest.raises(UnavailableError, match="restarting"):
                async for e in AsyncEventStream(cri, resubscribe=False):
                    seen.append(e.container_id)
            assert seen == ["c1"]

    with FakeRuntime(sock, {"GetContainerEvents": breaks}) as fake:
        asyncio.run(no_resubscribe_after_a_break(fake.endpoint))
        assert fake.calls == ["GetContainerEvents"]


def test_wait_for_is_woken_by_a_relevant_event(sock: str) -> None:
    state = {"done": False}
    checks: list[float] = []

    def events(request: Any, context: grpc.ServicerContext) -> Any:
        time.sleep(0.1)
        yield event("other")  # not relevant: does not wake the wait
        time.sleep(0.2)
        state["done"] = True
        yield event("c1")
        until_cancelled(context)

    async def reached() -> bool:
        checks.append(time.monotonic())
        return state["done"]

    async def scenario(endpoint: str) -> None:
        async with AsyncCRIClient(endpoint) as cri:
            started = time.monotonic()
            await wait_for(cri, "c1 did not exit", reached, lambda e: e.container_id == "c1", 10)
            assert len(checks) == 2  # once at the start, once when the event came
            assert 0.25 < checks[1] - started < 0.9  # well before the 1 s safety check
            assert other_tasks() == set()
            assert cri._events_unimplemented is False

    with FakeRuntime(sock, {"GetContainerEvents": events}) as fake:
        asyncio.run(scenario(fake.endpoint))


def test_wait_for_times_out_or_is_cancelled_and_leaves_no_task(sock: str) -> None:
    streams: list[grpc.ServicerContext] = []

    def events(request: Any, context: grpc.ServicerContext) -> Any:
        streams.append(context)
        until_cancelled(context)
        yield from ()

    async def never() -> bool:
        return False

    async def scenario(endpoint: str) -> None:
        async with AsyncCRIClient(endpoint) as cri:
            started = time.monotonic()
            with pytest.raises(WaitTimeoutError) as info:
                await wait_for(cri, "c1 did not become exited", never, lambda e: True, 0.5)
            assert str(info.value) == "c1 did not become exited within 0.5 s"
            assert isinstance(info.value, TimeoutError)
            assert 0.5 <= time.monotonic() - started < 2
            assert other_tasks() == set()

            waiting = asyncio.create_task(wait_for(cri, "c1", never, lambda e: True, None))
            await asyncio.sleep(0.3)
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            assert other_tasks() == set()
            await asyncio.sleep(0.2)
            assert len(streams) == 2 and not any(c.is_active() for c in streams)

    with FakeRuntime(sock, {"GetContainerEvents": events}) as fake:
        asyncio.run(scenario(fake.endpoint))


def test_wait_for_polls_where_the_runtime_has_no_events(sock: str) -> None:
    unimplemented = abort_with(
        grpc.StatusCode.UNIMPLEMENTED, "method GetContainerEvents not implemented"
    )
    checks: list[float] = []

    async def fourth_check() -> bool:
        checks.append(time.monotonic())
        return len(checks) % 4 == 0

    async def scenario(fake: FakeRuntime) -> None:
        async with AsyncCRIClient(fake.endpoint) as cri:
            started = time.monotonic()
            await wait_for(cri, "c1", fourth_check, lambda e: True, 10)
            # The failure wakes a check, then 0.2 s polls, not 1 s safety checks.
            assert 0.3 < time.monotonic() - started < 1.2
            assert cri._events_unimplemented is True
            assert fake.calls == ["GetContainerEvents"]
            await wait_for(cri, "c1", fourth_check, lambda e: True, 10)
            assert fake.calls == ["GetContainerEvents"]  # remembered: polls at once
            assert other_tasks() == set()

    with FakeRuntime(sock, {"GetContainerEvents": unimplemented}) as fake:
        asyncio.run(scenario(fake))
