"""The high-level API (cri.pods, cri.containers, cri.images, cri.run) against real containerd."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from cri_client import (
    AmbiguousReferenceError,
    Container,
    ContainerState,
    CRIClient,
    ExecResult,
    Pod,
    PodState,
)
from cri_client.errors import (
    CommandNotFoundError,
    ExecError,
    ExecTimeoutError,
    FailedPreconditionError,
    NotFoundError,
)

from .conftest import RuntimeUnderTest, rpcs_made


def run_pod(
    cri: CRIClient, name: str, labels: dict[str, str], log_dir: str, handler: str = "", **kw: object
) -> Pod:
    return cri.pods.run(
        name,
        labels=labels,
        runtime_handler=handler,
        log_directory=log_dir,
        **kw,  # type: ignore[arg-type]
    )


def start_sleeper(
    cri: CRIClient, pod: Pod, image: str, name: str = "sleeper", **kw: object
) -> Container:
    command = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]
    ctr = cri.containers.create(pod, name, image, command=command, **kw)  # type: ignore[arg-type]
    return ctr.start()


def test_runtime_version_and_status(cri: CRIClient, runtime: RuntimeUnderTest) -> None:
    version = cri.version()
    assert version.runtime_name == "containerd"
    assert version.runtime_version.startswith(runtime.version + ".")
    assert version.runtime_api_version == "v1"
    status = cri.status(verbose=True)
    assert status.ready and status.network_ready
    assert isinstance(status.config, dict) and status.config
    if runtime.version == "2.1":
        assert {"runc", "runsc"} <= {h.name for h in status.handlers}


def test_image_pull_get_list_remove(cri: CRIClient, runtime: RuntimeUnderTest) -> None:
    ref = runtime.busybox_image
    image = cri.images.pull(ref)
    assert image.id.startswith("sha256:") and len(image.id) == 71
    assert ref in image.repo_tags
    assert isinstance(image.size, int) and image.size > 100_000
    assert image.to_dict()["size"] == image.size
    assert cri.images.get(ref) == image
    assert cri.images.get(image.id) == image
    assert cri.images.get(image.id.removeprefix("sha256:")[:12]) == image
    assert image in cri.images.list()
    assert cri.images.list(reference=ref.rsplit(":", 1)[0]) == [image]
    assert cri.images.list(reference="no/such-repo") == []
    assert cri.images.exists(ref)
    fs = cri.images.fs_info()
    assert fs.image_filesystems[0].mountpoint.startswith("/")
    try:
        cri.images.remove(ref)
        assert not cri.images.exists(ref)
        with pytest.raises(NotFoundError, match="no image matches"):
            cri.images.get(ref)
        cri.images.remove(ref, missing_ok=True)
        with pytest.raises(NotFoundError):
            cri.images.remove(ref)
    finally:
        assert cri.images.pull(ref) == image


def test_pull_errors(cri: CRIClient, runtime: RuntimeUnderTest) -> None:
    with pytest.raises(ValueError, match="not a valid image reference"):
        cri.images.pull("Not A Reference")
    missing = runtime.busybox_image.rsplit(":", 1)[0] + ":missing"
    with pytest.raises(NotFoundError, match="missing"):
        cri.images.pull(missing)


def test_pod_run_get_list_inspect(cri: CRIClient, suite: dict[str, str], log_dir: str) -> None:
    pod = run_pod(
        cri,
        "web-" + suite["suite"],
        suite,
        log_dir,
        namespace="team-a",
        annotations={"note": "x y"},
    )
    assert pod.state is PodState.READY and pod.ready
    assert pod.name == "web-" + suite["suite"] and pod.namespace == "team-a"
    assert pod.labels == suite and pod.annotations == {"note": "x y"}
    assert pod.ip and pod.ip.count(".") == 3
    created = pod.created_at
    assert created is not None and abs((datetime.now(timezone.utc) - created).total_seconds()) < 120
    for reference in (pod.id, pod.id[:12], pod.name, f"team-a/{pod.name}"):
        assert cri.pods.get(reference) == pod
    assert cri.pods.list(labels=suite) == [pod]
    assert cri.pods.list(labels=suite, name="^web-") == [pod]
    assert cri.pods.list(labels=suite, name="^nomatch") == []
    assert cri.pods.list(labels=suite, namespace="team-.") == [pod]
    assert cri.pods.list(labels=suite, state="notready") == []
    assert cri.pods.list(id=pod.id[:10]) == [pod]
    listed = cri.pods.list(labels=suite)[0]
    assert listed.ip is None and listed.reload().ip == pod.ip
    as_dict = json.loads(json.dumps(pod.to_dict()))
    assert as_dict["state"] == "ready" and as_dict["labels"] == suite and as_dict["ip"] == pod.ip
    inspected = pod.inspect()
    assert inspected["status"]["id"] == pod.id
    assert inspected["status"]["state"] == "SANDBOX_READY"
    assert isinstance(inspected["status"]["created_at"], int)
    assert inspected["info"]["info"]["config"]["metadata"]["name"] == pod.name


def test_pod_stop_and_remove_rules(cri: CRIClient, suite: dict[str, str], log_dir: str) -> None:
    pod = run_pod(cri, "rm-" + suite["suite"], suite, log_dir)
    with pytest.raises(FailedPreconditionError, match="is ready"):
        pod.remove()
    stopped = pod.stop()  # returns the pod with its new status, as Container.stop does
    assert stopped is pod and pod.state is PodState.NOT_READY
    assert cri.pods.stop(pod).state is PodState.NOT_READY  # an object works as a reference
    cri.pods.remove(pod)
    with pytest.raises(NotFoundError):
        cri.pods.get(pod.id)
    cri.pods.remove(pod, missing_ok=True)


def test_host_network_pod_has_no_ip(cri: CRIClient, suite: dict[str, str], log_dir: str) -> None:
    pod = run_pod(cri, "hostnet-" + suite["suite"], suite, log_dir, host_network=True)
    assert pod.ready and pod.ip is None


def test_ambiguous_name_lists_candidates(
    cri: CRIClient, suite: dict[str, str], log_dir: str
) -> None:
    name = "twin-" + suite["suite"]
    first = run_pod(cri, name, suite, log_dir, namespace="ns-one")
    second = run_pod(cri, name, suite, log_dir, namespace="ns-two")
    with pytest.raises(AmbiguousReferenceError) as info:
        cri.pods.get(name)
    assert set(info.value.candidates) == {first.id, second.id}
    assert cri.pods.get(f"ns-two/{name}") == second


@pytest.mark.parametrize("handler", ["runc", "runsc"])
def test_container_lifecycle_and_exec(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], handler: str, log_dir: str
) -> None:
    pod = run_pod(cri, "life-" + suite["suite"], suite, log_dir, handler=handler)
    assert pod.runtime_handler == handler
    ctr = cri.containers.create(
        pod,
        "worker",
        runtime.busybox_image,
        command=["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"],
        env={"GREETING": "hello world"},
        working_dir="/tmp",
        labels={"role": "worker"},
    )
    assert ctr.state is ContainerState.CREATED and ctr.pod_id == pod.id
    assert ctr.started_at is None and ctr.exit_code is None
    ctr.start()
    assert ctr.state is ContainerState.RUNNING
    assert ctr.started_at is not None and ctr.log_path.endswith("worker/0.log")
    assert ctr.exec(["sh", "-c", 'echo "$GREETING"; pwd']) == ExecResult(
        0, b"hello world\n/tmp\n", b""
    )
    result = ctr.exec(["sh", "-c", "echo out; echo err >&2; exit 7"], timeout=10)
    assert (result.exit_code, result.stdout, result.stderr, result.ok) == (
        7,
        b"out\n",
        b"err\n",
        False,
    )
    with pytest.raises(ExecError) as failed:
        ctr.exec(["sh", "-c", "echo bad >&2; exit 2"], check=True)
    assert failed.value.result.exit_code == 2 and failed.value.result.stderr == b"bad\n"
    assert "exited with 2: bad" in str(failed.value)
    with pytest.raises(ExecTimeoutError, match="did not finish within 1 s"):
        ctr.exec(["sleep", "30"], timeout=1)
    if handler == "runc":
        # Under runsc this leaves the container unstoppable, through the test
        # harness's runsc-wrapper (Debian has no gVisor shim): see docs/testing.md.
        with pytest.raises(CommandNotFoundError, match="/no/such/program"):
            ctr.exec(["/no/such/program"])
    kernel = ctr.exec(["uname", "-r"]).stdout.decode().strip()
    if handler == "runsc":
        assert kernel == "4.4.0"  # gVisor's own kernel
    else:
        assert kernel == __import__("platform").release()  # the host's kernel
    with pytest.raises(FailedPreconditionError, match="is running"):
        ctr.remove()
    ctr.stop(timeout=5)
    assert ctr.state is ContainerState.EXITED and ctr.exit_code == 0
    assert ctr.finished_at is not None and ctr.finished_at >= ctr.started_at  # type: ignore[operator]
    ctr.remove()
    with pytest.raises(NotFoundError):
        cri.containers.get(ctr.id)
    ctr.remove(missing_ok=True)


def test_container_lookup_and_list_filters(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    pod = run_pod(cri, "find-" + suite["suite"], suite, log_dir, namespace="finders")
    alpha = start_sleeper(cri, pod, runtime.busybox_image, "alpha-" + suite["suite"])
    beta = cri.containers.create(
        pod, "beta-" + suite["suite"], runtime.busybox_image, command=["true"]
    )
    for reference in (alpha.id, alpha.id[:12], alpha.name, f"finders/{pod.name}/{alpha.name}"):
        assert cri.containers.get(reference) == alpha
    assert cri.containers.list(pod=pod) == [alpha]  # running only by default
    assert cri.containers.list(pod=pod.id, all=True) == [beta, alpha]  # newest first
    assert cri.containers.list(pod=pod, state="created") == [beta]
    assert cri.containers.list(name="^beta-", all=True) == [beta]
    assert cri.containers.list(namespace="^finders$", all=True) == [beta, alpha]
    assert cri.containers.list(image=runtime.busybox_image, pod=pod, all=True) == [beta, alpha]
    image_id = cri.images.get(runtime.busybox_image).id
    assert cri.containers.list(image=image_id[7:19], pod=pod) == [alpha]
    assert cri.containers.list(pod=pod)[0].image_id == image_id
    assert cri.containers.list(id=alpha.id[:8]) == [alpha]
    # pod= takes any pod reference: object, id, prefix, name, namespace/name
    for pod_ref in (pod, pod.id, pod.id[:10], pod.name, f"finders/{pod.name}"):
        assert cri.containers.list(pod=pod_ref, all=True) == [beta, alpha], pod_ref
    with pytest.raises(NotFoundError):
        cri.containers.list(pod="no-such-pod-" + suite["suite"])
    usage = {s.container_id: s for s in cri.containers.stats(pod=pod.name)}
    assert set(usage) == {alpha.id, beta.id}  # containerd lists the created one too
    assert usage[alpha.id].cpu_percent is not None and usage[alpha.id].memory_usage_bytes
    assert usage[beta.id].cpu_usage_core_nanoseconds is usage[beta.id].memory_usage_bytes is None
    assert cri.containers.get(beta) == beta and cri.containers.get(beta) is not beta
    assert pod.containers() == [beta, alpha]
    assert alpha.pod() == pod
    data = json.loads(json.dumps(alpha.to_dict()))
    assert data["state"] == "running" and data["pod_id"] == pod.id and data["exit_code"] is None
    inspected = alpha.inspect()
    assert inspected["status"]["state"] == "CONTAINER_RUNNING"
    assert inspected["info"]["info"]["pid"] > 0


def test_update_resources(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    pod = run_pod(cri, "res-" + suite["suite"], suite, log_dir)
    ctr = start_sleeper(cri, pod, runtime.busybox_image)
    ctr.update_resources(memory_limit_in_bytes=80 << 20, cpu_quota=50_000, cpu_period=100_000)
    limit = ctr.exec(["cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]).stdout
    assert int(limit) == 80 << 20
    quota = ctr.exec(["cat", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us"]).stdout
    assert int(quota) == 50_000


def test_remove_pod_force_takes_its_containers(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    pod = run_pod(cri, "force-" + suite["suite"], suite, log_dir)
    ctr = start_sleeper(cri, pod, runtime.busybox_image)
    pod.remove(force=True)
    assert cri.containers.list(id=ctr.id, all=True) == []
    assert cri.pods.list(labels=suite) == []


@pytest.mark.parametrize("handler", ["runc", "runsc"])
def test_run_one_shot(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], handler: str, log_dir: str
) -> None:
    name = "one-" + suite["suite"]
    ctr = cri.run(
        runtime.busybox_image,
        name=name,
        command=["httpd", "-f", "-p", "8080"],
        labels=suite,
        runtime_handler=handler,
        log_directory=log_dir,
    )
    assert ctr.state is ContainerState.RUNNING and ctr.name == name
    pod = ctr.pod()
    assert pod.name == name and pod.labels == suite and pod.runtime_handler == handler
    page = ctr.exec(["wget", "-q", "-O", "-", "-S", "http://127.0.0.1:8080/"], timeout=10)
    assert b"HTTP/1.1 404" in page.stderr or b"HTTP/1.0 404" in page.stderr


def test_failed_run_leaves_nothing_behind(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    absent = runtime.busybox_image.rsplit(":", 1)[0] + ":not-pulled"
    name = "broken-" + suite["suite"]
    with pytest.raises(NotFoundError):
        # pull=False: the image is not there, so CreateContainer fails after the pod exists.
        cri.run(absent, name=name, labels=suite, pull=False, log_directory=log_dir)
    assert cri.pods.list(labels=suite) == []
    assert cri.pods.list(name=f"^{name}$") == []


def test_failed_start_rolls_back_too(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    name = "nostart-" + suite["suite"]
    with pytest.raises(Exception) as info:
        cri.run(
            runtime.busybox_image,
            name=name,
            command=["/no/such/entrypoint"],
            labels=suite,
            log_directory=log_dir,
        )
    assert "/no/such/entrypoint" in str(info.value)
    assert cri.pods.list(labels=suite) == []


def test_get_by_full_id_is_one_status_rpc(
    cri: CRIClient,
    runtime: RuntimeUnderTest,
    suite: dict[str, str],
    log_dir: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A full container id needs no list of every container: one ContainerStatus,
    whose verbose info names the pod (the status message itself has no pod id)."""
    pod = run_pod(cri, "byid-" + suite["suite"], suite, log_dir)
    ctr = start_sleeper(cri, pod, runtime.busybox_image)
    with caplog.at_level("DEBUG", logger="cri_client.rpc"):
        found = cri.containers.get(ctr.id)
    rpcs = rpcs_made(caplog)
    assert rpcs == ["ContainerStatus"]
    assert found == ctr and found.pod_id == pod.id and found.state is ContainerState.RUNNING
    caplog.clear()
    with caplog.at_level("DEBUG", logger="cri_client.rpc"):
        cri.containers.remove(ctr, force=True)
    rpcs = rpcs_made(caplog)
    assert rpcs == ["ContainerStatus", "StopContainer", "RemoveContainer"]
    assert cri.containers.list(pod=pod, all=True) == []


def test_a_high_level_call_honours_its_rpc_timeout(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    """rpc_timeout on a high-level call is a deadline for every RPC it makes: a stop
    whose grace period is longer than the deadline fails with DeadlineExceededError."""
    from cri_client.errors import DeadlineExceededError

    pod = run_pod(cri, "deadline-" + suite["suite"], suite, log_dir)
    stubborn = cri.containers.create(
        pod, "stubborn", runtime.busybox_image, command=["sh", "-c", "trap '' TERM; sleep 600"]
    ).start()
    assert cri.pods.get(pod.name, rpc_timeout=5) == pod
    with pytest.raises(DeadlineExceededError, match="StopContainer"):
        stubborn.stop(timeout=30, rpc_timeout=1)
    assert stubborn.stop(timeout=0, rpc_timeout=10).state is ContainerState.EXITED
