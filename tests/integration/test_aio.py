"""AsyncCRIClient against real containerd (the high-level async surface is issue 5)."""

from __future__ import annotations

import asyncio

from cri_client._proto import api_pb2 as pb
from cri_client.aio import AsyncCRIClient
from cri_client.configs import container_config, pod_sandbox_config

from .conftest import RuntimeUnderTest


def test_async_low_level_lifecycle_and_concurrency(runtime: RuntimeUnderTest, log_dir: str) -> None:
    async def scenario() -> None:
        async with AsyncCRIClient(runtime.endpoint) as cri:
            version = await cri.version()
            assert version.runtime_name == "containerd"
            assert version.runtime_version.startswith(runtime.version + ".")
            assert (await cri.status()).ready
            await cri.api.pull_image(image={"image": runtime.busybox_image})

            async def pod_with_container(index: int) -> tuple[str, bytes]:
                pod = pod_sandbox_config(
                    f"aio-{index}", log_directory=log_dir, labels={"suite": "aio"}
                )
                pod_id = (await cri.api.run_pod_sandbox(config=pod)).pod_sandbox_id
                config = container_config(
                    f"c{index}", runtime.busybox_image, pod=pod, command=["sleep", "60"]
                )
                cid = (
                    await cri.api.create_container(
                        pod_sandbox_id=pod_id, config=config, sandbox_config=pod
                    )
                ).container_id
                await cri.api.start_container(container_id=cid)
                reply = await cri.api.exec_sync(
                    container_id=cid, cmd=["echo", str(index)], timeout=5
                )
                return pod_id, reply.stdout

            results = await asyncio.gather(*(pod_with_container(i) for i in range(5)))
            assert [out for _, out in results] == [f"{i}\n".encode() for i in range(5)]
            listed = await cri.api.list_pod_sandbox(filter={"label_selector": {"suite": "aio"}})
            assert {p.id for p in listed.items} == {pod_id for pod_id, _ in results}
            for pod_id, _ in results:
                await cri.api.stop_pod_sandbox(pod_sandbox_id=pod_id)
                await cri.api.remove_pod_sandbox(pod_sandbox_id=pod_id)
            remaining = await cri.api.list_pod_sandbox(filter={"label_selector": {"suite": "aio"}})
            assert list(remaining.items) == []
            assert isinstance(await cri.api.image_fs_info(), pb.ImageFsInfoResponse)

    asyncio.run(scenario())
