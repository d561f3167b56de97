"""Pull progress on a real containerd: a locally built image of random-data layers,
served through a throttled proxy on 127.0.0.1 so the pull lasts a few seconds."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import pty
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from cri_client import CRIClient, PullPhase, PullProgress
from cri_client.aio import AsyncCRIClient
from cri_client.testing._images import push_random_image
from cri_client.testing._throttle import ThrottledProxy

from .conftest import RuntimeUnderTest
from .test_cli import cli

pytestmark = pytest.mark.integration

LAYER_SIZES = [12 << 20, 6 << 20, 256 << 10]
BYTES_PER_SECOND = 4_000_000  # per connection: each pull takes about 3 s


@pytest.fixture(scope="module")
def big_image(runtime: RuntimeUnderTest) -> Iterator[tuple[str, list[tuple[str, int]]]]:
    """(reference through the throttled proxy, the manifest's layers (digest, size))."""
    registry = runtime.busybox_image.split("/")[0]
    with tempfile.TemporaryDirectory() as work:
        direct = push_random_image(registry, "progress-big", LAYER_SIZES, Path(work))
    request = urllib.request.Request(
        f"http://{registry}/v2/progress-big/manifests/latest",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=10) as response:
        manifest = json.load(response)
    layers = [(layer["digest"], layer["size"]) for layer in manifest["layers"]]
    with ThrottledProxy(registry, bytes_per_second=BYTES_PER_SECOND) as proxy:
        yield direct.replace(registry, proxy.address), layers


@pytest.fixture(scope="module")
def throttled(runtime: RuntimeUnderTest) -> Iterator[tuple[str, ThrottledProxy, int]]:
    """(reference through its own throttled proxy, the proxy, the image's layer bytes):
    a proxy of this test's own, so its byte count is this pull's."""
    registry = runtime.busybox_image.split("/")[0]
    with tempfile.TemporaryDirectory() as work:
        direct = push_random_image(registry, "progress-cancel", LAYER_SIZES, Path(work))
    with ThrottledProxy(registry, bytes_per_second=BYTES_PER_SECOND) as proxy:
        yield direct.replace(registry, proxy.address), proxy, sum(LAYER_SIZES)


@pytest.fixture
def absent(cri: CRIClient, big_image: tuple[str, list[tuple[str, int]]]) -> Iterator[str]:
    """The big image's reference, not in the runtime before or after the test."""
    reference = big_image[0]
    cri.images.remove(reference, missing_ok=True)
    yield reference
    cri.images.remove(reference, missing_ok=True)


def check_progress(values: list[PullProgress], layers: list[tuple[str, int]]) -> None:
    """Monotonic bytes, a look in the middle of the downloads, an exact last value."""
    assert values[0].phase is PullPhase.RESOLVING
    for before, after in itertools.pairwise(values):
        assert after.bytes_done >= before.bytes_done
        assert after.bytes_expected >= before.bytes_expected
        assert after.elapsed >= before.elapsed
    assert all(value.detailed for value in values)
    downloading = [value for value in values if value.phase is PullPhase.DOWNLOADING]
    assert downloading, [value.phase for value in values]
    assert any(0 < value.bytes_done < value.bytes_expected for value in downloading)
    last = values[-1]
    assert last.phase is PullPhase.DONE
    assert [(layer.digest, layer.expected) for layer in last.layers] == layers
    assert all(layer.complete for layer in last.layers)
    assert last.bytes_done == last.bytes_expected == sum(size for _, size in layers)
    assert last.image_id.startswith("sha256:")
    assert [v for v in values if v.phase is PullPhase.DONE] == [last]


def test_pull_with_progress_callback(
    cri: CRIClient, absent: str, big_image: tuple[str, list[tuple[str, int]]]
) -> None:
    values: list[PullProgress] = []
    image = cri.images.pull(absent, progress=values.append)
    check_progress(values, big_image[1])
    assert image.id == values[-1].image_id
    assert absent in image.repo_tags


def test_pull_progress_async_iterator(
    runtime: RuntimeUnderTest, absent: str, big_image: tuple[str, list[tuple[str, int]]]
) -> None:
    async def main() -> list[PullProgress]:
        async with AsyncCRIClient(runtime.endpoint) as cri:
            return [value async for value in cri.images.pull_progress(absent)]

    values = asyncio.run(main())
    check_progress(values, big_image[1])


def test_cli_pull_in_a_pipe_prints_crictls_line_alone(
    runtime: RuntimeUnderTest, absent: str
) -> None:
    result = cli(runtime, "pull", absent)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines() == [result.stdout.strip()]
    assert result.stdout.startswith("Image is up to date for sha256:")


def test_cli_pull_progress_plain_prints_lines_before_crictls(
    runtime: RuntimeUnderTest, absent: str
) -> None:
    result = cli(runtime, "pull", "--progress", "plain", absent)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[-1].startswith("Image is up to date for sha256:")
    assert any(line.startswith("downloading ") for line in lines[:-1]), lines
    assert lines[-2].startswith("done "), lines


def test_cli_pull_quiet_prints_only_the_last_line(runtime: RuntimeUnderTest, absent: str) -> None:
    result = cli(runtime, "pull", "-q", absent)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines() == [result.stdout.strip()]
    assert result.stdout.startswith("Image is up to date for sha256:")


def test_cli_pull_progress_bars_on_a_terminal(runtime: RuntimeUnderTest, absent: str) -> None:
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "cri_client", "-r", runtime.endpoint, "pull", absent],
        stdin=subprocess.DEVNULL,
        stdout=secondary,
        stderr=subprocess.PIPE,
        env={**os.environ, "COLUMNS": "120", "TERM": "xterm"},
    )
    os.close(secondary)
    output = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
    assert process.wait(timeout=120) == 0
    assert process.stderr is not None and process.stderr.read() == b""
    os.close(primary)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", output.decode(errors="replace"))
    assert "total" in text
    assert "MB" in text  # rich's transfer column
    assert text.rstrip().splitlines()[-1].startswith("Image is up to date for sha256:")


def test_leaving_the_loop_early_cancels_the_pull(
    cri: CRIClient, runtime: RuntimeUnderTest, throttled: tuple[str, ThrottledProxy, int]
) -> None:
    """Left after the first bytes, the pull stops: containerd downloads nothing more
    through the proxy, and the image never arrives (sync, then asyncio)."""
    reference, proxy, total = throttled

    async def leave_early_in_asyncio() -> None:
        async with AsyncCRIClient(runtime.endpoint) as acri:
            async for value in acri.images.pull_progress(reference):
                if value.bytes_done > 0:
                    break

    def leave_early_in_sync() -> None:
        for value in cri.images.pull_progress(reference):
            if value.bytes_done > 0:
                break

    for leave_early in (leave_early_in_sync, lambda: asyncio.run(leave_early_in_asyncio())):
        cri.images.remove(reference, missing_ok=True)
        leave_early()
        time.sleep(1.5)  # the cancellation reaches containerd, which closes its downloads
        stopped_at = proxy.bytes_sent
        time.sleep(2.5)  # at 4 MB/s a connection, a download still going would show
        assert proxy.bytes_sent == stopped_at
        assert not cri.images.exists(reference)
    assert proxy.bytes_sent < 2 * total  # two starts, each cut short
