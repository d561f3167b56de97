"""Argument checks made before any RPC, with the offending value in the message.

The rules are the Kubernetes API's own (a runtime accepts more, but kubelet never
sends it, so tools that read the node would choke on it).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from functools import cache

__all__ = [
    "check_command",
    "check_dns_label",
    "check_image_reference",
    "check_labels",
    "check_name",
    "check_reference",
    "check_seconds",
]

# Patterns as text, compiled on first use by _matches: compiling them all at import
# costs about 2 ms, paid even by programs that never create anything.
_DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
_DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
_QUALIFIED_NAME = r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$"
_LABEL_VALUE = r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"
# docker/distribution's reference grammar: a first component is a registry only
# when it has a dot or a port or is localhost, as docker decides.
_HOST = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = (
    rf"(?:localhost(?::[0-9]+)?|{_HOST}(?:\.{_HOST})+(?::[0-9]+)?|{_HOST}:[0-9]+"
    r"|\[[0-9a-fA-F:]+\](?::[0-9]+)?)"
)
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE_REFERENCE = (
    rf"^(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
    r"(?::[\w][\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$"
)
_IMAGE_ID = r"^(sha256:)?[0-9a-f]{64}$"
_MAX_ANNOTATIONS_BYTES = 256 * 1024


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _matches(pattern: str, value: str) -> bool:
    """Whether all of ``value`` matches ``pattern`` (one of the patterns above): a
    full match, since ``$`` alone also matches before a final newline."""
    return _compiled(pattern).fullmatch(value) is not None


def check_name(value: object, field: str) -> str:
    """A non-empty object name: printable, no slash, at most 253 characters."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{field} must be a non-empty string, not {value!r}")
    if len(value) > 253 or "/" in value or not value.isprintable() or value.strip() != value:
        raise ValueError(
            f"{field} {value!r} is not a valid name (at most 253 printable characters, "
            "no '/', no surrounding spaces)"
        )
    return value


def check_dns_label(value: object, field: str) -> str:
    """An RFC 1123 label, as Kubernetes requires for namespaces and hostnames."""
    if not isinstance(value, str) or len(value) > 63 or not _matches(_DNS_LABEL, value):
        raise ValueError(
            f"{field} {value!r} must be an RFC 1123 label: at most 63 lower-case letters, "
            "digits and '-', starting and ending with a letter or digit"
        )
    return value


def check_label_key(key: object, field: str) -> str:
    """``[prefix/]name``: prefix a DNS subdomain, name a qualified name of at most 63."""
    if not isinstance(key, str) or not key:
        raise ValueError(f"{field} key must be a non-empty string, not {key!r}")
    prefix, _, name = key.rpartition("/")
    if "/" in key and (not prefix or len(prefix) > 253 or not _matches(_DNS_SUBDOMAIN, prefix)):
        raise ValueError(f"{field} key {key!r} has an invalid prefix {prefix!r}")
    if len(name) > 63 or not _matches(_QUALIFIED_NAME, name):
        raise ValueError(
            f"{field} key {key!r} is invalid: the name part must be at most 63 characters of "
            "letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
        )
    return key


def check_label_value(value: str, field: str) -> str:
    """A label value: empty, or at most 63 letters, digits, ``-``, ``_`` and ``.``
    starting and ending with a letter or digit."""
    if len(value) > 63 or not _matches(_LABEL_VALUE, value):
        raise ValueError(
            f"{field} value {value!r} is invalid: at most 63 characters of "
            "letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
        )
    return value


def check_labels(
    values: Mapping[str, str] | None, field: str, *, annotations: bool = False
) -> dict[str, str]:
    """Labels (or annotations, whose values are free text up to 256 KiB in all)."""
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise ValueError(f"{field} must be a mapping of strings, not {values!r}")
    checked: dict[str, str] = {}
    for key, value in values.items():
        check_label_key(key, field)
        if not isinstance(value, str):
            raise ValueError(f"{field}[{key!r}] must be a string, not {value!r}")
        if not annotations:
            check_label_value(value, f"{field}[{key!r}]")
        checked[key] = value
    if annotations and sum(len(k) + len(v) for k, v in checked.items()) > _MAX_ANNOTATIONS_BYTES:
        raise ValueError(f"{field} are larger than 256 KiB in total")
    return checked


def check_image_reference(value: object, field: str = "image") -> str:
    """An image reference (``registry/repo:tag``, ``repo@sha256:...``) or an image id."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{field} must be a non-empty image reference, not {value!r}")
    if len(value) > 4096 or not (_matches(_IMAGE_REFERENCE, value) or _matches(_IMAGE_ID, value)):
        raise ValueError(
            f"{field} {value!r} is not a valid image reference "
            "(expected e.g. 'registry.example:5000/team/app:1.2' or 'app@sha256:<64 hex>')"
        )
    return value


def check_command(
    value: Sequence[str] | None, field: str, *, allow_empty: bool = True
) -> list[str]:
    """A command line as a list of strings; a bare string is refused, since
    ``"ls -l"`` as one argv element is the classic mistake."""
    if value is None:
        if allow_empty:
            return []
        raise ValueError(f"{field} must be a non-empty list of strings, not None")
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise ValueError(f"{field} must be a list of strings like ['ls', '-l'], not {value!r}")
    items = list(value)
    if not items and not allow_empty:
        raise ValueError(f"{field} must not be empty")
    for item in items:
        if not isinstance(item, str) or "\x00" in item:
            raise ValueError(f"{field} items must be strings without NUL bytes, not {item!r}")
    if items and not items[0]:
        raise ValueError(f"{field}[0] (the program) must not be empty: {items!r}")
    return items


def check_reference(value: object, kind: str) -> str:
    """An id, id prefix or name to look an object up by."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{kind} reference must be a non-empty string, not {value!r}")
    return value


def check_runtime_handler(value: object) -> str:
    """A runtime handler name ("" is the runtime's default handler)."""
    if not isinstance(value, str):
        raise ValueError(f"runtime_handler must be a string, not {value!r}")
    return value


def check_seconds(value: object, field: str, *, allow_zero: bool = True) -> float:
    """A finite, non-negative number of seconds (zero only where it means something)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ValueError(f"{field} must be a number of seconds, not {value!r}")
    if value < 0 or (value == 0 and not allow_zero) or math.isinf(value):
        sign = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{field} must be a {sign} finite number of seconds, not {value!r}")
    return float(value)


def check_parallel(value: object, field: str = "parallel") -> int:
    """How many calls bulk work runs at once: an int of at least 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{field} must be an int of at least 1, not {value!r}")
    return value


def check_callback(value: object, field: str = "progress") -> None:
    """A progress callback: None or something callable (TypeError before any RPC)."""
    if value is not None and not callable(value):
        raise TypeError(f"{field} must be callable, not {type(value).__name__}")
