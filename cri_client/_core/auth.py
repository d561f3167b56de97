"""Registry credentials for pulls, found where docker and podman keep them.

When ``cri.images.pull(ref)`` gets no ``auth``, the first of these sources with
credentials for the image's registry supplies them (the kubelet gets credentials
from image pull secrets instead; a node script has only these files):

1. docker's ``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json``, read as
   docker reads it: the helper ``credHelpers[registry]`` names, else the
   ``credsStore`` helper, else the ``auths`` entry. A helper that has nothing for
   the registry counts as no entry (docker would pull anonymously);
2. podman's ``auths`` in ``$REGISTRY_AUTH_FILE``,
   ``$XDG_RUNTIME_DIR/containers/auth.json``, ``/run/containers/<uid>/auth.json``,
   ``~/.config/containers/auth.json``.

Helpers run only when config.json names them (:mod:`cri_client._core.credentials`).
What was used is described by :attr:`Credentials.source` (a path and a key, never
a secret), which pull errors repeat. Credentials never appear in reprs, errors or
logs.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import grpc

from cri_client._proto import api_pb2 as pb

if TYPE_CHECKING:
    from pathlib import Path

    from cri_client.errors import CRIError

__all__ = [
    "Credentials",
    "explicit_credentials",
    "find_credentials",
    "note_credentials",
    "registry_of",
]

DOCKER_HUB = "docker.io"
DOCKER_HUB_SERVER = "https://index.docker.io/v1/"
"""What docker calls Docker Hub in config.json keys and asks helpers for."""
_DOCKER_HUB_KEYS = (DOCKER_HUB_SERVER, "index.docker.io", DOCKER_HUB)
# An error of these codes is about reaching the runtime, not about the pull.
_NOT_ABOUT_THE_PULL = (None, grpc.StatusCode.UNAVAILABLE)


@dataclass(frozen=True)
class Credentials:
    """What a pull sends (``auth``, None for anonymous) and where it came from, in
    words that are safe to show (``source``), for error messages."""

    registry: str
    auth: pb.AuthConfig | None = field(repr=False)
    source: str


def registry_of(reference: str) -> str:
    """The registry host of an image reference (``docker.io`` when none is named, or
    ``index.docker.io``, docker's legacy name for it)."""
    first, sep, _ = reference.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return DOCKER_HUB if first == "index.docker.io" else first
    return DOCKER_HUB


def explicit_credentials(reference: str, auth: pb.AuthConfig) -> Credentials:
    """``pull(..., auth=)``: always wins, no file is read and no helper runs."""
    return Credentials(registry_of(reference), auth, "credentials from the auth= argument")


def find_credentials(reference: str, env: Mapping[str, str] | None = None) -> Credentials:
    """Credentials for the registry of ``reference`` from the first source that has
    some (see the module docstring), else anonymous. Raises
    :class:`~cri_client.errors.CredentialHelperError` when a helper fails."""
    env = os.environ if env is None else env
    registry = registry_of(reference)
    docker_config, *podman_files = _credential_files(env)
    data = _read_json(docker_config)
    if data is not None:
        found = _from_docker_config(data, docker_config, registry, env)
        if found is not None:
            return found
    for path in podman_files:
        data = _read_json(path)
        if data is not None:
            found = _from_auths(data, path, registry)
            if found is not None:
                return found
    return Credentials(registry, None, "anonymous: no credentials found for it")


def note_credentials(error: CRIError, credentials: Credentials) -> None:
    """Add the registry and the credentials' source to a failed pull's message, so
    that "401 Unauthorized" says which credentials were refused (or that none were
    sent). ``details`` stays the runtime's own text. Errors about reaching the
    runtime are left as they are."""
    if error.code in _NOT_ABOUT_THE_PULL:
        return
    note = f" [registry {credentials.registry}: {credentials.source}]"
    error.args = (f"{error.args[0]}{note}", *error.args[1:])


def _credential_files(env: Mapping[str, str]) -> Iterator[Path]:
    """docker's config.json, then podman's files, in order (existing or not)."""
    from pathlib import Path  # here, not at import: pathlib costs ~6 ms, only pulls need it

    home = Path(env.get("HOME", "~")).expanduser()
    docker_dir = env.get("DOCKER_CONFIG")
    yield Path(docker_dir) / "config.json" if docker_dir else home / ".docker" / "config.json"
    if env.get("REGISTRY_AUTH_FILE"):
        yield Path(env["REGISTRY_AUTH_FILE"])
    if env.get("XDG_RUNTIME_DIR"):
        yield Path(env["XDG_RUNTIME_DIR"]) / "containers" / "auth.json"
    yield Path(f"/run/containers/{os.getuid()}/auth.json")
    yield home / ".config" / "containers" / "auth.json"


def _read_json(path: Path) -> dict[str, Any] | None:
    """A credential file's object, or None when it is missing or unreadable (a broken
    file is skipped, as podman does, rather than failing every pull)."""
    import json  # here, not at import: only pulls without auth= need it

    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _from_docker_config(
    data: dict[str, Any], path: Path, registry: str, env: Mapping[str, str]
) -> Credentials | None:
    """docker's choice (cli/config/configfile): a ``credHelpers`` entry for the registry
    wins, even an empty one (which means "use auths"), else ``credsStore``, else
    ``auths``. With a helper chosen, ``auths`` is not read."""
    helpers = data.get("credHelpers")
    helpers = helpers if isinstance(helpers, dict) else {}
    keys = _DOCKER_HUB_KEYS if registry == DOCKER_HUB else (registry,)
    setting, helper = next(
        (("credHelpers", helpers[key]) for key in keys if isinstance(helpers.get(key), str)),
        ("credsStore", data.get("credsStore")),
    )
    if not (isinstance(helper, str) and helper):
        return _from_auths(data, path, registry)
    from cri_client._core.credentials import run_helper  # runs a program: only when named

    origin = f"{setting} in {path}"
    server = DOCKER_HUB_SERVER if registry == DOCKER_HUB else registry
    auth = run_helper(helper, server, registry, origin, env)
    if auth is None:
        return None
    return Credentials(registry, auth, f"credentials from {path} ({setting}: {helper})")


def _from_auths(data: dict[str, Any], path: Path, registry: str) -> Credentials | None:
    """The ``auths`` entry for the registry: a key equal to it (Docker Hub: any of its
    names), else the first key that is a URL or path of it (``https://host/``,
    ``http://host:port/v2/``), as docker's file store matches legacy keys."""
    auths = data.get("auths")
    if not isinstance(auths, dict):
        return None
    names = _DOCKER_HUB_KEYS if registry == DOCKER_HUB else (registry,)
    exact = [key for key in names if key in auths]
    by_host = [key for key in auths if _hostname(key) in names]
    for key in (*exact, *by_host):
        entry = auths[key]
        auth = _from_entry(entry) if isinstance(entry, dict) else None
        if auth is not None:
            return Credentials(registry, auth, f"credentials from {path} (auths: {key})")
    return None


def _hostname(key: str) -> str:
    """docker's ConvertToHostname: the ``host[:port]`` of a URL or of ``host/path``."""
    if "://" in key:
        from urllib.parse import urlsplit

        key = urlsplit(key).netloc.rpartition("@")[2]
    return key.partition("/")[0]


def _from_entry(entry: dict[str, Any]) -> pb.AuthConfig | None:
    """The credentials of one ``auths`` entry. ``server_address`` stays empty, as
    kubelet and crictl leave it: containerd parses it as a URL and silently drops
    the credentials unless its host is the one it contacts (a bare ``host:port`` is
    an error, ``docker.io`` or ``https://index.docker.io/v1/`` never match
    ``registry-1.docker.io``)."""
    username, password = entry.get("username", ""), entry.get("password", "")
    if entry.get("auth"):
        try:
            username, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
        except ValueError:
            return None
    token = entry.get("identitytoken", "")
    if not (username or password or token):
        return None
    return pb.AuthConfig(username=username, password=password, identity_token=token)
