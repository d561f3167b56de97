"""Files and values from the command line: the pod and container config files of
``runp``/``create``/``run``, labels, Go durations and timestamps. crictl's own config
file is read by :func:`cri_client.endpoint.load_crictl_config`, as the library reads it.

Every problem raises :class:`~cri_client.cli.context.UsageError` naming the file (or
flag) and what is wrong with it: exit code 1, never a traceback.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, TypeVar

from cri_client.cli.context import UsageError

if TYPE_CHECKING:
    from google.protobuf.message import Message

    from cri_client import pb

__all__ = [
    "label_filter",
    "load_container_config",
    "load_pod_config",
    "parse_duration",
    "parse_env",
    "parse_labels",
    "parse_since",
]

M = TypeVar("M", bound="Message")


# --- pod and container config files ----------------------------------------------------


def load_pod_config(path: str, warn: Any) -> pb.PodSandboxConfig:
    """A ``PodSandboxConfig`` from crictl's JSON or YAML file, checked as crictl checks
    it: ``metadata`` with a name and a namespace; a missing uid gets a new UUID."""
    from cri_client import pb

    config = _load_message(path, pb.PodSandboxConfig, "pod config", warn)
    if not config.HasField("metadata"):
        raise UsageError(f"{path}: metadata is not set")
    if not config.metadata.uid:
        import uuid

        config.metadata.uid = str(uuid.uuid4())
    if not config.metadata.name or not config.metadata.namespace:
        raise UsageError(f"{path}: metadata needs a name and a namespace")
    return config


def load_container_config(path: str, warn: Any) -> pb.ContainerConfig:
    """A ``ContainerConfig`` from crictl's JSON or YAML file, checked as crictl checks
    it: ``metadata.name`` and ``image.image`` must be set."""
    from cri_client import pb

    config = _load_message(path, pb.ContainerConfig, "container config", warn)
    if not config.HasField("metadata"):
        raise UsageError(f"{path}: metadata is not set")
    if not config.metadata.name:
        raise UsageError(f"{path}: metadata needs a name")
    if not config.image.image:
        raise UsageError(f"{path}: image.image is not set")
    if not config.image.user_specified_image:
        config.image.user_specified_image = config.image.image
    return config


def _load_message(path: str, message_type: type[M], what: str, warn: Any) -> M:
    """Read JSON or YAML (crictl reads both with one YAML parser), then the protobuf
    JSON mapping (snake_case names as in crictl's examples, or camelCase) with env
    values as the text written (:func:`cri_client.configs.message_from_dict`). Unknown
    fields are ignored, as crictl ignores them, with a warning naming them."""
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except OSError as err:
        raise UsageError(f"{what} {path}: {err.strerror or err}") from None
    data = _parse_document(path, text)
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise UsageError(f"{path}: a {what} must be a JSON or YAML object, this one is {kind}")
    unknown = _unknown_fields(message_type.DESCRIPTOR, data, "")
    if unknown:
        plural = "s" if len(unknown) > 1 else ""
        warn(f"{path}: ignoring unknown field{plural} {', '.join(unknown)}")
    from google.protobuf import json_format

    from cri_client.configs import message_from_dict

    try:
        return message_from_dict(data, message_type)
    except json_format.ParseError as err:
        raise UsageError(f"{path}: invalid {what}: {err}") from None


def _parse_document(path: str, text: str) -> Any:
    if text.lstrip().startswith(("{", "[")):
        try:
            return json.loads(text)
        except ValueError as err:
            raise UsageError(f"{path}: invalid JSON: {err}") from None
    import yaml  # only for YAML files: it costs start-up time

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        problem = " ".join(str(err).split())
        raise UsageError(f"{path}: invalid YAML: {problem}") from None


def _unknown_fields(descriptor: Any, data: Mapping[str, Any], prefix: str) -> list[str]:
    """Dotted paths of keys that are no field of the message (by proto or JSON name)."""
    fields = {f.name: f for f in descriptor.fields}
    fields.update({f.json_name: f for f in descriptor.fields})
    unknown: list[str] = []
    for key, value in data.items():
        field = fields.get(str(key))
        where = f"{prefix}{key}"
        if field is None:
            unknown.append(where)
            continue
        message_type = field.message_type
        if message_type is None or message_type.GetOptions().map_entry:
            continue
        items = value if isinstance(value, list) else [value]
        for index, item in enumerate(items):
            if isinstance(item, dict):
                label = f"{where}[{index}]" if isinstance(value, list) else where
                unknown.extend(_unknown_fields(message_type, item, label + "."))
    return unknown


# --- flag values ------------------------------------------------------------------------


_LABEL_PAIR = re.compile(r"[^=!()\s]+=[^=!()\s]*")
"""One ``key=value`` of crictl's ``--label``; anything else is selector syntax."""


def label_filter(values: Sequence[str] | None) -> dict[str, str] | str | None:
    """What repeated ``--label`` flags select: crictl's ``key=value`` pairs as a
    mapping, anything else (``app!=web``, ``'tier in (a,b)'``, ``!canary``) joined
    into one selector string for the library, which checks its syntax before any RPC."""
    if not values:
        return None
    items = [item for given in values for item in given.split(",")]
    if all(_LABEL_PAIR.fullmatch(item) for item in items):
        return parse_labels(values)
    return ",".join(values)


def parse_labels(values: Sequence[str] | None, flag: str = "--label") -> dict[str, str]:
    """``key=value`` pairs, as crictl's ``parseLabelStringSlice`` takes them: the flag
    repeated, or several pairs in one value separated by commas (urfave/cli's slices)."""
    labels: dict[str, str] = {}
    for value in (item for given in values or () for item in given.split(",")):
        parts = value.split("=")
        if len(parts) != 2:
            raise UsageError(f"{flag}: incorrectly specified label {value!r}: use key=value")
        labels[parts[0]] = parts[1]
    return labels


def parse_env(values: Sequence[str] | None) -> dict[str, str | None]:
    """``-e KEY=VALUE`` (the value is the text after the first '='), and ``-e KEY-``
    to remove a variable, as ``kubectl set env`` writes it."""
    env: dict[str, str | None] = {}
    for value in values or ():
        key, equals, text = value.partition("=")
        if equals:
            env[key] = text
        elif value.endswith("-") and len(value) > 1:
            env[value[:-1]] = None
        else:
            raise UsageError(f"--env: {value!r} must be KEY=VALUE (or KEY- to remove KEY)")
    return env


_DURATION_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_DURATION_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_duration(value: str, flag: str, *, bare_seconds: bool = True) -> float:
    """Seconds from a Go duration (``2s``, ``1m30s``, ``500ms``), as crictl's duration
    flags take them; a bare number is seconds too (``bare_seconds``)."""
    text = value.strip()
    if bare_seconds and re.fullmatch(r"\d+(\.\d*)?|\.\d+", text):
        return float(text)
    sign = -1.0 if text.startswith("-") else 1.0
    body = text.lstrip("+-")
    if body == "0":
        return 0.0
    position, total = 0, 0.0
    while position < len(body):
        match = _DURATION_PART.match(body, position)
        if match is None:
            break
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        position = match.end()
    if not body or position != len(body) or not math.isfinite(total):
        raise UsageError(f"{flag}: invalid duration {value!r} (use e.g. 10s, 1m30s, 500ms)")
    return sign * total


def parse_since(value: str, now: datetime | None = None) -> datetime:
    """``logs --since``, as crictl reads it: a Go duration back from now (``42m``), an
    RFC 3339 time (``2013-01-02T13:23:37Z``, local time without a zone), a date, or
    Unix seconds (``1136073600.000000001``)."""
    current = now or datetime.now(timezone.utc)
    text = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return datetime.fromtimestamp(float(text), timezone.utc)
    try:
        return current - timedelta(seconds=parse_duration(text, "--since", bare_seconds=False))
    except UsageError:
        pass
    # Python 3.10's fromisoformat takes no "Z", and only 3 or 6 fraction digits.
    iso = re.sub(r"[Zz]$", "+00:00", text)
    iso = re.sub(r"\.(\d+)", lambda m: "." + (m.group(1) + "00000")[:6], iso)
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        raise UsageError(
            f"--since: {value!r} is neither a duration (42m), an RFC 3339 time "
            "(2013-01-02T13:23:37Z) nor Unix seconds"
        ) from None
    return moment if moment.tzinfo is not None else moment.astimezone()
