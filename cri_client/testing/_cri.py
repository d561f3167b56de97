"""The few CRI calls the throwaway runtime makes itself, over raw generated stubs.

Readiness and cleanup deliberately avoid :class:`cri_client.CRIClient`: the
runtime used to test the client must not depend on the client working.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol, cast

import grpc

from cri_client._proto import api_pb2 as pb
from cri_client._proto import api_pb2_grpc

log = logging.getLogger("cri_client.testing")


class RuntimeService(Protocol):
    """The typed subset of the generated RuntimeServiceStub used here."""

    Version: grpc.UnaryUnaryMultiCallable[pb.VersionRequest, pb.VersionResponse]
    Status: grpc.UnaryUnaryMultiCallable[pb.StatusRequest, pb.StatusResponse]
    ListContainers: grpc.UnaryUnaryMultiCallable[
        pb.ListContainersRequest, pb.ListContainersResponse
    ]
    StopContainer: grpc.UnaryUnaryMultiCallable[pb.StopContainerRequest, pb.StopContainerResponse]
    RemoveContainer: grpc.UnaryUnaryMultiCallable[
        pb.RemoveContainerRequest, pb.RemoveContainerResponse
    ]
    ListPodSandbox: grpc.UnaryUnaryMultiCallable[
        pb.ListPodSandboxRequest, pb.ListPodSandboxResponse
    ]
    StopPodSandbox: grpc.UnaryUnaryMultiCallable[
        pb.StopPodSandboxRequest, pb.StopPodSandboxResponse
    ]
    RemovePodSandbox: grpc.UnaryUnaryMultiCallable[
        pb.RemovePodSandboxRequest, pb.RemovePodSandboxResponse
    ]


@contextlib.contextmanager
def runtime_service(socket_path: Path) -> Iterator[RuntimeService]:
    with grpc.insecure_channel(f"unix://{socket_path}") as channel:
        stub_class: Callable[[grpc.Channel], RuntimeService] = api_pb2_grpc.RuntimeServiceStub
        yield stub_class(channel)


def wait_until_ready(
    socket_path: Path, timeout: float, still_starting: Callable[[], bool]
) -> pb.VersionResponse:
    """Poll until Version answers and Status reports RuntimeReady and NetworkReady
    (NetworkReady needs the CNI conflist to have loaded). Raises RuntimeError with
    the last thing seen when ``still_starting()`` turns false or time runs out."""
    deadline = time.monotonic() + timeout
    last = "no socket yet"
    while still_starting() and time.monotonic() < deadline:
        if socket_path.exists():
            try:
                with runtime_service(socket_path) as runtime:
                    version = runtime.Version(pb.VersionRequest(version="v1"), timeout=2)
                    status = runtime.Status(pb.StatusRequest(), timeout=2)
            except grpc.RpcError as exc:
                rpc_error = cast(grpc.Call, exc)
                last = f"{rpc_error.code().name}: {rpc_error.details()}"
            else:
                conditions = {c.type: c.status for c in status.status.conditions}
                if conditions.get("RuntimeReady") and conditions.get("NetworkReady"):
                    return version
                last = f"conditions {conditions}"
        time.sleep(0.05)
    raise RuntimeError(f"CRI not ready ({last})")


def remove_all_pods(socket_path: Path) -> None:
    """Stop (timeout 0) and remove every container, then stop and remove every pod
    sandbox, so containerd itself stops shims, unmounts rootfs, deletes the netns
    and calls CNI DEL. Errors are logged, not raised: teardown goes on regardless."""
    with runtime_service(socket_path) as runtime:
        try:
            containers = runtime.ListContainers(pb.ListContainersRequest(), timeout=10).containers
            pods = runtime.ListPodSandbox(pb.ListPodSandboxRequest(), timeout=10).items
        except grpc.RpcError as exc:
            log.warning("CRI cleanup: cannot list: %s", exc)
            return
        for container in containers:
            try:
                runtime.StopContainer(
                    pb.StopContainerRequest(container_id=container.id, timeout=0), timeout=30
                )
                runtime.RemoveContainer(
                    pb.RemoveContainerRequest(container_id=container.id), timeout=30
                )
            except grpc.RpcError as exc:
                log.warning("CRI cleanup: container %s: %s", container.id[:12], exc)
        for pod in pods:
            try:
                runtime.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=pod.id), timeout=60)
                runtime.RemovePodSandbox(
                    pb.RemovePodSandboxRequest(pod_sandbox_id=pod.id), timeout=60
                )
            except grpc.RpcError as exc:
                log.warning("CRI cleanup: pod %s: %s", pod.id[:12], exc)
