"""Closing releases resources; credentials never leak into errors, reprs or logs."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

import grpc
import pytest

from cri_client import CRIClient
from cri_client._proto import api_pb2 as pb
from cri_client.aio import AsyncCRIClient
from cri_client.errors import CRIError

from .credential_helper import FakeHelper
from .fake_runtime import FakeRuntime, abort_with

SECRET = "hunter2-s3cret"


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_closing_clients_releases_threads_and_file_descriptors(sock: str) -> None:
    def events(request: Any, context: Any) -> Any:
        yield pb.ContainerEventResponse(container_id="x")

    handlers = {"Version": lambda r, c: pb.VersionResponse(), "GetContainerEvents": events}
    with FakeRuntime(sock, handlers) as fake:
        with CRIClient(fake.endpoint) as warm:  # grpc's process-wide threads start here
            warm.version()
        time.sleep(0.2)
        before, fds = client_threads(), open_fds()
        for _ in range(5):
            cri = CRIClient(fake.endpoint)
            cri.version()
            assert [e.container_id for e in cri.api.get_container_events()] == ["x"]
            cri.close()
        deadline = time.monotonic() + 5
        while client_threads() - before or open_fds() != fds:
            assert time.monotonic() < deadline, (client_threads() - before, open_fds(), fds)
            time.sleep(0.05)


def client_threads() -> set[int]:
    """Threads of this process that are not the fake server's."""
    return {t.ident or 0 for t in threading.enumerate() if not t.name.startswith("fake-runtime")}


def test_credentials_stay_out_of_errors_reprs_and_logs(
    sock: str, caplog: pytest.LogCaptureFixture, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    caplog.set_level(logging.DEBUG)
    seen: list[pb.PullImageRequest] = []

    def pull(request: pb.PullImageRequest, context: grpc.ServicerContext) -> Any:
        seen.append(request)
        context.abort(grpc.StatusCode.UNKNOWN, "failed to authorize: 401 Unauthorized")

    with FakeRuntime(sock, {"PullImage": pull}) as fake, CRIClient(fake.endpoint) as cri:
        for auth in [("alice", SECRET), {"username": "alice", "password": SECRET}]:
            with pytest.raises(CRIError) as info:
                cri.images.pull("registry.example/app:1", auth=auth)  # type: ignore[arg-type]
            text = f"{info.value} {info.value!r} {info.value.details} {info.value.object_id}"
            assert SECRET not in text and "401 Unauthorized" in text
        with pytest.raises(ValueError) as bad:
            cri.images.pull("registry.example/app:1", auth=("only-one-part",))  # type: ignore[arg-type]
        assert SECRET not in str(bad.value)
    assert seen[0].auth.password == SECRET  # it did reach the runtime
    assert SECRET not in caplog.text
    assert SECRET not in repr(cri)


def test_unary_errors_from_the_runtime_carry_no_request_fields(sock: str) -> None:
    handler = abort_with(grpc.StatusCode.INVALID_ARGUMENT, "bad request")
    with FakeRuntime(sock, {"PullImage": handler}) as fake, CRIClient(fake.endpoint) as cri:
        request = pb.PullImageRequest(
            image=pb.ImageSpec(image="r.example/a:1"),
            auth=pb.AuthConfig(password=SECRET, registry_token=SECRET, identity_token=SECRET),
        )
        with pytest.raises(CRIError) as info:
            cri.api.pull_image(request)
    assert SECRET not in str(info.value)
    assert info.value.object_id == "image=r.example/a:1"


def test_debug_log_names_each_rpc_and_its_object_but_no_body(
    sock: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="cri_client.rpc")
    handlers = {
        "Version": lambda r, c: pb.VersionResponse(),
        "PullImage": abort_with(grpc.StatusCode.NOT_FOUND, "no such tag"),
    }
    with FakeRuntime(sock, handlers) as fake, CRIClient(fake.endpoint) as cri:
        cri.version()
        with pytest.raises(CRIError):
            cri.api.pull_image(image={"image": "r.example/a:1"}, auth={"password": SECRET})
    lines = [r.getMessage() for r in caplog.records if r.name == "cri_client.rpc"]
    assert len(lines) == 2
    assert lines[0].startswith("Version() ok ") and lines[0].endswith(" ms")
    assert lines[1].startswith("PullImage(image=r.example/a:1) NOT_FOUND ")
    assert SECRET not in caplog.text


def test_credentials_from_a_helper_reach_the_runtime_and_nothing_else(
    sock: str, caplog: pytest.LogCaptureFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sync and asyncio: the helper's secret goes into the request only; the failed
    pull's error names the registry and the helper, and so does it for auth=, which
    wins without running any helper."""
    helper = FakeHelper(tmp_path / "bin")
    helper.store({"registry.example": {"Username": "alice", "Secret": SECRET}})
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    monkeypatch.setenv("HOME", str(tmp_path))
    config = tmp_path / ".docker" / "config.json"
    config.parent.mkdir()
    config.write_text(json.dumps({"credHelpers": {"registry.example": "test"}}))
    caplog.set_level(logging.DEBUG)
    seen: list[pb.PullImageRequest] = []

    def pull(request: pb.PullImageRequest, context: grpc.ServicerContext) -> Any:
        seen.append(request)
        context.abort(grpc.StatusCode.UNKNOWN, "failed to authorize: 401 Unauthorized")

    async def pull_async(endpoint: str) -> str:
        async with AsyncCRIClient(endpoint) as cri:
            with pytest.raises(CRIError) as info:
                await cri.images.pull("registry.example/app:1")
        return f"{info.value} {info.value!r} {info.value.details}"

    with FakeRuntime(sock, {"PullImage": pull}) as fake, CRIClient(fake.endpoint) as cri:
        with pytest.raises(CRIError) as info:
            cri.images.pull("registry.example/app:1")
        texts = [f"{info.value} {info.value!r} {info.value.details}"]
        texts.append(asyncio.run(pull_async(fake.endpoint)))
        with pytest.raises(CRIError) as explicit:
            cri.images.pull("registry.example/app:1", auth=("bob", "other"))
    for text in texts:
        assert "401 Unauthorized [registry registry.example: credentials from" in text
        assert f"{config} (credHelpers: test)]" in text
        assert SECRET not in text
    assert str(explicit.value).endswith(
        "401 Unauthorized [registry registry.example: credentials from the auth= argument]"
    )
    assert [(r.auth.username, r.auth.password) for r in seen] == [
        ("alice", SECRET),
        ("alice", SECRET),
        ("bob", "other"),
    ]
    assert helper.calls() == ["get registry.example"] * 2
    assert SECRET not in caplog.text
