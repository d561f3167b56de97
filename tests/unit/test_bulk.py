"""Bulk work and ``list(with_status=True)`` under faults the real runtime will not
make on demand (one exec failing, a container removed between the list and its
status, a status call failing): the fake runtime, in both flavours."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest

from cri_client import CRIClient, ExecResult
from cri_client._proto import api_pb2 as pb
from cri_client.aio import AsyncCRIClient
from cri_client.errors import (
    ContainerNotRunningError,
    FailedPreconditionError,
    NotFoundError,
    UnavailableError,
)

from .fake_runtime import FakeRuntime, Handler

IDS = [c * 64 for c in "abc"]
KUBELET_LABELS = {"io.kubernetes.pod.name": "web-0", "io.kubernetes.pod.namespace": "shop"}


def container(index: int, state: Any = pb.CONTAINER_RUNNING) -> pb.Container:
    return pb.Container(
        id=IDS[index],
        pod_sandbox_id="p" * 64,
        metadata=pb.ContainerMetadata(name=f"c{index}"),
        state=state,
        created_at=index,
        labels={"app": "web", "n": str(index), **KUBELET_LABELS},
    )


def listing(request: pb.ListContainersRequest, context: Any) -> pb.ListContainersResponse:
    wanted = dict(request.filter.label_selector)
    found = [container(i) for i in range(3)]
    return pb.ListContainersResponse(
        containers=[c for c in found if all(c.labels.get(k) == v for k, v in wanted.items())]
    )


def status_of(request: pb.ContainerStatusRequest, context: Any) -> pb.ContainerStatusResponse:
    index = IDS.index(request.container_id)
    if index == 1:
        context.abort(grpc.StatusCode.NOT_FOUND, "an error occurred when try to find container")
    done = pb.ContainerStatus(
        id=request.container_id,
        metadata=pb.ContainerMetadata(name=f"c{index}"),
        state=pb.CONTAINER_EXITED,
        started_at=1_000_000_000,
        finished_at=2_000_000_000,
        exit_code=index + 40,
        reason="Error",
        message="oom",
        labels=KUBELET_LABELS,
    )
    return pb.ContainerStatusResponse(status=done)


def exec_sync(request: pb.ExecSyncRequest, context: Any) -> pb.ExecSyncResponse:
    if request.container_id == IDS[1]:
        context.abort(
            grpc.StatusCode.UNKNOWN,
            "failed to exec in container: container is in CONTAINER_EXITED state",
        )
    return pb.ExecSyncResponse(exit_code=IDS.index(request.container_id), stdout=b"out")


HANDLERS: dict[str, Handler] = {
    "ListContainers": listing,
    "ContainerStatus": status_of,
    "ExecSync": exec_sync,
}


def test_with_status_fills_each_and_leaves_out_the_removed(sock: str) -> None:
    with FakeRuntime(sock, HANDLERS) as fake, CRIClient(fake.endpoint) as cri:
        listed = cri.containers.list(with_status=True, parallel=2)
        assert [(c.name, c.exit_code, c.reason, c.message) for c in listed] == [
            ("c2", 42, "Error", "oom"),
            ("c0", 40, "Error", "oom"),
        ]
        assert listed[0].started_at is not None and listed[0].started_at.timestamp() == 1.0
        assert (listed[0].pod_id, listed[0].pod_name, listed[0].pod_namespace) == (
            "p" * 64,
            "web-0",
            "shop",
        )
        assert sorted(fake.calls) == ["ContainerStatus"] * 3 + ["ListContainers"]


def test_with_status_raises_other_failures(sock: str) -> None:
    handlers = {
        **HANDLERS,
        "ContainerStatus": lambda r, c: c.abort(grpc.StatusCode.UNAVAILABLE, "x"),
    }
    with FakeRuntime(sock, handlers) as fake, CRIClient(fake.endpoint) as cri:
        with pytest.raises(UnavailableError):
            cri.containers.list(with_status=True)


def test_exec_many_reports_each_container_and_one_failure(sock: str) -> None:
    with FakeRuntime(sock, HANDLERS) as fake, CRIClient(fake.endpoint) as cri:
        outcomes = cri.containers.exec_many("app=web,n notin (9)", ["true"], parallel=3)
        assert [(o.id, o.name) for o in outcomes] == [
            (IDS[2], "c2"),
            (IDS[1], "c1"),
            (IDS[0], "c0"),
        ]
        assert [o.result for o in outcomes] == [
            ExecResult(2, b"out", b""),
            None,
            ExecResult(0, b"out", b""),
        ]
        assert isinstance(outcomes[1].error, ContainerNotRunningError)
        assert [o.ok for o in outcomes] == [True, False, True]
        assert fake.calls.count("ExecSync") == 3


def test_exec_many_in_asyncio_too(sock: str) -> None:
    async def scenario(endpoint: str) -> list[Any]:
        async with AsyncCRIClient(endpoint) as cri:
            return await cri.containers.exec_many({"n": "1"}, ["true"])

    with FakeRuntime(sock, HANDLERS) as fake:
        outcomes = asyncio.run(scenario(fake.endpoint))
    assert [(o.name, type(o.error)) for o in outcomes] == [("c1", ContainerNotRunningError)]


def test_remove_many_refuses_running_containers_without_force(sock: str) -> None:
    def running(request: Any, context: Any) -> pb.ContainerStatusResponse:
        ctr = container(IDS.index(request.container_id))
        return pb.ContainerStatusResponse(
            status=pb.ContainerStatus(id=ctr.id, metadata=ctr.metadata, state=ctr.state)
        )

    handlers = {
        **HANDLERS,
        "ContainerStatus": running,
        "RemoveContainer": lambda r, c: pb.RemoveContainerResponse(),
    }
    with FakeRuntime(sock, handlers) as fake, CRIClient(fake.endpoint) as cri:
        outcomes = cri.containers.remove_many("app=web")
        assert [type(o.error) for o in outcomes] == [FailedPreconditionError] * 3
        assert "RemoveContainer" not in fake.calls and "StopContainer" not in fake.calls


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda cri: cri.containers.exec_many("app in (a", ["true"]), ValueError),
        (lambda cri: cri.containers.exec_many("app=web", []), ValueError),
        (lambda cri: cri.containers.exec_many("app=web", ["true"], timeout=-1), ValueError),
        (lambda cri: cri.containers.exec_many("app=web", ["true"], parallel=0), ValueError),
        (lambda cri: cri.containers.exec_many(42, ["true"]), TypeError),
        (lambda cri: cri.containers.exec_many(["", IDS[0]], ["true"]), ValueError),
        (lambda cri: cri.containers.stop_many("app=web", timeout=-1), ValueError),
        (lambda cri: cri.containers.remove_many("!", force=True), ValueError),
        (lambda cri: cri.containers.list(labels="a b"), ValueError),
        (lambda cri: cri.containers.list(with_status=True, parallel=True), ValueError),
        (lambda cri: cri.containers.stats(labels="app in ()"), ValueError),
        (lambda cri: cri.pods.list(labels="app=x y"), ValueError),
        (lambda cri: cri.pods.stats(labels="=x"), ValueError),
    ],
)
def test_arguments_are_checked_before_any_rpc(sock: str, call: Any, error: type) -> None:
    with FakeRuntime(sock, HANDLERS) as fake, CRIClient(fake.endpoint) as cri:
        with pytest.raises(error):
            call(cri)
        assert fake.calls == []


def test_a_reference_that_names_nothing_is_its_own_outcome(sock: str) -> None:
    def exec_fails_in_c2(request: pb.ExecSyncRequest, context: Any) -> pb.ExecSyncResponse:
        if request.container_id == IDS[2]:
            context.abort(grpc.StatusCode.UNAVAILABLE, "shim is gone")
        return exec_sync(request, context)

    handlers = {**HANDLERS, "ExecSync": exec_fails_in_c2}
    with FakeRuntime(sock, handlers) as fake, CRIClient(fake.endpoint) as cri:
        outcomes = cri.containers.exec_many(["c0", "nothing", "c2"], ["true"])
        assert (outcomes[0].name, outcomes[0].ok) == ("c0", True)
        # A reference that named a container whose exec failed: the outcome names it.
        assert (outcomes[2].id, outcomes[2].name) == (IDS[2], "c2")
        assert type(outcomes[2].error) is UnavailableError
        assert (outcomes[1].id, outcomes[1].name, type(outcomes[1].error)) == (
            "nothing",
            "",
            NotFoundError,
        )


# --- pods ----------------------------------------------------------------------------------

POD_IDS = [c * 64 for c in "def"]


def sandbox(index: int) -> pb.PodSandbox:
    """Pods 0 and 1 ready, 2 not; all labelled team=batch."""
    return pb.PodSandbox(
        id=POD_IDS[index],
        metadata=pb.PodSandboxMetadata(name=f"p{index}", namespace="jobs", uid=f"u{index}"),
        state=pb.SANDBOX_READY if index < 2 else pb.SANDBOX_NOTREADY,
        created_at=index,
        labels={"team": "batch"},
    )


class PodRuntime:
    """Pods that stop (pod 1's stop fails) and are removed for real: a later list or
    status no longer has a removed pod, and a stopped one is not ready."""

    def __init__(self) -> None:
        self.stopped: set[str] = set()
        self.removed: list[str] = []

    def current(self) -> list[pb.PodSandbox]:
        found = []
        for index in range(3):
            pod = sandbox(index)
            if pod.id in self.removed:
                continue
            if pod.id in self.stopped:
                pod.state = pb.SANDBOX_NOTREADY
            found.append(pod)
        return found

    def listing(self, request: pb.ListPodSandboxRequest, context: Any) -> Any:
        wanted, state = dict(request.filter.label_selector), request.filter.state
        return pb.ListPodSandboxResponse(
            items=[
                p
                for p in self.current()
                if all(p.labels.get(k) == v for k, v in wanted.items())
                and (not request.filter.HasField("state") or p.state == state.state)
            ]
        )

    def status(self, request: pb.PodSandboxStatusRequest, context: Any) -> Any:
        for pod in self.current():
            if pod.id == request.pod_sandbox_id:
                return pb.PodSandboxStatusResponse(
                    status=pb.PodSandboxStatus(
                        id=pod.id, metadata=pod.metadata, state=pod.state, labels=pod.labels
                    )
                )
        context.abort(grpc.StatusCode.NOT_FOUND, "an error occurred when try to find sandbox")

    def stop(self, request: pb.StopPodSandboxRequest, context: Any) -> Any:
        if request.pod_sandbox_id == POD_IDS[1]:
            context.abort(grpc.StatusCode.UNKNOWN, "failed to destroy network for sandbox")
        self.stopped.add(request.pod_sandbox_id)
        return pb.StopPodSandboxResponse()

    def remove(self, request: pb.RemovePodSandboxRequest, context: Any) -> Any:
        self.removed.append(request.pod_sandbox_id)
        return pb.RemovePodSandboxResponse()

    def handlers(self) -> dict[str, Handler]:
        return {
            "ListPodSandbox": self.listing,
            "PodSandboxStatus": self.status,
            "ListContainers": lambda r, c: pb.ListContainersResponse(),
            "StopPodSandbox": self.stop,
            "RemovePodSandbox": self.remove,
        }


def test_pods_stop_many_picks_the_ready_pods_and_reports_each(sock: str) -> None:
    runtime = PodRuntime()
    with FakeRuntime(sock, runtime.handlers()) as fake, CRIClient(fake.endpoint) as cri:
        outcomes = cri.pods.stop_many("team=batch,team!=web", grace_period=3, parallel=2)
    assert [(o.id, o.name, o.ok) for o in outcomes] == [
        (POD_IDS[1], "p1", False),  # newest first, as pods.list()
        (POD_IDS[0], "p0", True),
    ]
    assert outcomes[1].result is not None and not outcomes[1].result.ready
    assert "failed to destroy network" in str(outcomes[0].error)
    assert runtime.stopped == {POD_IDS[0]} and fake.calls.count("StopPodSandbox") == 2


def test_pods_remove_many_refuses_ready_pods_unless_forced(sock: str) -> None:
    runtime = PodRuntime()
    with FakeRuntime(sock, runtime.handlers()) as fake, CRIClient(fake.endpoint) as cri:
        refused = cri.pods.remove_many({"team": "batch"})
        assert [(o.name, type(o.error)) for o in refused] == [
            ("p2", type(None)),
            ("p1", FailedPreconditionError),
            ("p0", FailedPreconditionError),
        ]
        assert runtime.removed == [POD_IDS[2]] and "StopPodSandbox" not in fake.calls
        forced = cri.pods.remove_many([POD_IDS[0], "p1", "gone"], force=True, grace_period=2)
    assert [(o.id, o.name, o.ok) for o in forced] == [
        (POD_IDS[0], "p0", True),
        (POD_IDS[1], "p1", False),  # its stop failed: not removed
        ("gone", "", False),
    ]
    assert type(forced[2].error) is NotFoundError
    assert runtime.removed == [POD_IDS[2], POD_IDS[0]]


def test_pods_bulk_in_asyncio_too(sock: str) -> None:
    async def scenario(endpoint: str) -> list[Any]:
        async with AsyncCRIClient(endpoint) as acri:
            return await acri.pods.remove_many("team=batch", force=True, parallel=3)

    runtime = PodRuntime()
    with FakeRuntime(sock, runtime.handlers()) as fake:
        outcomes = asyncio.run(scenario(fake.endpoint))
    assert [(o.name, o.ok) for o in outcomes] == [("p2", True), ("p1", False), ("p0", True)]
    assert sorted(runtime.removed) == sorted([POD_IDS[0], POD_IDS[2]])


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda cri: cri.pods.stop_many("team in (a"), ValueError),
        (lambda cri: cri.pods.stop_many("team=batch", grace_period=-1), ValueError),
        (lambda cri: cri.pods.stop_many("team=batch", parallel=0), ValueError),
        (lambda cri: cri.pods.stop_many(42), TypeError),
        (lambda cri: cri.pods.remove_many(["p0", ""]), ValueError),
        (lambda cri: cri.pods.remove_many("team=batch", grace_period=5), ValueError),
        (lambda cri: cri.pods.remove_many("team=batch", force=True, grace_period=-5), ValueError),
        # An empty selector would pick every pod or container on the node.
        (lambda cri: cri.pods.remove_many("", force=True), ValueError),
        (lambda cri: cri.pods.stop_many({}), ValueError),
        (lambda cri: cri.pods.remove_many(" ", force=True), ValueError),
        (lambda cri: cri.containers.remove_many({}, force=True), ValueError),
        (lambda cri: cri.containers.stop_many(""), ValueError),
        (lambda cri: cri.containers.exec_many("", ["true"]), ValueError),
    ],
)
def test_pod_bulk_arguments_are_checked_before_any_rpc(sock: str, call: Any, error: type) -> None:
    with FakeRuntime(sock, PodRuntime().handlers()) as fake, CRIClient(fake.endpoint) as cri:
        with pytest.raises(error):
            call(cri)
        assert fake.calls == []
