"""A real containerd for the integration tests, started by the project's own harness.

The version is ``$CRI_CLIENT_TEST_CONTAINERD`` (1.6, 1.7 or 2.1; default 2.1). With
``CRI_CLIENT_TEST_REUSE=1`` the tests use the runtime that
``eval "$(python -m cri_client.testing up)"`` described in the environment instead of
starting one. There is no skipping: if the runtime cannot start, every test errors.
"""

from __future__ import annotations

import os
import pty
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from cri_client import CRIClient

if TYPE_CHECKING:
    from cri_client.testing import ThrowawayContainerd as ThrowawayContainerdType


@dataclass(frozen=True)
class RuntimeUnderTest:
    version: str  # "1.6", "1.7" or "2.1"
    endpoint: str
    busybox_image: str
    pause_image: str
    handlers: tuple[str, ...]


@pytest.fixture(scope="session")
def runtime() -> Iterator[RuntimeUnderTest]:
    if os.environ.get("CRI_CLIENT_TEST_REUSE") == "1":
        yield RuntimeUnderTest(
            version=os.environ["CRI_CLIENT_TEST_CONTAINERD"],
            endpoint=os.environ["CONTAINER_RUNTIME_ENDPOINT"],
            busybox_image=os.environ["CRI_CLIENT_TEST_BUSYBOX_IMAGE"],
            pause_image=os.environ["CRI_CLIENT_TEST_PAUSE_IMAGE"],
            handlers=tuple(os.environ["CRI_CLIENT_TEST_RUNTIME_HANDLERS"].split(",")),
        )
        return
    from cri_client.testing import ThrowawayContainerd

    version = os.environ.get("CRI_CLIENT_TEST_CONTAINERD", "2.1")
    base_dir = tempfile.mkdtemp(prefix="cri-client-it-")
    containerd = ThrowawayContainerd(version, base_dir=base_dir).start()
    try:
        yield RuntimeUnderTest(
            version=version,
            endpoint=containerd.endpoint,
            busybox_image=containerd.busybox_image,
            pause_image=containerd.pause_image,
            handlers=containerd.runtime_handlers,
        )
    finally:
        containerd.stop(purge=True)
        shutil.rmtree(base_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def cri(runtime: RuntimeUnderTest) -> Iterator[CRIClient]:
    with CRIClient(runtime.endpoint) as client:
        client.api.pull_image(image={"image": runtime.busybox_image})
        yield client


@pytest.fixture
def log_dir(tmp_path: Path) -> str:
    """A pod log directory that goes away with the test's temporary files."""
    path = tmp_path / "pod-logs"
    path.mkdir()
    return str(path)


@pytest.fixture
def suite(cri: CRIClient, unique: str) -> Iterator[dict[str, str]]:
    """Labels unique to one test; every pod carrying them is removed afterwards."""
    labels = {"suite": unique}
    yield labels
    for pod in cri.pods.list(labels=labels):
        pod.remove(force=True, missing_ok=True)


@pytest.fixture
def unique() -> str:
    """A short name unique to one test, for pods and labels."""
    return "t" + uuid.uuid4().hex[:10]


@pytest.fixture
def fresh_containerd(runtime: RuntimeUnderTest) -> Iterator[ThrowawayContainerdType]:
    """A containerd of the version under test of its own, fresh: for tests that stop
    and restart the daemon, or need its state untouched by other tests (no event
    backlog, no other subscriber)."""
    from cri_client.testing import ThrowawayContainerd

    base_dir = tempfile.mkdtemp(prefix="cri-client-fresh-")
    containerd = ThrowawayContainerd(runtime.version, base_dir=base_dir).start()
    try:
        yield containerd
    finally:
        containerd.stop(purge=True)
        shutil.rmtree(base_dir, ignore_errors=True)


def rpcs_made(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The RPCs logged on ``cri_client.rpc`` (one DEBUG line each) since the last clear."""
    return [record.getMessage().split("(")[0] for record in caplog.records]


def run_with_stderr_on_a_terminal(
    argv: list[str], env: dict[str, str]
) -> tuple[subprocess.CompletedProcess[str], bytes]:
    """Run a command with stdout captured and stderr on a pseudo-terminal: what the
    command returned, and everything it drew on that terminal."""
    leader, follower = pty.openpty()
    try:
        try:
            done = subprocess.run(
                argv, stdout=subprocess.PIPE, stderr=follower, env=env, timeout=120, text=True
            )
        finally:
            os.close(follower)
        drawn = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal's other end is closed and drained
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(leader)
    return done, drawn
