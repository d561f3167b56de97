"""EventStream resubscription and CPU arithmetic, with a fake server for the faults."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import grpc
import pytest

from cri_client import ContainerEvent, ContainerEventType, ContainerStats, CRIClient
from cri_client._core.stats import cpu_percent_between
from cri_client._proto import api_pb2 as pb
from cri_client._sync.support import sample_twice
from cri_client.errors import UnimplementedError

from .fake_runtime import FakeRuntime, abort_with


def check_first_event(first: ContainerEvent) -> None:
    """The first event the fake runtime of these tests sends, fully typed."""
    assert first.type is ContainerEventType.STARTED
    assert (first.pod_id, first.pod_name, first.pod_namespace, first.pod_uid) == (
        "pod1",
        "web",
        "ns",
        "u1",
    )
    assert first.container_name == "app" and not first.is_sandbox
    assert first.created_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)


def event(container_id: str, kind: int = pb.CONTAINER_STARTED_EVENT) -> pb.ContainerEventResponse:
    return pb.ContainerEventResponse(
        container_id=container_id,
        container_event_type=kind,  # type: ignore[arg-type]
        created_at=1_700_000_000_000_000_000,
        pod_sandbox_status=pb.PodSandboxStatus(
            id="pod1", metadata=pb.PodSandboxMetadata(name="web", namespace="ns", uid="u1")
        ),
        containers_statuses=[
            pb.ContainerStatus(id=container_id, metadata=pb.ContainerMetadata(name="app"))
        ],
    )


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
        time.sleep(10)

    with FakeRuntime(sock, {"GetContainerEvents": events}) as fake, CRIClient(fake.endpoint) as cri:
        stream = cri.events()
        got = [next(stream), next(stream), next(stream)]
        assert [e.container_id for e in got] == ["c1", "c2", "c3"]
        assert stream.reconnections == 2
        check_first_event(got[0])
        closer = threading.Timer(0.3, stream.close)
        closer.start()
        started = time.monotonic()
        assert list(stream) == []  # close() from another thread ends a blocked next()
        assert time.monotonic() - started < 5


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

    assert sample_twice(runtime_computes, lambda s: s.container_id, 0.01)[0].cpu_percent == 25.0
    assert len(calls) == 1

    samples = iter(
        [
            [stats("a", 0, 10.0), stats("b", 0, 10.0)],
            [stats("a", 2 * 10**8, 10.2), stats("b", 0, 10.2)],
        ]
    )
    result = sample_twice(lambda: next(samples), lambda s: s.container_id, 0.01)
    assert [s.cpu_percent for s in result] == [pytest.approx(100.0), 0.0]
    with pytest.raises(ValueError, match="interval"):
        sample_twice(lambda: [stats("a", 0, 1.0)], lambda s: s.container_id, -1)
