"""Several calls at once, with tasks: :func:`all_at_once`.

The twin of :mod:`cri_client._sync.concurrency` (threads there); generated code
imports it by the same name in both flavours.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


async def all_at_once(calls: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
    """Run the calls concurrently and return their results in order, once all have
    ended; the first failure is raised then, so none is left running behind the
    caller's back (a pod's containers are stopped this way, each with its whole grace
    period, as kubelet stops them)."""
    outcomes = await asyncio.gather(*(call() for call in calls), return_exceptions=True)
    results: list[T] = []
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
        results.append(outcome)
    return results
