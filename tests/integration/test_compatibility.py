"""The behaviours where runtimes differ (docs/compatibility.md), against real containerd.

CRI-O's answers for the same behaviours are replayed in tests/unit/test_runtime_answers.py;
here the same code paths meet containerd's own answers, on every version the suite runs.
"""

from __future__ import annotations

import time
from pathlib import Path

import grpc
import pytest

from cri_client import ContainerState, CRIClient, Pod, errors
from cri_client.errors import AlreadyExistsError, CRIError, FailedPreconditionError, NotFoundError

from .conftest import RuntimeUnderTest

TRAPS_TERM = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]
IGNORES_TERM = ["sleep", "3600"]
"""PID 1 without a handler: the kernel drops SIGTERM, only SIGKILL ends it."""


def run_pod(cri: CRIClient, name: str, suite: dict[str, str], log_dir: str, **kw: object) -> Pod:
    return cri.pods.run(name, labels=suite, log_directory=log_dir, **kw)  # type: ignore[arg-type]


# --- 1. log directories ---------------------------------------------------------------------


def test_create_makes_the_container_log_directory_first(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    pod = run_pod(cri, "logdir-" + suite["suite"], suite, log_dir)
    ctr = cri.containers.create(pod, "app", runtime.busybox_image, command=["true"])
    assert ctr.log_path == f"{log_dir}/app/0.log"
    assert Path(log_dir, "app").is_dir()
    with pytest.raises(NotFoundError):
        cri.containers.create(pod, "absent", runtime.busybox_image + "-absent")
    assert sorted(p.name for p in Path(log_dir).iterdir()) == ["app"]  # not "absent"


def test_a_refused_pod_removes_the_log_directory_it_made(
    cri: CRIClient, suite: dict[str, str], tmp_path: Path
) -> None:
    logs = tmp_path / "refused-pod-logs"
    with pytest.raises(CRIError, match="no-such-handler"):
        run_pod(
            cri, "refused-" + suite["suite"], suite, str(logs), runtime_handler="no-such-handler"
        )
    assert not logs.exists()
    assert cri.pods.list(labels=suite) == []


# --- 2. stopping a pod ----------------------------------------------------------------------


def test_pod_stop_gives_its_containers_the_grace_period(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    """containerd's StopPodSandbox kills at once; the library's stop sends SIGTERM
    first: the container that traps it ends by itself (0), the one that ignores it is
    killed when the grace period is over (137)."""
    pod = run_pod(cri, "grace-" + suite["suite"], suite, log_dir)
    graceful = cri.containers.create(pod, "graceful", runtime.busybox_image, command=TRAPS_TERM)
    stubborn = cri.containers.create(pod, "stubborn", runtime.busybox_image, command=IGNORES_TERM)
    graceful.start(), stubborn.start()
    assert not pod.stop(grace_period=1).ready
    assert graceful.reload().state is ContainerState.EXITED
    assert (graceful.exit_code, stubborn.reload().exit_code) == (0, 137)


def test_forced_removal_of_a_pod_that_ignores_sigterm_is_immediate(
    cri: CRIClient,
    runtime: RuntimeUnderTest,
    suite: dict[str, str],
    log_dir: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The number goes to the output (docs/performance.md, appendix), not an assertion."""
    pod = run_pod(cri, "force-" + suite["suite"], suite, log_dir)
    for name in ("one", "two"):
        cri.containers.create(pod, name, runtime.busybox_image, command=IGNORES_TERM).start()
    started = time.perf_counter()
    pod.remove(force=True, grace_period=0)
    elapsed = time.perf_counter() - started
    with capsys.disabled():
        print(
            f"\n[containerd {runtime.version}] pod.remove(force=True, grace_period=0), "
            f"2 containers ignoring SIGTERM: {elapsed * 1000:.0f} ms"
        )
    assert cri.pods.list(labels=suite) == []
    assert cri.containers.list(all=True, pod=None, labels=None, name="^(one|two)$") == []


def test_removal_without_force_refuses_a_grace_period(cri: CRIClient) -> None:
    with pytest.raises(ValueError, match="needs force=True"):
        cri.pods.remove("any", grace_period=1)


# --- 5. what does not exist, and what is not running -------------------------------------


def test_unknown_ids_and_tags_are_not_found(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    unknown = "0123abcd"
    calls = [
        lambda: cri.api.container_stats(container_id=unknown),
        lambda: cri.api.exec_sync(container_id=unknown, cmd=["true"], timeout=5),
        lambda: cri.api.exec(container_id=unknown, cmd=["true"], stdout=True),
        lambda: cri.images.pull(runtime.busybox_image.rsplit(":", 1)[0] + ":9.99"),
    ]
    for call in calls:
        with pytest.raises(NotFoundError) as info:
            call()
        assert info.value.code == grpc.StatusCode.NOT_FOUND


def test_exec_in_a_container_that_is_not_running_says_so(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    pod = run_pod(cri, "notrunning-" + suite["suite"], suite, log_dir)
    created = cri.containers.create(pod, "created", runtime.busybox_image, command=TRAPS_TERM)
    exited = cri.containers.create(pod, "exited", runtime.busybox_image, command=["true"])
    exited.start().wait(timeout=30)
    for ctr, state in ((created, "CONTAINER_CREATED"), (exited, "CONTAINER_EXITED")):
        with pytest.raises(errors.ContainerNotRunningError) as info:
            ctr.exec(["true"])
        assert isinstance(info.value, FailedPreconditionError)
        assert info.value.code == grpc.StatusCode.UNKNOWN  # containerd's own code, kept
        assert f"container is in {state} state" in info.value.details


# --- 6. image ids ---------------------------------------------------------------------------


def test_image_ids_with_and_without_sha256(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    image = cri.images.get(runtime.busybox_image)
    assert image.id.startswith("sha256:")  # containerd's form; CRI-O's is bare hex
    bare = image.id.removeprefix("sha256:")
    for reference in (image.id, bare, "sha256:" + bare[:12], bare[:12]):
        assert cri.images.get(reference).id == image.id
        assert cri.images.exists(reference)
    assert not cri.images.exists("sha256:" + "f" * 64)
    pod = run_pod(cri, "imageid-" + suite["suite"], suite, log_dir)
    ctr = cri.containers.create(pod, "app", image.id, command=TRAPS_TERM).start()
    for reference in (image.id, "sha256:" + bare[:12], bare[:12]):
        assert [c.id for c in cri.containers.list(image=reference, pod=pod)] == [ctr.id]


# --- 7. names in use ------------------------------------------------------------------------


def test_a_name_in_use_is_already_exists(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    """containerd 1.6 and 1.7 say UNKNOWN, 2.1 FAILED_PRECONDITION; the code is kept."""
    pod = run_pod(cri, "dup-" + suite["suite"], suite, log_dir)
    cri.containers.create(pod, "web", runtime.busybox_image, command=TRAPS_TERM)
    with pytest.raises(AlreadyExistsError) as container_error:
        cri.containers.create(pod, "web", runtime.busybox_image, command=TRAPS_TERM)
    with pytest.raises(AlreadyExistsError) as sandbox_error:
        cri.api.run_pod_sandbox(config=pod.config())
    expected = (
        grpc.StatusCode.FAILED_PRECONDITION if runtime.version == "2.1" else grpc.StatusCode.UNKNOWN
    )
    assert container_error.value.code == sandbox_error.value.code == expected
    assert "failed to reserve container name" in container_error.value.details
    assert "failed to reserve sandbox name" in sandbox_error.value.details
    assert len(cri.containers.list(all=True, pod=pod)) == 1


# --- 8. a second ready pod with the same name ---------------------------------------------


def test_run_refuses_the_name_of_a_ready_pod(
    cri: CRIClient, suite: dict[str, str], log_dir: str, tmp_path: Path
) -> None:
    name = "twice-" + suite["suite"]
    first = run_pod(cri, name, suite, log_dir)
    with pytest.raises(
        AlreadyExistsError, match=rf"pod {first.id[:13]} \(default/{name}\) is ready"
    ):
        run_pod(cri, name, suite, str(tmp_path / "second"))
    assert not (tmp_path / "second").exists()
    second = run_pod(cri, name, suite, str(tmp_path / "uid"), uid="another-" + suite["suite"])
    assert second.id != first.id
    assert sorted(p.id for p in cri.pods.list(labels=suite)) == sorted([first.id, second.id])


def test_cri_run_refuses_the_name_before_it_pulls(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    """A pull can take minutes: the name in use is known after one list RPC."""
    name = "runname-" + suite["suite"]
    first = run_pod(cri, name, suite, log_dir)
    absent = runtime.busybox_image.rsplit(":", 1)[0] + ":9.99"  # the pull would fail NOT_FOUND
    for pull in (None, True):
        with pytest.raises(AlreadyExistsError, match=rf"pod {first.id[:13]} \(default/{name}\)"):
            cri.run(absent, name=name, pull=pull, labels=suite)
    assert [p.id for p in cri.pods.list(labels=suite)] == [first.id]


# --- 9. an image that is not on the node -------------------------------------------------


def test_create_without_the_image_says_to_pull_it_and_pull_true_does(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    pod = run_pod(cri, "nopull-" + suite["suite"], suite, log_dir)
    absent = runtime.busybox_image.rsplit(":", 1)[0] + ":9.99"
    with pytest.raises(NotFoundError) as info:
        cri.containers.create(pod, "app", absent)
    assert info.value.details.startswith(
        f"image {absent!r} is not present on the node; pull it first (cri.images.pull) or "
        "pass pull=True (the runtime said: "
    )
    cri.images.remove(runtime.busybox_image)
    try:
        ctr = cri.containers.create(pod, "app", runtime.busybox_image, pull=True, command=["true"])
        assert cri.images.exists(runtime.busybox_image)
        assert ctr.image == runtime.busybox_image
    finally:
        cri.images.pull(runtime.busybox_image)
