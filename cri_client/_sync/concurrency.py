"""Several calls at once, with threads: :func:`all_at_once` (all or nothing),
:func:`each_at_most` (bulk work: at most N at a time, an outcome per call) and
:class:`InBackground` (one call that runs while the caller watches it).

The twin of :mod:`cri_client._async.concurrency` (tasks there); generated code
imports it by the same name in both flavours.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Generic, TypeVar

from cri_client._rpc import CancelScope

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


class InBackground(Generic[T]):
    """One call running in a thread while the caller does something else meanwhile (a
    pull, while its progress is polled): :meth:`wait` a while, then :meth:`result`.
    The thread runs in a copy of this thread's context (``rpc_timeout`` applies), in
    a :class:`~cri_client._rpc.CancelScope`: :meth:`cancel` cancels the RPC it is
    blocked in, as cancelling the asyncio twin's task does."""

    def __init__(self, call: Callable[[], T]) -> None:
        self._future: Future[T] = Future()
        self._scope = CancelScope()
        context = contextvars.copy_context()
        threading.Thread(
            target=context.run, args=(self._run, call), name="cri-client", daemon=True
        ).start()

    def _run(self, call: Callable[[], T]) -> None:
        self._scope.enter()
        try:
            self._future.set_result(call())
        except BaseException as error:  # handed to result()
            self._future.set_exception(error)

    def wait(self, timeout: float) -> bool:
        """Wait at most ``timeout`` seconds; whether the call has ended."""
        done, _ = wait([self._future], timeout)
        return bool(done)

    def result(self) -> T:
        """The call's result (or its exception), waiting for it to end."""
        return self._future.result()

    def cancel(self) -> None:
        """End the call if it is still running: its RPC is cancelled, and the
        outcome (a CancelledError) is dropped."""
        self._scope.cancel()
