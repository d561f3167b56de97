"""Small immutable value objects without the import-time cost of dataclasses.

``@dataclass(frozen=True)`` writes and compiles the source of five methods for
every class it decorates: about 1 ms a class when the module is imported, paid by
every program that imports the client. :class:`FrozenValue` gives the same
behaviour (repr, equality and hash over the compared fields, assignment refused
with ``FrozenInstanceError``) from methods written once; each class writes its own
``__init__``, so its signature stays explicit.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = ["FrozenValue"]


class FrozenValue:
    """Base of an immutable value class.

    A subclass names its fields in ``_compared`` (they make its repr, ``==`` and
    ``hash``, in that order; a field left out of it, like a ``raw`` message, is in
    neither) and sets them in ``__init__`` with :meth:`_init`::

        class Point(FrozenValue):
            _compared = __match_args__ = ("x", "y")
            x: int
            y: int

            def __init__(self, x: int, y: int) -> None:
                self._init(x=x, y=y)
    """

    _compared: ClassVar[tuple[str, ...]] = ()

    def _init(self, **fields: Any) -> None:
        self.__dict__.update(fields)

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._compared)

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._compared)
        return f"{type(self).__qualname__}({shown})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self) or not isinstance(other, FrozenValue):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __setattr__(self, name: str, value: object) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot delete field {name!r}")
