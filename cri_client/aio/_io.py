"""Blocking work (reading and parsing a whole log file) off the event loop.

:mod:`cri_client._io` is its sync twin, hand-written because it is the one place
where the two flavours do different things: here a worker thread, there a call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


async def blocking(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``function(*args, **kwargs)`` in a worker thread, so other tasks run meanwhile."""
    return await asyncio.to_thread(function, *args, **kwargs)
