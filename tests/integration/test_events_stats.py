"""Events, waits and stats against real containerd."""

from __future__ import annotations

import threading
import time

import pytest

from cri_client import ContainerEvent, ContainerEventType, ContainerState, CRIClient
from cri_client.errors import NotFoundError, UnimplementedError, WaitTimeoutError

from .conftest import RuntimeUnderTest

BUSY = ["sh", "-c", "while :; do :; done"]
IDLE = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]


def test_events_for_create_start_stop_remove(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    events = cri.events()
    if runtime.version == "1.6":
        with pytest.raises(UnimplementedError, match="GetContainerEvents"):
            next(events)
        return
    seen: list[ContainerEvent] = []
    done = threading.Event()
    wanted = {ContainerEventType.CREATED, ContainerEventType.STARTED}
    wanted |= {ContainerEventType.STOPPED, ContainerEventType.DELETED}

    def collect() -> None:
        for event in events:
            seen.append(event)
            ids = {e.container_id for e in seen if e.container_name == "evented"}
            if {e.type for e in seen if e.container_id in ids} >= wanted:
                done.set()

    reader = threading.Thread(target=collect, daemon=True)
    reader.start()
    time.sleep(0.5)  # let the subscription reach the runtime before acting
    pod = cri.pods.run(
        "events-" + suite["suite"], namespace="evns", labels=suite, log_directory=log_dir
    )
    ctr = cri.containers.create(pod, "evented", runtime.busybox_image, command=IDLE).start()
    ctr.stop(timeout=5)
    ctr.remove()
    try:
        assert done.wait(30), [(e.type, e.container_name) for e in seen]
    finally:
        events.close()
    reader.join(5)
    assert not reader.is_alive()  # close() ends a blocked iteration promptly
    mine = [e for e in seen if e.container_id == ctr.id]
    assert [e.type for e in mine][:4] == [
        ContainerEventType.CREATED,
        ContainerEventType.STARTED,
        ContainerEventType.STOPPED,
        ContainerEventType.DELETED,
    ]
    first = mine[0]
    assert (first.pod_id, first.pod_name, first.pod_namespace) == (pod.id, pod.name, "evns")
    assert first.pod_uid == pod.uid and not first.is_sandbox
    assert first.container_name == "evented" and mine[3].container_name == ""  # gone by then
    assert first.created_at is not None
    sandbox = [e for e in seen if e.container_id == pod.id]
    assert sandbox and all(e.is_sandbox for e in sandbox)


def test_wait_for_a_container_that_exits_by_itself(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    pod = cri.pods.run("wait-" + suite["suite"], labels=suite, log_directory=log_dir)
    ctr = cri.containers.create(
        pod, "job", runtime.busybox_image, command=["sh", "-c", "sleep 2; exit 4"]
    ).start()
    assert ctr.state is ContainerState.RUNNING
    assert ctr.wait(timeout=60) is ctr
    assert ctr.state is ContainerState.EXITED and ctr.exit_code == 4
    assert ctr.wait("exited", timeout=1).exit_code == 4  # already there: returns at once


def test_wait_times_out_with_a_clear_error(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    pod = cri.pods.run("waitto-" + suite["suite"], labels=suite, log_directory=log_dir)
    ctr = cri.containers.create(pod, "idle", runtime.busybox_image, command=IDLE).start()
    with pytest.raises(WaitTimeoutError, match=r"did not become exited within 1\.5 s"):
        ctr.wait(timeout=1.5)
    assert ctr.reload().state is ContainerState.RUNNING
    with pytest.raises(ValueError, match="state"):
        ctr.wait("finished")
    assert pod.wait_ready(timeout=5) is pod
    pod.stop()
    with pytest.raises(WaitTimeoutError, match="did not become ready"):
        pod.wait_ready(timeout=1)


def test_stats_of_a_busy_container_and_its_pod(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    pod = cri.pods.run("stats-" + suite["suite"], labels=suite, log_directory=log_dir)
    busy = cri.containers.create(pod, "busy", runtime.busybox_image, command=BUSY).start()
    idle = cri.containers.create(pod, "idle", runtime.busybox_image, command=IDLE).start()
    time.sleep(1)
    stats = busy.stats()
    assert stats.container_id == busy.id and stats.name == "busy"
    assert stats.cpu_percent is not None and stats.cpu_percent > 30  # one core spinning
    assert stats.cpu_usage_core_nanoseconds is not None and stats.cpu_usage_core_nanoseconds > 0
    assert stats.memory_working_set_bytes is not None and stats.memory_working_set_bytes > 0
    quiet = idle.stats()
    assert quiet.cpu_percent is not None and quiet.cpu_percent < stats.cpu_percent
    many = {s.name: s for s in cri.containers.stats(pod=pod)}
    assert set(many) == {"busy", "idle"}
    assert many["busy"].cpu_percent is not None and many["busy"].cpu_percent > 30
    samples = list(busy.stats(stream=True, interval=0.5, count=3))
    assert len(samples) == 3 and all((s.cpu_percent or 0) > 30 for s in samples)
    assert samples[0].timestamp < samples[2].timestamp  # type: ignore[operator]
    pod_stats = pod.stats()
    assert pod_stats.pod_id == pod.id and pod_stats.namespace == "default"
    assert pod_stats.cpu_percent is not None and pod_stats.cpu_percent > 30
    assert pod_stats.memory_working_set_bytes is not None
    assert pod_stats.memory_working_set_bytes > 0


def rpcs_made(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The RPCs logged on ``cri_client.rpc`` (one DEBUG line each) since the last clear."""
    return [record.getMessage().split("(")[0] for record in caplog.records]


def test_stats_of_exited_containers_are_one_sample(
    cri: CRIClient,
    runtime: RuntimeUnderTest,
    suite: dict[str, str],
    log_dir: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A container that is not running has no CPU time: no second sample, no wait.
    ctr.stats() gives the same entry as the list form (containerd fails ContainerStats
    for it with UNKNOWN "unexpected metrics response: []")."""
    pod = cri.pods.run("exited-" + suite["suite"], labels=suite, log_directory=log_dir)
    done = cri.containers.create(pod, "done", runtime.busybox_image, command=["true"]).start()
    assert done.wait(timeout=30).state is ContainerState.EXITED
    created = cri.containers.create(pod, "created", runtime.busybox_image, command=["true"])
    with caplog.at_level("DEBUG", logger="cri_client.rpc"):
        listed = {s.name: s for s in cri.containers.stats(pod=pod, interval=30)}
    assert rpcs_made(caplog) == ["ListContainerStats"]
    assert set(listed) == {"done", "created"}
    for ctr in (done, created):
        caplog.clear()
        with caplog.at_level("DEBUG", logger="cri_client.rpc"):
            sample = ctr.stats(interval=30)
        assert rpcs_made(caplog) == ["ContainerStats", "ListContainerStats"]
        assert sample == listed[ctr.name]
        assert (sample.container_id, sample.cpu_percent, sample.memory_usage_bytes) == (
            ctr.id,
            None,
            None,
        )
    ctr = cri.containers.create(pod, "gone", runtime.busybox_image, command=["true"])
    ctr.remove()
    with pytest.raises(NotFoundError):
        ctr.stats()


def test_containerds_cpu_rate_of_0_is_not_taken_for_idle(
    cri: CRIClient,
    runtime: RuntimeUnderTest,
    suite: dict[str, str],
    log_dir: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """containerd sends ``usage_nano_cores`` 0, not unset, before it has an earlier
    sample of a container, even for one spinning a core: the library asks the
    runtime's name once and takes two samples. If this fails because containerd
    stopped sending 0 there (containerd/containerd#13138), revisit
    ``_core.runtimes.ZERO_CPU_RATE_UNMEASURED``."""
    pod = cri.pods.run("zero-" + suite["suite"], labels=suite, log_directory=log_dir)
    busy = cri.containers.create(pod, "busy", runtime.busybox_image, command=BUSY).start()
    time.sleep(1)
    cold = cri.api.list_container_stats(filter={"id": busy.id}).stats[0].cpu
    assert cold.HasField("usage_nano_cores") and cold.usage_nano_cores.value == 0
    assert cold.usage_core_nano_seconds.value > 10**8  # it did run
    fresh = CRIClient(runtime.endpoint)  # a client that does not know the runtime yet
    with fresh, caplog.at_level("DEBUG", logger="cri_client.rpc"):
        busy.remove(force=True)
        busy = fresh.containers.create(pod, "busy2", runtime.busybox_image, command=BUSY)
        busy.start()
        time.sleep(1)
        caplog.clear()
        (sample,) = fresh.containers.stats(pod=pod, interval=0.5)
        assert rpcs_made(caplog) == ["ListContainerStats", "Version", "ListContainerStats"]
    assert sample.cpu_percent is not None and sample.cpu_percent > 30
