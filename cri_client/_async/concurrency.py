"""Several calls at once, with tasks: :func:`all_at_once` (all or nothing),
:func:`each_at_most` (bulk work: at most N at a time, an outcome per call) and
:class:`InBackground` (one call that runs while the caller watches it).

The twin of :mod:`cri_client._sync.concurrency` (threads there); generated code
imports it by the same name in both flavours.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

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


async def each_at_most(
    calls: Sequence[Callable[[], Awaitable[T]]], parallel: int
) -> list[T | Exception]:
    """Run the calls, at most ``parallel`` at a time, and return each one's result or
    the exception it raised, in order: bulk work (prune, removal by selector, exec on
    many containers) reports per item, so one failure neither stops nor hides the rest.
    ``parallel`` must be at least 1 (the caller validates it)."""
    limit = asyncio.Semaphore(parallel)

    async def bounded(call: Callable[[], Awaitable[T]]) -> T | Exception:
        async with limit:
            try:
                return await call()
            except Exception as error:  # the caller reports it per item
                return error

    return list(await asyncio.gather(*(bounded(call) for call in calls)))


class InBackground(Generic[T]):
    """One call running in a task while the caller does something else meanwhile (a
    pull, while its progress is polled): :meth:`wait` a while, then :meth:`result`.
    :meth:`cancel` ends the call if it is still running (the task is cancelled)."""

    def __init__(self, call: Callable[[], Awaitable[T]]) -> None:
        self._task = asyncio.ensure_future(call())

    async def wait(self, timeout: float) -> bool:
        """Wait at most ``timeout`` seconds; whether the call has ended."""
        done, _ = await asyncio.wait({self._task}, timeout=timeout)
        return bool(done)

    async def result(self) -> T:
        """The call's result (or its exception), waiting for it to end."""
        return await self._task

    def cancel(self) -> None:
        self._task.cancel()
