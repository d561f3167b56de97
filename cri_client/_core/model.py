"""What the high-level objects share: ids, names, timestamps, lookup by reference.

Everything here is pure (no RPC), so the sync and the asyncio clients wrap replies
and resolve references with the same code.
"""

from __future__ import annotations

import base64
import enum
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, TypeVar

from google.protobuf.message import Message

from cri_client.errors import AmbiguousReferenceError, NotFoundError

T = TypeVar("T")

FULL_ID = re.compile(r"^[0-9a-f]{64}$")
"""A full container or pod sandbox id: 64 hex digits."""


class RuntimeObject:
    """What every object the runtime lists has: an id, equality by id, and ``raw``."""

    raw: Any

    @property
    def id(self) -> str:
        return str(self.raw.id)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RuntimeObject) or type(other) is not type(self):
            return False
        return other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)


class NamedObject(RuntimeObject):
    """Pods and containers: CRI metadata (name, attempt), creation time, labels."""

    @property
    def name(self) -> str:
        return str(self.raw.metadata.name)

    @property
    def attempt(self) -> int:
        return int(self.raw.metadata.attempt)

    @property
    def created_at(self) -> datetime | None:
        return timestamp(self.raw.created_at)

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.raw.labels)

    @property
    def annotations(self) -> dict[str, str]:
        return dict(self.raw.annotations)


E = TypeVar("E", bound=enum.Enum)


def parse_state(kind: type[E], value: object) -> E:
    """A state from its enum member or name, or ValueError listing the valid names."""
    try:
        return kind(value)
    except ValueError:
        names = ", ".join(member.value for member in kind)
        raise ValueError(f"state must be one of {names}, not {value!r}") from None


def timestamp(nanoseconds: int) -> datetime | None:
    """CRI timestamps are Unix nanoseconds; 0 means "not yet"."""
    if nanoseconds <= 0:
        return None
    return datetime.fromtimestamp(nanoseconds / 1e9, tz=timezone.utc)


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


def resolve_reference(
    kind: str,
    reference: str,
    items: Iterable[T],
    item_id: Callable[[T], str],
    names: Callable[[T], Iterable[str]],
) -> T:
    """The one item a reference means: an exact id, else a unique id prefix, else a
    unique name (any of ``names(item)``). Raises NotFoundError or AmbiguousReferenceError."""
    candidates = list(items)
    matchers: list[Callable[[T], bool]] = [
        lambda item: item_id(item) == reference,
        lambda item: item_id(item).startswith(reference),
        lambda item: reference in names(item),
    ]
    for matches in matchers:
        found = [item for item in candidates if matches(item)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise AmbiguousReferenceError(kind, reference, [item_id(item) for item in found])
    raise NotFoundError(f"no {kind} matches {reference!r} (by id, id prefix or name)")


def regex_matches(pattern: str | None, value: str) -> bool:
    """crictl's ``--name``/``--namespace`` semantics: a regular expression searched in the value."""
    return pattern is None or re.search(pattern, value) is not None
