"""What the library makes of each runtime's answers, CRI-O's replayed.

CRI-O is not packaged in Debian, so CI cannot start one: these tests replay its exact
answers (CRI-O 1.36's codes and texts) through the fake runtime, and check the RPCs
the library sends for the behaviours that differ between runtimes (the stop of a
pod, the log directory, ``user_specified_image``, image ids). The same code paths
run against real containerd in tests/integration/test_compatibility.py, which is
where containerd's own answers are checked.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from pathlib import Path
from typing import Any

import grpc
import pytest

from cri_client import CRIClient
from cri_client import errors as e
from cri_client._core import runtimes
from cri_client._proto import api_pb2 as pb
from cri_client.aio import AsyncCRIClient
from cri_client.cli.main import main

from .fake_runtime import FakeRuntime, Handler, abort_with

POD_ID = "5d0c" + "1" * 60
CTR_ID = "c0de" + "2" * 60
OTHER_CTR_ID = "c0de" + "3" * 60
IMAGE_ID = "8135583d97feb82398909c9c97607159e6db2c4ca2c885c0b8f590ee0f9fe90d"
"""CRI-O's image ids are bare hex (containerd's: ``sha256:<hex>``)."""
IMAGE_TAG = "docker.io/library/busybox:1.36"

# CRI-O 1.36's answers, as the client receives them (code, details).
CRIO_PULL_ABSENT_TAG = (
    grpc.StatusCode.UNKNOWN,
    "reading manifest 9.99 in docker.io/library/busybox: manifest unknown",
)
CRIO_STATS_UNKNOWN_ID = (
    grpc.StatusCode.UNKNOWN,
    "container with ID starting with 0123abcd not found: ID does not exist",
)
CRIO_EXEC_UNKNOWN_ID = (
    grpc.StatusCode.UNKNOWN,
    'could not find container "0123abcd": container with ID starting with 0123abcd not '
    "found: ID does not exist",
)
CRIO_EXEC_EXITED = (
    grpc.StatusCode.NOT_FOUND,
    f'container is not created or running: could not find container "{CTR_ID}": container '
    f"with ID starting with {CTR_ID} not found: ID does not exist",
)
CRIO_CONTAINER_NAME_IN_USE = (
    grpc.StatusCode.UNKNOWN,
    'the container name "k8s_web_pod_default_uid_0" is already in use by 0123abcd. You have '
    "to remove that container to be able to reuse that name: that name is already in use",
)
CRIO_SANDBOX_NAME_IN_USE = (
    grpc.StatusCode.UNKNOWN,
    'the pod sandbox name "k8s_pod_default_uid_0" is already in use by 0123abcd. You have '
    "to remove that pod sandbox to be able to reuse that name: that name is already in use",
)
CRIO_NO_USER_SPECIFIED_IMAGE = (
    grpc.StatusCode.UNKNOWN,
    "user specified image not specified, cannot verify image signature",
)
CRIO_CONMON_NO_LOG_DIRECTORY = (grpc.StatusCode.UNKNOWN, "exit status 1")

# containerd's answers for the same conditions, as the integration tests see them.
CONTAINERD_CONTAINER_NAME_IN_USE_1_6 = (
    'failed to reserve container name "web_pod_default_uid_0": name '
    '"web_pod_default_uid_0" is reserved for "0434729af2e1852b165c1a190f1ebd16d23ef6d758ae'
    '8b26e264b49d2eb6b91f"'
)
CONTAINERD_CONTAINER_NAME_IN_USE_2_1 = (
    'failed to reserve container name "web_pod_default_uid_0"; check if another '
    'CreateContainer request is in progress: name "web_pod_default_uid_0" is reserved for '
    '"0434729af2e1852b165c1a190f1ebd16d23ef6d758ae8b26e264b49d2eb6b91f"'
)
CONTAINERD_SANDBOX_NAME_IN_USE = (
    'failed to reserve sandbox name "pod_default_uid_0": name "pod_default_uid_0" is '
    'reserved for "386c779301d7f58dbb9049a1344113a717313ab7bd2e6aed5452e40b70568790"'
)

_POD = "69d3d0af0de4e12a7b14ac58d7f860bee228b5ad4f989afc4d1725c52a92168d"
CONTAINERD_STOPPED_POD_STATS_1_6 = (
    f"failed to decode pod sandbox metrics {_POD}: failed to get pod sandbox stats since "
    f'sandbox container "{_POD}" is not in ready state'
)
CONTAINERD_STOPPED_POD_STATS_2_1 = CONTAINERD_STOPPED_POD_STATS_1_6 + ": unavailable"


def fail(answer: tuple[grpc.StatusCode, str]) -> Handler:
    return abort_with(*answer)


# --- the table of known answers -------------------------------------------------------------

SAMPLES: list[tuple[str, str, str, str]] = [
    ("GetContainerEvents", "UNKNOWN", "server is not initialized yet", "STARTING"),
    ("ListPodSandbox", "UNKNOWN", "server is not initialized yet", "STARTING"),
    ("PullImage", "UNKNOWN", CRIO_PULL_ABSENT_TAG[1], "NOT_FOUND"),
    ("ContainerStats", "UNKNOWN", CRIO_STATS_UNKNOWN_ID[1], "NOT_FOUND"),
    ("ExecSync", "UNKNOWN", CRIO_EXEC_UNKNOWN_ID[1], "NOT_FOUND"),
    ("Exec", "UNKNOWN", CRIO_EXEC_UNKNOWN_ID[1], "NOT_FOUND"),
    ("ExecSync", "NOT_FOUND", CRIO_EXEC_EXITED[1], "NOT_RUNNING"),
    (
        "ExecSync",
        "UNKNOWN",
        "failed to exec in container: container is in CONTAINER_EXITED state",
        "NOT_RUNNING",
    ),
    (
        "ExecSync",
        "UNKNOWN",
        "failed to exec in container: container is in CONTAINER_CREATED state",
        "NOT_RUNNING",
    ),
    ("Exec", "UNKNOWN", "container is in CONTAINER_EXITED state", "NOT_RUNNING"),
    (
        "CreateContainer",
        "UNKNOWN",
        CONTAINERD_CONTAINER_NAME_IN_USE_1_6,
        "ALREADY_EXISTS",
    ),
    (
        "CreateContainer",
        "FAILED_PRECONDITION",
        CONTAINERD_CONTAINER_NAME_IN_USE_2_1,
        "ALREADY_EXISTS",
    ),
    ("RunPodSandbox", "UNKNOWN", CONTAINERD_SANDBOX_NAME_IN_USE, "ALREADY_EXISTS"),
    (
        "RunPodSandbox",
        "FAILED_PRECONDITION",
        CONTAINERD_SANDBOX_NAME_IN_USE,
        "ALREADY_EXISTS",
    ),
    ("CreateContainer", "UNKNOWN", CRIO_CONTAINER_NAME_IN_USE[1], "ALREADY_EXISTS"),
    ("RunPodSandbox", "UNKNOWN", CRIO_SANDBOX_NAME_IN_USE[1], "ALREADY_EXISTS"),
    ("PodSandboxStats", "UNKNOWN", CONTAINERD_STOPPED_POD_STATS_1_6, "NOT_READY"),
    ("PodSandboxStats", "UNAVAILABLE", CONTAINERD_STOPPED_POD_STATS_2_1, "NOT_READY"),
]
"""One runtime text for every entry of ``runtimes.KNOWN_ANSWERS``, and what it means."""


@pytest.mark.parametrize(("rpc", "code", "details", "meaning"), SAMPLES)
def test_each_known_answer_is_recognized(rpc: str, code: str, details: str, meaning: str) -> None:
    assert runtimes.meaning_of(rpc, code, details) is runtimes.Meaning[meaning]


def test_every_entry_of_the_table_has_a_sample() -> None:
    used = {
        next(
            i
            for i, answer in enumerate(runtimes.KNOWN_ANSWERS)
            if answer.matches(rpc, code, details)
        )
        for rpc, code, details, _ in SAMPLES
    }
    assert used == set(range(len(runtimes.KNOWN_ANSWERS)))


@pytest.mark.parametrize(
    ("rpc", "code", "details"),
    [
        # The same text from another RPC, or with another code, keeps its own class.
        ("ContainerStatus", "UNKNOWN", CRIO_STATS_UNKNOWN_ID[1]),
        ("PullImage", "INTERNAL", CRIO_PULL_ABSENT_TAG[1]),
        ("RemovePodSandbox", "UNKNOWN", CONTAINERD_SANDBOX_NAME_IN_USE),
        # Loose words are not the runtime's phrase.
        ("PullImage", "UNKNOWN", "pinging container registry: manifest not found here"),
        ("ExecSync", "UNKNOWN", "failed to exec in container: not found"),
        ("ContainerStats", "UNKNOWN", "cgroup not found: ID does not exist in this file"),
        ("CreateContainer", "UNKNOWN", "that name is already in use"),
        ("PodSandboxStats", "UNAVAILABLE", "connection refused"),  # the runtime is down
        ("ContainerStats", "UNKNOWN", CONTAINERD_STOPPED_POD_STATS_1_6),
    ],
)
def test_other_texts_are_not_guessed_at(rpc: str, code: str, details: str) -> None:
    assert runtimes.meaning_of(rpc, code, details) is None


@pytest.mark.parametrize(
    ("call", "handlers", "expected"),
    [
        pytest.param(
            lambda cri: cri.images.pull("busybox:9.99"),
            {"PullImage": fail(CRIO_PULL_ABSENT_TAG)},
            ("NotFoundError", CRIO_PULL_ABSENT_TAG),
            id="PullImage-absent-tag",
        ),
        pytest.param(
            lambda cri: cri.api.container_stats(container_id="0123abcd"),
            {"ContainerStats": fail(CRIO_STATS_UNKNOWN_ID)},
            ("NotFoundError", CRIO_STATS_UNKNOWN_ID),
            id="ContainerStats-unknown-id",
        ),
        pytest.param(
            lambda cri: cri.api.exec_sync(container_id="0123abcd", cmd=["true"]),
            {"ExecSync": fail(CRIO_EXEC_UNKNOWN_ID)},
            ("NotFoundError", CRIO_EXEC_UNKNOWN_ID),
            id="ExecSync-unknown-id",
        ),
        pytest.param(
            lambda cri: cri.api.exec(container_id="0123abcd", cmd=["true"], stdout=True),
            {"Exec": fail(CRIO_EXEC_UNKNOWN_ID)},
            ("NotFoundError", CRIO_EXEC_UNKNOWN_ID),
            id="Exec-unknown-id",
        ),
        pytest.param(
            lambda cri: cri.api.exec_sync(container_id=CTR_ID, cmd=["true"]),
            {"ExecSync": fail(CRIO_EXEC_EXITED)},
            ("ContainerNotRunningError", CRIO_EXEC_EXITED),
            id="ExecSync-exited",
        ),
        pytest.param(
            lambda cri: cri.api.create_container(pod_sandbox_id=POD_ID),
            {"CreateContainer": fail(CRIO_CONTAINER_NAME_IN_USE)},
            ("AlreadyExistsError", CRIO_CONTAINER_NAME_IN_USE),
            id="CreateContainer-name-in-use",
        ),
        pytest.param(
            lambda cri: cri.api.run_pod_sandbox(),
            {"RunPodSandbox": fail(CRIO_SANDBOX_NAME_IN_USE)},
            ("AlreadyExistsError", CRIO_SANDBOX_NAME_IN_USE),
            id="RunPodSandbox-name-in-use",
        ),
    ],
)
def test_crio_answers_raise_the_class_of_what_they_mean_and_keep_code_and_text(
    sock: str, call: Any, handlers: dict[str, Handler], expected: Any
) -> None:
    class_name, (code, details) = expected
    with FakeRuntime(sock, handlers) as fake, CRIClient(fake.endpoint) as cri:
        with pytest.raises(e.CRIError) as info:
            call(cri)
    assert type(info.value) is getattr(e, class_name)
    assert info.value.code == code
    assert info.value.details == details


def test_exec_on_an_exited_container_says_it_is_not_running(sock: str) -> None:
    handlers = {"ContainerStatus": container_status_reply, "ExecSync": fail(CRIO_EXEC_EXITED)}
    with FakeRuntime(sock, handlers) as fake, CRIClient(fake.endpoint) as cri:
        ctr = cri.containers.get(CTR_ID)
        with pytest.raises(e.ContainerNotRunningError) as info:
            ctr.exec(["true"])
    assert isinstance(info.value, e.FailedPreconditionError)
    assert info.value.code == grpc.StatusCode.NOT_FOUND
    assert "container is not created or running" in str(info.value)


# --- replies -----------------------------------------------------------------------------


def pod_message(
    name: str = "web",
    namespace: str = "default",
    state: int = pb.SANDBOX_READY,
    pod_id: str = POD_ID,
) -> pb.PodSandbox:
    return pb.PodSandbox(
        id=pod_id,
        metadata=pb.PodSandboxMetadata(name=name, namespace=namespace, uid="uid-1"),
        state=state,
    )


def pod_status(state: int = pb.SANDBOX_READY) -> pb.PodSandboxStatusResponse:
    return pb.PodSandboxStatusResponse(
        status=pb.PodSandboxStatus(
            id=POD_ID,
            metadata=pb.PodSandboxMetadata(name="web", namespace="default", uid="uid-1"),
            state=state,
        )
    )


def container_status_reply(request: Any, context: Any) -> pb.ContainerStatusResponse:
    """A running container; its verbose info names its pod, as CRI-O's does."""
    status = pb.ContainerStatus(
        id=request.container_id,
        metadata=pb.ContainerMetadata(name="app"),
        state=pb.CONTAINER_RUNNING,
    )
    info = {"info": json.dumps({"sandboxID": POD_ID})} if request.verbose else {}
    return pb.ContainerStatusResponse(status=status, info=info)


def pod_handlers(ready: list[pb.PodSandbox] | None = None) -> dict[str, Handler]:
    """What ``pods.run`` asks: the ready pods (for the name check), the new sandbox, its
    status; and ``containers.create`` the new container's status."""
    return {
        "ListPodSandbox": lambda r, c: pb.ListPodSandboxResponse(items=ready or []),
        "RunPodSandbox": lambda r, c: pb.RunPodSandboxResponse(pod_sandbox_id=POD_ID),
        "PodSandboxStatus": lambda r, c: pod_status(),
        "ContainerStatus": container_status_reply,
    }


# --- 1. the log directory --------------------------------------------------------------------


def conmon_create(request: pb.CreateContainerRequest, context: Any) -> Any:
    """CRI-O's CreateContainer: conmon opens the log file, and fails when its directory
    is missing (containerd creates it)."""
    path = os.path.join(request.sandbox_config.log_directory, request.config.log_path)
    if not os.path.isdir(os.path.dirname(path)):
        context.abort(*CRIO_CONMON_NO_LOG_DIRECTORY)
    return pb.CreateContainerResponse(container_id=CTR_ID)


def test_create_makes_the_container_log_directory_conmon_needs(sock: str, tmp_path: Path) -> None:
    logs = tmp_path / "pod-logs"
    handlers = {**pod_handlers(), "CreateContainer": conmon_create}
    with FakeRuntime(sock, handlers) as fake, CRIClient(fake.endpoint) as cri:
        pod = cri.pods.run("web", log_directory=str(logs))
        ctr = cri.containers.create(pod, "app", IMAGE_TAG)
    assert ctr.id == CTR_ID
    assert sorted(p.name for p in logs.iterdir()) == ["app"]


def test_a_failed_create_removes_only_the_log_directory_it_made(sock: str, tmp_path: Path) -> None:
    logs = tmp_path / "pod-logs"
    (logs / "kept").mkdir(parents=True)
    handlers = {
        **pod_handlers(),
        "CreateContainer": fail((grpc.StatusCode.UNKNOWN, "exit status 1")),
        "ImageStatus": lambda r, c: pb.ImageStatusResponse(image=pb.Image(id=IMAGE_ID)),
    }
    with FakeRuntime(sock, handlers) as fake, CRIClient(fake.endpoint) as cri:
        pod = cri.pods.run("web", log_directory=str(logs))
        for name in ("app", "kept"):
            with pytest.raises(e.UnknownError, match="exit status 1"):
                cri.containers.create(pod, name, IMAGE_TAG)
    assert sorted(p.name for p in logs.iterdir()) == ["kept"]


@pytest.mark.parametrize("existed", [False, True])
def test_a_refused_pod_takes_its_new_log_directory_with_it(
    sock: str, tmp_path: Path, existed: bool
) -> None:
    logs = tmp_path / "pod-logs"
    if existed:
        logs.mkdir()
    handlers = {
        "ListPodSandbox": lambda r, c: pb.ListPodSandboxResponse(),
        "RunPodSandbox": fail((grpc.StatusCode.UNKNOWN, "failed to create pod network")),
    }
    with FakeRuntime(sock, handlers) as fake, CRIClient(fake.endpoint) as cri:
        with pytest.raises(e.UnknownError, match="pod network"):
            cri.pods.run("web", log_directory=str(logs))
    assert logs.is_dir() is existed


# --- 2. stopping a pod: its containers first, with the caller's grace period ----------------


class StopRecorder:
    """A ready pod with two running containers; records what each stop call sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []
        self.lock = threading.Lock()
        self.stopped = False

    def record(self, rpc: str, detail: Any = None) -> None:
        with self.lock:
            self.sent.append((rpc, detail))

    def handlers(self) -> dict[str, Handler]:
        def status(request: Any, context: Any) -> Any:
            self.record("PodSandboxStatus")
            return pod_status(state=pb.SANDBOX_NOTREADY if self.stopped else pb.SANDBOX_READY)

        def list_containers(request: Any, context: Any) -> Any:
            self.record("ListContainers", (request.filter.pod_sandbox_id, request.filter.state))
            running = [
                pb.Container(id=ctr_id, pod_sandbox_id=POD_ID, state=pb.CONTAINER_RUNNING)
                for ctr_id in (CTR_ID, OTHER_CTR_ID)
            ]
            return pb.ListContainersResponse(containers=running)

        def stop_container(request: Any, context: Any) -> Any:
            self.record("StopContainer", (request.container_id, request.timeout))
            return pb.StopContainerResponse()

        def stop_sandbox(request: Any, context: Any) -> Any:
            self.record("StopPodSandbox", request.pod_sandbox_id)
            self.stopped = True
            return pb.StopPodSandboxResponse()

        def remove_sandbox(request: Any, context: Any) -> Any:
            self.record("RemovePodSandbox", request.pod_sandbox_id)
            return pb.RemovePodSandboxResponse()

        return {
            "PodSandboxStatus": status,
            "ListContainers": list_containers,
            "StopContainer": stop_container,
            "StopPodSandbox": stop_sandbox,
            "RemovePodSandbox": remove_sandbox,
            "ListPodSandbox": lambda request, context: pb.ListPodSandboxResponse(),  # after it
        }

    def expected(self, seconds: int, *, removed: bool) -> list[tuple[str, Any]]:
        running = pb.ContainerStateValue(state=pb.CONTAINER_RUNNING)
        sent = [
            ("ListContainers", (POD_ID, running)),
            ("StopContainer", (CTR_ID, seconds)),
            ("StopContainer", (OTHER_CTR_ID, seconds)),
            ("StopPodSandbox", POD_ID),
            ("PodSandboxStatus", None),
        ]
        return (
            [("PodSandboxStatus", None), *sent, ("RemovePodSandbox", POD_ID)] if removed else sent
        )

    def in_order(self) -> list[tuple[str, Any]]:
        """What was sent; the containers are stopped at once, so their order is free."""
        stops = sorted(s for s in self.sent if s[0] == "StopContainer")
        first = next((i for i, s in enumerate(self.sent) if s[0] == "StopContainer"), 0)
        return [*self.sent[:first], *stops, *self.sent[first + len(stops) :]]


def test_forced_removal_kills_each_container_before_stopping_the_sandbox(sock: str) -> None:
    """CRI-O spends what is left of StopPodSandbox's deadline as the grace period (59 s
    a pod whose processes ignore SIGTERM); the library stops the containers first, with
    timeout 0 for a forced removal, so the sandbox has nothing left to wait for."""
    recorder = StopRecorder()
    with FakeRuntime(sock, recorder.handlers()) as fake, CRIClient(fake.endpoint) as cri:
        cri.pods.remove(POD_ID, force=True)
    assert recorder.in_order() == recorder.expected(0, removed=True)


def test_stop_gives_each_container_the_grace_period(sock: str) -> None:
    recorder = StopRecorder()
    with FakeRuntime(sock, recorder.handlers()) as fake, CRIClient(fake.endpoint) as cri:
        stopped = cri.pods.stop(POD_ID, grace_period=7)
    assert not stopped.ready
    assert recorder.in_order() == [("PodSandboxStatus", None), *recorder.expected(7, removed=False)]


def test_asyncio_removal_with_a_grace_period_sends_the_same(sock: str) -> None:
    recorder = StopRecorder()

    async def scenario(endpoint: str) -> None:
        async with AsyncCRIClient(endpoint) as cri:
            await cri.pods.remove(POD_ID, force=True, grace_period=2.5)

    with FakeRuntime(sock, recorder.handlers()) as fake:
        asyncio.run(scenario(fake.endpoint))
    assert recorder.in_order() == recorder.expected(3, removed=True)


def test_grace_period_is_checked_before_any_rpc(sock: str) -> None:
    recorder = StopRecorder()
    with FakeRuntime(sock, recorder.handlers()) as fake, CRIClient(fake.endpoint) as cri:
        with pytest.raises(ValueError, match="needs force=True"):
            cri.pods.remove(POD_ID, grace_period=5)
        with pytest.raises(ValueError, match="grace_period"):
            cri.pods.remove(POD_ID, force=True, grace_period=-1)
        with pytest.raises(ValueError, match="grace_period"):
            cri.pods.stop(POD_ID, grace_period=float("nan"))
    assert recorder.sent == []


# --- 3. the ExecSync timeout -------------------------------------------------------------


def crio_exec_timeout(request: Any, context: Any) -> pb.ExecSyncResponse:
    """CRI-O 1.36: a command past its timeout is an OK reply with exit code -1."""
    return pb.ExecSyncResponse(exit_code=-1, stdout=b"", stderr=b"command timed out")


def test_crio_exec_timeout_raises_exec_timeout_error(sock: str) -> None:
    handlers = {"ContainerStatus": container_status_reply, "ExecSync": crio_exec_timeout}
    with FakeRuntime(sock, handlers) as fake, CRIClient(fake.endpoint) as cri:
        ctr = cri.containers.get(CTR_ID)
        with pytest.raises(e.ExecTimeoutError) as info:
            ctr.exec(["sleep", "5"], timeout=1)
    assert isinstance(info.value, e.DeadlineExceededError)
    assert str(info.value) == (
        f"ExecSync(container_id={CTR_ID}): DEADLINE_EXCEEDED: ['sleep', '5'] did not finish "
        "within 1 s (command timed out)"
    )


def test_crio_exec_timeout_in_asyncio_too(sock: str) -> None:
    async def scenario(endpoint: str) -> None:
        async with AsyncCRIClient(endpoint) as cri:
            ctr = await cri.containers.get(CTR_ID)
            with pytest.raises(e.ExecTimeoutError):
                await ctr.exec(["sleep", "5"], timeout=1)

    handlers = {"ContainerStatus": container_status_reply, "ExecSync": crio_exec_timeout}
    with FakeRuntime(sock, handlers) as fake:
        asyncio.run(scenario(fake.endpoint))


def test_exit_code_minus_one_with_other_output_is_a_result(sock: str) -> None:
    def reply(request: Any, context: Any) -> pb.ExecSyncResponse:
        return pb.ExecSyncResponse(exit_code=-1, stderr=b"something else")

    handlers = {"ContainerStatus": container_status_reply, "ExecSync": reply}
    with FakeRuntime(sock, handlers) as fake, CRIClient(fake.endpoint) as cri:
        result = cri.containers.get(CTR_ID).exec(["x"])
    assert (result.exit_code, result.stderr) == (-1, b"something else")


def test_cli_exec_sync_timeout_exits_124_on_crio(
    sock: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    crictl_yaml = tmp_path / "crictl.yaml"
    crictl_yaml.write_text("debug: false\n")
    monkeypatch.setenv("CRI_CONFIG_FILE", str(crictl_yaml))
    handlers = {"ContainerStatus": container_status_reply, "ExecSync": crio_exec_timeout}
    with FakeRuntime(sock, handlers) as fake:
        code = main(["-r", fake.endpoint, "exec", "-s", "--timeout", "1", CTR_ID, "sleep", "5"])
    assert code == 124
    assert "did not finish within 1 s (command timed out)" in capsys.readouterr().err


# --- 4. user_specified_image -----------------------------------------------------------------


def signature_policy_create(request: pb.CreateContainerRequest, context: Any) -> Any:
    """CRI-O with a signature policy checks the image as the user named it."""
    if not request.config.image.user_specified_image:
        context.abort(*CRIO_NO_USER_SPECIFIED_IMAGE)
    assert request.config.image.user_specified_image == request.config.image.image
    return pb.CreateContainerResponse(container_id=CTR_ID)


def test_create_names_the_image_as_the_user_specified_it(sock: str, tmp_path: Path) -> None:
    handlers = {**pod_handlers(), "CreateContainer": signature_policy_create}
    with FakeRuntime(sock, handlers) as fake, CRIClient(fake.endpoint) as cri:
        pod = cri.pods.run("web", log_directory=str(tmp_path))
        assert cri.containers.create(pod, "app", IMAGE_TAG).id == CTR_ID
        config = pb.ContainerConfig(
            metadata=pb.ContainerMetadata(name="own"), image=pb.ImageSpec(image=IMAGE_TAG)
        )
        assert cri.containers.create(pod, "own", IMAGE_TAG, config=config).id == CTR_ID
    assert config.image.user_specified_image == ""  # the caller's message is not changed


# --- 6. image ids with and without sha256: ---------------------------------------------------


def crio_image_store() -> dict[str, Handler]:
    """CRI-O's image service for one image: bare hex ids; ImageStatus finds an id, an id
    prefix or a tag, and reads ``sha256:<hex>`` as the short name ``sha256`` with tag
    ``<hex>``, which it does not have: an empty reply."""
    image = pb.Image(id=IMAGE_ID, repo_tags=[IMAGE_TAG], size=4_400_000)

    def status(request: Any, context: Any) -> pb.ImageStatusResponse:
        asked = request.image.image
        if asked == IMAGE_TAG or (len(asked) >= 3 and IMAGE_ID.startswith(asked)):
            return pb.ImageStatusResponse(image=image)
        return pb.ImageStatusResponse()

    return {
        "ImageStatus": status,
        "ListImages": lambda r, c: pb.ListImagesResponse(images=[image]),
    }


@pytest.mark.parametrize(
    "reference",
    [f"sha256:{IMAGE_ID}", IMAGE_ID, f"sha256:{IMAGE_ID[:12]}", IMAGE_ID[:12], IMAGE_TAG],
)
def test_bare_image_ids_are_found_by_any_form_with_one_rpc(sock: str, reference: str) -> None:
    with FakeRuntime(sock, crio_image_store()) as fake, CRIClient(fake.endpoint) as cri:
        assert cri.images.get(reference).id == IMAGE_ID
        assert cri.images.exists(reference)
        assert fake.calls == ["ImageStatus", "ImageStatus"]


def test_an_absent_image_id_does_not_exist(sock: str) -> None:
    with FakeRuntime(sock, crio_image_store()) as fake, CRIClient(fake.endpoint) as cri:
        assert not cri.images.exists("sha256:" + "f" * 64)
        assert not cri.images.exists("docker.io/library/alpine:3")
        with pytest.raises(e.NotFoundError):
            cri.images.get("sha256:" + "f" * 12)
    assert fake.calls == ["ImageStatus", "ListImages", "ImageStatus", "ImageStatus", "ListImages"]


@pytest.mark.parametrize("image", [f"sha256:{IMAGE_ID[:12]}", IMAGE_ID[:12], IMAGE_ID])
def test_containers_are_listed_by_a_bare_image_id(sock: str, image: str) -> None:
    crio_container = pb.Container(
        id=CTR_ID,
        pod_sandbox_id=POD_ID,
        image=pb.ImageSpec(image=IMAGE_ID),
        image_ref="docker.io/library/busybox@sha256:" + "9" * 64,
        image_id=IMAGE_ID,
        state=pb.CONTAINER_RUNNING,
    )
    other = pb.Container(id=OTHER_CTR_ID, image_id="0" * 64, state=pb.CONTAINER_RUNNING)
    handlers = {
        "ListContainers": lambda r, c: pb.ListContainersResponse(
            containers=[crio_container, other]
        ),
        # Containers without kubelet's labels: their pods' names come from the pod list.
        "ListPodSandbox": lambda r, c: pb.ListPodSandboxResponse(items=[pod_message()]),
    }
    with FakeRuntime(sock, handlers) as fake, CRIClient(fake.endpoint) as cri:
        assert [(c.id, c.pod_name) for c in cri.containers.list(image=image)] == [(CTR_ID, "web")]
        assert [c.id for c in cri.containers.list(image="docker.io/library/busy")] == []


# --- 8. a second ready pod with the same name ---------------------------------------------


def test_run_refuses_the_name_of_a_ready_pod(sock: str, tmp_path: Path) -> None:
    ready = [pod_message("web", "default"), pod_message("db", "default", pod_id="d" * 64)]
    with FakeRuntime(sock, pod_handlers(ready=ready)) as fake, CRIClient(fake.endpoint) as cri:
        with pytest.raises(e.AlreadyExistsError) as info:
            cri.pods.run("web", log_directory=str(tmp_path / "web"))
        assert fake.calls == ["ListPodSandbox"]
        cri.pods.run("web", namespace="shop", log_directory=str(tmp_path / "shop"))
        cri.pods.run("web", uid="a-new-uid", log_directory=str(tmp_path / "uid"))
        cri.pods.run("web", attempt=1, log_directory=str(tmp_path / "attempt"))
    assert f"pod {POD_ID[:13]} (default/web) is ready" in str(info.value)
    assert "pass uid= or attempt=" in str(info.value)
    assert not (tmp_path / "web").exists()
    runs = [call for call in fake.calls if call == "RunPodSandbox"]
    assert len(runs) == 3
    assert fake.calls.count("ListPodSandbox") == 2  # not when uid or attempt is given


def test_run_asks_for_ready_pods_only(sock: str, tmp_path: Path) -> None:
    filters: list[pb.PodSandboxFilter] = []

    def listing(request: Any, context: Any) -> pb.ListPodSandboxResponse:
        filters.append(request.filter)
        return pb.ListPodSandboxResponse()

    handlers = {**pod_handlers(), "ListPodSandbox": listing}
    with FakeRuntime(sock, handlers) as fake, CRIClient(fake.endpoint) as cri:
        cri.pods.run("web", log_directory=str(tmp_path))
    assert [f.state.state for f in filters] == [pb.SANDBOX_READY]


# --- 9. an image that is not on the node -------------------------------------------------


def test_create_without_the_image_says_to_pull_it(sock: str, tmp_path: Path) -> None:
    missing = (grpc.StatusCode.NOT_FOUND, 'failed to resolve image "busybox:9.99": not found')
    handlers = {
        **pod_handlers(),
        "CreateContainer": fail(missing),
        "ImageStatus": lambda r, c: pb.ImageStatusResponse(),
    }
    with FakeRuntime(sock, handlers) as fake, CRIClient(fake.endpoint) as cri:
        pod = cri.pods.run("web", log_directory=str(tmp_path))
        with pytest.raises(e.NotFoundError) as info:
            cri.containers.create(pod, "app", "busybox:9.99")
    assert info.value.details.startswith(
        "image 'busybox:9.99' is not present on the node; pull it first (cri.images.pull) "
        "or pass pull=True (the runtime said: failed to resolve image"
    )
    assert info.value.code == grpc.StatusCode.NOT_FOUND
    assert fake.calls[-2:] == ["CreateContainer", "ImageStatus"]


def test_create_asks_nothing_more_when_it_works(sock: str, tmp_path: Path) -> None:
    handlers = {
        **pod_handlers(),
        "CreateContainer": lambda r, c: pb.CreateContainerResponse(container_id=CTR_ID),
    }
    with FakeRuntime(sock, handlers) as fake, CRIClient(fake.endpoint) as cri:
        pod = cri.pods.run("web", log_directory=str(tmp_path))
        cri.containers.create(pod, "app", IMAGE_TAG)
    assert fake.calls[-2:] == ["CreateContainer", "ContainerStatus"]
    assert "ImageStatus" not in fake.calls


def test_create_with_pull_pulls_a_missing_image_first(sock: str, tmp_path: Path) -> None:
    pulled: list[str] = []

    def status(request: Any, context: Any) -> pb.ImageStatusResponse:
        if pulled:
            return pb.ImageStatusResponse(image=pb.Image(id=IMAGE_ID, repo_tags=[IMAGE_TAG]))
        return pb.ImageStatusResponse()

    def pull(request: Any, context: Any) -> pb.PullImageResponse:
        pulled.append(request.image.image)
        return pb.PullImageResponse(image_ref=IMAGE_ID)

    handlers = {
        **pod_handlers(),
        "ImageStatus": status,
        "PullImage": pull,
        "CreateContainer": lambda r, c: pb.CreateContainerResponse(container_id=CTR_ID),
    }
    with FakeRuntime(sock, handlers) as fake, CRIClient(fake.endpoint) as cri:
        pod = cri.pods.run("web", log_directory=str(tmp_path))
        cri.containers.create(pod, "app", IMAGE_TAG, pull=True)
        cri.containers.create(pod, "again", IMAGE_TAG, pull=True)
    assert pulled == [IMAGE_TAG]
    assert fake.calls[3:] == [
        "ImageStatus",  # absent
        "PullImage",
        "ImageStatus",  # the pulled image
        "CreateContainer",
        "ContainerStatus",
        "ImageStatus",  # present: no pull
        "CreateContainer",
        "ContainerStatus",
    ]


def test_a_create_failure_with_the_image_present_is_the_runtimes_own(
    sock: str, tmp_path: Path
) -> None:
    handlers = {
        **pod_handlers(),
        "CreateContainer": fail((grpc.StatusCode.UNKNOWN, "OCI runtime create failed")),
        "ImageStatus": lambda r, c: pb.ImageStatusResponse(image=pb.Image(id=IMAGE_ID)),
    }
    with FakeRuntime(sock, handlers) as fake, CRIClient(fake.endpoint) as cri:
        pod = cri.pods.run("web", log_directory=str(tmp_path))
        with pytest.raises(e.UnknownError) as info:
            cri.containers.create(pod, "app", IMAGE_TAG)
    assert info.value.details == "OCI runtime create failed"
