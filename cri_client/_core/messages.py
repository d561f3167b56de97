"""CRI messages as Python values: timestamps, JSON-safe dicts, verbose ``info`` maps,
and the one way a dict becomes a message (:func:`message_from_dict`).

A leaf module (protobuf only, no client code, no grpc), so the value types in
:mod:`cri_client.types` and crictl's config reader load without the transport.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, TypeVar

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

M = TypeVar("M", bound=Message)


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


def message_from_dict(data: Mapping[str, Any], message_type: type[M]) -> M:
    """A message from a dict in the protobuf JSON mapping (snake_case or camelCase
    names, enums by name or number), with one difference: a ``bytes`` field given as
    text is that text, UTF-8 encoded, never a base64 decoding of it.

    That field is ``KeyValue.value`` (an env value) in CRI 0.36, a ``string`` in the
    CRI versions containerd 1.6 to 2.1 were built with: their verbose info and every
    crictl config example write ``{"key": "MODE", "value": "demo"}``. protobuf's own
    ``ParseDict`` reads that value as base64 ("demo" becomes 3 bytes of garbage, "x"
    fails). Every dict that becomes a message here goes through this function: the
    CLI's config files, ``config=`` dicts, and configs read back from a runtime.
    Python ``bytes`` are taken as they are. Unknown fields are ignored (as crictl
    ignores them); a bad value raises ``google.protobuf.json_format.ParseError``.

    >>> message_from_dict({"key": "COUNT", "value": "10"}, pb.KeyValue).value
    b'10'
    """
    from google.protobuf import json_format

    prepared = _bytes_as_base64(message_type.DESCRIPTOR, data)
    return json_format.ParseDict(prepared, message_type(), ignore_unknown_fields=True)


def config_from_dict(data: Mapping[str, Any], message_type: type[M], argument: str) -> M:
    """:func:`message_from_dict` for a ``config=`` argument: a bad value is a
    ValueError naming the argument."""
    from google.protobuf import json_format

    try:
        return message_from_dict(data, message_type)
    except json_format.ParseError as err:
        raise ValueError(f"{argument} is not a valid {message_type.__name__}: {err}") from None


def _bytes_as_base64(descriptor: Any, data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with every value of a bytes field (text or bytes) as the base64 that
    protobuf's JSON parser reads back into those bytes; nested messages alike."""
    fields = {f.name: f for f in descriptor.fields}
    fields.update({f.json_name: f for f in descriptor.fields})
    prepared: dict[str, Any] = {}
    for key, value in data.items():
        field = fields.get(str(key)) if isinstance(key, str) else None
        prepared[key] = value if field is None else _field_as_json(field, value)
    return prepared


def _field_as_json(field: FieldDescriptor, value: Any) -> Any:
    message_type = field.message_type
    if message_type is not None and message_type.GetOptions().map_entry:
        value_field = message_type.fields_by_name["value"]
        if isinstance(value, Mapping):
            return {k: _single_as_json(value_field, v) for k, v in value.items()}
        return value
    if isinstance(value, list):
        return [_single_as_json(field, item) for item in value]
    return _single_as_json(field, value)


def _single_as_json(field: FieldDescriptor, value: Any) -> Any:
    if field.type == FieldDescriptor.TYPE_BYTES and isinstance(value, str | bytes):
        raw = value.encode() if isinstance(value, str) else value
        return base64.b64encode(raw).decode("ascii")
    if field.message_type is not None and isinstance(value, Mapping):
        return _bytes_as_base64(field.message_type, value)
    return value
