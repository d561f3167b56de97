"""The asyncio event stream and wait_for against real containerd."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from cri_client import ContainerEvent, ContainerEventType, CRIClient, Resubscribed
from cri_client._async.events import wait_for
from cri_client._proto import api_pb2 as pb
from cri_client.aio import AsyncCRIClient
from cri_client.errors import UnavailableError, UnimplementedError, WaitTimeoutError
from cri_client.testing import ThrowawayContainerd

from .conftest import RuntimeUnderTest
from .test_events_stats import IDLE

LIFECYCLE = [
    ContainerEventType.CREATED,
    ContainerEventType.STARTED,
    ContainerEventType.STOPPED,
    ContainerEventType.DELETED,
]


def test_events_for_create_start_stop_remove(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    async def scenario() -> None:
        async with AsyncCRIClient(runtime.endpoint) as acri, acri.events() as events:
            if runtime.version == "1.6":
                with pytest.raises(UnimplementedError, match="GetContainerEvents"):
                    await events.__anext__()
                return
            seen: list[ContainerEvent] = []

            async def collect() -> None:
                async for event in events:
                    assert isinstance(event, ContainerEvent)  # no Resubscribed: nothing broke
                    seen.append(event)
                    ids = {e.container_id for e in seen if e.container_name == "evented"}
                    if {e.type for e in seen if e.container_id in ids} >= set(LIFECYCLE):
                        return

            reader = asyncio.create_task(collect())
            await asyncio.sleep(0.5)  # let the subscription reach the runtime before acting
            pod = await asyncio.to_thread(
                cri.pods.run,
                "aevents-" + suite["suite"],
                namespace="evns",
                labels=suite,
                log_directory=log_dir,
            )
            ctr = await asyncio.to_thread(
                cri.containers.create, pod, "evented", runtime.busybox_image, command=IDLE
            )
            await asyncio.to_thread(ctr.start)
            await asyncio.to_thread(ctr.stop, timeout=5)
            await asyncio.to_thread(ctr.remove)
            await asyncio.wait_for(reader, 30)

        assert events.reconnections == 0
        mine = [e for e in seen if e.container_id == ctr.id]
        assert [e.type for e in mine][:4] == LIFECYCLE
        first = mine[0]
        assert (first.pod_id, first.pod_name, first.pod_namespace) == (pod.id, pod.name, "evns")
        assert first.pod_uid == pod.uid and not first.is_sandbox
        assert first.container_name == "evented" and mine[3].container_name == ""
        assert first.created_at is not None
        sandbox = [e for e in seen if e.container_id == pod.id]
        assert sandbox and all(e.is_sandbox for e in sandbox)

    asyncio.run(scenario())


def test_wait_for_a_container_that_exits_by_itself(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    pod = cri.pods.run("await-" + suite["suite"], labels=suite, log_directory=log_dir)
    job = cri.containers.create(
        pod, "job", runtime.busybox_image, command=["sh", "-c", "sleep 5; exit 4"]
    ).start()
    idle = cri.containers.create(pod, "idle", runtime.busybox_image, command=IDLE).start()

    async def scenario() -> None:
        async with AsyncCRIClient(runtime.endpoint) as acri:

            def exited(container_id: str) -> Callable[[], Awaitable[bool]]:
                async def reached() -> bool:
                    reply = await acri.api.container_status(container_id=container_id)
                    return reply.status.state == pb.CONTAINER_EXITED

                return reached

            loop = asyncio.get_running_loop()
            started = loop.time()
            await wait_for(
                acri, "job did not exit", exited(job.id), lambda e: e.container_id == job.id, 60
            )
            # It waited for the job (5 s after its start; the setup before took far less).
            assert 1 < loop.time() - started < 30
            status = (await acri.api.container_status(container_id=job.id)).status
            assert (status.state, status.exit_code) == (pb.CONTAINER_EXITED, 4)
            # containerd 1.6 answers UNIMPLEMENTED: the wait polled, and remembers it.
            assert acri._events_unimplemented is (runtime.version == "1.6")

            with pytest.raises(WaitTimeoutError, match=r"^idle did not exit within 1\.5 s$"):
                await wait_for(acri, "idle did not exit", exited(idle.id), lambda e: True, 1.5)

    asyncio.run(scenario())
    assert idle.reload().state.value == "running"


def test_a_watcher_sees_a_restart_marker_and_every_event_after_it(
    fresh_containerd: ThrowawayContainerd, runtime: RuntimeUnderTest, log_dir: str
) -> None:
    """The asyncio twin of the sync test: a Resubscribed marker after the restart, before
    the events of what was made after it; the runtime's backlog is not news."""
    image = fresh_containerd.busybox_image

    async def scenario(cri: CRIClient) -> None:
        pod = await asyncio.to_thread(cri.pods.run, "arestart", log_directory=log_dir)
        await asyncio.to_thread(cri.containers.create, pod, "old", image, command=IDLE)
        await asyncio.sleep(1)  # that CREATED is backlog for the stream below
        async with AsyncCRIClient(fresh_containerd.endpoint) as acri, acri.events() as events:
            if runtime.version == "1.6":
                with pytest.raises(UnimplementedError, match="GetContainerEvents"):
                    await events.__anext__()
                return
            seen: list[ContainerEvent | Resubscribed] = []

            async def until(done: Callable[[ContainerEvent | Resubscribed], bool]) -> None:
                while not any(done(item) for item in seen):
                    seen.append(await events.__anext__())

            def created(name: str) -> Callable[[ContainerEvent | Resubscribed], bool]:
                return lambda item: (
                    isinstance(item, ContainerEvent)
                    and item.container_name == name
                    and item.type is ContainerEventType.CREATED
                )

            reader = asyncio.create_task(until(created("before")))
            await asyncio.sleep(0.5)  # subscribed
            await asyncio.to_thread(cri.containers.create, pod, "before", image, command=IDLE)
            await asyncio.wait_for(reader, 30)

            await asyncio.to_thread(fresh_containerd.stop_daemon)
            await asyncio.to_thread(fresh_containerd.restart_daemon)
            for _ in range(300):  # the sync client reconnects by itself within a second
                try:
                    await asyncio.to_thread(
                        cri.containers.create, pod, "after", image, command=IDLE
                    )
                    break
                except UnavailableError:
                    await asyncio.sleep(0.1)
            await asyncio.wait_for(until(created("after")), 30)

        markers = [i for i, item in enumerate(seen) if isinstance(item, Resubscribed)]
        names = [i.container_name if isinstance(i, ContainerEvent) else "-" for i in seen]
        assert "old" not in names
        assert len(markers) == 1 and names.index("before") < markers[0] < names.index("after")
        assert events.reconnections >= 1

    with CRIClient(fresh_containerd.endpoint) as cri:
        cri.images.pull(image)
        asyncio.run(scenario(cri))
