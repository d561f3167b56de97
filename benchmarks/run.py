"""All benchmarks in one run, on one runtime, printed as tables of ratios.

    python benchmarks/run.py [--endpoint unix:///...] [--quick]

Without ``--endpoint`` (and no CONTAINER_RUNTIME_ENDPOINT) it starts a throwaway
containerd 2.1. It measures, asserting nothing (numbers go to docs/performance.md):

1. per-call cost of low-level and high-level calls next to the same RPC on the bare
   generated stub (rounds alternate between the two, the median round counts);
2. the same loop through ``crictl`` (one process per call), if crictl is on PATH;
3. ``import cri_client`` next to ``import grpc`` plus the generated modules;
4. 50 pods with one container each, created and removed sequentially, with 8
   threads, and with AsyncCRIClient and asyncio.gather;
5. time and memory to list and wrap 500 containers;
6. stats of 16 idle and of 16 exited containers: one list call and one container;
7. ``pod.remove(force=True, grace_period=0)`` of pods whose PID 1 ignores SIGTERM
   (docs/performance.md, section 8);
8. a pull of a 48 MB image (three random-data layers) from the local registry, with
   and without progress (rounds alternate; docs/performance.md, section 10).
9. inventory: 300 exited containers listed with their statuses
   (``list(with_status=True)``, one ContainerStatus each, at several parallelisms)
   next to a bare ``ListContainers`` and to the same statuses on the bare stub;
10. ``cri.containers.prune()`` of 200 exited containers, serial (``parallel=1``) and
   with 2, 4, 8 and 16 removals at once (the ``BULK_PARALLELISM`` default;
   docs/performance.md, section 12);
11. the command line's cold start: ``cri-client version|ps|pods|images|info`` next to
    the floor, a bare ``import grpc`` plus the generated stubs (docs/performance.md,
    section 13);
12. 50 ``inspect`` command lines in one ``cri-client batch`` next to 50 processes of
    ``crictl inspect`` (if crictl is on PATH) and of ``cri-client inspect``
    (docs/performance.md, section 14).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import grpc

from cri_client import CRIClient, CRIError
from cri_client._proto import api_pb2 as pb
from cri_client._proto import api_pb2_grpc
from cri_client.aio import AsyncCRIClient


@contextmanager
def runtime(explicit: str | None) -> Iterator[tuple[str, str]]:
    """(endpoint, busybox image reference)."""
    if explicit or os.environ.get("CONTAINER_RUNTIME_ENDPOINT"):
        yield (
            explicit or os.environ["CONTAINER_RUNTIME_ENDPOINT"],
            os.environ.get("BENCH_IMAGE", "busybox:1.35"),
        )
        return
    from cri_client.testing import ThrowawayContainerd

    with ThrowawayContainerd("2.1", base_dir="/tmp/cri-client-bench") as containerd:
        yield containerd.endpoint, containerd.busybox_image


def per_call_us(call: Callable[[], object], calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - started) / calls * 1e6


def report(name: str, mine: list[float], theirs: list[float]) -> None:
    """One row of section 1: the median of each side's rounds and their ratio."""
    a, b = statistics.median(mine), statistics.median(theirs)
    print(f"{name:<28}{a:>12.1f}{b:>12.1f}{a / b:>8.3f}")


def compare(
    pairs: dict[str, tuple[Callable[[], object], Callable[[], object]]], calls: int, rounds: int
) -> None:
    print(f"\n1. per call ({rounds} rounds x {calls} calls, median), microseconds")
    print(f"{'call':<28}{'cri-client':>12}{'bare stub':>12}{'ratio':>8}")
    for name, (ours, bare) in pairs.items():
        ours(), bare()
        mine, theirs = [], []
        for _ in range(rounds):
            mine.append(per_call_us(ours, calls))
            theirs.append(per_call_us(bare, calls))
        report(name, mine, theirs)


def compare_async(endpoint: str, container_id: str, calls: int, rounds: int) -> None:
    """The same comparison for AsyncCRIClient against the bare grpc.aio stub, each
    call awaited in turn inside one event loop."""
    Call = Callable[[], Awaitable[object]]

    async def per_call(call: Call) -> float:
        started = time.perf_counter()
        for _ in range(calls):
            await call()
        return (time.perf_counter() - started) / calls * 1e6

    async def measure() -> None:
        async with AsyncCRIClient(endpoint) as cri:
            channel = grpc.aio.insecure_channel(cri.endpoint.url)
            stub = api_pb2_grpc.RuntimeServiceStub(channel)
            pairs: dict[str, tuple[Call, Call]] = {
                "aio api.list_pod_sandbox": (
                    lambda: cri.api.list_pod_sandbox(),
                    lambda: stub.ListPodSandbox(pb.ListPodSandboxRequest(), timeout=60),
                ),
                "aio api.container_status": (
                    lambda: cri.api.container_status(container_id=container_id),
                    lambda: stub.ContainerStatus(
                        pb.ContainerStatusRequest(container_id=container_id), timeout=60
                    ),
                ),
                "aio pods.list()": (
                    lambda: cri.pods.list(),
                    lambda: stub.ListPodSandbox(pb.ListPodSandboxRequest(), timeout=60),
                ),
                "aio containers.list()": (
                    lambda: cri.containers.list(),
                    lambda: stub.ListContainers(pb.ListContainersRequest(), timeout=60),
                ),
            }
            try:
                for name, (ours, bare) in pairs.items():
                    await ours(), await bare()
                    mine, theirs = [], []
                    for _ in range(rounds):
                        mine.append(await per_call(ours))
                        theirs.append(await per_call(bare))
                    report(name, mine, theirs)
            finally:
                await channel.close()

    asyncio.run(measure())


def crictl_loop(endpoint: str, container_id: str, calls: int, ours: Callable[[], object]) -> None:
    print("\n2. 100-style inspection loop through crictl (one process per call)")
    crictl = shutil.which("crictl")
    if crictl is None:
        print("crictl is not on PATH: not measured (no Debian or PyPI package ships it)")
        return
    started = time.perf_counter()
    for _ in range(calls):
        subprocess.run(
            [crictl, "-r", endpoint, "inspect", container_id], check=True, capture_output=True
        )
    theirs = (time.perf_counter() - started) / calls
    mine = per_call_us(ours, calls) / 1e6
    print(
        f"crictl inspect {theirs * 1000:.1f} ms, cri-client {mine * 1000:.2f} ms: "
        f"{theirs / mine:.0f}x faster"
    )


def bare_stubs() -> str:
    """The same proto compiled as top-level modules outside the package (importing
    ``cri_client._proto`` would import ``cri_client`` itself): the fair baseline."""
    from grpc_tools import protoc

    proto_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "proto")
    out = tempfile.mkdtemp(prefix="cri-client-bare-stubs-")
    status = protoc.main(
        [
            "protoc",
            f"-I{proto_dir}",
            f"--python_out={out}",
            f"--grpc_python_out={out}",
            os.path.join(proto_dir, "api.proto"),
        ]
    )
    assert status == 0, "protoc failed"
    return out


def import_times(repeats: int) -> None:
    print(f"\n3. import time (fresh interpreter, bytecode cached, median of {repeats}), ms")
    stubs = bare_stubs()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = stubs
    probes = {
        "python -c pass": "pass",
        "import grpc + bare stubs": "import grpc, api_pb2, api_pb2_grpc",
        "import cri_client": "import cri_client",
        "from cri_client import CRIClient": "from cri_client import CRIClient",
    }
    samples: dict[str, list[float]] = {name: [] for name in probes}
    for code in probes.values():
        subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=stubs)  # warm
    # Round by round, so that a burst of load elsewhere hits every probe alike.
    for _ in range(repeats):
        for name, code in probes.items():
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=stubs)
            samples[name].append((time.perf_counter() - started) * 1000)
    results = {name: statistics.median(values) for name, values in samples.items()}
    for name, median in results.items():
        print(f"{name:<34}{median:>8.1f}")
    shutil.rmtree(stubs, ignore_errors=True)
    base = results["python -c pass"]
    ratio = (results["from cri_client import CRIClient"] - base) / (
        results["import grpc + bare stubs"] - base
    )
    print(
        f"CRIClient's import next to grpc + bare stubs (interpreter start excluded): {ratio:.2f}x"
    )


def lifecycle(endpoint: str, image: str, pods: int, log_dir: str) -> None:
    print(f"\n4. {pods} pods with one container each: run, create, start, stop, remove")

    def one(cri: CRIClient, index: int, tag: str) -> None:
        ctr = cri.run(
            image, name=f"bench-{tag}-{index}", command=["sleep", "60"], log_directory=log_dir
        )
        ctr.stop(timeout=0)
        ctr.pod().remove(force=True)

    with CRIClient(endpoint) as cri:
        started = time.perf_counter()
        for index in range(pods):
            one(cri, index, "seq")
        sequential = time.perf_counter() - started
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda i: one(cri, i, "thr"), range(pods)))
        threaded = time.perf_counter() - started

    async def gathered() -> float:
        async with AsyncCRIClient(endpoint) as cri:

            async def one_async(index: int) -> None:
                ctr = await cri.run(
                    image, name=f"bench-aio-{index}", command=["sleep", "60"], log_directory=log_dir
                )
                await ctr.stop(timeout=0)
                await (await ctr.pod()).remove(force=True)

            started = time.perf_counter()
            await asyncio.gather(*(one_async(i) for i in range(pods)))
            return time.perf_counter() - started

    asynchronous = asyncio.run(gathered())
    for name, seconds in (
        ("sequential", sequential),
        ("8 threads", threaded),
        ("asyncio.gather", asynchronous),
    ):
        print(
            f"{name:<28}{seconds:>8.2f} s  {seconds / pods * 1000:>8.1f} ms/pod  "
            f"{sequential / seconds:>5.2f}x"
        )


def many_containers(endpoint: str, image: str, count: int, log_dir: str) -> None:
    print(f"\n5. list and wrap {count} containers")
    with CRIClient(endpoint) as cri:
        pod = cri.pods.run("bench-many", log_directory=log_dir)
        try:
            for index in range(count):
                cri.containers.create(pod, f"c{index}", image, command=["true"])
            stub = api_pb2_grpc.RuntimeServiceStub(grpc.insecure_channel(cri.endpoint.url))
            request = pb.ListContainersRequest()
            raw = stub.ListContainers(request, timeout=60).containers
            wrapped = cri.containers.list(all=True)  # also learns there is no Stream* RPC
            assert len(wrapped) == len(raw) >= count
            bare = min(
                per_call_us(lambda: stub.ListContainers(request, timeout=60), 1) for _ in range(20)
            )
            ours = min(per_call_us(lambda: cri.containers.list(all=True), 1) for _ in range(20))
            tracemalloc.start()
            kept = cri.containers.list(all=True)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            print(
                f"bare stub list {bare / 1000:.1f} ms; cri.containers.list {ours / 1000:.1f} ms "
                f"({ours / bare:.2f}x, best of 20); peak Python memory {peak / 2**20:.2f} MiB "
                f"for {len(kept)} Container objects"
            )
            # A lookup by full id among them: one ContainerStatus, not a list of them all.
            full_id = kept[0].id
            status = pb.ContainerStatusRequest(container_id=full_id)
            bare_get = min(
                per_call_us(lambda: stub.ContainerStatus(status, timeout=60), 20) for _ in range(5)
            )
            ours_get = min(per_call_us(lambda: cri.containers.get(full_id), 20) for _ in range(5))
            print(
                f"bare stub ContainerStatus {bare_get:.0f} us; cri.containers.get(full id) "
                f"{ours_get:.0f} us ({ours_get / bare_get:.2f}x, best of 5 x 20)"
            )
        finally:
            pod.remove(force=True)


def stats_calls(endpoint: str, image: str, count: int, log_dir: str) -> None:
    """Whether a stats call needs its second sample (``interval``, 0.5 s) shows in
    its time: a few milliseconds without, 500 and more with."""
    print(f"\n6. stats calls, {count} containers per pod (median of 5), milliseconds")
    with CRIClient(endpoint) as cri:
        idle_pod = cri.pods.run("bench-idle", log_directory=log_dir)
        done_pod = cri.pods.run("bench-exited", log_directory=log_dir)
        try:
            idle = [
                cri.containers.create(idle_pod, f"idle{i}", image, command=["sleep", "600"])
                for i in range(count)
            ]
            done = [
                cri.containers.create(done_pod, f"done{i}", image, command=["true"])
                for i in range(count)
            ]
            for ctr in idle + done:
                ctr.start()
            for ctr in done:
                ctr.wait(timeout=60)
            time.sleep(1)  # the idle ones have settled
            calls: dict[str, Callable[[], object]] = {
                f"containers.stats(), {count} idle": lambda: cri.containers.stats(pod=idle_pod),
                f"containers.stats(), {count} exited": lambda: cri.containers.stats(pod=done_pod),
                "ctr.stats(), idle": lambda: idle[0].stats(),
                "ctr.stats(), exited": lambda: done[0].stats(),
            }
            for name, call in calls.items():
                try:
                    times = [per_call_us(call, 1) / 1000 for _ in range(5)]
                except CRIError as err:
                    print(f"{name:<36}{'fails':>10}  {type(err).__name__}")
                    continue
                print(f"{name:<36}{statistics.median(times):>10.1f}")
        finally:
            idle_pod.remove(force=True)
            done_pod.remove(force=True)


def forced_removal(endpoint: str, image: str, pods: int, log_dir: str) -> None:
    print(f"\n7. {pods} forced removals of a pod whose PID 1 ignores SIGTERM (grace_period=0)")
    times = []
    with CRIClient(endpoint) as cri:
        for index in range(pods):
            pod = cri.pods.run(f"bench-stubborn-{index}", log_directory=log_dir)
            cri.containers.create(pod, "stubborn", image, command=["sleep", "3600"]).start()
            started = time.perf_counter()
            pod.remove(force=True, grace_period=0)
            times.append(time.perf_counter() - started)
    print(
        f"median {statistics.median(times) * 1000:.0f} ms, min {min(times) * 1000:.0f} ms, "
        f"max {max(times) * 1000:.0f} ms"
    )


def inventory(endpoint: str, image: str, count: int, log_dir: str) -> None:
    """``containers.list(with_status=True)`` costs a list plus one ContainerStatus per
    container: measured against the bare stub doing the same, serially and with 8
    threads, and against the bare list alone (best of 5 each, milliseconds)."""
    print(f"\n9. inventory of {count} exited containers in 10 pods (best of 5), milliseconds")
    with CRIClient(endpoint) as cri:
        pods = [cri.pods.run(f"bench-inventory-{i}", log_directory=log_dir) for i in range(10)]
        try:
            for index in range(count):
                pod = pods[index % len(pods)]
                kubelet = {
                    "io.kubernetes.pod.name": pod.name,
                    "io.kubernetes.pod.namespace": "default",
                }
                cri.containers.create(
                    pod, f"c{index}", image, command=["sh", "-c", "exit 3"], labels=kubelet
                ).start()
            stub = api_pb2_grpc.RuntimeServiceStub(grpc.insecure_channel(cri.endpoint.url))
            listing = pb.ListContainersRequest()

            def statuses(ids: list[str]) -> list[object]:
                return [
                    stub.ContainerStatus(pb.ContainerStatusRequest(container_id=i), timeout=60)
                    for i in ids
                ]

            def bare_serial() -> object:
                return statuses([c.id for c in stub.ListContainers(listing, timeout=60).containers])

            def bare_threads() -> object:
                ids = [c.id for c in stub.ListContainers(listing, timeout=60).containers]
                with ThreadPoolExecutor(8) as pool:
                    return list(pool.map(lambda i: statuses([i]), ids))

            listed = cri.containers.list(all=True, with_status=True)
            assert len(listed) >= count and {c.exit_code for c in listed} >= {3}
            rows: dict[str, Callable[[], object]] = {
                "bare ListContainers": lambda: stub.ListContainers(listing, timeout=60),
                "containers.list(all=True)": lambda: cri.containers.list(all=True),
                "bare list + statuses, serial": bare_serial,
                "bare list + statuses, 8 threads": bare_threads,
            }
            for parallel in (1, 4, 8, 16):
                rows[f"list(with_status=True, parallel={parallel})"] = partial(
                    cri.containers.list, all=True, with_status=True, parallel=parallel
                )
            best = {
                name: min(per_call_us(call, 1) for _ in range(5)) for name, call in rows.items()
            }
            bare = best["bare ListContainers"]
            for name, micros in best.items():
                print(f"{name:<44}{micros / 1000:>10.1f}{micros / bare:>8.1f}x")
        finally:
            for pod in pods:
                pod.remove(force=True)


def prune_exited(endpoint: str, image: str, count: int, log_dir: str) -> None:
    """The same pod filled with ``count`` exited containers before each prune."""
    from cri_client._sync.concurrency import each_at_most

    print(f"\n10. containers.prune() of {count} exited containers, seconds (median of 3)")
    with CRIClient(endpoint) as cri:
        pod = cri.pods.run("bench-prune", log_directory=log_dir)
        try:
            for parallel in (1, 2, 4, 8, 16):
                times = []
                for round_ in range(3):
                    labels = {"bench": f"prune-{parallel}-{round_}"}

                    def exited(index: int, labels: dict[str, str] = labels) -> None:
                        name = f"{labels['bench']}-{index}"
                        ctr = cri.containers.create(
                            pod, name, image, command=["true"], labels=labels
                        )
                        ctr.start().wait(timeout=60)

                    made = each_at_most([lambda i=i: exited(i) for i in range(count)], 8)
                    assert not any(isinstance(m, Exception) for m in made), made
                    started = time.perf_counter()
                    report = cri.containers.prune(labels=labels, parallel=parallel)
                    times.append(time.perf_counter() - started)
                    assert len(report.removed) == count and report.ok
                median = statistics.median(times)
                print(
                    f"parallel={parallel:<3}{median:>8.2f} s  "
                    f"{median / count * 1000:>6.1f} ms per container"
                )
        finally:
            pod.remove(force=True)


def pull_progress_cost(endpoint: str, image: str, rounds: int) -> None:
    """Section 8: the same pull with and without ``progress=``, alternating, the image
    removed (and its content collected) before each pull."""
    from cri_client.testing._images import push_random_image

    registry = image.split("/")[0]
    if not registry.startswith("127.0.0.1:"):
        print("\n8. pull progress: skipped (needs the throwaway runtime's local registry)")
        return
    sizes = [24 << 20, 16 << 20, 8 << 20]
    with tempfile.TemporaryDirectory() as work:
        reference = push_random_image(registry, "bench-progress", sizes, Path(work))
    print(f"\n8. pull of {sum(sizes) / 1e6:.0f} MB in 3 layers, without and with progress")
    plain: list[float] = []
    watched: list[float] = []
    looks: list[int] = []
    with CRIClient(endpoint) as cri:
        for _ in range(rounds):
            for times, with_progress in ((plain, False), (watched, True)):
                cri.images.remove(reference, missing_ok=True)
                values: list[object] = []
                started = time.perf_counter()
                cri.images.pull(reference, progress=values.append if with_progress else None)
                times.append(time.perf_counter() - started)
                if with_progress:
                    looks.append(len(values))
        cri.images.remove(reference, missing_ok=True)
    without, with_ = statistics.median(plain), statistics.median(watched)
    print(
        f"without progress {without * 1000:.0f} ms, with progress {with_ * 1000:.0f} ms "
        f"(median of {rounds}; ratio {with_ / without:.3f}; {statistics.median(looks):.0f} "
        "progress values per pull)"
    )


def cli_command() -> list[str]:
    """The console script beside this interpreter, as a user runs it."""
    script = os.path.join(os.path.dirname(sys.executable), "cri-client")
    return [script] if os.path.exists(script) else [sys.executable, "-m", "cri_client"]


def bytecode_env() -> dict[str, str]:
    """The environment with bytecode caching on, as an installed package runs."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed_child(run: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child processes ``run`` waited for): the CPU
    time is what a command costs itself, whatever else loads the machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    run()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def interleaved(
    runs: dict[str, Callable[[], object]], rounds: int
) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) seconds of each run, round by round, so that a burst of load
    elsewhere hits every run alike."""
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            samples[name].append(timed_child(run))
    return {
        name: (statistics.median(w for w, _ in values), statistics.median(c for _, c in values))
        for name, values in samples.items()
    }


def print_against(
    results: dict[str, tuple[float, float]], base: str, compare: str, scale: float
) -> None:
    """Each run's median wall and CPU time (times ``scale``) and how it compares with
    ``base``'s: the difference (``compare="above"``) or the ratio."""

    def against(value: float, reference: float) -> str:
        if compare == "above":
            return f"{(value - reference) * scale:>+8.1f}"
        return f"{value / reference:>7.1f}x"

    base_wall, base_cpu = results[base]
    digits = 1 if scale > 1 else 3
    print(f"{'':<30}{'wall':>8}{compare:>8}{'CPU':>8}{compare:>8}")
    for name, (wall, cpu) in results.items():
        print(
            f"{name:<30}{wall * scale:>8.{digits}f}{against(wall, base_wall)}"
            f"{cpu * scale:>8.{digits}f}{against(cpu, base_cpu)}"
        )


def cold_start(endpoint: str, repeats: int) -> None:
    print(f"\n11. command line cold start (median of {repeats}, interleaved), ms")
    env = bytecode_env()
    floor = "import grpc; from cri_client._proto import api_pb2_grpc"
    argvs = {"floor: import grpc + stubs": [sys.executable, "-c", floor]}
    for name in ("version", "ps", "pods", "images", "info"):
        argvs[f"cri-client {name}"] = [*cli_command(), "-r", endpoint, name]
    runs: dict[str, Callable[[], object]] = {
        name: partial(subprocess.run, argv, check=True, env=env, capture_output=True)
        for name, argv in argvs.items()
    }
    for run in runs.values():  # warm: bytecode written, files cached
        run()
    results = interleaved(runs, repeats)
    print_against(results, "floor: import grpc + stubs", "above", 1000)


def batch_inspect(endpoint: str, container_id: str, count: int, rounds: int) -> None:
    print(f"\n12. {count} inspect commands: one batch process or {count} processes, s")
    env = bytecode_env()
    script = "".join(f"inspect {container_id}\n" for _ in range(count)).encode()
    ours = [*cli_command(), "-r", endpoint]
    runs: dict[str, Callable[[], object]] = {
        "cri-client batch": partial(
            subprocess.run, [*ours, "batch"], input=script, check=True, env=env, capture_output=True
        ),
        f"{count} x cri-client inspect": lambda: [
            subprocess.run(
                [*ours, "inspect", container_id], check=True, env=env, capture_output=True
            )
            for _ in range(count)
        ],
    }
    crictl = shutil.which("crictl")
    if crictl is not None:
        runs[f"{count} x crictl inspect"] = lambda: [
            subprocess.run(
                [crictl, "-r", endpoint, "inspect", container_id], check=True, capture_output=True
            )
            for _ in range(count)
        ]
    else:
        print("crictl is not on PATH: not measured (no Debian or PyPI package ships it)")
        ctr = shutil.which("ctr")
        if ctr is not None:  # a stand-in: a Go gRPC client process, one RPC, JSON out
            print("stand-in: containerd's ctr (Go, gRPC, one call a process): containers info")
            address = endpoint.removeprefix("unix://")
            runs[f"{count} x ctr containers info"] = lambda: [
                subprocess.run(
                    [ctr, "--address", address, "-n", "k8s.io", "containers", "info", container_id],
                    check=True,
                    capture_output=True,
                )
                for _ in range(count)
            ]
    results = interleaved(runs, rounds)
    print_against(results, "cri-client batch", "ratio", 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint")
    parser.add_argument("--quick", action="store_true", help="fewer calls and rounds")
    parser.add_argument(
        "--sections", default="1,2,3,4,5,6,7,8,9,10,11,12", help="which to run, e.g. 1,3"
    )
    args = parser.parse_args()
    sections = {int(part) for part in args.sections.split(",")}
    calls, rounds = (100, 3) if args.quick else (500, 7)
    print(
        f"{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"grpcio {grpc.__version__}"
    )
    log_dir = tempfile.mkdtemp(prefix="cri-client-bench-logs-")
    with runtime(args.endpoint) as (endpoint, image), CRIClient(endpoint) as cri:
        print(f"runtime: {cri.version()} at {endpoint}")
        cri.images.pull(image)
        ctr = cri.run(image, name="bench-probe", command=["sleep", "600"], log_directory=log_dir)
        channel = grpc.insecure_channel(cri.endpoint.url)
        stub = api_pb2_grpc.RuntimeServiceStub(channel)
        images = api_pb2_grpc.ImageServiceStub(channel)
        spec = pb.ImageSpec(image=image)
        try:
            pairs: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
                "api.list_pod_sandbox": (
                    lambda: cri.api.list_pod_sandbox(),
                    lambda: stub.ListPodSandbox(pb.ListPodSandboxRequest(), timeout=60),
                ),
                "api.list_containers": (
                    lambda: cri.api.list_containers(),
                    lambda: stub.ListContainers(pb.ListContainersRequest(), timeout=60),
                ),
                "api.image_status": (
                    lambda: cri.api.image_status(image=spec),
                    lambda: images.ImageStatus(pb.ImageStatusRequest(image=spec), timeout=60),
                ),
                "api.container_status": (
                    lambda: cri.api.container_status(container_id=ctr.id),
                    lambda: stub.ContainerStatus(
                        pb.ContainerStatusRequest(container_id=ctr.id), timeout=60
                    ),
                ),
                "pods.list()": (
                    lambda: cri.pods.list(),
                    lambda: stub.ListPodSandbox(pb.ListPodSandboxRequest(), timeout=60),
                ),
                "containers.list()": (
                    lambda: cri.containers.list(),
                    lambda: stub.ListContainers(pb.ListContainersRequest(), timeout=60),
                ),
            }
            if 1 in sections:
                compare(pairs, calls, rounds)
                compare_async(endpoint, ctr.id, calls, rounds)
            if 2 in sections:
                crictl_loop(endpoint, ctr.id, 100, lambda: ctr.inspect())
            if 3 in sections:
                import_times(5 if args.quick else 15)
            if 4 in sections:
                lifecycle(endpoint, image, 10 if args.quick else 50, log_dir)
            if 5 in sections:
                many_containers(endpoint, image, 100 if args.quick else 500, log_dir)
            if 6 in sections:
                stats_calls(endpoint, image, 16, log_dir)
            if 7 in sections:
                forced_removal(endpoint, image, 5 if args.quick else 20, log_dir)
            if 8 in sections:
                pull_progress_cost(endpoint, image, 5 if args.quick else 21)
            if 9 in sections:
                inventory(endpoint, image, 60 if args.quick else 300, log_dir)
            if 10 in sections:
                prune_exited(endpoint, image, 50 if args.quick else 200, log_dir)
            if 11 in sections:
                cold_start(endpoint, 7 if args.quick else 21)
            if 12 in sections:
                batch_inspect(endpoint, ctr.id, 50, 3 if args.quick else 5)
        finally:
            channel.close()
            ctr.pod().remove(force=True)
    shutil.rmtree(log_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
