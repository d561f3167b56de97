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
    channel_options,
    diagnose_socket,
    load_crictl_config,
    resolve_endpoints,
)
from cri_client.errors import CrictlConfigError, EndpointError, InsecureEndpointWarning
from cri_client.types import CrictlConfig


@pytest.fixture
def etc_crictl_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in for /etc/crictl.yaml (not created: write it to have one); the real
    one is never read."""
    path = tmp_path / "etc-crictl.yaml"
    monkeypatch.setattr(ep, "DEFAULT_CRICTL_CONFIG", str(path))
    return path


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
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, etc_crictl_yaml: Path
) -> None:
    first, second = tmp_path / "a.sock", tmp_path / "b.sock"
    monkeypatch.setattr(ep, "WELL_KNOWN_ENDPOINTS", (f"unix://{first}", f"unix://{second}"))
    with make_socket(second):
        runtime, image = resolve_endpoints(env={})
        assert (runtime.path, runtime.source) == (str(second), "well-known path")
        assert image == runtime
        with make_socket(first):
            assert resolve_endpoints(env={})[0].path == str(first)


def test_nothing_found_names_every_path_tried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, etc_crictl_yaml: Path
) -> None:
    missing = [f"unix://{tmp_path}/x{i}.sock" for i in range(3)]
    monkeypatch.setattr(ep, "WELL_KNOWN_ENDPOINTS", tuple(missing))
    with pytest.raises(EndpointError) as info:
        resolve_endpoints(env={})
    message = str(info.value)
    assert all(path[len("unix://") :] in message for path in missing)
    assert "CONTAINER_RUNTIME_ENDPOINT is not set" in message
    assert f"{etc_crictl_yaml} names no runtime-endpoint" in message
    assert info.value.code is None


def test_a_named_config_replaces_etc_crictl_yaml_and_is_never_merged_with_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, etc_crictl_yaml: Path
) -> None:
    etc_crictl_yaml.write_text(
        "runtime-endpoint: unix:///etc/runtime.sock\nimage-endpoint: /etc/images.sock\n"
    )
    mine = tmp_path / "my.yaml"
    mine.write_text("image-endpoint: /my/images.sock\n")
    known = tmp_path / "known.sock"
    monkeypatch.setattr(ep, "WELL_KNOWN_ENDPOINTS", (f"unix://{known}",))
    with make_socket(known):
        runtime, image = resolve_endpoints(env={})
        assert (runtime.path, image.path) == ("/etc/runtime.sock", "/etc/images.sock")
        assert runtime.source == f"runtime-endpoint in {etc_crictl_yaml}"
        for env, config in [
            ({"CRI_CONFIG_FILE": str(mine)}, None),
            ({}, load_crictl_config(str(mine), {})),
            ({"CRI_CONFIG_FILE": str(etc_crictl_yaml)}, load_crictl_config(str(mine), {})),
        ]:
            runtime, image = resolve_endpoints(env=env, config=config)
            assert (runtime.path, runtime.source) == (str(known), "well-known path")
            assert (image.path, image.source) == ("/my/images.sock", f"image-endpoint in {mine}")
    mine.write_text("timeout: 3\n")
    monkeypatch.setattr(ep, "WELL_KNOWN_ENDPOINTS", (f"unix://{tmp_path}/none.sock",))
    with pytest.raises(EndpointError, match=f"{mine} names no runtime-endpoint"):
        resolve_endpoints(env={"CRI_CONFIG_FILE": str(mine)})


def test_the_config_file_is_read_only_when_an_endpoint_is_left_open(
    tmp_path: Path, etc_crictl_yaml: Path
) -> None:
    absent = {"CRI_CONFIG_FILE": str(tmp_path / "absent.yaml")}
    runtime, image = resolve_endpoints("/rt.sock", env=absent)
    assert (runtime.path, image.path) == ("/rt.sock", "/rt.sock")
    both = {**absent, "CONTAINER_RUNTIME_ENDPOINT": "/rt.sock", "IMAGE_SERVICE_ENDPOINT": "/i.sock"}
    assert [e.path for e in resolve_endpoints(env=both)] == ["/rt.sock", "/i.sock"]
    # a named file that is missing or invalid is an error once it is needed (as in crictl)
    with pytest.raises(CrictlConfigError, match=r"absent\.yaml: No such file or directory"):
        resolve_endpoints(env={**absent, "CONTAINER_RUNTIME_ENDPOINT": "/rt.sock"})
    bad = tmp_path / "bad.yaml"
    bad.write_text("runtime-endpoint: /rt.sock\ncolour: blue\n")
    with pytest.raises(ValueError, match="config option 'colour' is not valid"):
        resolve_endpoints(env={"CRI_CONFIG_FILE": str(bad)})


def test_an_invalid_etc_crictl_yaml_is_ignored_whole_and_the_error_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, etc_crictl_yaml: Path
) -> None:
    etc_crictl_yaml.write_text("runtime-endpoint: /etc/runtime.sock\ndebug: yes\n")
    assert load_crictl_config(None, {}) == CrictlConfig(
        str(etc_crictl_yaml),
        skipped=f"config file {etc_crictl_yaml}: option 'debug': 'yes' is not a boolean",
    )
    monkeypatch.setattr(ep, "WELL_KNOWN_ENDPOINTS", (f"unix://{tmp_path}/none.sock",))
    with pytest.raises(EndpointError) as info:
        resolve_endpoints(env={})
    assert (
        f"CONTAINER_RUNTIME_ENDPOINT is not set, config file {etc_crictl_yaml}: option "
        "'debug': 'yes' is not a boolean, so it was ignored, and none of these exist: "
        f"{tmp_path}/none.sock." in str(info.value)
    )


def test_the_crictl_config_reader(tmp_path: Path, etc_crictl_yaml: Path) -> None:
    path = tmp_path / "crictl.yaml"
    path.write_text(
        "# crictl's documented example\n"
        "---\n"
        "runtime-endpoint: unix:///var/run/dockershim.sock  # a comment\n"
        "image-endpoint: 'unix:///run/images#1.sock'\n"
        "timeout: +10\n"
        "debug: true\n"
        "pull-image-on-create: F\n"
        'disable-pull-on-run: "1"\n'
        "max-retries: 3\n"
        "enable-streaming: false\n"
    )
    expected = CrictlConfig(
        str(path),
        runtime_endpoint="unix:///var/run/dockershim.sock",
        image_endpoint="unix:///run/images#1.sock",
        timeout=10,
        debug=True,
        pull_image_on_create=False,
        disable_pull_on_run=True,
    )
    assert load_crictl_config(str(path), {}) == expected
    assert load_crictl_config(None, {"CRI_CONFIG_FILE": str(path)}) == expected
    other = tmp_path / "other.yaml"
    other.write_text("timeout: 7\n")
    assert load_crictl_config(str(other), {"CRI_CONFIG_FILE": str(path)}) == CrictlConfig(
        str(other), timeout=7
    )
    assert load_crictl_config(None, {}) == CrictlConfig(str(etc_crictl_yaml))
    etc_crictl_yaml.write_text("debug: false\n")
    assert load_crictl_config(None, {}) == CrictlConfig(str(etc_crictl_yaml), debug=False)
    assert load_crictl_config("", {"CRI_CONFIG_FILE": ""}).path == str(etc_crictl_yaml)
    for text, problem in [
        ("colour: blue\n", ": config option 'colour' is not valid"),
        ("debug: yes\n", ": option 'debug': 'yes' is not a boolean"),
        ("timeout: 2s\n", ": option 'timeout': '2s' is not an integer"),
        ("max-retries: ²\n", ": option 'max-retries': '²' is not an integer"),
        ("runtime-endpoint:\n  nested: x\n", ", line 2: expected 'option: value', got 'nested: x'"),
    ]:
        path.write_text(text)
        with pytest.raises(CrictlConfigError) as info:
            load_crictl_config(str(path), {})
        assert str(info.value) == f"config file {path}{problem}"
        etc_crictl_yaml.write_text(text)
        assert load_crictl_config(None, {}) == CrictlConfig(
            str(etc_crictl_yaml), skipped=f"config file {etc_crictl_yaml}{problem}"
        )
    with pytest.raises(CrictlConfigError, match=r"absent\.yaml: No such file or directory"):
        load_crictl_config(str(tmp_path / "absent.yaml"), {})
    with pytest.raises(CrictlConfigError, match="Is a directory"):
        load_crictl_config(None, {"CRI_CONFIG_FILE": str(tmp_path)})


def test_image_follows_endpoint_false_is_crictls_rule(etc_crictl_yaml: Path) -> None:
    etc_crictl_yaml.write_text("image-endpoint: /config/images.sock\n")
    runtime, image = resolve_endpoints("/rt.sock", env={})
    assert image is runtime
    runtime, image = resolve_endpoints("/rt.sock", env={}, image_follows_endpoint=False)
    assert (image.path, image.source) == (
        "/config/images.sock",
        f"image-endpoint in {etc_crictl_yaml}",
    )
    env = {"IMAGE_SERVICE_ENDPOINT": "/env/images.sock"}
    _, image = resolve_endpoints("/rt.sock", env=env, image_follows_endpoint=False)
    assert (image.path, image.source) == ("/env/images.sock", "IMAGE_SERVICE_ENDPOINT")
    etc_crictl_yaml.write_text("")
    runtime, image = resolve_endpoints("/rt.sock", env={}, image_follows_endpoint=False)
    assert image is runtime


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
