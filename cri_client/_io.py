"""The sync twin of :mod:`cri_client.aio._io`: blocking work is simply called."""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


def blocking(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``function(*args, **kwargs)``, here in the calling thread."""
    return function(*args, **kwargs)
