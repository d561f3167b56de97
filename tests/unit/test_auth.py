"""Registry credentials from docker's and podman's files."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from cri_client._core.auth import auth_config, registry_of


def test_registry_of_reference() -> None:
    assert registry_of("busybox") == "docker.io"
    assert registry_of("library/busybox:1") == "docker.io"
    assert registry_of("127.0.0.1:5000/busybox") == "127.0.0.1:5000"
    assert registry_of("localhost/app") == "localhost"
    assert registry_of("ghcr.io/org/app:1") == "ghcr.io"


def write(path: Path, auths: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"auths": auths}))


def test_docker_config_auth_field(tmp_path: Path) -> None:
    token = base64.b64encode(b"alice:s3cret:with-colon").decode()
    write(tmp_path / ".docker" / "config.json", {"ghcr.io": {"auth": token}})
    found = auth_config("ghcr.io/org/app:1", env={"HOME": str(tmp_path)})
    assert found is not None
    assert (found.username, found.password, found.server_address) == (
        "alice",
        "s3cret:with-colon",
        "ghcr.io",
    )
    assert auth_config("quay.io/x", env={"HOME": str(tmp_path)}) is None


def test_docker_hub_keys_and_podman_file(tmp_path: Path) -> None:
    write(
        tmp_path / "run" / "containers" / "auth.json",
        {"https://index.docker.io/v1/": {"username": "bob", "password": "pw"}},
    )
    env = {"HOME": str(tmp_path / "home"), "XDG_RUNTIME_DIR": str(tmp_path / "run")}
    found = auth_config("busybox:1.35", env=env)
    assert found is not None and (found.username, found.password) == ("bob", "pw")


def test_docker_config_env_and_identity_token(tmp_path: Path) -> None:
    write(tmp_path / "cfg" / "config.json", {"reg.example": {"identitytoken": "tok"}})
    found = auth_config("reg.example/app", env={"DOCKER_CONFIG": str(tmp_path / "cfg")})
    assert found is not None and found.identity_token == "tok"


def test_broken_files_are_ignored(tmp_path: Path) -> None:
    (tmp_path / ".docker").mkdir()
    (tmp_path / ".docker" / "config.json").write_text("{not json")
    write(tmp_path / ".config" / "containers" / "auth.json", {"reg.example": {"auth": "%%%"}})
    assert auth_config("reg.example/app", env={"HOME": str(tmp_path)}) is None
