"""Endpoint discovery and socket diagnosis (no runtime needed)."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import warnings
from pathlib import Path

import pytest

from cri_client import endpoint as ep
from cri_client.endpoint import (
    InsecureEndpointWarning,
    channel_options,
    diagnose_socket,
    resolve_endpoints,
)
from cri_client.errors import EndpointError


def make_socket(path: Path) -> socket.socket:
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen()
    return server


def test_explicit_argument_wins_over_environment_and_config(tmp_path: Path) -> None:
    config = tmp_path / "crictl.yaml"
    config.write_text("runtime-endpoint: unix:///from/config.sock\n")
    env = {"CONTAINER_RUNTIME_ENDPOINT": "unix:///from/env.sock", "CRI_CONFIG_FILE": str(config)}
    runtime, image = resolve_endpoints("unix:///explicit.sock", env=env)
    assert (runtime.path, runtime.source) == ("/explicit.sock", "argument")
    assert image == runtime


def test_explicit_runtime_is_not_overridden_by_image_env() -> None:
    env = {"IMAGE_SERVICE_ENDPOINT": "/img.sock"}
    _, image = resolve_endpoints("/rt.sock", env=env)
    assert image.path == "/rt.sock"


def test_environment_then_crictl_config(tmp_path: Path) -> None:
    config = tmp_path / "crictl.yaml"
    config.write_text(
        "# crictl config\nruntime-endpoint: 'unix:///from/config.sock'\n"
        'image-endpoint: "unix:///images.sock"\ntimeout: 2\n'
    )
    env = {"CONTAINER_RUNTIME_ENDPOINT": "/from/env.sock", "CRI_CONFIG_FILE": str(config)}
    runtime, image = resolve_endpoints(env=env)
    assert (runtime.path, runtime.source) == ("/from/env.sock", "CONTAINER_RUNTIME_ENDPOINT")
    assert (image.path, image.source) == ("/images.sock", f"image-endpoint in {config}")

    runtime, image = resolve_endpoints(env={"CRI_CONFIG_FILE": str(config)})
    assert (runtime.path, runtime.source) == ("/from/config.sock", f"runtime-endpoint in {config}")
    assert image.path == "/images.sock"

    runtime, image = resolve_endpoints(
        env={"CRI_CONFIG_FILE": str(config), "IMAGE_SERVICE_ENDPOINT": "unix:///env-img.sock"}
    )
    assert (image.path, image.source) == ("/env-img.sock", "IMAGE_SERVICE_ENDPOINT")


def test_well_known_paths_first_existing_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tmp_path / "a.sock", tmp_path / "b.sock"
    monkeypatch.setattr(ep, "WELL_KNOWN_ENDPOINTS", (f"unix://{first}", f"unix://{second}"))
    env = {"CRI_CONFIG_FILE": str(tmp_path / "none.yaml")}
    with make_socket(second):
        runtime, image = resolve_endpoints(env=env)
        assert (runtime.path, runtime.source) == (str(second), "well-known path")
        assert image == runtime
        with make_socket(first):
            assert resolve_endpoints(env=env)[0].path == str(first)


def test_nothing_found_names_every_path_tried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = [f"unix://{tmp_path}/x{i}.sock" for i in range(3)]
    monkeypatch.setattr(ep, "WELL_KNOWN_ENDPOINTS", tuple(missing))
    with pytest.raises(EndpointError) as info:
        resolve_endpoints(env={"CRI_CONFIG_FILE": str(tmp_path / "none.yaml")})
    message = str(info.value)
    assert all(path[len("unix://") :] in message for path in missing)
    assert "CONTAINER_RUNTIME_ENDPOINT" in message
    assert info.value.code is None


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("tcp://127.0.0.1:1234", "without any authentication; pass allow_tcp=True"),
        ("npipe:////./pipe/containerd", "only unix sockets"),
        ("relative.sock", "absolute path"),
        ("  ", "empty runtime endpoint"),
    ],
)
def test_unusable_endpoint_values_are_refused(value: str, fragment: str) -> None:
    with pytest.raises(EndpointError, match=fragment):
        resolve_endpoints(value, env={})


def test_diagnose_socket(tmp_path: Path) -> None:
    missing = tmp_path / "missing.sock"
    assert "does not exist" in (diagnose_socket(str(missing)) or "")
    regular = tmp_path / "file"
    regular.write_text("")
    assert "is not a unix socket" in (diagnose_socket(str(regular)) or "")
    with make_socket(tmp_path / "ok.sock"):
        assert diagnose_socket(str(tmp_path / "ok.sock")) is None


def diagnose_as_unprivileged_user(path: str) -> str | None:
    """diagnose_socket(path) as seen by a user who does not own the socket: as root,
    from a forked child that drops to nobody (root may open anything)."""
    if os.geteuid() != 0:
        return diagnose_socket(path)
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        # gRPC threads exist in this process; the child only stats a path and exits,
        # touching no lock, so the fork-with-threads hazard does not apply.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # child: never returns into pytest
        try:
            os.setgid(65534)
            os.setuid(65534)
            os.write(write_end, (diagnose_socket(path) or "").encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        answer = pipe.read()
    os.waitpid(pid, 0)
    return answer or None


def test_diagnose_socket_permission_denied_for_another_user() -> None:
    folder = tempfile.mkdtemp(prefix="cri-client-perm-")
    try:
        os.chmod(folder, 0o755)
        path = os.path.join(folder, "private.sock")
        with make_socket(Path(path)):
            os.chmod(path, 0o000 if os.geteuid() != 0 else 0o600)
            assert "permission denied on socket" in (diagnose_as_unprivileged_user(path) or "")
            os.chmod(path, 0o666)
            assert diagnose_as_unprivileged_user(path) is None
    finally:
        shutil.rmtree(folder)


def test_channel_options_carry_the_message_size() -> None:
    options = dict(channel_options(10 * 1024 * 1024))
    assert options["grpc.max_receive_message_length"] == 10 * 1024 * 1024
    assert options["grpc.max_send_message_length"] == 10 * 1024 * 1024
    assert options["grpc.max_reconnect_backoff_ms"] <= 1000
    with pytest.raises(ValueError, match="positive"):
        channel_options(0)
    with pytest.raises(TypeError):
        channel_options(1.5)  # type: ignore[arg-type]


def test_tcp_endpoints_only_when_asked_and_with_a_warning() -> None:
    with pytest.warns(InsecureEndpointWarning, match="unauthenticated"):
        runtime, image = resolve_endpoints("tcp://127.0.0.1:7777", env={}, allow_tcp=True)
    assert (runtime.scheme, runtime.path, runtime.url) == (
        "tcp",
        "127.0.0.1:7777",
        "dns:///127.0.0.1:7777",
    )
    assert image == runtime
    with pytest.raises(EndpointError, match="host:port"):
        resolve_endpoints("tcp://nohost", env={}, allow_tcp=True)
