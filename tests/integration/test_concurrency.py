"""One sync client shared by threads doing whole lifecycles at once, on real containerd.

The client holds one gRPC channel; everything per call lives on the caller's stack,
and the little shared state (the ``Stream*`` fallback set, the events flag) is set
atomically. Each thread here runs a pod and a container, execs, reads logs, waits,
stops and removes, while other threads list and look up; every result is checked.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from cri_client import ContainerState, CRIClient

from .conftest import RuntimeUnderTest

THREADS = 8


def test_threads_share_one_client_for_whole_lifecycles(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    start = threading.Barrier(THREADS + 2, timeout=60)
    stop_listing = threading.Event()

    def lifecycle(index: int) -> tuple[str, bytes, str, int | None, str]:
        name = f"th{index}-{suite['suite']}"
        start.wait()
        ctr = cri.run(
            runtime.busybox_image,
            name=name,
            command=["sh", "-c", f"echo started {index}; sleep 60"],
            labels=suite,
            log_directory=log_dir,
        )
        out = ctr.exec(["sh", "-c", f"echo {index} $(hostname)"]).stdout
        found = cri.containers.get(ctr.id[:16]).name
        ctr.wait("running", timeout=30)
        ctr.stop(timeout=0)
        exited = ctr.wait(timeout=30)
        log = ctr.logs()
        pod = ctr.pod()
        pod.remove(force=True)
        return found, out, log, exited.exit_code, exited.state.value

    def lister() -> int:
        start.wait()
        rounds = 0
        while not stop_listing.is_set():
            for pod in cri.pods.list(labels=suite):
                assert pod.labels == suite
            cri.containers.list(all=True, labels=suite)
            cri.images.exists(runtime.busybox_image)
            rounds += 1
        return rounds

    with ThreadPoolExecutor(THREADS + 2) as pool:
        listers = [pool.submit(lister) for _ in range(2)]
        try:
            workers = [pool.submit(lifecycle, i) for i in range(THREADS)]
            results = [w.result(timeout=240) for w in workers]
        finally:
            stop_listing.set()  # a failed worker must fail the test, not hang it
        rounds = [f.result(timeout=60) for f in listers]

    for index, (found, out, log, exit_code, state) in enumerate(results):
        name = f"th{index}-{suite['suite']}"
        assert found == name
        assert out == f"{index} {name}\n".encode()
        assert log == f"started {index}\n"
        assert (state, exit_code) == (ContainerState.EXITED.value, 137)  # SIGKILL at once
    assert all(r > 0 for r in rounds)
    assert cri.pods.list(labels=suite) == []
