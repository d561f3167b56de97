"""Registry credentials for pulls, found where docker and podman keep them.

When ``cri.images.pull(ref)`` gets no ``auth``, the first of these files with an
entry for the image's registry supplies it (the kubelet gets credentials from
image pull secrets instead; a node script has only these files):

1. ``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json``;
2. ``$REGISTRY_AUTH_FILE``, ``$XDG_RUNTIME_DIR/containers/auth.json``,
   ``/run/containers/<uid>/auth.json``, ``~/.config/containers/auth.json``.

Credential helpers (``credsStore``) are not run: that would execute programs named
in a file. Credentials never appear in reprs, errors or logs.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from cri_client._proto import api_pb2 as pb

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["auth_config", "credential_files", "registry_of"]

_DOCKER_HUB_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "docker.io")


def registry_of(reference: str) -> str:
    """The registry host of an image reference (``docker.io`` when none is named)."""
    first, sep, _ = reference.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def credential_files(env: Mapping[str, str] | None = None) -> Iterator[Path]:
    """The credential files to look in, in order (existing or not)."""
    from pathlib import Path  # here, not at import: pathlib costs ~6 ms, only pulls need it

    env = os.environ if env is None else env
    home = Path(env.get("HOME", "~")).expanduser()
    docker_dir = env.get("DOCKER_CONFIG")
    yield Path(docker_dir) / "config.json" if docker_dir else home / ".docker" / "config.json"
    if env.get("REGISTRY_AUTH_FILE"):
        yield Path(env["REGISTRY_AUTH_FILE"])
    if env.get("XDG_RUNTIME_DIR"):
        yield Path(env["XDG_RUNTIME_DIR"]) / "containers" / "auth.json"
    yield Path(f"/run/containers/{os.getuid()}/auth.json")
    yield home / ".config" / "containers" / "auth.json"


def auth_config(reference: str, env: Mapping[str, str] | None = None) -> pb.AuthConfig | None:
    """Credentials for the registry of ``reference``, or None if no file has any."""
    import json  # here, not at import, like pathlib

    registry = registry_of(reference)
    keys = _DOCKER_HUB_KEYS if registry == "docker.io" else (registry, f"https://{registry}")
    for path in credential_files(env):
        try:
            auths = json.loads(path.read_text()).get("auths", {})
        except (OSError, ValueError, AttributeError):
            continue
        for key in keys:
            entry = auths.get(key) if isinstance(auths, dict) else None
            if isinstance(entry, dict):
                found = _from_entry(entry, registry)
                if found is not None:
                    return found
    return None


def _from_entry(entry: dict[str, Any], registry: str) -> pb.AuthConfig | None:
    username, password = entry.get("username", ""), entry.get("password", "")
    if entry.get("auth"):
        try:
            username, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
        except ValueError:
            return None
    token = entry.get("identitytoken", "")
    if not (username or password or token):
        return None
    return pb.AuthConfig(
        username=username, password=password, identity_token=token, server_address=registry
    )
