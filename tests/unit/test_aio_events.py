"""AsyncEventStream and the asyncio wait_for, with a fake server for the faults."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import grpc
import pytest

from cri_client import ContainerEvent, Resubscribed
from cri_client._async.events import wait_for
from cri_client._core import events as core_events
from cri_client.aio import AsyncCRIClient, AsyncEventStream
from cri_client.errors import (
    CRIError,
    EndpointError,
    EventsDisabledError,
    NotFoundError,
    UnavailableError,
    UnimplementedError,
    WaitTimeoutError,
)

from .fake_runtime import FakeRuntime, abort_with, stream_of
from .test_events_stats import MINUTES_AGO, check_first_event, event, names


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
            got = [await asyncio.wait_for(stream.__anext__(), 20) for _ in range(5)]
            # After each resubscription a marker, before the new subscription's events.
            assert names(got) == ["c1", "resubscribed", "c2", "resubscribed", "c3"]
            assert stream.reconnections == 2
            check_first_event(got[0])
            ended, broke = got[1], got[3]
            assert isinstance(ended, Resubscribed) and isinstance(broke, Resubscribed)
            assert ended.reason == "the runtime ended the stream"
            assert "UNAVAILABLE: restarting" in broke.reason

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
            assert names([await stream.__anext__()]) == ["c1"]
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(stream.__anext__(), 0.2)
            second.set()
            assert names([await asyncio.wait_for(stream.__anext__(), 5)]) == ["c2"]
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
            assert names([e async for e in stream]) == ["c1"]
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
                    seen.append(e)
            assert names(seen) == ["c1"]

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


async def take(stream: AsyncEventStream, count: int) -> list[ContainerEvent | Resubscribed]:
    """``count`` items; a stream that never yields fails the test instead of hanging it."""
    return [await asyncio.wait_for(stream.__anext__(), 20) for _ in range(count)]


def test_one_marker_once_a_resubscription_works_after_failed_attempts(
    sock: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(core_events, "RESUBSCRIBED_SETTLE", 1.0)  # a slow abort is no success
    subscriptions = []
    quiet = threading.Event()

    def events(request: Any, context: grpc.ServicerContext) -> Any:
        subscriptions.append(1)
        n = len(subscriptions)
        if n == 1:
            yield event("before")
            context.abort(grpc.StatusCode.UNAVAILABLE, "connection refused")
        if n < 4:
            context.abort(grpc.StatusCode.UNAVAILABLE, "connection refused")
        quiet.wait(10)  # open and quiet until the marker is seen
        yield event("after")
        until_cancelled(context)

    async def scenario(endpoint: str) -> None:
        async with AsyncCRIClient(endpoint) as cri, cri.events() as stream:
            got = await take(stream, 2)
            assert names(got) == ["before", "resubscribed"]
            quiet.set()
            got += await take(stream, 1)
            assert names(got) == ["before", "resubscribed", "after"]
            assert len(subscriptions) == 4 and stream.reconnections == 3

    with FakeRuntime(sock, {"GetContainerEvents": events}) as fake:
        asyncio.run(scenario(fake.endpoint))


def test_a_timeout_while_a_resubscription_settles_keeps_the_marker(
    sock: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancellation-safety holds while a new subscription is being proven: a timeout
    around ``__anext__`` then loses neither the marker nor the event."""
    monkeypatch.setattr(core_events, "RESUBSCRIBED_SETTLE", 2.0)  # > the three timeouts
    subscriptions = []

    def events(request: Any, context: grpc.ServicerContext) -> Any:
        subscriptions.append(1)
        if len(subscriptions) == 1:
            context.abort(grpc.StatusCode.UNAVAILABLE, "restarting")
        until_cancelled(context)
        yield from ()

    async def scenario(endpoint: str) -> None:
        async with AsyncCRIClient(endpoint) as cri, cri.events() as stream:
            for _ in range(3):  # the first fails at once; then inside the settle time
                with pytest.raises(asyncio.TimeoutError):
                    await asyncio.wait_for(stream.__anext__(), 0.3)
            assert names(await take(stream, 1)) == ["resubscribed"]
            assert len(subscriptions) == 2

    with FakeRuntime(sock, {"GetContainerEvents": events}) as fake:
        asyncio.run(scenario(fake.endpoint))


def test_events_switched_off_raise_instead_of_resubscribing_forever(sock: str) -> None:
    """CRI-O with enable_pod_events = false: GetContainerEvents ends at once with OK."""

    async def scenario(fake: FakeRuntime) -> None:
        async with AsyncCRIClient(fake.endpoint) as cri, cri.events() as stream:
            seen = []

            async def read_all() -> None:
                async for item in stream:
                    seen.append(item)

            with pytest.raises(EventsDisabledError) as info:
                await asyncio.wait_for(read_all(), 20)  # today's code: resubscribes forever
            assert seen == []
            assert isinstance(info.value, UnimplementedError) and info.value.code is None
            assert "enable_pod_events = true" in str(info.value)
            assert fake.calls == ["GetContainerEvents"] * 3
            assert [e async for e in stream] == []  # it ended, like a generator that raised
        assert other_tasks() == set()

    with FakeRuntime(sock, {"GetContainerEvents": stream_of()}) as fake:
        asyncio.run(scenario(fake))


def test_backlog_is_skipped_unless_asked_for_and_marked(sock: str) -> None:
    during_gap: list[int] = []

    def events(request: Any, context: grpc.ServicerContext) -> Any:
        if not during_gap:
            yield event("old1", created_at=MINUTES_AGO)
            yield event("old2", created_at=MINUTES_AGO + 1)
            yield event("live")
            during_gap.append(time.time_ns())  # created after the stream subscribed
            return
        yield event("kept", created_at=during_gap[0])
        until_cancelled(context)

    async def scenario(endpoint: str) -> None:
        async with AsyncCRIClient(endpoint) as cri:
            async with cri.events() as stream:
                got = await take(stream, 3)
                assert names(got) == ["live", "resubscribed", "kept"]
                assert not any(isinstance(e, ContainerEvent) and e.backlog for e in got)
            during_gap.clear()
            async with cri.events(include_backlog=True) as stream:
                got = await take(stream, 3)
                assert names(got) == ["old1", "old2", "live"]
                flags = [e.backlog for e in got if isinstance(e, ContainerEvent)]
                assert flags == [True, True, False]

    with FakeRuntime(sock, {"GetContainerEvents": events}) as fake:
        asyncio.run(scenario(fake.endpoint))


def test_wait_for_polls_where_events_are_switched_off(sock: str) -> None:
    checks: list[float] = []

    async def fourth_check() -> bool:
        checks.append(time.monotonic())
        return len(checks) % 4 == 0

    async def scenario(fake: FakeRuntime) -> None:
        async with AsyncCRIClient(fake.endpoint) as cri:
            await wait_for(cri, "c1", fourth_check, lambda e: True, 20)
            assert cri._events_unimplemented is True
            assert fake.calls == ["GetContainerEvents"] * 3
            await wait_for(cri, "c1", fourth_check, lambda e: True, 20)
            assert fake.calls == ["GetContainerEvents"] * 3  # remembered: polls at once
            assert other_tasks() == set()

    with FakeRuntime(sock, {"GetContainerEvents": stream_of()}) as fake:
        asyncio.run(scenario(fake))


def test_wait_for_rechecks_after_a_resubscription(
    sock: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(core_events, "WAIT_SAFETY_POLL_INTERVAL", 1000.0)
    subscriptions = []
    state = {"done": False}
    checks: list[float] = []

    def events(request: Any, context: grpc.ServicerContext) -> Any:
        subscriptions.append(1)
        if len(subscriptions) == 1:
            time.sleep(0.2)
            state["done"] = True  # ... and its event is lost with the stream
            context.abort(grpc.StatusCode.UNAVAILABLE, "restarting")
        until_cancelled(context)
        yield from ()

    async def reached() -> bool:
        checks.append(time.monotonic())
        return state["done"]

    async def scenario(endpoint: str) -> None:
        async with AsyncCRIClient(endpoint) as cri:
            # Only the marker can end it before the 1000 s safety check.
            await asyncio.wait_for(wait_for(cri, "c1", reached, lambda e: False, None), 30)
            assert len(checks) == 2 and len(subscriptions) == 2
            assert other_tasks() == set()

    with FakeRuntime(sock, {"GetContainerEvents": events}) as fake:
        asyncio.run(scenario(fake.endpoint))


def test_wait_for_waits_out_a_runtime_restart(sock: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(core_events, "WAIT_SAFETY_POLL_INTERVAL", 0.05)
    results: list[bool | CRIError] = []

    async def reached() -> bool:
        result = results.pop(0) if results else UnavailableError("connection refused")
        if isinstance(result, CRIError):
            raise result
        return result

    def quiet(request: Any, context: grpc.ServicerContext) -> Any:
        until_cancelled(context)
        yield from ()

    async def scenario(endpoint: str) -> None:
        async with AsyncCRIClient(endpoint) as cri:
            results[:] = [False, UnavailableError("restarting"), UnavailableError("down"), True]
            await wait_for(cri, "c1", reached, lambda e: False, 20)
            assert results == []

            results[:] = [False, UnavailableError("restarting")]
            with pytest.raises(WaitTimeoutError, match=r"^c1 within 0\.5 s; the last check"):
                await wait_for(cri, "c1", reached, lambda e: False, 0.5)

            for first in (EndpointError("no socket"), NotFoundError("gone")):
                results[:] = [first]
                with pytest.raises(type(first)):
                    await wait_for(cri, "c1", reached, lambda e: False, 20)
            results[:] = [False, NotFoundError("removed meanwhile")]
            with pytest.raises(NotFoundError):  # not a restart: raised
                await wait_for(cri, "c1", reached, lambda e: False, 20)
            assert other_tasks() == set()

    with FakeRuntime(sock, {"GetContainerEvents": quiet}) as fake:
        asyncio.run(scenario(fake.endpoint))
