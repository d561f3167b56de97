"""Every RPC of the low-level API against a real containerd, with its result checked.

RPCs a containerd version does not implement must raise UnimplementedError; the
table below is what containerd 1.6.20, 1.7.24 and 2.1.9 do, and a version that
changes its answer fails here on purpose.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cri_client import CRIClient
from cri_client._api import ALL_RPCS
from cri_client._proto import api_pb2 as pb
from cri_client.configs import container_config, pod_sandbox_config
from cri_client.errors import (
    DeadlineExceededError,
    NotFoundError,
    UnimplementedError,
    UnknownError,
)

from .conftest import RuntimeUnderTest

STREAM_LISTS = {
    "StreamPodSandboxes",
    "StreamContainers",
    "StreamContainerStats",
    "StreamPodSandboxStats",
    "StreamImages",
    "StreamPodSandboxMetrics",
}
NEVER_IMPLEMENTED = STREAM_LISTS | {
    "ListMetricDescriptors",
    "ListPodSandboxMetrics",
    "UpdatePodSandboxResources",
}
UNIMPLEMENTED = {
    "1.6": NEVER_IMPLEMENTED | {"CheckpointContainer", "RuntimeConfig", "GetContainerEvents"},
    "1.7": NEVER_IMPLEMENTED | {"CheckpointContainer", "RuntimeConfig"},
    "2.1": NEVER_IMPLEMENTED,
}
ID = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class RunningContainer:
    pod_id: str
    pod_config: pb.PodSandboxConfig
    container_id: str
    log_dir: Path


def start_pod_with_container(
    cri: CRIClient, image: str, name: str, command: list[str], log_dir: Path
) -> RunningContainer:
    pod_config = pod_sandbox_config(
        name,
        namespace="cri-client-tests",
        labels={"suite": "low-level", "name": name},
        log_directory=str(log_dir),
    )
    pod_id = cri.api.run_pod_sandbox(config=pod_config).pod_sandbox_id
    config = container_config(name, image, pod=pod_config, command=command, labels={"c": name})
    container_id = cri.api.create_container(
        pod_sandbox_id=pod_id, config=config, sandbox_config=pod_config
    ).container_id
    cri.api.start_container(container_id=container_id)
    return RunningContainer(pod_id, pod_config, container_id, log_dir)


def remove_pod(cri: CRIClient, pod_id: str) -> None:
    cri.api.stop_pod_sandbox(pod_sandbox_id=pod_id)
    cri.api.remove_pod_sandbox(pod_sandbox_id=pod_id)


@pytest.fixture(scope="module")
def running(
    cri: CRIClient, runtime: RuntimeUnderTest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningContainer]:
    log_dir = tmp_path_factory.mktemp("pod-logs")
    command = ["sh", "-c", "echo started; trap 'exit 0' TERM; while :; do sleep 1; done"]
    started = start_pod_with_container(cri, runtime.busybox_image, "lowlevel", command, log_dir)
    yield started
    remove_pod(cri, started.pod_id)


def expect_unimplemented(runtime: RuntimeUnderTest, name: str) -> bool:
    return name in UNIMPLEMENTED[runtime.version]


def test_every_rpc_is_exercised_by_this_module() -> None:
    source = Path(__file__).read_text()
    missing = [
        rpc.name
        for rpc in ALL_RPCS
        if f"cri.api.{re.sub(r'(?<!^)(?=[A-Z])', '_', rpc.name).lower()}(" not in source
    ]
    assert missing == []


def test_version(cri: CRIClient, runtime: RuntimeUnderTest) -> None:
    reply = cri.api.version(version="v1")
    assert reply.runtime_name == "containerd"
    assert reply.runtime_api_version == "v1"
    assert reply.runtime_version.startswith(runtime.version + ".")


def test_status_reports_ready_and_handlers(cri: CRIClient, runtime: RuntimeUnderTest) -> None:
    reply = cri.api.status(verbose=True)
    conditions = {c.type: c.status for c in reply.status.conditions}
    assert conditions["RuntimeReady"] is True
    assert conditions["NetworkReady"] is True
    assert '"sandboxImage"' in reply.info["config"] or "sandbox" in reply.info["config"]
    if runtime.version == "2.1":  # 1.6 and 1.7 predate runtime_handlers in Status
        assert {h.name for h in reply.runtime_handlers} >= set(runtime.handlers)


def test_runtime_config(cri: CRIClient, runtime: RuntimeUnderTest) -> None:
    if expect_unimplemented(runtime, "RuntimeConfig"):
        with pytest.raises(UnimplementedError, match="RuntimeConfig"):
            cri.api.runtime_config()
    else:
        assert cri.api.runtime_config().linux.cgroup_driver == pb.CGROUPFS


def test_update_runtime_config_without_pod_cidr_is_accepted(cri: CRIClient) -> None:
    reply = cri.api.update_runtime_config(runtime_config={"network_config": {"pod_cidr": ""}})
    assert isinstance(reply, pb.UpdateRuntimeConfigResponse)


def test_image_lifecycle(cri: CRIClient, runtime: RuntimeUnderTest) -> None:
    ref = runtime.busybox_image
    image_ref = cri.api.pull_image(image={"image": ref}).image_ref
    assert image_ref.startswith("sha256:")
    status = cri.api.image_status(image={"image": ref}).image
    assert status.id == image_ref
    assert ref in status.repo_tags
    assert status.size > 100_000
    listed = {image.id: image for image in cri.api.list_images().images}
    assert ref in listed[image_ref].repo_tags
    # containerd 1.7 and 2.1 ignore the filter (crictl filters client-side too).
    filtered = cri.api.list_images(filter={"image": {"image": ref}}).images
    assert image_ref in {image.id for image in filtered}
    fs = cri.api.image_fs_info()
    assert fs.image_filesystems and fs.image_filesystems[0].fs_id.mountpoint
    try:
        cri.api.remove_image(image={"image": ref})
        assert not cri.api.image_status(image={"image": ref}).HasField("image")
    finally:
        assert cri.api.pull_image(image={"image": ref}).image_ref == image_ref


def test_pull_of_a_missing_tag_is_not_found(cri: CRIClient, runtime: RuntimeUnderTest) -> None:
    missing = runtime.busybox_image.rsplit(":", 1)[0] + ":does-not-exist"
    with pytest.raises(NotFoundError, match=re.escape(f"PullImage(image={missing})")):
        cri.api.pull_image(image={"image": missing})


def test_pod_sandbox_status_and_list(cri: CRIClient, running: RunningContainer) -> None:
    status = cri.api.pod_sandbox_status(pod_sandbox_id=running.pod_id, verbose=True).status
    assert ID.match(status.id) and status.id == running.pod_id
    assert status.state == pb.SANDBOX_READY
    assert status.metadata.name == "lowlevel"
    assert status.metadata.namespace == "cri-client-tests"
    assert re.match(r"^\d+\.\d+\.\d+\.\d+$", status.network.ip)
    items = cri.api.list_pod_sandbox(filter={"label_selector": {"name": "lowlevel"}}).items
    assert [pod.id for pod in items] == [running.pod_id]
    by_state = cri.api.list_pod_sandbox(filter={"state": {"state": pb.SANDBOX_READY}}).items
    assert running.pod_id in {pod.id for pod in by_state}


def test_container_status_and_list(cri: CRIClient, running: RunningContainer) -> None:
    status = cri.api.container_status(container_id=running.container_id).status
    assert status.id == running.container_id
    assert status.state == pb.CONTAINER_RUNNING
    assert status.metadata.name == "lowlevel"
    assert status.started_at > 0
    assert status.log_path == str(running.log_dir / "lowlevel" / "0.log")
    listed = cri.api.list_containers(filter={"pod_sandbox_id": running.pod_id}).containers
    assert [c.id for c in listed] == [running.container_id]
    assert listed[0].labels["c"] == "lowlevel"


def test_exec_sync_keeps_exit_code_and_both_streams(
    cri: CRIClient, running: RunningContainer
) -> None:
    reply = cri.api.exec_sync(
        container_id=running.container_id,
        cmd=["sh", "-c", "echo out; echo err >&2; exit 3"],
        timeout=10,
    )
    assert (reply.exit_code, reply.stdout, reply.stderr) == (3, b"out\n", b"err\n")


def test_exec_sync_timeout_and_missing_binary(cri: CRIClient, running: RunningContainer) -> None:
    with pytest.raises(DeadlineExceededError, match="ExecSync"):
        cri.api.exec_sync(container_id=running.container_id, cmd=["sleep", "10"], timeout=1)
    with pytest.raises(UnknownError, match="/no/such/binary"):
        cri.api.exec_sync(container_id=running.container_id, cmd=["/no/such/binary"], timeout=5)


def test_streaming_urls(cri: CRIClient, running: RunningContainer) -> None:
    exec_url = cri.api.exec(container_id=running.container_id, cmd=["sh"], stdout=True).url
    attach_url = cri.api.attach(container_id=running.container_id, stdout=True).url
    forward_url = cri.api.port_forward(pod_sandbox_id=running.pod_id, port=[8080]).url
    for url, kind in ((exec_url, "exec"), (attach_url, "attach"), (forward_url, "portforward")):
        assert re.match(rf"^http://127\.0\.0\.1:\d+/{kind}/[\w-]+$", url), url


def test_container_and_pod_stats(cri: CRIClient, running: RunningContainer) -> None:
    stats = cri.api.container_stats(container_id=running.container_id).stats
    assert stats.attributes.id == running.container_id
    assert stats.memory.working_set_bytes.value > 0
    assert stats.cpu.usage_core_nano_seconds.value > 0
    listed = cri.api.list_container_stats(filter={"pod_sandbox_id": running.pod_id}).stats
    assert [s.attributes.id for s in listed] == [running.container_id]
    pod_stats = cri.api.pod_sandbox_stats(pod_sandbox_id=running.pod_id).stats
    assert pod_stats.attributes.id == running.pod_id
    assert pod_stats.linux.memory.working_set_bytes.value > 0
    listed_pods = cri.api.list_pod_sandbox_stats(filter={"id": running.pod_id}).stats
    assert [s.attributes.id for s in listed_pods] == [running.pod_id]


def test_update_container_resources(cri: CRIClient, running: RunningContainer) -> None:
    limit = 96 * 1024 * 1024
    cri.api.update_container_resources(
        container_id=running.container_id,
        linux={"memory_limit_in_bytes": limit, "cpu_shares": 512},
    )
    reply = cri.api.exec_sync(
        container_id=running.container_id,
        cmd=["cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes"],
        timeout=5,
    )
    assert int(reply.stdout) == limit
    resources = cri.api.container_status(container_id=running.container_id).status.resources
    assert resources.linux.memory_limit_in_bytes == limit


def test_reopen_container_log(cri: CRIClient, running: RunningContainer) -> None:
    log = running.log_dir / "lowlevel" / "0.log"
    assert re.search(r"^\S+ stdout F started$", log.read_text(), re.M)
    rotated = log.with_suffix(".log.1")
    log.rename(rotated)
    cri.api.reopen_container_log(container_id=running.container_id)
    cri.api.exec_sync(
        container_id=running.container_id, cmd=["sh", "-c", "echo again > /proc/1/fd/1"], timeout=5
    )
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and "again" not in (log.read_text() if log.exists() else ""):
        time.sleep(0.05)
    assert re.search(r"^\S+ stdout F again$", log.read_text(), re.M)


def test_container_events(
    cri: CRIClient, runtime: RuntimeUnderTest, unique: str, tmp_path: Path
) -> None:
    events = cri.api.get_container_events(rpc_timeout=30)
    if expect_unimplemented(runtime, "GetContainerEvents"):
        with pytest.raises(UnimplementedError, match="GetContainerEvents"):
            next(events)
        return
    started = start_pod_with_container(
        cri, runtime.busybox_image, unique, ["sleep", "60"], tmp_path
    )
    try:
        seen: set[int] = set()
        with events:
            for event in events:
                if event.container_id == started.container_id:
                    seen.add(event.container_event_type)
                    assert event.pod_sandbox_status.id == started.pod_id
                if {pb.CONTAINER_CREATED_EVENT, pb.CONTAINER_STARTED_EVENT} <= seen:
                    break
    finally:
        remove_pod(cri, started.pod_id)


def test_checkpoint_container(
    cri: CRIClient, runtime: RuntimeUnderTest, running: RunningContainer, tmp_path: Path
) -> None:
    location = str(tmp_path / "checkpoint.tar")
    if expect_unimplemented(runtime, "CheckpointContainer"):
        with pytest.raises(UnimplementedError, match="CheckpointContainer"):
            cri.api.checkpoint_container(container_id=running.container_id, location=location)
    else:
        # containerd 2.1 implements it through CRIU, which this machine does not have.
        with pytest.raises(UnknownError, match="CRIU"):
            cri.api.checkpoint_container(container_id=running.container_id, location=location)


def test_rpcs_no_containerd_implements(
    cri: CRIClient, runtime: RuntimeUnderTest, running: RunningContainer
) -> None:
    calls = {
        "ListMetricDescriptors": lambda: cri.api.list_metric_descriptors(),
        "ListPodSandboxMetrics": lambda: cri.api.list_pod_sandbox_metrics(),
        "UpdatePodSandboxResources": lambda: cri.api.update_pod_sandbox_resources(
            pod_sandbox_id=running.pod_id
        ),
        "StreamPodSandboxes": lambda: list(cri.api.stream_pod_sandboxes()),
        "StreamContainers": lambda: list(cri.api.stream_containers()),
        "StreamContainerStats": lambda: list(cri.api.stream_container_stats()),
        "StreamPodSandboxStats": lambda: list(cri.api.stream_pod_sandbox_stats()),
        "StreamImages": lambda: list(cri.api.stream_images()),
        "StreamPodSandboxMetrics": lambda: list(cri.api.stream_pod_sandbox_metrics()),
    }
    assert set(calls) == NEVER_IMPLEMENTED
    for name, call in calls.items():
        with pytest.raises(UnimplementedError) as info:
            call()
        assert info.value.rpc == name


def test_stop_and_remove(
    cri: CRIClient, runtime: RuntimeUnderTest, unique: str, tmp_path: Path
) -> None:
    started = start_pod_with_container(
        cri, runtime.busybox_image, unique, ["sleep", "600"], tmp_path
    )
    cri.api.stop_container(container_id=started.container_id, timeout=0)
    status = cri.api.container_status(container_id=started.container_id).status
    assert status.state == pb.CONTAINER_EXITED
    assert status.exit_code == 137  # sleep as PID 1 ignores TERM; timeout 0 means KILL
    cri.api.remove_container(container_id=started.container_id)
    with pytest.raises(NotFoundError, match=started.container_id):
        cri.api.container_status(container_id=started.container_id)
    cri.api.stop_pod_sandbox(pod_sandbox_id=started.pod_id)
    pod = cri.api.pod_sandbox_status(pod_sandbox_id=started.pod_id).status
    assert pod.state == pb.SANDBOX_NOTREADY
    cri.api.remove_pod_sandbox(pod_sandbox_id=started.pod_id)
    with pytest.raises(NotFoundError):
        cri.api.pod_sandbox_status(pod_sandbox_id=started.pod_id)
    assert started.pod_id not in {p.id for p in cri.api.list_pod_sandbox().items}


def test_unknown_ids(cri: CRIClient, runtime: RuntimeUnderTest) -> None:
    """Status and start of an unknown id are NOT_FOUND, with the id in the error;
    removal is idempotent (the CRI contract); stop is idempotent from 1.7 on."""
    missing = uuid.uuid4().hex
    with pytest.raises(NotFoundError) as info:
        cri.api.container_status(container_id=missing)
    assert info.value.object_id == f"container_id={missing}"
    with pytest.raises(NotFoundError, match=missing):
        cri.api.start_container(container_id=missing)
    assert isinstance(cri.api.remove_container(container_id=missing), pb.RemoveContainerResponse)
    assert isinstance(
        cri.api.remove_pod_sandbox(pod_sandbox_id=missing), pb.RemovePodSandboxResponse
    )
    if runtime.version == "1.6":
        with pytest.raises(NotFoundError, match=missing):
            cri.api.stop_pod_sandbox(pod_sandbox_id=missing)
    else:
        assert isinstance(
            cri.api.stop_pod_sandbox(pod_sandbox_id=missing), pb.StopPodSandboxResponse
        )
