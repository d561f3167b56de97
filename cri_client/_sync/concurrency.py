"""Several calls at once, with threads: :func:`all_at_once` (all or nothing) and
:func:`each_at_most` (bulk work: at most N at a time, an outcome per call).

The twin of :mod:`cri_client._async.concurrency` (tasks there); generated code
imports it by the same name in both flavours.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

MAX_THREADS = 16
"""At most this many calls run at once; the rest wait for a free thread."""


def all_at_once(calls: Sequence[Callable[[], T]]) -> list[T]:
    """Run the calls concurrently and return their results in order, once all have
    ended; the first failure is raised then, so none is left running behind the
    caller's back (a pod's containers are stopped this way, each with its whole grace
    period, as kubelet stops them). One call runs in this thread; each thread runs in
    a copy of this thread's context, so a call's ``rpc_timeout`` applies there too."""
    if len(calls) <= 1:
        return [call() for call in calls]
    with ThreadPoolExecutor(min(len(calls), MAX_THREADS), "cri-client") as pool:
        futures = [pool.submit(contextvars.copy_context().run, call) for call in calls]
    return [future.result() for future in futures]


def each_at_most(calls: Sequence[Callable[[], T]], parallel: int) -> list[T | Exception]:
    """Run the calls, at most ``parallel`` at a time, and return each one's result or
    the exception it raised, in order: bulk work (prune, removal by selector, exec on
    many containers) reports per item, so one failure neither stops nor hides the rest.
    ``parallel`` must be at least 1 (the caller validates it); 1 runs them here, one
    after another. Each thread runs in a copy of this thread's context."""

    def outcome(call: Callable[[], T]) -> T | Exception:
        try:
            return call()
        except Exception as error:  # the caller reports it per item
            return error

    if parallel <= 1 or len(calls) <= 1:
        return [outcome(call) for call in calls]
    with ThreadPoolExecutor(min(len(calls), parallel), "cri-client") as pool:
        futures = [pool.submit(contextvars.copy_context().run, outcome, call) for call in calls]
    return [future.result() for future in futures]
