"""EventStream resubscription and CPU arithmetic, with a fake server for the faults."""

from __future__ import annotations

import itertools
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import grpc
import pytest

from cri_client import (
    Container,
    ContainerEvent,
    ContainerEventType,
    ContainerStats,
    CRIClient,
    EventStream,
    Resubscribed,
)
from cri_client._core import events as core_events
from cri_client._core.stats import cpu_percent_between, has_zero_rate, without_zero_rate
from cri_client._proto import api_pb2 as pb
from cri_client._sync.events import wait_for
from cri_client._sync.support import sample_twice
from cri_client.errors import (
    CRIError,
    EndpointError,
    EventsDisabledError,
    NotFoundError,
    UnavailableError,
    UnimplementedError,
    UnknownError,
    WaitTimeoutError,
)
from cri_client.types import PodStats

from .fake_runtime import FakeRuntime, abort_with, stream_of


def check_first_event(first: ContainerEvent | Resubscribed) -> None:
    """The first event the fake runtime of these tests sends, fully typed."""
    assert isinstance(first, ContainerEvent)
    assert first.type is ContainerEventType.STARTED
    assert (first.pod_id, first.pod_name, first.pod_namespace, first.pod_uid) == (
        "pod1",
        "web",
        "ns",
        "u1",
    )
    assert first.container_name == "app" and not first.is_sandbox and not first.backlog
    assert first.created_at is not None and first.created_at.tzinfo is timezone.utc
    assert abs(datetime.now(timezone.utc) - first.created_at) < timedelta(minutes=1)


def event(
    container_id: str, kind: int = pb.CONTAINER_STARTED_EVENT, created_at: int | None = None
) -> pb.ContainerEventResponse:
    """An event as containerd sends it, created now (when the fake sends it) unless
    ``created_at`` (Unix nanoseconds) says otherwise."""
    return pb.ContainerEventResponse(
        container_id=container_id,
        container_event_type=kind,  # type: ignore[arg-type]
        created_at=time.time_ns() if created_at is None else created_at,
        pod_sandbox_status=pb.PodSandboxStatus(
            id="pod1", metadata=pb.PodSandboxMetadata(name="web", namespace="ns", uid="u1")
        ),
        containers_statuses=[
            pb.ContainerStatus(id=container_id, metadata=pb.ContainerMetadata(name="app"))
        ],
    )


MINUTES_AGO = time.time_ns() - 5 * 60 * 10**9
"""An event from before any subscription of these tests: containerd's backlog."""


def until_cancelled(context: grpc.ServicerContext) -> None:
    """Keep a server stream open until the client goes away."""
    while context.is_active():
        time.sleep(0.02)


def names(items: list[ContainerEvent | Resubscribed]) -> list[str]:
    """A stream's items in short: the container id of an event, ``"resubscribed"``."""
    return [i.container_id if isinstance(i, ContainerEvent) else "resubscribed" for i in items]


def take(
    stream: EventStream, count: int, within: float = 20
) -> list[ContainerEvent | Resubscribed]:
    """``count`` items, or fewer (the stream closed) after ``within`` seconds, so that a
    stream that never yields fails the test instead of hanging it."""
    closer = threading.Timer(within, stream.close)
    closer.start()
    try:
        return list(itertools.islice(stream, count))
    finally:
        closer.cancel()


def test_event_stream_resubscribes_after_the_stream_ends_or_breaks(sock: str) -> None:
    subscriptions = []

    def events(request: Any, context: grpc.ServicerContext) -> Any:
        subscriptions.append(1)
        n = len(subscriptions)
        yield event(f"c{n}")
        if n == 1:
            return  # the runtime ends the stream
        if n == 2:
            context.abort(grpc.StatusCode.UNAVAILABLE, "restarting")
        until_cancelled(context)

    with FakeRuntime(sock, {"GetContainerEvents": events}) as fake, CRIClient(fake.endpoint) as cri:
        stream = cri.events()
        got = take(stream, 5)
        # After each resubscription a marker, before the new subscription's events.
        assert names(got) == ["c1", "resubscribed", "c2", "resubscribed", "c3"]
        assert stream.reconnections == 2
        check_first_event(got[0])
        ended, broke = got[1], got[3]
        assert isinstance(ended, Resubscribed) and isinstance(broke, Resubscribed)
        assert ended.reason == "the runtime ended the stream"
        assert "UNAVAILABLE: restarting" in broke.reason
        assert ended.created_at.tzinfo is timezone.utc
        closer = threading.Timer(0.3, stream.close)
        closer.start()
        started = time.monotonic()
        assert list(stream) == []  # close() from another thread ends a blocked next()
        assert time.monotonic() - started < 5


def test_a_runtime_still_starting_is_a_break_not_an_error(sock: str) -> None:
    """containerd's CRI plugin answers every RPC with UNKNOWN "server is not initialized
    yet" for a moment after a restart (seen on 1.7 under a running watcher): the stream
    subscribes again, as for UNAVAILABLE, instead of ending with an UnknownError."""
    subscriptions = []

    def events(request: Any, context: grpc.ServicerContext) -> Any:
        subscriptions.append(1)
        n = len(subscriptions)
        if n == 2:
            context.abort(grpc.StatusCode.UNKNOWN, "server is not initialized yet")
        yield event(f"c{n}")
        if n == 1:
            context.abort(grpc.StatusCode.UNAVAILABLE, "restarting")
        until_cancelled(context)

    with FakeRuntime(sock, {"GetContainerEvents": events}) as fake, CRIClient(fake.endpoint) as cri:
        with cri.events() as stream:
            got = take(stream, 3)
        assert names(got) == ["c1", "resubscribed", "c3"]
        assert len(subscriptions) == 3


def test_one_marker_once_a_resubscription_works_after_failed_attempts(
    sock: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the runtime is down every attempt fails at once: no marker for those, one
    when a subscription works, even before any event (it stayed open)."""
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

    with FakeRuntime(sock, {"GetContainerEvents": events}) as fake, CRIClient(fake.endpoint) as cri:
        stream = cri.events()
        got = take(stream, 2)
        assert names(got) == ["before", "resubscribed"]
        quiet.set()
        got += take(stream, 1)
        assert names(got) == ["before", "resubscribed", "after"]
        assert len(subscriptions) == 4 and stream.reconnections == 3
        stream.close()


def test_events_switched_off_raise_instead_of_resubscribing_forever(sock: str) -> None:
    """CRI-O with enable_pod_events = false ends every GetContainerEvents at once with
    OK and no message: replayed by a handler that returns at once."""
    with (
        FakeRuntime(sock, {"GetContainerEvents": stream_of()}) as fake,
        CRIClient(fake.endpoint) as cri,
    ):
        stream = cri.events()
        closer = threading.Timer(20, stream.close)  # today's code: resubscribes forever
        closer.start()
        seen = []
        try:
            with pytest.raises(EventsDisabledError) as info:
                for item in stream:
                    seen.append(item)
        finally:
            closer.cancel()
        assert seen == []  # no marker for subscriptions that never worked
        assert isinstance(info.value, UnimplementedError) and info.value.code is None
        message = str(info.value)
        assert message.startswith("GetContainerEvents: the runtime ended 3 subscriptions")
        assert "enable_pod_events = true" in message and "crio.conf" in message
        assert fake.calls == ["GetContainerEvents"] * 3


def test_an_empty_stream_that_stayed_open_is_not_events_switched_off(
    sock: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A runtime that ends quiet subscriptions after a while (not at once) is resubscribed
    as before, each announced: only immediate, empty ends count."""
    monkeypatch.setattr(core_events, "EVENTS_OFF_WITHIN", 0.3)
    subscriptions = []

    def events(request: Any, context: grpc.ServicerContext) -> Any:
        subscriptions.append(1)
        if len(subscriptions) > 4:
            yield event("finally")
            until_cancelled(context)
        else:
            time.sleep(0.5)  # open longer than EVENTS_OFF_WITHIN

    with FakeRuntime(sock, {"GetContainerEvents": events}) as fake, CRIClient(fake.endpoint) as cri:
        stream = cri.events()
        assert names(take(stream, 5)) == ["resubscribed"] * 4 + ["finally"]
        assert stream.reconnections == 4
        stream.close()


def test_backlog_is_skipped_unless_asked_for_and_marked(sock: str) -> None:
    """containerd hands a new subscriber the events nobody received (created minutes
    ago); they are skipped by default, and marked ``backlog`` when asked for. Events the
    runtime kept while the stream resubscribed are news: they are delivered."""
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

    with FakeRuntime(sock, {"GetContainerEvents": events}) as fake, CRIClient(fake.endpoint) as cri:
        stream = cri.events()
        got = take(stream, 3)
        assert names(got) == ["live", "resubscribed", "kept"]
        assert not any(isinstance(e, ContainerEvent) and e.backlog for e in got)
        stream.close()

        during_gap.clear()
        stream = cri.events(include_backlog=True)
        got = take(stream, 3)
        assert names(got) == ["old1", "old2", "live"]
        assert [e.backlog for e in got if isinstance(e, ContainerEvent)] == [True, True, False]
        stream.close()


def test_event_stream_without_resubscribe_and_unimplemented(sock: str) -> None:
    unimplemented = abort_with(
        grpc.StatusCode.UNIMPLEMENTED, "method GetContainerEvents not implemented"
    )
    with (
        FakeRuntime(sock, {"GetContainerEvents": unimplemented}) as fake,
        CRIClient(fake.endpoint) as cri,
    ):
        with pytest.raises(UnimplementedError):
            next(cri.events())


def test_sync_wait_polls_where_events_are_switched_off(sock: str) -> None:
    """A wait on CRI-O with its events off learns it from the stream and polls, as on
    containerd 1.6, and the client remembers it for its next waits."""
    checks: list[float] = []

    def fourth_check() -> bool:
        checks.append(time.monotonic())
        return len(checks) % 4 == 0

    with (
        FakeRuntime(sock, {"GetContainerEvents": stream_of()}) as fake,
        CRIClient(fake.endpoint) as cri,
    ):
        wait_for(cri, "c1", fourth_check, lambda e: True, 20)
        assert cri._events_unimplemented is True
        assert fake.calls == ["GetContainerEvents"] * 3
        wait_for(cri, "c1", fourth_check, lambda e: True, 20)
        assert fake.calls == ["GetContainerEvents"] * 3  # remembered: polls at once


def test_sync_wait_rechecks_after_a_resubscription(
    sock: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The event a wait waits for can be lost while its stream resubscribes: the
    marker alone makes it check again (the safety check is pushed out of the way)."""
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

    def reached() -> bool:
        checks.append(time.monotonic())
        return state["done"]

    with FakeRuntime(sock, {"GetContainerEvents": events}) as fake, CRIClient(fake.endpoint) as cri:
        waiting = threading.Thread(
            target=wait_for, args=(cri, "c1", reached, lambda e: False, None), daemon=True
        )
        waiting.start()
        waiting.join(30)  # only the marker can end it before the 1000 s safety check
        assert not waiting.is_alive()
        assert len(checks) == 2 and len(subscriptions) == 2


def stats(
    cid: str, used_ns: int | None, at: float, nano_cores: int | None = None
) -> ContainerStats:
    message = pb.ContainerStats(attributes=pb.ContainerAttributes(id=cid))
    message.cpu.timestamp = int(at * 1e9)
    if used_ns is not None:
        message.cpu.usage_core_nano_seconds.value = used_ns
    if nano_cores is not None:
        message.cpu.usage_nano_cores.value = nano_cores
    return ContainerStats.from_message(message)


def test_cpu_percent_from_the_runtime_or_from_two_samples() -> None:
    assert stats("a", 10, 1.0, nano_cores=1_500_000_000).cpu_percent == 150.0
    before, after = stats("a", 1_000_000_000, 100.0), stats("a", 1_250_000_000, 100.5)
    assert before.cpu_percent is None
    assert cpu_percent_between(before, after) == pytest.approx(50.0)
    assert cpu_percent_between(after, before) is None  # time went backwards
    assert cpu_percent_between(stats("a", None, 1.0), after) is None
    assert after.timestamp - before.timestamp == timedelta(seconds=0.5)  # type: ignore[operator]


def test_sample_twice_takes_a_second_sample_only_when_needed() -> None:
    calls = []

    def runtime_computes() -> list[ContainerStats]:
        calls.append(1)
        return [stats("a", 5, 1.0, nano_cores=250_000_000)]

    def never_asked() -> bool:
        raise AssertionError("no rate of 0: the runtime's name is not needed")

    first = sample_twice(runtime_computes, lambda s: s.container_id, 0.01, never_asked)
    assert first[0].cpu_percent == 25.0
    assert len(calls) == 1

    samples = iter(
        [
            [stats("a", 0, 10.0), stats("b", 0, 10.0)],
            [stats("a", 2 * 10**8, 10.2), stats("b", 0, 10.2)],
        ]
    )
    result = sample_twice(lambda: next(samples), lambda s: s.container_id, 0.01, never_asked)
    assert [s.cpu_percent for s in result] == [pytest.approx(100.0), 0.0]
    with pytest.raises(ValueError, match="interval"):
        sample_twice(lambda: [stats("a", 0, 1.0)], lambda s: s.container_id, -1, never_asked)


# --- stats calls against replayed replies ----------------------------------------------------

CONTAINER_ID = "c" * 64


def cpu_sample(cid: str, at: float, used_ns: int, nano_cores: int | None) -> pb.ContainerStats:
    """A running container's ListContainerStats entry as containerd 2.1 sends it
    (``usage_nano_cores`` present, maybe 0), or as CRI-O does before it has an
    earlier sample (absent)."""
    message = pb.ContainerStats(
        attributes=pb.ContainerAttributes(id=cid, metadata=pb.ContainerMetadata(name=cid[:4]))
    )
    message.cpu.timestamp = int(at * 1e9)
    message.cpu.usage_core_nano_seconds.value = used_ns
    if nano_cores is not None:
        message.cpu.usage_nano_cores.value = nano_cores
    message.memory.timestamp = int(at * 1e9)
    message.memory.working_set_bytes.value = 1 << 20
    return message


def exited_sample(cid: str) -> pb.ContainerStats:
    """An exited container in containerd's ListContainerStats (1.6, 2.1): no CPU, no
    memory, a writable layer."""
    message = pb.ContainerStats(
        attributes=pb.ContainerAttributes(id=cid, metadata=pb.ContainerMetadata(name="done"))
    )
    message.writable_layer.fs_id.mountpoint = "/var/lib/containerd/snapshots"
    message.writable_layer.used_bytes.value = 0
    message.writable_layer.inodes_used.value = 0
    return message


def runtime_named(name: str) -> Any:
    def version(request: Any, context: Any) -> pb.VersionResponse:
        return pb.VersionResponse(runtime_name=name, runtime_version="1.0.0")

    return version


def replay(*replies: pb.ListContainerStatsResponse) -> Any:
    """ListContainerStats answering the replies in turn (the last one again after)."""
    answers = list(replies)

    def handler(request: Any, context: Any) -> pb.ListContainerStatsResponse:
        return answers.pop(0) if len(answers) > 1 else answers[0]

    return handler


def test_a_reported_rate_of_zero_is_one_sample(sock: str) -> None:
    """An idle container's 0 is 0.0 %, from one RPC, on a runtime that sends a rate
    only once it has measured one (CRI-O)."""
    reply = pb.ListContainerStatsResponse(
        stats=[cpu_sample("a" * 64, 10.0, 5_000_000, 0), cpu_sample("b" * 64, 10.0, 9, 10**9)]
    )
    handlers = {"Version": runtime_named("cri-o"), "ListContainerStats": replay(reply)}
    with FakeRuntime(sock, handlers) as fake, CRIClient(fake.endpoint) as cri:
        assert [s.cpu_percent for s in cri.containers.stats(interval=5)] == [0.0, 100.0]
        assert fake.calls == ["ListContainerStats", "Version"]  # its name: asked once
        assert [s.cpu_percent for s in cri.containers.stats(interval=5)] == [0.0, 100.0]
        assert fake.calls == ["ListContainerStats", "Version", "ListContainerStats"]


def test_containerds_rate_of_zero_takes_a_second_sample(sock: str) -> None:
    """containerd sends 0 also before it has an earlier sample of the container (a
    spinning one included): the rate then comes from two samples."""
    first = pb.ListContainerStatsResponse(stats=[cpu_sample("a" * 64, 10.0, 10**9, 0)])
    second = pb.ListContainerStatsResponse(stats=[cpu_sample("a" * 64, 10.5, 15 * 10**8, 0)])
    handlers = {"Version": runtime_named("containerd"), "ListContainerStats": replay(first, second)}
    with FakeRuntime(sock, handlers) as fake, CRIClient(fake.endpoint) as cri:
        (sample,) = cri.containers.stats(interval=0.01)
        assert sample.cpu_percent == pytest.approx(100.0)  # 0.5 s of CPU in 0.5 s
        assert sample.cpu_usage_nano_cores == 0  # what the runtime sent, kept
        assert fake.calls == ["ListContainerStats", "Version", "ListContainerStats"]


def test_exited_containers_take_no_second_sample(sock: str) -> None:
    reply = pb.ListContainerStatsResponse(
        stats=[cpu_sample("a" * 64, 10.0, 9, 10**9), exited_sample("e" * 64)]
    )
    with (
        FakeRuntime(sock, {"ListContainerStats": replay(reply)}) as fake,
        CRIClient(fake.endpoint) as cri,
    ):
        running, exited = cri.containers.stats(interval=5)
        assert (running.cpu_percent, exited.cpu_percent) == (100.0, None)
        assert exited.memory_working_set_bytes is None and exited.writable_layer_bytes == 0
        assert fake.calls == ["ListContainerStats"]


def test_stats_of_an_exited_container_are_its_list_entry(sock: str) -> None:
    """containerd answers ContainerStats for a container without a task with UNKNOWN
    (replayed here); the container's entry in the list is the answer, taken once."""

    def status(request: Any, context: Any) -> pb.ContainerStatusResponse:
        exited = pb.ContainerStatus(id=CONTAINER_ID, state=pb.CONTAINER_EXITED)
        info = (
            '{"sandboxID": "p1", "runtimeSpec": {"annotations": {'
            '"io.kubernetes.cri.sandbox-name": "job", '
            '"io.kubernetes.cri.sandbox-namespace": "default"}}}'
        )
        return pb.ContainerStatusResponse(status=exited, info={"info": info})

    def listed(request: pb.ListContainerStatsRequest, context: Any) -> Any:
        entries = [exited_sample(CONTAINER_ID)] if request.filter.id == CONTAINER_ID else []
        return pb.ListContainerStatsResponse(stats=entries)

    handlers = {
        "ContainerStatus": status,
        "ContainerStats": abort_with(grpc.StatusCode.UNKNOWN, "unexpected metrics response: []"),
        "ListContainerStats": listed,
    }
    with FakeRuntime(sock, handlers) as fake, CRIClient(fake.endpoint) as cri:
        ctr = cri.containers.get(CONTAINER_ID)
        sample = ctr.stats(interval=5)
        assert (sample.container_id, sample.name) == (CONTAINER_ID, "done")
        assert sample.cpu_percent is None and sample.cpu_usage_core_nanoseconds is None
        assert sample.writable_layer_bytes == 0
        assert fake.calls == ["ContainerStatus", "ContainerStats", "ListContainerStats"]


def test_stats_of_an_unlisted_container_keep_the_runtimes_error(sock: str) -> None:
    handlers = {
        "ContainerStats": abort_with(grpc.StatusCode.UNKNOWN, "something else"),
        "ListContainerStats": replay(pb.ListContainerStatsResponse()),
    }
    with FakeRuntime(sock, handlers) as fake, CRIClient(fake.endpoint) as cri:
        ctr = Container(cri, pb.ContainerStatus(id=CONTAINER_ID), "p1")
        with pytest.raises(UnknownError, match="something else"):
            ctr.stats()


def test_a_pods_containers_drop_an_unmeasured_zero() -> None:
    """pod.stats() takes a second sample for the pod; its containers' rates of 0 from
    containerd are not shown as 0.0 either."""
    message = pb.PodSandboxStats(attributes=pb.PodSandboxAttributes(id="p1"))
    message.linux.cpu.usage_core_nano_seconds.value = 7
    message.linux.cpu.usage_nano_cores.value = 0
    message.linux.containers.extend(
        [cpu_sample("a" * 64, 1.0, 7, 0), cpu_sample("b" * 64, 1.0, 7, 5)]
    )
    pod = PodStats.from_message(message)
    assert pod.cpu_percent == 0.0 and [c.cpu_percent for c in pod.containers] == [0.0, 5e-7]
    assert has_zero_rate(pod) and not has_zero_rate(pod.containers[1])
    dropped = without_zero_rate(pod)
    assert dropped.cpu_percent is None and dropped.cpu_usage_nano_cores == 0
    assert [c.cpu_percent for c in dropped.containers] == [None, 5e-7]


def test_sync_wait_waits_out_a_runtime_restart(sock: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A check that fails because the runtime went away (after a check that worked)
    is waited out until the timeout, which then says why; the first check's failure
    is raised at once (no runtime to wait for)."""
    monkeypatch.setattr(core_events, "WAIT_SAFETY_POLL_INTERVAL", 0.05)
    results: list[bool | CRIError] = []

    def reached() -> bool:
        result = results.pop(0) if results else UnavailableError("connection refused")
        if isinstance(result, CRIError):
            raise result
        return result

    def quiet(request: Any, context: grpc.ServicerContext) -> Any:
        until_cancelled(context)
        yield from ()

    with FakeRuntime(sock, {"GetContainerEvents": quiet}) as fake, CRIClient(fake.endpoint) as cri:
        results[:] = [False, UnavailableError("restarting"), UnavailableError("down"), True]
        wait_for(cri, "c1", reached, lambda e: False, 20)
        assert results == []

        results[:] = [False, UnavailableError("restarting")]
        with pytest.raises(WaitTimeoutError, match=r"^c1 within 0\.5 s; the last check failed: "):
            wait_for(cri, "c1", reached, lambda e: False, 0.5)

        for first in (EndpointError("no socket"), NotFoundError("gone")):
            results[:] = [first]
            with pytest.raises(type(first)):
                wait_for(cri, "c1", reached, lambda e: False, 20)
        results[:] = [False, NotFoundError("removed meanwhile")]
        with pytest.raises(NotFoundError):  # not a restart: raised
            wait_for(cri, "c1", reached, lambda e: False, 20)
