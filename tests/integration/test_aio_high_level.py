"""The asyncio high-level surface against real containerd: pods, containers, images,
``run``, logs (following too), stats, waits, exec sessions and port-forward, awaited.

The sync twins of these calls are generated from the same source (scripts/unasync.py);
these tests prove the asyncio form works on a real runtime, value by value.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from typing import TypeVar

import pytest

from cri_client import ContainerState, PodState
from cri_client.aio import AsyncContainer, AsyncCRIClient, AsyncPod
from cri_client.errors import (
    ExecError,
    ExecTimeoutError,
    FailedPreconditionError,
    NotFoundError,
    WaitTimeoutError,
)

from .conftest import RuntimeUnderTest

T = TypeVar("T")


def run(runtime: RuntimeUnderTest, scenario: Callable[[AsyncCRIClient], Awaitable[T]]) -> T:
    """Run ``scenario`` with a fresh asyncio client on the runtime under test."""

    async def main() -> T:
        async with AsyncCRIClient(runtime.endpoint) as cri:
            return await scenario(cri)

    return asyncio.run(main())


async def sleeper(cri: AsyncCRIClient, pod: AsyncPod, image: str, name: str) -> AsyncContainer:
    ctr = await cri.containers.create(
        pod, name, image, command=["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]
    )
    return await ctr.start()


def test_pods_run_get_list_inspect_stop_remove(
    runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    name = "apod-" + suite["suite"]

    async def scenario(cri: AsyncCRIClient) -> None:
        pod = await cri.pods.run(name, namespace="async-ns", labels=suite, log_directory=log_dir)
        assert isinstance(pod, AsyncPod)
        assert (pod.name, pod.namespace, pod.state, pod.ready) == (
            name,
            "async-ns",
            PodState.READY,
            True,
        )
        assert pod.ip is not None and pod.ip.count(".") == 3
        for reference in (pod.id, pod.id[:12], name, f"async-ns/{name}"):
            assert await cri.pods.get(reference) == pod
        listed = await cri.pods.list(labels=suite)
        assert listed == [pod] and listed[0].ip is None  # list replies carry no IP
        assert (await listed[0].reload()).ip == pod.ip
        assert await cri.pods.list(namespace="^async-ns$", labels=suite) == [pod]
        assert await cri.pods.list(state="notready", labels=suite) == []
        inspected = await pod.inspect()
        assert inspected["status"]["metadata"]["name"] == name
        assert inspected["info"]["info"]["pid"] > 0
        assert (await pod.config()).metadata.namespace == "async-ns"
        assert json.loads(json.dumps(pod.to_dict()))["state"] == "ready"
        with pytest.raises(FailedPreconditionError, match="is ready"):
            await pod.remove()
        await cri.pods.stop(name)
        assert (await pod.reload()).state is PodState.NOT_READY
        await pod.remove()
        assert await cri.pods.list(labels=suite) == []
        with pytest.raises(NotFoundError):
            await cri.pods.get(pod.id)
        await pod.remove(missing_ok=True)

    run(runtime, scenario)


def test_containers_lifecycle_exec_logs_stats_and_lookups(
    runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    async def scenario(cri: AsyncCRIClient) -> None:
        pod = await cri.pods.run("actr-" + suite["suite"], labels=suite, log_directory=log_dir)
        ctr = await cri.containers.create(
            pod,
            "worker",
            runtime.busybox_image,
            command=[
                "sh",
                "-c",
                "echo one; echo two >&2; trap 'exit 0' TERM; while :; do sleep 1; done",
            ],
            env={"GREETING": "hello"},
            labels={"role": "worker"},
        )
        assert isinstance(ctr, AsyncContainer) and ctr.state is ContainerState.CREATED
        assert (await ctr.start()).state is ContainerState.RUNNING
        result = await ctr.exec(["sh", "-c", 'echo "$GREETING"; echo err >&2; exit 3'])
        assert (result.exit_code, result.stdout, result.stderr) == (3, b"hello\n", b"err\n")
        with pytest.raises(ExecError):
            await ctr.exec(["false"], check=True)
        with pytest.raises(ExecTimeoutError, match="did not finish within 1 s"):
            await ctr.exec(["sleep", "30"], timeout=1)
        for reference in (ctr.id, ctr.id[:12], "worker", f"default/{pod.name}/worker"):
            assert await cri.containers.get(reference) == ctr
        assert await cri.containers.list(pod=pod) == [ctr]
        assert await cri.containers.list(labels={"role": "worker"}, pod=pod.id) == [ctr]
        assert await pod.containers() == [ctr]
        assert await ctr.pod() == pod
        await asyncio.sleep(0.3)  # let the shell's first lines reach the log
        assert sorted((await ctr.logs()).splitlines()) == ["one", "two"]  # two pipes: any order
        assert await ctr.logs(stream="stderr") == "two\n"
        records = await ctr.log_records(tail=1, stream="stderr")
        assert [(r.stream, r.message) for r in records] == [("stderr", "two")]
        records = await ctr.log_records()
        assert sorted((r.stream, r.message) for r in records) == [
            ("stderr", "two"),
            ("stdout", "one"),
        ]
        stats = await ctr.stats()
        assert stats.container_id == ctr.id and stats.cpu_percent is not None
        assert stats.memory_working_set_bytes is not None and stats.memory_working_set_bytes > 0
        samples = [s async for s in ctr.stats(stream=True, interval=0.2, count=2)]
        assert len(samples) == 2 and all(s.cpu_percent is not None for s in samples)
        assert {s.container_id for s in await cri.containers.stats(pod=pod)} == {ctr.id}
        assert (await pod.stats()).pod_id == pod.id
        await ctr.update_resources(memory_limit_in_bytes=90 << 20)
        limit = await ctr.exec(["cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes"])
        assert int(limit.stdout) == 90 << 20
        with pytest.raises(FailedPreconditionError, match="is running"):
            await ctr.remove()
        stopped = await cri.containers.stop("worker", timeout=5)
        assert stopped.state is ContainerState.EXITED and stopped.exit_code == 0
        await ctr.remove()
        assert await cri.containers.list(pod=pod, all=True) == []
        await pod.remove(force=True)

    run(runtime, scenario)


def test_follow_logs_and_wait(
    runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    async def scenario(cri: AsyncCRIClient) -> None:
        ctr = await cri.run(
            runtime.busybox_image,
            name="afollow-" + suite["suite"],
            command=["sh", "-c", "for i in 1 2 3 4 5; do echo line $i; sleep 0.2; done"],
            labels=suite,
            log_directory=log_dir,
        )
        lines = [line async for line in ctr.logs(follow=True)]
        assert lines == [f"line {i}\n" for i in range(1, 6)]  # ends when the container does
        done = await ctr.wait(timeout=30)
        assert done.state is ContainerState.EXITED and done.exit_code == 0
        async with aclosing(ctr.logs(follow=True, tail=2)) as tail:  # type: ignore[type-var]
            assert [line async for line in tail] == ["line 4\n", "line 5\n"]
        with pytest.raises(WaitTimeoutError, match="did not become running"):
            await ctr.wait("running", timeout=0.5)
        with pytest.raises(ValueError, match="until"):
            ctr.logs(follow=True, until=__import__("datetime").datetime.now().astimezone())
        await (await ctr.pod()).remove(force=True)

    run(runtime, scenario)


def test_images_pull_get_list_exists_fs_info(runtime: RuntimeUnderTest) -> None:
    async def scenario(cri: AsyncCRIClient) -> None:
        image = await cri.images.pull(runtime.busybox_image)
        assert runtime.busybox_image in image.repo_tags and image.size > 0
        assert await cri.images.get(runtime.busybox_image) == image
        assert await cri.images.get(image.id[7:19]) == image
        assert await cri.images.exists(runtime.busybox_image)
        assert not await cri.images.exists(runtime.busybox_image + "-absent")
        repository = runtime.busybox_image.rsplit(":", 1)[0]
        assert image in await cri.images.list(reference=repository)
        assert (await image.reload()).id == image.id
        info = await cri.images.fs_info()
        assert info.image_filesystems and info.image_filesystems[0].mountpoint
        with pytest.raises(NotFoundError):
            await cri.images.get(runtime.busybox_image + "-absent")
        await cri.images.remove(runtime.busybox_image + "-absent", missing_ok=True)

    run(runtime, scenario)


def test_run_many_at_once_and_roll_back_a_failure(
    runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    async def scenario(cri: AsyncCRIClient) -> None:
        containers = await asyncio.gather(
            *(
                cri.run(
                    runtime.busybox_image,
                    name=f"many{i}-{suite['suite']}",
                    command=["sleep", "60"],
                    labels=suite,
                    log_directory=log_dir,
                )
                for i in range(6)
            )
        )
        outputs = await asyncio.gather(*(c.exec(["hostname"]) for c in containers))
        assert [o.stdout.decode().strip() for o in outputs] == [c.name for c in containers]
        assert len(await cri.pods.list(labels=suite)) == 6
        await asyncio.gather(*(cri.pods.remove(c.pod_id, force=True) for c in containers))
        assert await cri.pods.list(labels=suite) == []
        with pytest.raises(Exception, match="/no/such/entrypoint"):
            await cri.run(
                runtime.busybox_image,
                name="abroken-" + suite["suite"],
                command=["/no/such/entrypoint"],
                labels=suite,
                log_directory=log_dir,
            )
        assert await cri.pods.list(labels=suite) == []  # nothing half-created

    run(runtime, scenario)


def test_exec_session_attach_and_port_forward(
    runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    async def scenario(cri: AsyncCRIClient) -> None:
        pod = await cri.pods.run("astream-" + suite["suite"], labels=suite, log_directory=log_dir)
        web = await cri.containers.create(
            pod, "web", runtime.busybox_image, command=["httpd", "-f", "-p", "8080", "-h", "/etc"]
        )
        await web.start()
        async with web.exec_stream(["sh", "-c", "read x; echo got:$x; exit 4"], stdin=True) as s:
            await s.write(b"hi\n")
            assert await s.read_all() == (b"got:hi\n", b"")
            assert await s.wait(timeout=10) == 4
        session = await web.exec_stream(["sh", "-c", "echo out; echo err >&2"])
        try:
            assert await session.read_all() == (b"out\n", b"err\n")
            assert await session.wait(timeout=10) == 0
        finally:
            await session.close()
        cat = await cri.containers.create(
            pod, "cat", runtime.busybox_image, command=["sh", "-c", "read x; exit 5"], stdin=True
        )
        await cat.start()
        async with cat.attach(stdin=True) as attached:
            assert attached.tty is False
            await attached.write(b"bye\n")
            assert await attached.wait(timeout=20) == 5  # the container's own exit code
        async with pod.port_forward(8080) as forward:
            assert forward.local_port > 0
            reader, writer = await asyncio.open_connection("127.0.0.1", forward.local_port)
            writer.write(b"GET /hostname HTTP/1.0\r\n\r\n")
            await writer.drain()
            reply = await asyncio.wait_for(reader.read(), 20)
            writer.close()
            assert reply.startswith(b"HTTP/1.") and b" 200 " in reply.split(b"\r\n")[0]
            assert reply.endswith(pod.name.encode() + b"\n")
        await pod.remove(force=True)

    run(runtime, scenario)
