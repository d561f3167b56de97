"""Soak: many create/start/exec/stop/remove cycles with one client, watching for leaks.

    python benchmarks/soak.py [--cycles 1000] [--endpoint unix:///...]

Without ``--endpoint`` a throwaway containerd 2.1 is started. Prints open file
descriptors, threads and resident memory of this process after the first 100
cycles and at the end; a leak shows as growth between the two. Asserts nothing:
the last numbers go in docs/reliability.md.
"""

from __future__ import annotations

import argparse
import gc
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from cri_client import CRIClient


def resources() -> dict[str, float]:
    """This process's open fds, threads and resident memory (MiB)."""
    with open("/proc/self/statm") as statm:
        resident_pages = int(statm.read().split()[1])
    return {
        "fds": len(os.listdir("/proc/self/fd")),
        "threads": threading.active_count(),
        "rss_mib": resident_pages * os.sysconf("SC_PAGE_SIZE") / 2**20,
    }


@contextmanager
def runtime(endpoint: str | None) -> Iterator[tuple[str, str]]:
    """(endpoint, busybox image) of the runtime to soak."""
    if endpoint:
        yield endpoint, os.environ.get("SOAK_IMAGE", "busybox:1.35")
        return
    from cri_client.testing import ThrowawayContainerd

    with ThrowawayContainerd("2.1", base_dir="/tmp/cri-client-soak") as containerd:
        yield containerd.endpoint, containerd.busybox_image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=1000)
    parser.add_argument("--endpoint")
    args = parser.parse_args()
    log_dir = tempfile.mkdtemp(prefix="cri-client-soak-logs-")
    with runtime(args.endpoint) as (endpoint, image), CRIClient(endpoint) as cri:
        cri.images.pull(image)
        marks: dict[int, dict[str, float]] = {}
        started = time.monotonic()
        for cycle in range(1, args.cycles + 1):
            ctr = cri.run(
                image,
                name=f"soak-{cycle}",
                command=["sleep", "600"],
                log_directory=log_dir,
                labels={"soak": "1"},
            )
            result = ctr.exec(["echo", str(cycle)], timeout=10)
            assert result.stdout == f"{cycle}\n".encode(), result
            ctr.stop(timeout=0)
            ctr.pod().remove(force=True)
            if cycle in (100, args.cycles) or cycle % 250 == 0:
                gc.collect()
                marks[cycle] = resources()
                elapsed = time.monotonic() - started
                print(
                    f"cycle {cycle:5d}  {elapsed:7.1f} s  {elapsed / cycle * 1000:6.1f} ms/cycle  "
                    + "  ".join(f"{k}={v:.1f}" for k, v in marks[cycle].items()),
                    flush=True,
                )
        assert cri.pods.list(labels={"soak": "1"}) == []
        first, last = marks[min(marks)], marks[args.cycles]
        print(
            "growth from cycle 100 to the end: "
            + ", ".join(f"{k} {last[k] - first[k]:+.1f}" for k in first)
        )


if __name__ == "__main__":
    main()
