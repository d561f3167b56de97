"""Finding the runtime's socket, the way crictl does, but quietly and explainably.

Order for the runtime endpoint (the first that gives a value wins):

1. the ``endpoint`` argument;
2. ``CONTAINER_RUNTIME_ENDPOINT``;
3. ``runtime-endpoint`` in the crictl config (``CRI_CONFIG_FILE``, else ``/etc/crictl.yaml``);
4. the first of :data:`WELL_KNOWN_ENDPOINTS` whose socket exists.

The image endpoint is ``image_endpoint``, else ``IMAGE_SERVICE_ENDPOINT``, else
``image-endpoint`` in the crictl config, else the runtime endpoint. When the
runtime endpoint is passed as an argument, images use it too unless
``image_endpoint`` is also passed: an explicit choice is not overridden by the
environment.

Only unix sockets are accepted; ``unix:///path`` and ``/path`` are the same.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cri_client.errors import EndpointError

__all__ = [
    "DEFAULT_MAX_MESSAGE_SIZE",
    "WELL_KNOWN_ENDPOINTS",
    "Endpoint",
    "channel_options",
    "diagnose_socket",
    "resolve_endpoints",
]

WELL_KNOWN_ENDPOINTS: tuple[str, ...] = (
    "unix:///run/containerd/containerd.sock",  # containerd
    "unix:///run/k3s/containerd/containerd.sock",  # k3s and rke2
    "unix:///var/snap/microk8s/common/run/containerd.sock",  # microk8s
    "unix:///run/crio/crio.sock",  # CRI-O
    "unix:///run/cri-dockerd.sock",  # cri-dockerd
)
DEFAULT_CRICTL_CONFIG = "/etc/crictl.yaml"

_HOW_TO_CHOOSE = "pass endpoint='unix:///path/to/runtime.sock' or set CONTAINER_RUNTIME_ENDPOINT"


@dataclass(frozen=True)
class Endpoint:
    """A runtime socket and where its name came from (for messages and ``-D`` output)."""

    path: str
    source: str

    @property
    def url(self) -> str:
        """The gRPC target, ``unix:///path``."""
        return f"unix://{self.path}"


def socket_path(value: str, source: str) -> str:
    """The filesystem path of a ``unix://`` URL or bare path; anything else is refused."""
    value = value.strip()
    if not value:
        raise EndpointError(f"empty runtime endpoint from {source}; {_HOW_TO_CHOOSE}")
    if value.startswith("unix://"):
        value = value[len("unix://") :]
    elif "://" in value:
        scheme = value.split("://", 1)[0]
        raise EndpointError(
            f"endpoint {value!r} from {source} uses {scheme}://; only unix sockets are "
            f"supported (unix:///path or /path)"
        )
    if not value.startswith("/"):
        raise EndpointError(f"endpoint {value!r} from {source} must be an absolute path")
    return value


def read_crictl_config(path: str) -> dict[str, str]:
    """The flat ``key: value`` pairs of a crictl YAML config (all crictl uses)."""
    try:
        text = Path(path).read_text()
    except OSError:
        return {}
    values = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if ":" not in line:
            continue
        key, value = line.split(":", 1)
        values[key.strip()] = value.strip().strip("'\"")
    return values


def diagnose_socket(path: str) -> str | None:
    """Why ``path`` cannot be used as a runtime socket by this user, or None if it can."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return f"socket {path} does not exist: is the runtime running? Otherwise {_HOW_TO_CHOOSE}"
    except PermissionError:
        return f"permission denied looking up {path}: run as root or as a user allowed to"
    if not stat.S_ISSOCK(mode):
        return f"{path} exists but is not a unix socket; {_HOW_TO_CHOOSE}"
    if not os.access(path, os.R_OK | os.W_OK):
        return (
            f"permission denied on socket {path}: run as root, or give this user read and "
            "write access to it (e.g. through the group that owns it)"
        )
    return None


def _first_set(
    explicit: str | None,
    env: Mapping[str, str],
    env_var: str,
    config: Mapping[str, str],
    config_key: str,
    config_path: str,
) -> Endpoint | None:
    if explicit is not None:
        return Endpoint(socket_path(explicit, "the endpoint argument"), "argument")
    if env.get(env_var):
        return Endpoint(socket_path(env[env_var], env_var), env_var)
    if config.get(config_key):
        source = f"{config_key} in {config_path}"
        return Endpoint(socket_path(config[config_key], source), source)
    return None


def resolve_endpoints(
    endpoint: str | None = None,
    image_endpoint: str | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[Endpoint, Endpoint]:
    """The (runtime, image) endpoints, following the order in the module docstring.

    Raises :class:`EndpointError` naming every path tried when nothing is found.
    """
    env = os.environ if env is None else env
    config_path = env.get("CRI_CONFIG_FILE") or DEFAULT_CRICTL_CONFIG
    config = read_crictl_config(config_path)
    runtime = _first_set(
        endpoint, env, "CONTAINER_RUNTIME_ENDPOINT", config, "runtime-endpoint", config_path
    )
    if runtime is None:
        for candidate in WELL_KNOWN_ENDPOINTS:
            path = socket_path(candidate, "the well-known endpoints")
            if os.path.exists(path):
                runtime = Endpoint(path, "well-known path")
                break
        else:
            tried = ", ".join(socket_path(c, "") for c in WELL_KNOWN_ENDPOINTS)
            raise EndpointError(
                "no CRI runtime socket found: CONTAINER_RUNTIME_ENDPOINT is not set, "
                f"{config_path} names no runtime-endpoint, and none of these exist: {tried}. "
                f"Start the runtime, or {_HOW_TO_CHOOSE}"
            )
    if image_endpoint is None and endpoint is not None:
        return runtime, runtime
    image = _first_set(
        image_endpoint, env, "IMAGE_SERVICE_ENDPOINT", config, "image-endpoint", config_path
    )
    return runtime, image or runtime


DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024


def channel_options(max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE) -> list[tuple[str, Any]]:
    """gRPC channel options for a local runtime socket.

    * message size both ways: a list on a busy node passes gRPC's 4 MiB default;
    * no HTTP proxy: a unix socket never goes through one, whatever the environment says;
    * reconnect backoff capped at 1 s: after a runtime restart the next call goes
      through within a second, instead of after gRPC's default backoff of up to 2 min.
    """
    if isinstance(max_message_size, bool) or not isinstance(max_message_size, int):
        raise TypeError(f"max_message_size must be an int, not {max_message_size!r}")
    if max_message_size <= 0:
        raise ValueError(f"max_message_size must be positive, not {max_message_size}")
    return [
        ("grpc.max_receive_message_length", max_message_size),
        ("grpc.max_send_message_length", max_message_size),
        ("grpc.enable_http_proxy", 0),
        ("grpc.initial_reconnect_backoff_ms", 100),
        ("grpc.min_reconnect_backoff_ms", 100),
        ("grpc.max_reconnect_backoff_ms", 1000),
    ]
