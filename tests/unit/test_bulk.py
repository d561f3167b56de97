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
    with FakeRuntime(sock, HANDLERS) as fake, CRIClient(fake.endpoint) as cri:
        outcomes = cri.containers.exec_many(["c0", "nothing"], ["true"])
        assert (outcomes[0].name, outcomes[0].ok) == ("c0", True)
        assert (outcomes[1].id, outcomes[1].name, type(outcomes[1].error)) == (
            "nothing",
            "",
            NotFoundError,
        )
