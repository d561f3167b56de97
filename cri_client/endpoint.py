"""Finding the runtime's socket, the way crictl does, but quietly and explainably.

Order for the runtime endpoint (the first that gives a value wins):

1. the ``endpoint`` argument (the CLI's ``-r``);
2. ``CONTAINER_RUNTIME_ENDPOINT``;
3. ``runtime-endpoint`` in the crictl config file, read only when needed: the file
   named by the CLI's ``-c`` (for a program: ``config=load_crictl_config(path)``),
   else by ``CRI_CONFIG_FILE``, else ``/etc/crictl.yaml``. A named file replaces
   ``/etc/crictl.yaml``, it is never merged with it, and it must exist and be valid
   (:class:`CrictlConfigError` otherwise); ``/etc/crictl.yaml`` is skipped whole when
   missing or invalid, as crictl skips it;
4. the first of :data:`WELL_KNOWN_ENDPOINTS` whose socket exists.

The image endpoint is ``image_endpoint``, else ``IMAGE_SERVICE_ENDPOINT``, else
``image-endpoint`` in the crictl config, else the runtime endpoint. When the
runtime endpoint is passed as an argument, images use it too unless
``image_endpoint`` is also passed: an explicit choice is not overridden by the
environment (the CLI, like crictl, passes ``image_follows_endpoint=False``).

Only unix sockets are accepted; ``unix:///path`` and ``/path`` are the same.
:func:`load_crictl_config` is the one reader of crictl's config file, for the
library and the command line.
"""

from __future__ import annotations

import os
import stat
import warnings
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from cri_client._core.defaults import DEFAULT_MAX_MESSAGE_SIZE
from cri_client.types import CrictlConfig, Endpoint

if TYPE_CHECKING:
    from cri_client.errors import CrictlConfigError, EndpointError

__all__ = [
    "DEFAULT_CRICTL_CONFIG",
    "WELL_KNOWN_ENDPOINTS",
    "channel_options",
    "diagnose_socket",
    "load_crictl_config",
    "resolve_endpoints",
]

WELL_KNOWN_ENDPOINTS: tuple[str, ...] = (
    "unix:///run/containerd/containerd.sock",  # containerd
    "unix:///run/k3s/containerd/containerd.sock",  # k3s and rke2
    "unix:///var/snap/microk8s/common/run/containerd.sock",  # microk8s
    "unix:///run/crio/crio.sock",  # CRI-O
    "unix:///run/cri-dockerd.sock",  # cri-dockerd
)
# Looked up when a config is loaded, so that tests can point it elsewhere.
DEFAULT_CRICTL_CONFIG = "/etc/crictl.yaml"

_HOW_TO_CHOOSE = "pass endpoint='unix:///path/to/runtime.sock' or set CONTAINER_RUNTIME_ENDPOINT"


def parse_endpoint(value: str, source: str, *, allow_tcp: bool = False) -> Endpoint:
    """An Endpoint from ``unix:///path``, ``/path`` or, only with ``allow_tcp``,
    ``tcp://host:port``; anything else is refused with the reason."""
    value = value.strip()
    if not value:
        raise _endpoint_error(f"empty runtime endpoint from {source}; {_HOW_TO_CHOOSE}")
    if value.startswith("tcp://"):
        address = value[len("tcp://") :].rstrip("/")
        if not allow_tcp:
            raise _endpoint_error(
                f"endpoint {value!r} from {source} is TCP, which the CRI serves without any "
                "authentication; pass allow_tcp=True to use it anyway"
            )
        if ":" not in address:
            raise _endpoint_error(f"endpoint {value!r} from {source} needs tcp://host:port")
        warnings.warn(
            f"CRI endpoint {value} is TCP: unauthenticated, anyone who reaches it controls "
            "the runtime",
            _insecure_warning(),
            stacklevel=4,
        )
        return Endpoint(address, source, "tcp")
    if value.startswith("unix://"):
        value = value[len("unix://") :]
    elif "://" in value:
        scheme = value.split("://", 1)[0]
        raise _endpoint_error(
            f"endpoint {value!r} from {source} uses {scheme}://; only unix sockets are "
            f"supported (unix:///path or /path; tcp:// with allow_tcp=True)"
        )
    if not value.startswith("/"):
        raise _endpoint_error(f"endpoint {value!r} from {source} must be an absolute path")
    return Endpoint(value, source)


def _config_error(message: str) -> CrictlConfigError:
    from cri_client.errors import CrictlConfigError

    return CrictlConfigError(message)


def _insecure_warning() -> type[Warning]:
    from cri_client.errors import InsecureEndpointWarning

    return InsecureEndpointWarning


def _endpoint_error(message: str) -> EndpointError:
    # cri_client.errors imports grpc: the CLI reads its config file without it.
    from cri_client.errors import EndpointError

    return EndpointError(message)


def load_crictl_config(
    config_file: str | None = None, env: Mapping[str, str] | None = None
) -> CrictlConfig:
    """The config file crictl would use: ``config_file`` (the CLI's ``-c``), else
    ``$CRI_CONFIG_FILE``, else ``/etc/crictl.yaml``; only one of them, never a merge.

    A named file (argument or variable) must exist and be valid, else
    :class:`CrictlConfigError`; ``/etc/crictl.yaml`` gives an empty config when it is
    missing or invalid (with the reason in ``skipped``), as crictl ignores it then.
    """
    env = os.environ if env is None else env
    named = config_file or env.get("CRI_CONFIG_FILE") or None
    path = named or DEFAULT_CRICTL_CONFIG
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except (OSError, UnicodeDecodeError) as err:
        if named is None and isinstance(err, FileNotFoundError):
            return CrictlConfig(path)
        problem = f"config file {path}: {getattr(err, 'strerror', None) or err}"
        if named is None:
            return CrictlConfig(path, skipped=problem)
        raise _config_error(problem) from None
    try:
        return _parse_crictl_config(path, text)
    except ValueError as err:  # CrictlConfigError: a file that is not crictl's format
        if named is None:
            return CrictlConfig(path, skipped=str(err))
        raise


_BOOLEANS = {
    **dict.fromkeys(("1", "t", "T", "TRUE", "true", "True"), True),
    **dict.fromkeys(("0", "f", "F", "FALSE", "false", "False"), False),
}
_STRING_OPTIONS = ("runtime-endpoint", "image-endpoint")
_INT_OPTIONS = ("timeout", "max-retries")
_BOOL_OPTIONS = ("debug", "pull-image-on-create", "disable-pull-on-run", "enable-streaming")
_IGNORED_OPTIONS = ("max-retries", "enable-streaming")  # checked, then not used here


def _parse_crictl_config(path: str, text: str) -> CrictlConfig:
    """crictl's config is a flat YAML mapping of scalars (no YAML parser needed), its
    values parsed as Go's strconv does; an unknown option is an error there too
    (``Config option 'x' is not valid``)."""
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = _without_comment(raw)
        if not line.strip() or line.strip() in ("---", "..."):
            continue
        key, colon, value = line.partition(":")
        if raw[:1].isspace() or not colon or not key.strip():
            raise _config_error(
                f"config file {path}, line {number}: expected 'option: value', got {raw.strip()!r}"
            )
        values[key.strip()] = _unquote(value.strip())
    options: dict[str, Any] = {}
    for key, value in values.items():
        if key in _BOOL_OPTIONS:
            if value not in _BOOLEANS:
                raise _config_error(
                    f"config file {path}: option {key!r}: {value!r} is not a boolean"
                )
            converted: object = _BOOLEANS[value]
        elif key in _INT_OPTIONS:
            digits = value[1:] if value[:1] in ("+", "-") else value
            if not (digits.isascii() and digits.isdigit()):
                raise _config_error(
                    f"config file {path}: option {key!r}: {value!r} is not an integer"
                )
            converted = int(value)
        elif key in _STRING_OPTIONS:
            converted = value
        else:
            raise _config_error(f"config file {path}: config option {key!r} is not valid")
        if key not in _IGNORED_OPTIONS:
            options[key.replace("-", "_")] = converted
    return CrictlConfig(path, **options)


def _without_comment(line: str) -> str:
    """``line`` without a YAML comment: a ``#`` at the start or after a blank."""
    at = line.find("#")
    while at > 0 and not line[at - 1].isspace():
        at = line.find("#", at + 1)
    return (line if at < 0 else line[:at]).rstrip()


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


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


def _chosen(
    explicit: str | None,
    env: Mapping[str, str],
    variable: str,
    config: Callable[[], CrictlConfig],
    option: str,
    allow_tcp: bool,
) -> Endpoint | None:
    """One endpoint by crictl's precedence: argument, variable, config file option."""
    if explicit is not None:
        return parse_endpoint(explicit, "argument", allow_tcp=allow_tcp)
    if env.get(variable):
        return parse_endpoint(env[variable], variable, allow_tcp=allow_tcp)
    crictl = config()
    value = crictl.runtime_endpoint if option == "runtime-endpoint" else crictl.image_endpoint
    if value:
        return parse_endpoint(value, f"{option} in {crictl.path}", allow_tcp=allow_tcp)
    return None


def resolve_endpoints(
    endpoint: str | None = None,
    image_endpoint: str | None = None,
    env: Mapping[str, str] | None = None,
    *,
    allow_tcp: bool = False,
    config: CrictlConfig | None = None,
    image_follows_endpoint: bool = True,
) -> tuple[Endpoint, Endpoint]:
    """The (runtime, image) endpoints, following the order in the module docstring.

    ``config``: the crictl config already loaded (the CLI loads the one ``-c``
    names); by default :func:`load_crictl_config` reads it, only when the argument
    and the environment leave an endpoint open. ``image_follows_endpoint=False`` is
    crictl's rule: with ``endpoint`` but no ``image_endpoint``, images still come from
    ``IMAGE_SERVICE_ENDPOINT`` or the config before falling back to ``endpoint``.
    When images use the runtime endpoint, the second item *is* the first.

    Raises :class:`~cri_client.errors.EndpointError` naming every path tried when
    nothing is found, and :class:`CrictlConfigError` for a named config file that is
    missing or invalid.
    """
    env = os.environ if env is None else env
    loaded: list[CrictlConfig] = [] if config is None else [config]

    def crictl_config() -> CrictlConfig:
        if not loaded:
            loaded.append(load_crictl_config(None, env))
        return loaded[0]

    runtime = _chosen(
        endpoint, env, "CONTAINER_RUNTIME_ENDPOINT", crictl_config, "runtime-endpoint", allow_tcp
    )
    if runtime is None:
        known = [parse_endpoint(c, "well-known path") for c in WELL_KNOWN_ENDPOINTS]
        runtime = next((e for e in known if os.path.exists(e.path)), None)
        if runtime is None:
            crictl = crictl_config()
            if crictl.skipped is not None:
                config_said = f"{crictl.skipped}, so it was ignored"
            else:
                config_said = f"{crictl.path} names no runtime-endpoint"
            tried = ", ".join(e.path for e in known)
            raise _endpoint_error(
                "no CRI runtime socket found: CONTAINER_RUNTIME_ENDPOINT is not set, "
                f"{config_said}, and none of these exist: {tried}. "
                f"Start the runtime, or {_HOW_TO_CHOOSE}"
            )
    if image_endpoint is None and endpoint is not None and image_follows_endpoint:
        return runtime, runtime
    image = _chosen(
        image_endpoint, env, "IMAGE_SERVICE_ENDPOINT", crictl_config, "image-endpoint", allow_tcp
    )
    return runtime, image or runtime


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
