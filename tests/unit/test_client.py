"""CRIClient behaviour that needs no real runtime: requests, deadlines, lists, closing."""

from __future__ import annotations

import json
import math
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import pytest

from cri_client import CRIClient, RuntimeHandler
from cri_client import _api as rpcs
from cri_client._proto import api_pb2 as pb
from cri_client._rpc import DeadlinePolicy
from cri_client._sync.support import CONTAINERS, POD_SANDBOXES
from cri_client.errors import (
    ClientClosedError,
    DeadlineExceededError,
    EndpointError,
    UnavailableError,
)

from .fake_runtime import FakeRuntime, abort_with, stream_of


def version_reply(request: pb.VersionRequest, context: Any) -> pb.VersionResponse:
    return pb.VersionResponse(
        version="0.1.0",
        runtime_name="fake",
        runtime_version="9.9." + request.version,
        runtime_api_version="v1",
    )


def test_version_and_status_are_decoded(sock: str) -> None:
    def status(request: pb.StatusRequest, context: Any) -> pb.StatusResponse:
        info = {"config": json.dumps({"sandboxImage": "pause"}), "raw": "not json"}
        return pb.StatusResponse(
            status=pb.RuntimeStatus(
                conditions=[
                    pb.RuntimeCondition(type="RuntimeReady", status=True),
                    pb.RuntimeCondition(type="NetworkReady", status=False, reason="NoCNI"),
                ]
            ),
            runtime_handlers=[
                pb.RuntimeHandler(name="runsc", features={"user_namespaces": True}),
            ],
            info=info if request.verbose else {},
        )

    handlers = {"Version": version_reply, "Status": status}
    with FakeRuntime(sock, handlers) as fake, CRIClient(fake.endpoint) as cri:
        version = cri.version()
        assert (version.runtime_name, version.runtime_version) == ("fake", "9.9.v1")
        assert str(version) == "fake 9.9.v1 (CRI v1)"
        quiet = cri.status()
        assert quiet.ready and not quiet.network_ready
        assert quiet.condition("NetworkReady").reason == "NoCNI"  # type: ignore[union-attr]
        assert quiet.handlers == (RuntimeHandler("runsc", False, True),)
        assert quiet.info == {} and quiet.config is None
        verbose = cri.status(verbose=True)
        assert verbose.config == {"sandboxImage": "pause"}
        assert verbose.info["raw"] == "not json"


def test_request_from_fields_or_message_but_not_both(sock: str) -> None:
    with FakeRuntime(sock, {"Version": version_reply}) as fake, CRIClient(fake.endpoint) as cri:
        assert cri.api.version(version="x").runtime_version == "9.9.x"
        assert cri.api.version(pb.VersionRequest(version="y")).runtime_version == "9.9.y"
        with pytest.raises(TypeError, match="not both"):
            cri.api.version(pb.VersionRequest(), version="z")
        with pytest.raises(TypeError, match="takes a VersionRequest, not StatusRequest"):
            cri.api.version(pb.StatusRequest())  # type: ignore[arg-type]
        with pytest.raises(ValueError, match=r'Version: .*has no "nonsense" field'):
            cri.api.version(nonsense=1)
        assert fake.calls == ["Version", "Version"]


@pytest.mark.parametrize("bad", [0, -1, math.nan, "5", True])
def test_bad_rpc_timeout_is_refused_before_the_call(sock: str, bad: Any) -> None:
    with FakeRuntime(sock, {"Version": version_reply}) as fake, CRIClient(fake.endpoint) as cri:
        with pytest.raises((ValueError, TypeError), match="rpc_timeout"):
            cri.api.version(rpc_timeout=bad)
        assert fake.calls == []


def test_bad_client_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="timeout"):
        CRIClient("/x.sock", timeout=-1)
    with pytest.raises(ValueError, match="max_message_size"):
        CRIClient("/x.sock", max_message_size=0)


def test_deadline_policy_per_operation() -> None:
    policy = DeadlinePolicy(10)
    assert policy.deadline(rpcs.VERSION, pb.VersionRequest(), None) == 10
    assert policy.deadline(rpcs.RUN_POD_SANDBOX, pb.RunPodSandboxRequest(), None) == 20
    stop = pb.StopContainerRequest(timeout=30)
    assert policy.deadline(rpcs.STOP_CONTAINER, stop, None) == 40
    assert policy.deadline(rpcs.EXEC_SYNC, pb.ExecSyncRequest(timeout=5), None) == 15
    assert policy.deadline(rpcs.EXEC_SYNC, pb.ExecSyncRequest(), None) == 10
    assert policy.deadline(rpcs.PULL_IMAGE, pb.PullImageRequest(), None) is None
    assert policy.deadline(rpcs.GET_CONTAINER_EVENTS, pb.GetEventsRequest(), None) is None
    assert policy.deadline(rpcs.LIST_CONTAINERS, pb.ListContainersRequest(), None) == 10
    assert policy.deadline(rpcs.PULL_IMAGE, pb.PullImageRequest(), 3.5) == 3.5
    assert policy.deadline(rpcs.VERSION, pb.VersionRequest(), math.inf) is None


def test_stalled_runtime_gives_deadline_exceeded(sock: str) -> None:
    release = threading.Event()

    def stall(request: Any, context: Any) -> pb.VersionResponse:
        release.wait(10)
        return pb.VersionResponse()

    def stall_stream(request: Any, context: Any) -> Any:
        release.wait(10)
        yield pb.ContainerEventResponse()

    handlers = {"Version": stall, "GetContainerEvents": stall_stream}
    try:
        with FakeRuntime(sock, handlers) as fake, CRIClient(fake.endpoint, timeout=0.3) as cri:
            started = time.monotonic()
            with pytest.raises(DeadlineExceededError, match="Version"):
                cri.version()
            assert time.monotonic() - started < 5
            events = cri.api.get_container_events(rpc_timeout=0.3)
            with pytest.raises(DeadlineExceededError, match="GetContainerEvents"):
                next(events)
    finally:
        release.set()


def test_closing_a_stream_cancels_it(sock: str) -> None:
    gate = threading.Event()

    def endless(request: Any, context: Any) -> Any:
        yield pb.ContainerEventResponse(container_id="first")
        gate.wait(10)

    try:
        with FakeRuntime(sock, {"GetContainerEvents": endless}) as fake:
            with CRIClient(fake.endpoint) as cri:
                with cri.api.get_container_events() as events:
                    assert next(events).container_id == "first"
                assert list(events) == []
    finally:
        gate.set()


def test_closed_client_refuses_calls(sock: str) -> None:
    with FakeRuntime(sock, {"Version": version_reply}) as fake:
        cri = CRIClient(fake.endpoint)
        assert cri.version().runtime_name == "fake"
        cri.close()
        assert "closed" in repr(cri)
        with pytest.raises(ClientClosedError, match="closed"):
            cri.version()


def test_stale_socket_is_unavailable_and_missing_socket_is_explained(tmp_path: Any) -> None:
    stale = tmp_path / "stale.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(stale))
    listener.close()  # the file stays, nobody listens
    with CRIClient(str(stale)) as cri, pytest.raises(UnavailableError) as info:
        cri.version()
    assert type(info.value) is UnavailableError
    assert f"runtime at unix://{stale}, from argument" in str(info.value)

    started = time.monotonic()
    with CRIClient(str(tmp_path / "gone.sock")) as cri, pytest.raises(EndpointError) as info2:
        cri.version()
    assert time.monotonic() - started < 1
    assert "does not exist" in str(info2.value)


def test_lists_prefer_stream_rpcs_and_remember_when_missing(sock: str) -> None:
    pods = [pb.PodSandbox(id=f"p{i}") for i in range(3)]
    handlers = {
        "StreamPodSandboxes": stream_of(
            pb.StreamPodSandboxesResponse(pod_sandboxes=pods[:2]),
            pb.StreamPodSandboxesResponse(pod_sandboxes=pods[2:]),
        ),
        "ListPodSandbox": lambda r, c: pb.ListPodSandboxResponse(items=pods[:1]),
        "ListContainers": lambda r, c: pb.ListContainersResponse(
            containers=[pb.Container(id="c1", pod_sandbox_id=r.filter.pod_sandbox_id)]
        ),
        "StreamContainers": abort_with(grpc.StatusCode.UNIMPLEMENTED, "unknown method"),
    }
    with FakeRuntime(sock, handlers) as fake, CRIClient(fake.endpoint) as cri:
        assert [p.id for p in cri._lister.list(POD_SANDBOXES)] == ["p0", "p1", "p2"]
        assert cri._lister.uses_stream(POD_SANDBOXES)
        first = cri._lister.list(CONTAINERS, pb.ContainerFilter(pod_sandbox_id="p0"))
        second = cri._lister.list(CONTAINERS)
        assert [(c.id, c.pod_sandbox_id) for c in first] == [("c1", "p0")]
        assert [(c.id, c.pod_sandbox_id) for c in second] == [("c1", "")]
        assert not cri._lister.uses_stream(CONTAINERS)
        assert fake.calls == [
            "StreamPodSandboxes",
            "StreamContainers",
            "ListContainers",
            "ListContainers",
        ]


def test_one_client_serves_many_threads(sock: str) -> None:
    with FakeRuntime(sock, {"Version": version_reply}) as fake, CRIClient(fake.endpoint) as cri:
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(
                pool.map(lambda i: cri.api.version(version=str(i)).runtime_version, range(200))
            )
    assert answers == [f"9.9.{i}" for i in range(200)]


def test_raw_stubs_share_the_channel(sock: str) -> None:
    with FakeRuntime(sock, {"Version": version_reply}) as fake, CRIClient(fake.endpoint) as cri:
        reply = cri.runtime_stub.Version(pb.VersionRequest(version="raw"), timeout=5)
        assert reply.runtime_version == "9.9.raw"
        assert cri.image_stub is not None


@pytest.mark.parametrize("reply", [b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", None])
def test_a_socket_that_does_not_speak_grpc_is_reported_within_a_second(
    tmp_path: Any, reply: bytes | None
) -> None:
    path = str(tmp_path / "not-grpc.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen()
    held = []

    def serve() -> None:  # an HTTP/1 server, or one that accepts and never speaks
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            held.append(conn)
            if reply is not None:
                conn.recv(1024)
                conn.sendall(reply)
                conn.close()

    threading.Thread(target=serve, daemon=True).start()
    try:
        with CRIClient(path, timeout=30) as cri:
            started = time.monotonic()
            with pytest.raises(UnavailableError, match="not a gRPC server"):
                cri.version()
            assert time.monotonic() - started < 2
    finally:
        listener.close()
        for conn in held:
            conn.close()


def test_removing_by_full_id_needs_no_listing(sock: str) -> None:
    container_id = "c" * 64
    status = pb.ContainerStatus(
        id=container_id, metadata=pb.ContainerMetadata(name="app"), state=pb.CONTAINER_EXITED
    )
    handlers = {
        "ContainerStatus": lambda r, c: pb.ContainerStatusResponse(status=status),
        "RemoveContainer": lambda r, c: pb.RemoveContainerResponse(),
        "ListContainers": lambda r, c: pb.ListContainersResponse(),
    }
    with FakeRuntime(sock, handlers) as fake, CRIClient(fake.endpoint) as cri:
        cri.containers.remove(container_id)
        assert fake.calls == ["ContainerStatus", "RemoveContainer"]


def test_a_high_level_call_takes_a_deadline_for_the_whole_call(sock: str) -> None:
    """``rpc_timeout=`` on a high-level call bounds every RPC it makes (here a stalled
    list after a quick one), whatever the client's default; nested calls keep it."""
    release = threading.Event()

    def quick_status(request: Any, context: Any) -> pb.PodSandboxStatusResponse:
        return pb.PodSandboxStatusResponse(status=pb.PodSandboxStatus(id=request.pod_sandbox_id))

    def stalled_list(request: Any, context: Any) -> pb.ListContainersResponse:
        release.wait(10)
        return pb.ListContainersResponse()

    handlers = {"PodSandboxStatus": quick_status, "ListContainers": stalled_list}
    pod_id = "a" * 64
    try:
        with FakeRuntime(sock, handlers) as fake, CRIClient(fake.endpoint, timeout=30) as cri:
            pod = cri.pods.get(pod_id, rpc_timeout=5)
            assert pod.id == pod_id
            started = time.monotonic()
            with pytest.raises(DeadlineExceededError, match="ListContainers"):
                pod.containers(rpc_timeout=0.3)  # containers.list inside it: same deadline
            assert time.monotonic() - started < 5
            with pytest.raises(ValueError, match="rpc_timeout"):
                cri.pods.get(pod_id, rpc_timeout=0)
            assert fake.calls.count("PodSandboxStatus") == 1  # the bad one sent nothing
    finally:
        release.set()


def test_a_call_deadline_that_has_passed_sends_nothing() -> None:
    from cri_client._rpc import _start_call

    policy = DeadlinePolicy(10)
    token = _start_call(0.05)
    try:
        assert 0 < (policy.deadline(rpcs.VERSION, pb.VersionRequest(), None) or 0) <= 0.05
        assert policy.deadline(rpcs.VERSION, pb.VersionRequest(), 7) == 7  # explicit wins
        time.sleep(0.06)
        with pytest.raises(DeadlineExceededError, match="before Version was sent"):
            policy.deadline(rpcs.VERSION, pb.VersionRequest(), None)
    finally:
        assert token is not None
        from cri_client._rpc import _CALL_ENDS

        _CALL_ENDS.reset(token)
    assert policy.deadline(rpcs.VERSION, pb.VersionRequest(), None) == 10
