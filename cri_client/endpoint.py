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
import warnings
from collections.abc import Mapping
from typing import Any

from cri_client.errors import EndpointError
from cri_client.types import Endpoint

__all__ = [
    "DEFAULT_MAX_MESSAGE_SIZE",
    "WELL_KNOWN_ENDPOINTS",
    "InsecureEndpointWarning",
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


class InsecureEndpointWarning(UserWarning):
    """A TCP endpoint was used: the CRI has no authentication, anyone who can reach
    the port controls the runtime."""


def parse_endpoint(value: str, source: str, *, allow_tcp: bool = False) -> Endpoint:
    """An Endpoint from ``unix:///path``, ``/path`` or, only with ``allow_tcp``,
    ``tcp://host:port``; anything else is refused with the reason."""
    value = value.strip()
    if not value:
        raise EndpointError(f"empty runtime endpoint from {source}; {_HOW_TO_CHOOSE}")
    if value.startswith("tcp://"):
        address = value[len("tcp://") :].rstrip("/")
        if not allow_tcp:
            raise EndpointError(
                f"endpoint {value!r} from {source} is TCP, which the CRI serves without any "
                "authentication; pass allow_tcp=True to use it anyway"
            )
        if ":" not in address:
            raise EndpointError(f"endpoint {value!r} from {source} needs tcp://host:port")
        warnings.warn(
            f"CRI endpoint {value} is TCP: unauthenticated, anyone who reaches it controls "
            "the runtime",
            InsecureEndpointWarning,
            stacklevel=4,
        )
        return Endpoint(address, source, "tcp")
    if value.startswith("unix://"):
        value = value[len("unix://") :]
    elif "://" in value:
        scheme = value.split("://", 1)[0]
        raise EndpointError(
            f"endpoint {value!r} from {source} uses {scheme}://; only unix sockets are "
            f"supported (unix:///path or /path; tcp:// with allow_tcp=True)"
        )
    if not value.startswith("/"):
        raise EndpointError(f"endpoint {value!r} from {source} must be an absolute path")
    return Endpoint(value, source)


def read_crictl_config(path: str) -> dict[str, str]:
    """The flat ``key: value`` pairs of a crictl YAML config (all crictl uses)."""
    try:
        with open(path) as config:
            text = config.read()
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
    allow_tcp: bool,
) -> Endpoint | None:
    if explicit is not None:
        return parse_endpoint(explicit, "argument", allow_tcp=allow_tcp)
    if env.get(env_var):
        return parse_endpoint(env[env_var], env_var, allow_tcp=allow_tcp)
    if config.get(config_key):
        source = f"{config_key} in {config_path}"
        return parse_endpoint(config[config_key], source, allow_tcp=allow_tcp)
    return None


def resolve_endpoints(
    endpoint: str | None = None,
    image_endpoint: str | None = None,
    env: Mapping[str, str] | None = None,
    *,
    allow_tcp: bool = False,
) -> tuple[Endpoint, Endpoint]:
    """The (runtime, image) endpoints, following the order in the module docstring.

    Raises :class:`EndpointError` naming every path tried when nothing is found.
    """
    env = os.environ if env is None else env
    config_path = env.get("CRI_CONFIG_FILE") or DEFAULT_CRICTL_CONFIG
    config = read_crictl_config(config_path)
    runtime = _first_set(
        endpoint,
        env,
        "CONTAINER_RUNTIME_ENDPOINT",
        config,
        "runtime-endpoint",
        config_path,
        allow_tcp,
    )
    if runtime is None:
        known = [parse_endpoint(c, "well-known path") for c in WELL_KNOWN_ENDPOINTS]
        runtime = next((e for e in known if os.path.exists(e.path)), None)
        if runtime is None:
            tried = ", ".join(e.path for e in known)
            raise EndpointError(
                "no CRI runtime socket found: CONTAINER_RUNTIME_ENDPOINT is not set, "
                f"{config_path} names no runtime-endpoint, and none of these exist: {tried}. "
                f"Start the runtime, or {_HOW_TO_CHOOSE}"
            )
    if image_endpoint is None and endpoint is not None:
        return runtime, runtime
    image = _first_set(
        image_endpoint,
        env,
        "IMAGE_SERVICE_ENDPOINT",
        config,
        "image-endpoint",
        config_path,
        allow_tcp,
    )
    return runtime, image or runtime


DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024


def channel_options(max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE) -> list[tuple[str, Any]]:
    """gRPC channel options for a local runtime socket.

    * message size both ways: a list on a busy node passes gRPC's 4 MiB default;
    * no HTTP proxy: a unix socket never goes through one, whatever the environment says;
    * reconnect backoff capped at 1 s: after a runtime restart the next call goes
      through within a second, instead of after gRPC's default backoff of up to 2 min;
    * connection set-up (gRPC's "min reconnect backoff" is also its connect timeout)
      bounded at 0.9 s instead of 20 s: a local socket answers in microseconds, and a
      socket whose server never speaks gRPC is reported within a second.
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
        ("grpc.min_reconnect_backoff_ms", 900),
        ("grpc.max_reconnect_backoff_ms", 1000),
    ]
