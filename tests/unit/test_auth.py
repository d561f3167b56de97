"""Registry credentials from docker's and podman's files and docker's credential helpers."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from cri_client._core.auth import Credentials, find_credentials, registry_of
from cri_client.errors import CredentialHelperError

from .credential_helper import FakeHelper

SECRET = "hunter2-s3cret"


def test_registry_of_reference() -> None:
    assert registry_of("busybox") == "docker.io"
    assert registry_of("library/busybox:1") == "docker.io"
    assert registry_of("index.docker.io/library/busybox:1") == "docker.io"
    assert registry_of("127.0.0.1:5000/busybox") == "127.0.0.1:5000"
    assert registry_of("localhost/app") == "localhost"
    assert registry_of("ghcr.io/org/app:1") == "ghcr.io"


def write(path: Path, auths: dict[str, object], **settings: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"auths": auths, **settings}))
    return path


def userpass(found: Credentials) -> tuple[str, str]:
    assert found.auth is not None, found
    return found.auth.username, found.auth.password


def test_docker_config_auth_field(tmp_path: Path) -> None:
    token = base64.b64encode(b"alice:s3cret:with-colon").decode()
    config = write(tmp_path / ".docker" / "config.json", {"ghcr.io": {"auth": token}})
    found = find_credentials("ghcr.io/org/app:1", env={"HOME": str(tmp_path)})
    assert found.auth is not None
    # No server_address: containerd drops credentials whose address is not a URL of
    # the very host it contacts (tests/integration/test_registry_credentials.py).
    assert (found.auth.username, found.auth.password, found.auth.server_address) == (
        "alice",
        "s3cret:with-colon",
        "",
    )
    assert found.source == f"credentials from {config} (auths: ghcr.io)"
    missing = find_credentials("quay.io/x", env={"HOME": str(tmp_path)})
    assert missing.auth is None and missing.source == "anonymous: no credentials found for it"


def test_docker_hub_keys_and_podman_file(tmp_path: Path) -> None:
    write(
        tmp_path / "run" / "containers" / "auth.json",
        {"https://index.docker.io/v1/": {"username": "bob", "password": "pw"}},
    )
    env = {"HOME": str(tmp_path / "home"), "XDG_RUNTIME_DIR": str(tmp_path / "run")}
    assert userpass(find_credentials("busybox:1.35", env=env)) == ("bob", "pw")


def test_docker_config_env_and_identity_token(tmp_path: Path) -> None:
    write(tmp_path / "cfg" / "config.json", {"reg.example": {"identitytoken": "tok"}})
    found = find_credentials("reg.example/app", env={"DOCKER_CONFIG": str(tmp_path / "cfg")})
    assert found.auth is not None and found.auth.identity_token == "tok"


def test_broken_files_are_ignored(tmp_path: Path) -> None:
    (tmp_path / ".docker").mkdir()
    (tmp_path / ".docker" / "config.json").write_text("{not json")
    write(tmp_path / ".config" / "containers" / "auth.json", {"reg.example": {"auth": "%%%"}})
    assert find_credentials("reg.example/app", env={"HOME": str(tmp_path)}).auth is None


@pytest.mark.parametrize(
    "key", ["https://reg.example:5000", "http://reg.example:5000/v2/", "reg.example:5000/v1/"]
)
def test_auths_keys_that_are_urls_match_by_host(tmp_path: Path, key: str) -> None:
    """docker's file store matches legacy keys by hostname (ConvertToHostname)."""
    write(
        tmp_path / ".docker" / "config.json",
        {"reg.example": {"username": "other-port", "password": "x"}, key: {"username": "u"}},
    )
    found = find_credentials("reg.example:5000/app", env={"HOME": str(tmp_path)})
    assert found.auth is not None and found.auth.username == "u"
    assert found.source.endswith(f"(auths: {key})")


def test_an_exact_auths_key_wins_over_a_url_key(tmp_path: Path) -> None:
    write(
        tmp_path / ".docker" / "config.json",
        {"https://reg.example": {"username": "url"}, "reg.example": {"username": "exact"}},
    )
    found = find_credentials("reg.example/app", env={"HOME": str(tmp_path)})
    assert found.auth is not None and found.auth.username == "exact"


@pytest.fixture
def helpers(tmp_path: Path) -> tuple[FakeHelper, FakeHelper, dict[str, str]]:
    """Two helpers, ``test`` and ``store``, on the PATH of the returned environment."""
    bin_dir = tmp_path / "bin"
    test, store = FakeHelper(bin_dir, "test"), FakeHelper(bin_dir, "store")
    return test, store, {"HOME": str(tmp_path), "PATH": f"{bin_dir}:{os.environ['PATH']}"}


def test_creds_store_answers_for_every_registry_and_auths_is_not_read(
    tmp_path: Path, helpers: tuple[FakeHelper, FakeHelper, dict[str, str]]
) -> None:
    _, store, env = helpers
    store.store({"reg.example": {"Username": "carol", "Secret": SECRET}})
    config = write(
        tmp_path / ".docker" / "config.json",
        {"reg.example": {"username": "from-auths", "password": "x"}},
        credsStore="store",
    )
    found = find_credentials("reg.example/app:1", env=env)
    assert userpass(found) == ("carol", SECRET)
    assert found.auth is not None and found.auth.server_address == ""
    assert found.source == f"credentials from {config} (credsStore: store)"
    assert store.calls() == ["get reg.example"]
    assert SECRET not in repr(found)


def test_cred_helpers_entry_wins_over_creds_store(
    tmp_path: Path, helpers: tuple[FakeHelper, FakeHelper, dict[str, str]]
) -> None:
    test, store, env = helpers
    test.store({"reg.example:5000": {"Username": "dave", "Secret": SECRET}})
    store.store({"reg.example:5000": {"Username": "wrong", "Secret": "wrong"}})
    config = write(
        tmp_path / ".docker" / "config.json",
        {},
        credsStore="store",
        credHelpers={"reg.example:5000": "test", "other.example": "store"},
    )
    found = find_credentials("reg.example:5000/app:1", env=env)
    assert userpass(found) == ("dave", SECRET)
    assert found.source == f"credentials from {config} (credHelpers: test)"
    assert (test.calls(), store.calls()) == (["get reg.example:5000"], [])


def test_an_empty_cred_helpers_entry_means_auths(
    tmp_path: Path, helpers: tuple[FakeHelper, FakeHelper, dict[str, str]]
) -> None:
    """docker: an existing credHelpers entry decides, and "" selects the file store."""
    _, store, env = helpers
    write(
        tmp_path / ".docker" / "config.json",
        {"reg.example": {"username": "erin", "password": "pw"}},
        credsStore="store",
        credHelpers={"reg.example": ""},
    )
    assert userpass(find_credentials("reg.example/app", env=env)) == ("erin", "pw")
    assert store.calls() == []


def test_docker_hub_helpers_are_asked_for_docker_hub_server(
    tmp_path: Path, helpers: tuple[FakeHelper, FakeHelper, dict[str, str]]
) -> None:
    test, _, env = helpers
    test.store({"https://index.docker.io/v1/": {"Username": "<token>", "Secret": SECRET}})
    write(tmp_path / ".docker" / "config.json", {}, credHelpers={"docker.io": "test"})
    found = find_credentials("busybox:1.35", env=env)
    assert found.auth is not None
    assert (found.auth.username, found.auth.password, found.auth.identity_token) == (
        "",
        "",
        SECRET,
    )
    assert test.calls() == ["get https://index.docker.io/v1/"]


def test_a_helper_without_credentials_means_the_next_source_or_anonymous(
    tmp_path: Path, helpers: tuple[FakeHelper, FakeHelper, dict[str, str]]
) -> None:
    test, _, env = helpers
    write(tmp_path / ".docker" / "config.json", {}, credsStore="test")
    found = find_credentials("reg.example/app", env=env)
    assert (found.auth, test.calls()) == (None, ["get reg.example"])
    podman = write(tmp_path / "auth.json", {"reg.example": {"username": "fay", "password": "pw"}})
    found = find_credentials("reg.example/app", env={**env, "REGISTRY_AUTH_FILE": str(podman)})
    assert userpass(found) == ("fay", "pw")
    assert found.source == f"credentials from {podman} (auths: reg.example)"


def test_helpers_run_only_when_the_config_names_them(
    tmp_path: Path, helpers: tuple[FakeHelper, FakeHelper, dict[str, str]]
) -> None:
    test, store, env = helpers
    write(tmp_path / ".docker" / "config.json", {"reg.example": {"username": "u"}})
    podman = write(tmp_path / "auth.json", {}, credsStore="test", credHelpers={"r": "store"})
    find_credentials("reg.example/app", env={**env, "REGISTRY_AUTH_FILE": str(podman)})
    find_credentials("other.example/app", env={**env, "REGISTRY_AUTH_FILE": str(podman)})
    assert test.calls() == store.calls() == []


def test_a_failing_helper_is_an_error_naming_it_with_its_stderr(
    tmp_path: Path, helpers: tuple[FakeHelper, FakeHelper, dict[str, str]]
) -> None:
    test, _, env = helpers
    test.store({"reg.example": {"fail": "keychain is locked"}})
    config = write(tmp_path / ".docker" / "config.json", {}, credHelpers={"reg.example": "test"})
    with pytest.raises(CredentialHelperError) as info:
        find_credentials("reg.example/app", env=env)
    assert str(info.value) == (
        f"docker-credential-test (credHelpers in {config}) for registry reg.example"
        " failed (exit status 3): keychain is locked"
    )
    assert (info.value.helper, info.value.registry) == ("test", "reg.example")


@pytest.mark.parametrize("raw", [f'{{"Username": "u", "Secret": {SECRET}}}', f'["{SECRET}"]'])
def test_a_malformed_answer_is_an_error_without_the_answer(
    tmp_path: Path, helpers: tuple[FakeHelper, FakeHelper, dict[str, str]], raw: str
) -> None:
    test, _, env = helpers
    test.store({"reg.example": {"raw": raw}})
    write(tmp_path / ".docker" / "config.json", {}, credsStore="test")
    with pytest.raises(CredentialHelperError) as info:
        find_credentials("reg.example/app", env=env)
    assert "not a JSON object of strings" in str(info.value)
    assert info.value.__cause__ is None and info.value.__context__ is None
    assert SECRET not in f"{info.value} {info.value!r} {info.value.details}"


def test_a_missing_helper_program_is_an_error(tmp_path: Path) -> None:
    config = write(tmp_path / ".docker" / "config.json", {}, credsStore="nothere")
    with pytest.raises(CredentialHelperError) as info:
        find_credentials("reg.example/app", env={"HOME": str(tmp_path), "PATH": str(tmp_path)})
    assert str(info.value) == (
        f"docker-credential-nothere (credsStore in {config}) for registry reg.example"
        " is not on PATH: install it, fix the config or pass auth="
    )
