"""A real containerd for the integration tests, started by the project's own harness.

The version is ``$CRI_CLIENT_TEST_CONTAINERD`` (1.6, 1.7 or 2.1; default 2.1). With
``CRI_CLIENT_TEST_REUSE=1`` the tests use the runtime that
``eval "$(python -m cri_client.testing up)"`` described in the environment instead of
starting one. There is no skipping: if the runtime cannot start, every test errors.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from cri_client import CRIClient


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
    base_dir = os.environ.get("CRI_CLIENT_TEST_DIR") or tempfile.mkdtemp(prefix="cri-client-it-")
    with ThrowawayContainerd(version, base_dir=base_dir) as containerd:
        yield RuntimeUnderTest(
            version=version,
            endpoint=containerd.endpoint,
            busybox_image=containerd.busybox_image,
            pause_image=containerd.pause_image,
            handlers=containerd.runtime_handlers,
        )


@pytest.fixture(scope="session")
def cri(runtime: RuntimeUnderTest) -> Iterator[CRIClient]:
    with CRIClient(runtime.endpoint) as client:
        client.api.pull_image(image={"image": runtime.busybox_image})
        yield client


@pytest.fixture
def unique() -> str:
    """A short name unique to one test, for pods and labels."""
    return "t" + uuid.uuid4().hex[:10]
