"""Pull progress: the I/O-free tracker, and a runtime without containerd's services."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import queue
import threading
import time
from typing import Any

import grpc
import pytest

from cri_client import CRIClient, PullPhase, PullProgress
from cri_client._core.progress import PullTracker, manifest_content, repo_digests
from cri_client._core.runtimes import progress_service_missing
from cri_client._proto import api_pb2 as pb
from cri_client._proto.containerd import content_pb2
from cri_client.aio import AsyncCRIClient
from cri_client.cli.progress import describe, pull_progress_display
from cri_client.errors import NotFoundError
from cri_client.types import LayerProgress

from .fake_runtime import FakeRuntime, abort_with

A, B, C = ("sha256:" + letter * 64 for letter in "abc")
STARTED = 1_000_000.0


def ingest(ref: str, offset: int, total: int, updated: float = STARTED + 1) -> content_pb2.Status:
    status = content_pb2.Status(ref=ref, offset=offset, total=total)
    status.updated_at.seconds = int(updated)
    return status


def test_tracker_adds_up_layers_and_works_out_phases() -> None:
    tracker = PullTracker("r", STARTED)
    assert tracker.resolving(0.0).phase is PullPhase.RESOLVING
    first = tracker.observe([ingest(f"manifest-{A}", 10, 900)], 0.1)
    assert (first.phase, first.layers, first.bytes_expected) == (PullPhase.RESOLVING, (), 0)
    second = tracker.observe(
        [ingest(f"layer-{A}", 100, 1000), ingest(f"k8s.io/1/layer-{B}", 0, 500)], 0.2
    )
    assert second.phase is PullPhase.DOWNLOADING
    assert second.layers == (LayerProgress(A, 100, 1000), LayerProgress(B, 0, 500))
    assert (second.bytes_done, second.bytes_expected) == (100, 1500)
    # A was committed (gone from the list); B went on.
    third = tracker.observe([ingest(f"layer-{B}", 400, 500)], 0.3)
    assert third.layers == (LayerProgress(A, 1000, 1000), LayerProgress(B, 400, 500))
    assert third.layers[0].complete and not third.layers[1].complete
    assert third.fraction == 1400 / 1500
    unpacking = tracker.observe([], 0.4)
    assert unpacking.phase is PullPhase.UNPACKING
    assert unpacking.bytes_done == unpacking.bytes_expected == 1500
    # The manifest has a small layer never seen while it downloaded.
    last = tracker.finish("sha256:img", ((A, 1000), (B, 500), (C, 7)), 0.5)
    assert last.phase is PullPhase.DONE and last.image_id == "sha256:img"
    assert [layer.digest for layer in last.layers] == [A, B, C]
    assert last.bytes_done == last.bytes_expected == 1507


def test_tracker_never_goes_back_and_ignores_abandoned_ingests() -> None:
    tracker = PullTracker("r", STARTED)
    stale = ingest(f"layer-{C}", 50, 100, updated=STARTED - 3600)
    assert tracker.observe([stale], 0.1).layers == ()
    tracker.observe([ingest(f"layer-{A}", 300, 1000)], 0.2)
    # A restarted download reports a lower offset: the value keeps the highest.
    again = tracker.observe([ingest(f"layer-{A}", 0, 1000)], 0.3)
    assert again.bytes_done == 300
    assert tracker.observe([ingest("something-else", 1, 2)], 0.4).layers[0].done == 1000


def test_tracker_without_a_content_service_reports_phases_only() -> None:
    tracker = PullTracker("r", STARTED)
    value = tracker.resolving(1.5, detailed=False)
    assert (value.detailed, value.bytes_expected, value.elapsed) == (False, 0, 1.5)
    last = tracker.finish("sha256:img", None, 2.0)
    assert (last.phase, last.detailed, last.layers, last.image_id) == (
        PullPhase.DONE,
        False,
        (),
        "sha256:img",
    )


def test_manifest_content_reads_indexes_and_manifests() -> None:
    index = json.dumps({"manifests": [{"digest": A}, {"digest": B}]}).encode()
    assert manifest_content(index).children == (A, B)
    manifest = {"config": {"digest": C}, "layers": [{"digest": A, "size": 5}]}
    content = manifest_content(json.dumps(manifest).encode())
    assert (content.config, content.layers) == (C, ((A, 5),))
    assert manifest_content(b"not json") == manifest_content(b"[]") == manifest_content(b"{}")
    assert repo_digests(["r@" + A, "s@" + A, "r:tag"]) == [A]


def test_which_answers_mean_no_content_service() -> None:
    assert progress_service_missing("UNIMPLEMENTED", "unknown service x")
    assert progress_service_missing("UNKNOWN", "unknown service containerd.services.content.v1")
    assert not progress_service_missing("DEADLINE_EXCEEDED", "")


def slow_pull(request: pb.PullImageRequest, context: Any) -> pb.PullImageResponse:
    time.sleep(0.7)
    return pb.PullImageResponse(image_ref="sha256:" + "d" * 64)


def image_status(request: pb.ImageStatusRequest, context: Any) -> pb.ImageStatusResponse:
    return pb.ImageStatusResponse(
        image=pb.Image(id=request.image.image, repo_tags=["example.test/app:1"])
    )


HANDLERS = {"PullImage": slow_pull, "ImageStatus": image_status}


def no_service_logs(caplog: pytest.LogCaptureFixture) -> list[str]:
    messages = [record.getMessage() for record in caplog.records]
    return [message for message in messages if "no containerd content service" in message]


def test_pull_without_content_service_reports_phases_and_says_so_once(
    sock: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="cri_client.rpc")
    with FakeRuntime(sock, HANDLERS) as fake, CRIClient(fake.endpoint) as cri:
        values: list[PullProgress] = []
        image = cri.images.pull("example.test/app:1", progress=values.append)
        assert image.id == "sha256:" + "d" * 64
        assert [v.phase for v in values[:-1]] == [PullPhase.RESOLVING] * (len(values) - 1)
        assert len(values) >= 3  # the first value, at least one look, the last
        assert not any(v.detailed for v in values[1:])
        assert values[-1].phase is PullPhase.DONE and values[-1].image_id == image.id
        assert [v.elapsed for v in values] == sorted(v.elapsed for v in values)
        assert values[-1].elapsed >= 0.7
        again = list(cri.images.pull_progress("example.test/app:1"))
        assert again[-1].phase is PullPhase.DONE and not again[0].detailed
    assert len(no_service_logs(caplog)) == 1
    assert "UNIMPLEMENTED" in no_service_logs(caplog)[0]


def test_async_pull_without_content_service(sock: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="cri_client.rpc")

    async def main() -> list[PullProgress]:
        async with AsyncCRIClient(fake.endpoint) as cri:
            return [value async for value in cri.images.pull_progress("example.test/app:1")]

    with FakeRuntime(sock, HANDLERS) as fake:
        values = asyncio.run(main())
    assert values[-1].phase is PullPhase.DONE and not values[-1].detailed
    assert len(no_service_logs(caplog)) == 1


def test_progress_must_be_callable(sock: str) -> None:
    with FakeRuntime(sock, HANDLERS) as fake, CRIClient(fake.endpoint) as cri:
        with pytest.raises(TypeError, match="progress must be callable"):
            cri.images.pull("example.test/app:1", progress="yes")  # type: ignore[arg-type]
        assert fake.calls == []


def test_plain_lines_are_rate_limited_and_say_each_phase() -> None:
    out = io.StringIO()
    layers = (LayerProgress(A, 5_000_000, 10_000_000), LayerProgress(B, 1000, 1000))
    with pull_progress_display(out, bars=False) as show:
        show(PullProgress("r", PullPhase.RESOLVING, 0.0))
        for elapsed in (0.25, 0.5):
            show(PullProgress("r", PullPhase.DOWNLOADING, elapsed, layers, 5_001_000, 10_001_000))
        show(PullProgress("r", PullPhase.DONE, 0.75, layers, 10_001_000, 10_001_000))
    assert out.getvalue().splitlines() == [
        "resolving 0.0s",
        "downloading 5.001MB/10MB (50%), 1/2 layers, 0.2s",
        "done 10MB/10MB (100%), 1/2 layers, 0.8s",
    ]
    assert describe(PullProgress("r", PullPhase.DONE, 1.0, detailed=False)) == "done 1.0s"


def test_a_failed_pull_raises_through_progress(sock: str) -> None:
    failing = {
        "PullImage": abort_with(grpc.StatusCode.NOT_FOUND, "example.test/app:2: not found"),
    }
    with FakeRuntime(sock, failing) as fake, CRIClient(fake.endpoint) as cri:
        values: list[PullProgress] = []
        with pytest.raises(NotFoundError, match="anonymous"):
            cri.images.pull("example.test/app:2", progress=values.append)
        assert values and all(v.phase is PullPhase.RESOLVING for v in values)


class Enough(Exception):
    """A progress callback's way of saying stop."""


def test_leaving_early_cancels_the_pull_in_both_flavours(sock: str) -> None:
    """The PullImage RPC ends on the runtime's side (its context is no longer active)
    when the loop is left or the callback raises, once the runtime is pulling: for the
    sync client too, whose pull waits in a thread."""
    pulling = threading.Event()
    ended: queue.Queue[bool] = queue.Queue()

    def endless_pull(request: pb.PullImageRequest, context: Any) -> pb.PullImageResponse:
        pulling.set()
        deadline = time.monotonic() + 10
        while context.is_active() and time.monotonic() < deadline:
            time.sleep(0.02)
        ended.put(context.is_active())  # False: the client cancelled the call
        return pb.PullImageResponse(image_ref="sha256:" + "d" * 64)

    def enough(value: PullProgress) -> None:
        if pulling.is_set():
            raise Enough

    async def in_asyncio(endpoint: str) -> None:
        async with AsyncCRIClient(endpoint) as acri:
            async for _ in acri.images.pull_progress("example.test/app:1"):
                if pulling.is_set():
                    break
            assert await asyncio.to_thread(ended.get, timeout=5) is False
            pulling.clear()
            with pytest.raises(Enough):
                await acri.images.pull("example.test/app:1", progress=enough)

    handlers = {**HANDLERS, "PullImage": endless_pull}
    with FakeRuntime(sock, handlers) as fake, CRIClient(fake.endpoint) as cri:
        for _ in cri.images.pull_progress("example.test/app:1"):
            if pulling.is_set():
                break
        assert ended.get(timeout=5) is False
        pulling.clear()
        with pytest.raises(Enough):
            cri.images.pull("example.test/app:1", progress=enough)
        assert ended.get(timeout=5) is False
        pulling.clear()
        asyncio.run(in_asyncio(fake.endpoint))
        assert ended.get(timeout=5) is False
