"""CRI messages as Python values: timestamps, JSON-safe dicts, verbose ``info`` maps.

A leaf module (protobuf only, no client code, no grpc), so the value types in
:mod:`cri_client.types` and crictl's config reader load without the transport.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from google.protobuf.message import Message


def timestamp(nanoseconds: int) -> datetime | None:
    """CRI timestamps are Unix nanoseconds; 0 means "not yet"."""
    if nanoseconds <= 0:
        return None
    return datetime.fromtimestamp(nanoseconds / 1e9, tz=timezone.utc)


_RFC3339 = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|z|[+-]\d\d:\d\d)")


def rfc3339(text: object) -> datetime | None:
    """An RFC 3339 time as the runtimes write it in verbose info (Go's
    ``time.Time``, up to nine fraction digits), in UTC; None for anything else.
    Microseconds are kept: ``datetime.fromisoformat`` takes at most six digits."""
    match = _RFC3339.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        return None
    fraction = (match[2] or "").ljust(6, "0")[:6]
    zone = "+00:00" if match[3] in ("Z", "z") else match[3]
    try:
        return datetime.fromisoformat(f"{match[1]}.{fraction}{zone}").astimezone(timezone.utc)
    except ValueError:
        return None


def message_dict(message: Message) -> dict[str, Any]:
    """A message as a JSON-safe dict: the proto's snake_case names, 64-bit integers as
    ints (protobuf's JSON mapping makes them strings), enums by name, bytes as base64.
    Scalars at their default are kept (``"state": "SANDBOX_READY"`` is the zero
    value), as crictl shows them; unset sub-messages are left out."""
    result: dict[str, Any] = {}
    for field in message.DESCRIPTOR.fields:
        value = getattr(message, field.name)
        unset_message = isinstance(value, Message) and not message.HasField(field.name)
        if unset_message or (field.containing_oneof and not message.HasField(field.name)):
            continue
        result[field.name] = _json_value(field, value)
    return result


def _json_value(field: Any, value: Any) -> Any:
    if isinstance(value, Message):
        return message_dict(value)
    if isinstance(value, Mapping):
        value_field = field.message_type.fields_by_name["value"]
        return {str(k): _json_value(value_field, v) for k, v in value.items()}
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, str):
        return value
    if isinstance(value, Sequence):
        return [_json_value(field, item) for item in value]
    if field.enum_type is not None:
        number = int(value)
        known = field.enum_type.values_by_number.get(number)
        return known.name if known is not None else number
    return value


def decode_json_values(info: Any) -> dict[str, Any]:
    """Verbose ``info`` maps carry JSON text per key; decode each value that parses."""
    import json  # here, not at import: most programs never ask for verbose info

    decoded: dict[str, Any] = {}
    for key, value in info.items():
        try:
            decoded[key] = json.loads(value)
        except ValueError:
            decoded[key] = value
    return decoded
