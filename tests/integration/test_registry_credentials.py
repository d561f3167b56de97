"""Pulls from a registry that wants a password, with every credential source.

The registry is the harness's secured one (``ThrowawayContainerd(auth_registry=True)``:
TLS with its own CA, htpasswd), started with a containerd of its own under a
temporary base dir, so the plain registry the other tests use stays anonymous. The
credential helper is a real program on PATH (``tests/unit/credential_helper.py``).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cri_client import CRIClient
from cri_client.aio import AsyncCRIClient
from cri_client.errors import CredentialHelperError, CRIError
from cri_client.testing import ThrowawayContainerd

from ..unit.credential_helper import FakeHelper

WRONG = "not-the-password-42"


@pytest.fixture(scope="module")
def secured() -> Iterator[ThrowawayContainerd]:
    version = os.environ.get("CRI_CLIENT_TEST_CONTAINERD", "2.1")
    base_dir = tempfile.mkdtemp(prefix="cri-client-auth-")
    runtime = ThrowawayContainerd(version, base_dir=base_dir, runsc=False, auth_registry=True)
    try:
        yield runtime.start()
    finally:
        runtime.stop(purge=True)
        shutil.rmtree(base_dir, ignore_errors=True)


@pytest.fixture
def cri(secured: ThrowawayContainerd) -> Iterator[CRIClient]:
    with CRIClient(secured.endpoint) as client:
        client.images.remove(secured.auth_registry.busybox_image, missing_ok=True)
        yield client


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty HOME and no other credential file; a ``test`` helper first on PATH."""
    for name in ("DOCKER_CONFIG", "REGISTRY_AUTH_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    return tmp_path


def docker_config(home: Path, **content: Any) -> Path:
    path = home / ".docker" / "config.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(content))
    return path


def basic(username: str, password: str) -> dict[str, str]:
    return {"auth": base64.b64encode(f"{username}:{password}".encode()).decode()}


def test_the_secured_registry_is_its_own(secured: ThrowawayContainerd) -> None:
    auth = secured.auth_registry
    assert auth.address != secured.registry
    assert auth.address.startswith("127.0.0.1:") and secured.registry.startswith("127.0.0.1:")
    assert auth.password not in repr(auth)
    assert auth.ca_file.read_text().startswith("-----BEGIN CERTIFICATE-----")


def test_anonymous_pull_is_refused_and_says_no_credentials_were_found(
    secured: ThrowawayContainerd, cri: CRIClient, home: Path
) -> None:
    with pytest.raises(CRIError) as info:
        cri.images.pull(secured.auth_registry.busybox_image)
    assert "401 Unauthorized" in str(info.value) or "authorization failed" in str(info.value)
    assert str(info.value).endswith(
        f"[registry {secured.auth_registry.address}: anonymous: no credentials found for it]"
    )


def test_explicit_auth_wins_over_a_config_whose_helper_would_fail(
    secured: ThrowawayContainerd, cri: CRIClient, home: Path
) -> None:
    auth = secured.auth_registry
    docker_config(home, credsStore="missing-helper")
    image = cri.images.pull(auth.busybox_image, auth=(auth.username, auth.password))
    assert auth.busybox_image in image.repo_tags
    with pytest.raises(CredentialHelperError):
        cri.images.pull(auth.busybox_image)


@pytest.mark.parametrize("key", ["{address}", "https://{address}", "http://{address}/v2/"])
def test_auths_in_docker_config(
    secured: ThrowawayContainerd, cri: CRIClient, home: Path, key: str
) -> None:
    auth = secured.auth_registry
    docker_config(
        home, auths={key.format(address=auth.address): basic(auth.username, auth.password)}
    )
    assert auth.busybox_image in cri.images.pull(auth.busybox_image).repo_tags


def test_podman_auth_json(secured: ThrowawayContainerd, cri: CRIClient, home: Path) -> None:
    auth = secured.auth_registry
    path = home / "run" / "containers" / "auth.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"auths": {auth.address: basic(auth.username, auth.password)}}))
    assert auth.busybox_image in cri.images.pull(auth.busybox_image).repo_tags


def test_creds_store_helper(secured: ThrowawayContainerd, cri: CRIClient, home: Path) -> None:
    auth = secured.auth_registry
    helper = FakeHelper(home / "bin")
    helper.store({auth.address: {"Username": auth.username, "Secret": auth.password}})
    docker_config(home, credsStore="test", auths={auth.address: {}})
    assert auth.busybox_image in cri.images.pull(auth.busybox_image).repo_tags
    assert helper.calls() == [f"get {auth.address}"]


def test_cred_helpers_win_over_creds_store_sync_and_async(
    secured: ThrowawayContainerd, cri: CRIClient, home: Path
) -> None:
    auth = secured.auth_registry
    helper = FakeHelper(home / "bin")
    helper.store({auth.address: {"Username": auth.username, "Secret": auth.password}})
    docker_config(home, credsStore="missing-helper", credHelpers={auth.address: "test"})
    assert auth.busybox_image in cri.images.pull(auth.busybox_image).repo_tags
    cri.images.remove(auth.busybox_image)

    async def pull() -> list[str]:
        async with AsyncCRIClient(secured.endpoint) as client:
            return (await client.images.pull(auth.busybox_image)).repo_tags

    assert auth.busybox_image in asyncio.run(pull())
    assert helper.calls() == [f"get {auth.address}"] * 2


def test_a_wrong_password_names_the_registry_and_the_source_never_the_password(
    secured: ThrowawayContainerd, cri: CRIClient, home: Path
) -> None:
    auth = secured.auth_registry
    FakeHelper(home / "bin").store({auth.address: {"Username": auth.username, "Secret": WRONG}})
    config = docker_config(home, credHelpers={auth.address: "test"})
    with pytest.raises(CRIError) as info:
        cri.images.pull(auth.busybox_image)
    text = f"{info.value} {info.value!r} {info.value.details}"
    assert "401 Unauthorized" in text or "authorization failed" in text
    assert str(info.value).endswith(
        f"[registry {auth.address}: credentials from {config} (credHelpers: test)]"
    )
    assert WRONG not in text and auth.password not in text


def test_the_command_line_pulls_with_a_helper_and_never_prints_the_secret(
    secured: ThrowawayContainerd, home: Path
) -> None:
    auth = secured.auth_registry
    FakeHelper(home / "bin").store({auth.address: {"Username": auth.username, "Secret": WRONG}})
    docker_config(home, credHelpers={auth.address: "test"})
    env = {**os.environ, "CRI_CONFIG_FILE": "/dev/null"}
    command = [sys.executable, "-m", "cri_client", "-r", secured.endpoint, "-D", "pull"]
    refused = subprocess.run(
        [*command, auth.busybox_image], capture_output=True, text=True, env=env, timeout=120
    )
    assert refused.returncode == 1, refused
    assert "(credHelpers: test)]" in refused.stderr
    assert WRONG not in refused.stdout + refused.stderr
    FakeHelper(home / "bin").store(
        {auth.address: {"Username": auth.username, "Secret": auth.password}}
    )
    done = subprocess.run(
        [*command, auth.busybox_image], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done
    assert auth.password not in done.stdout + done.stderr
