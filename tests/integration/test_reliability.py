"""Faults and scale against real containerd: restarts, races, a node with 300 containers."""

from __future__ import annotations

import contextlib
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cri_client import ContainerState, CRIClient
from cri_client.errors import NotFoundError, UnavailableError
from cri_client.testing import ThrowawayContainerd

from .conftest import RuntimeUnderTest


def test_calls_fail_fast_while_containerd_is_down_and_work_again_after(
    fresh_containerd: ThrowawayContainerd, log_dir: str
) -> None:
    with CRIClient(fresh_containerd.endpoint) as cri:
        pod = cri.run(
            fresh_containerd.busybox_image,
            name="survivor",
            command=["sleep", "600"],
            log_directory=log_dir,
        ).pod()
        fresh_containerd.stop_daemon()
        for _ in range(3):
            started = time.monotonic()
            with pytest.raises(UnavailableError) as info:
                cri.pods.list()
            assert time.monotonic() - started < 5  # fails fast, does not hang
        assert fresh_containerd.socket_path in str(info.value)
        fresh_containerd.restart_daemon()
        deadline = time.monotonic() + 10
        while True:  # the channel reconnects by itself (backoff capped at 1 s)
            try:
                pods = cri.pods.list()
                break
            except UnavailableError:
                assert time.monotonic() < deadline, "the same client never recovered"
                time.sleep(0.1)
        assert [p.id for p in pods] == [pod.id]  # the pod outlived the daemon
        assert pod.reload().ready
        assert cri.containers.list(pod=pod)[0].state is ContainerState.RUNNING


def test_objects_removed_between_list_and_get(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    pods = [
        cri.pods.run(f"race{i}-{suite['suite']}", labels=suite, log_directory=log_dir)
        for i in range(3)
    ]
    listed = cri.pods.list(labels=suite)
    assert len(listed) == 3
    pods[1].remove(force=True)  # gone after the list, before the next look
    with pytest.raises(NotFoundError):
        listed[1].reload()
    alive = []
    for pod in listed:  # a bulk pass over a stale listing: no crash, no error
        with contextlib.suppress(NotFoundError):
            alive.append(pod.reload().name)
    assert sorted(alive) == sorted(p.name for p in (pods[0], pods[2]))
    for pod in listed:
        pod.remove(force=True, missing_ok=True)
    cri.pods.remove(pods[1].id, missing_ok=True)
    assert cri.pods.list(labels=suite) == []


def test_a_node_with_300_containers(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    """300 created containers in 3 pods: lists, lookups and a parallel bulk removal."""
    pods = [
        cri.pods.run(f"big{i}-{suite['suite']}", labels=suite, log_directory=log_dir)
        for i in range(3)
    ]
    made = []
    lock = threading.Lock()

    def create(index: int) -> None:
        ctr = cri.containers.create(
            pods[index % 3],
            f"c{index:03d}",
            runtime.busybox_image,
            command=["true"],
            labels={"suite": suite["suite"]},
        )
        with lock:
            made.append(ctr)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(300)]
    for start in range(0, 300, 10):  # ten at a time from one client
        batch = threads[start : start + 10]
        for thread in batch:
            thread.start()
        for thread in batch:
            thread.join()
    assert len(made) == 300
    listed = cri.containers.list(all=True, labels=suite)
    assert sorted(c.name for c in listed) == [f"c{i:03d}" for i in range(300)]
    assert all(c.state is ContainerState.CREATED for c in listed)
    assert cri.containers.get("c123").name == "c123"
    assert len(cri.containers.list(all=True, pod=pods[1])) == 100
    for pod in pods:
        pod.remove(force=True)
    assert cri.containers.list(all=True, labels=suite) == []


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.from_regex(r"\A[a-z][a-z0-9-]{0,30}[a-z0-9]\Z"),
    namespace=st.from_regex(r"\A[a-z]([-a-z0-9]{0,20}[a-z0-9])?\Z"),
    labels=st.dictionaries(
        st.from_regex(
            r"\A([a-z0-9]{1,8}\.)?[a-z]{1,5}/[A-Za-z0-9][-A-Za-z0-9_.]{0,20}[A-Za-z0-9]\Z"
        ),
        st.from_regex(r"\A([A-Za-z0-9]([-A-Za-z0-9_.]{0,30}[A-Za-z0-9])?)?\Z"),
        max_size=3,
    ),
    annotations=st.dictionaries(
        st.from_regex(r"\A[a-z]{1,10}\Z"), st.text(max_size=50), max_size=2
    ),
    env=st.dictionaries(
        st.from_regex(r"\A[A-Z_]{1,10}\Z"),
        st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=20),
        max_size=3,
    ),
)
def test_what_the_builders_accept_the_runtime_accepts(
    cri: CRIClient,
    runtime: RuntimeUnderTest,
    log_dir: str,
    name: str,
    namespace: str,
    labels: dict[str, str],
    annotations: dict[str, str],
    env: dict[str, str],
) -> None:
    pod = cri.pods.run(
        name, namespace=namespace, labels=labels, annotations=annotations, log_directory=log_dir
    )
    try:
        ctr = cri.containers.create(
            pod,
            name,
            runtime.busybox_image,
            command=["sleep", "30"],
            env=env,
            labels=labels,
            annotations=annotations,
        )
        assert (pod.labels, ctr.labels, ctr.annotations) == (labels, labels, annotations)
        assert ctr.start().state is ContainerState.RUNNING
        shown = ctr.exec(["env"]).stdout.decode(errors="replace")
        assert all(f"{key}=" in shown for key in env)
    finally:
        pod.remove(force=True)
