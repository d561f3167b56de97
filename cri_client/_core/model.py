"""What the high-level objects share: ids, names, timestamps, lookup by reference.

Everything here is pure (no RPC), so the sync and the asyncio clients wrap replies
and resolve references with the same code.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

from cri_client._core.messages import timestamp
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
    """A state from its enum member or its name in any case (``"exited"``,
    ``"EXITED"``), or ValueError listing the valid names."""
    try:
        return kind(value.lower() if isinstance(value, str) else value)
    except ValueError:
        names = ", ".join(member.value for member in kind)
        raise ValueError(f"state must be one of {names}, not {value!r}") from None


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
    matchers: list[tuple[str, Callable[[T], bool]]] = [
        ("id prefix", lambda item: item_id(item) == reference),
        ("id prefix", lambda item: item_id(item).startswith(reference)),
        ("name", lambda item: reference in names(item)),
    ]
    for matched, matches in matchers:
        found = [item for item in candidates if matches(item)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            ids = [item_id(item) for item in found]
            raise AmbiguousReferenceError(kind, reference, ids, matched=matched)
    raise NotFoundError(f"no {kind} matches {reference!r} (by id, id prefix or name)")


def regex_matches(pattern: str | None, value: str) -> bool:
    """crictl's ``--name``/``--namespace`` semantics: a regular expression searched in the value."""
    return pattern is None or re.search(pattern, value) is not None
