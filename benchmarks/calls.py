"""Per-call cost of cri-client next to the bare generated stub, on one runtime.

    python benchmarks/calls.py [--calls 500] [--endpoint unix:///...]

Without ``--endpoint`` (and no CONTAINER_RUNTIME_ENDPOINT) a throwaway containerd
is started. Both sides share one channel kind and one runtime, alternate in
rounds so that drift on a noisy machine hits both, and the median round counts.
Prints a table; asserts nothing (numbers are for docs/performance.md).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import grpc

from cri_client import CRIClient
from cri_client._proto import api_pb2 as pb
from cri_client._proto import api_pb2_grpc


@contextmanager
def endpoint(explicit: str | None) -> Iterator[str]:
    if explicit or os.environ.get("CONTAINER_RUNTIME_ENDPOINT"):
        yield explicit or os.environ["CONTAINER_RUNTIME_ENDPOINT"]
        return
    from cri_client.testing import ThrowawayContainerd

    with ThrowawayContainerd("2.1", base_dir="/tmp/cri-client-bench") as containerd:
        yield containerd.endpoint


def per_call_us(call: Callable[[], object], calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - started) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--endpoint")
    args = parser.parse_args()
    with endpoint(args.endpoint) as target, CRIClient(target) as cri:
        channel = grpc.insecure_channel(cri.endpoint.url)
        stub = api_pb2_grpc.RuntimeServiceStub(channel)
        image_stub = api_pb2_grpc.ImageServiceStub(channel)
        pairs: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
            "list_pod_sandbox": (
                lambda: cri.api.list_pod_sandbox(),
                lambda: stub.ListPodSandbox(pb.ListPodSandboxRequest(), timeout=60),
            ),
            "list_containers": (
                lambda: cri.api.list_containers(),
                lambda: stub.ListContainers(pb.ListContainersRequest(), timeout=60),
            ),
            "version": (
                lambda: cri.api.version(),
                lambda: stub.Version(pb.VersionRequest(), timeout=60),
            ),
            "image_status": (
                lambda: cri.api.image_status(image={"image": "absent:1"}),
                lambda: image_stub.ImageStatus(
                    pb.ImageStatusRequest(image=pb.ImageSpec(image="absent:1")), timeout=60
                ),
            ),
        }
        print(f"runtime: {cri.version()}; {args.rounds} rounds x {args.calls} calls, median")
        print(f"{'call':<20}{'cri-client us':>15}{'bare stub us':>15}{'ratio':>8}")
        for name, (ours, bare) in pairs.items():
            ours(), bare()  # warm both paths
            mine, theirs = [], []
            for _ in range(args.rounds):
                mine.append(per_call_us(ours, args.calls))
                theirs.append(per_call_us(bare, args.calls))
            a, b = statistics.median(mine), statistics.median(theirs)
            print(f"{name:<20}{a:>15.1f}{b:>15.1f}{a / b:>8.3f}")
        channel.close()


if __name__ == "__main__":
    main()
