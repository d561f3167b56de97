"""Container events with asyncio tasks: :class:`AsyncEventStream` (``cri.events()``)
and :func:`wait_for`, which waits for a state without a polling loop.

The twin of :mod:`cri_client._sync.events`. The decisions (which errors resubscribe,
the backoff, the poll intervals, the timeout, remembering a runtime without events)
are :mod:`cri_client._core.events`'; this module only moves the bytes.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

from cri_client._core.events import (
    STREAM_BREAKS,
    Subscriptions,
    WaitClock,
    events_failed,
    wakes_wait,
)
from cri_client._core.public import publish
from cri_client._proto import api_pb2 as pb
from cri_client.errors import CRIError
from cri_client.types import ContainerEvent, Resubscribed

if TYPE_CHECKING:
    from cri_client._async.client import AsyncCRIClient
    from cri_client._rpc import AsyncResponseStream

__all__ = ["AsyncEventStream", "wait_for"]


class AsyncEventStream(AsyncIterator[ContainerEvent | Resubscribed]):
    """``cri.events()`` of the asyncio client: typed events, resubscribing when the
    stream breaks (a runtime restart), until :meth:`close` or the end of an
    ``async with`` block::

        async with cri.events() as events:
            async for event in events:
                if isinstance(event, Resubscribed):
                    ...  # events may be missing before this: list again
                else:
                    print(event.type, event.pod_name, event.container_name)

    The same stream as :class:`~cri_client.EventStream`: a
    :class:`~cri_client.types.Resubscribed` marker after each resubscription, the
    runtime's backlog skipped unless ``include_backlog=True``, UNIMPLEMENTED
    (containerd 1.6) raised on the first ``__anext__`` and
    :class:`~cri_client.errors.EventsDisabledError` when the runtime ends
    subscriptions at once without an event (CRI-O with its events off),
    ``resubscribe=False`` ends the iteration when the stream ends and raises when it
    breaks. Creating it does no I/O.

    ``__anext__`` is cancellation-safe: a timeout around it (``asyncio.wait_for``)
    loses no event and keeps the subscription; the read it was waiting for carries
    over to the next ``__anext__``.
    """

    def __init__(
        self, client: AsyncCRIClient, resubscribe: bool = True, include_backlog: bool = False
    ) -> None:
        self._client = client
        self._plan = Subscriptions(resubscribe, include_backlog)
        self._closed = asyncio.Event()
        self._stream: AsyncResponseStream[pb.ContainerEventResponse] | None = None
        self._read: asyncio.Task[pb.ContainerEventResponse | None] | None = None
        self._settle_until: float | None = None  # loop time: a new subscription works
        self._ready: collections.deque[ContainerEvent | Resubscribed] = collections.deque()
        self._delay: float | None = None  # the backoff before the next subscription
        self._waiting = False  # a task is in __anext__ (two would get the same event)

    @property
    def reconnections(self) -> int:
        """How often the stream was re-established."""
        return self._plan.reconnections

    def __aiter__(self) -> AsyncEventStream:
        return self

    async def __anext__(self) -> ContainerEvent | Resubscribed:
        if self._waiting:
            raise RuntimeError(
                "another task is already reading this event stream: give each task its "
                "own cri.events()"
            )
        self._waiting = True
        try:
            return await self._next_event()
        finally:
            self._waiting = False

    async def _next_event(self) -> ContainerEvent | Resubscribed:
        loop = asyncio.get_running_loop()
        while not self._closed.is_set():
            if self._ready:
                return self._ready.popleft()
            if self._delay is not None:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._closed.wait(), self._delay)
                self._delay = None
                continue
            if self._read is None:
                if self._stream is None:
                    self._plan.subscribing()
                    self._stream = self._client.api.get_container_events()
                    settle = self._plan.settle_time()
                    self._settle_until = None if settle is None else loop.time() + settle
                self._read = asyncio.create_task(_next_message(self._stream))
            read = self._read
            try:
                if self._settle_until is not None:
                    # A new subscription: it works once it delivers, or stays open.
                    await asyncio.wait([read], timeout=max(0.0, self._settle_until - loop.time()))
                    self._settle_until = None
                    if not read.done():
                        marker = self._plan.settled()
                        if marker is not None:
                            return marker
                # shield: cancelling this caller must not cancel the gRPC call.
                message = await asyncio.shield(read)
            except STREAM_BREAKS as err:
                self._stream_ended(err)
                continue
            except BaseException:
                if read.done() and (read.cancelled() or read.exception() is not None):
                    self._closed.set()  # the stream failed: it ends, as a generator that raised
                    self._forget_stream()
                raise  # else this caller was cancelled: the read carries over
            self._read = None
            if message is None:  # the runtime ended the stream
                self._stream_ended(None)
                continue
            self._ready.extend(self._plan.received(message))
        raise StopAsyncIteration

    def _stream_ended(self, error: CRIError | None) -> None:
        """Resubscribe after a backoff, or end the iteration (raising ``error``, or
        EventsDisabledError, when the caller should get it)."""
        self._forget_stream()
        try:
            self._delay = self._plan.ended(error, self._closed.is_set())
        finally:
            if self._delay is None:
                self._closed.set()

    def _forget_stream(self) -> None:
        if self._stream is not None:
            self._stream._cancel()
        self._stream = self._read = None
        self._settle_until = None

    async def close(self) -> None:
        """Stop: an ``__anext__`` pending in another task ends (StopAsyncIteration)
        promptly. Returns once the subscription is cancelled."""
        self._closed.set()
        read = self._read
        self._forget_stream()
        if read is not None:
            await asyncio.wait([read])
            if not read.cancelled():
                read.exception()  # retrieved: a read that failed as it was closed is no news

    async def __aenter__(self) -> AsyncEventStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


async def _next_message(
    stream: AsyncResponseStream[pb.ContainerEventResponse],
) -> pb.ContainerEventResponse | None:
    """The stream's next message, None at its end (a task cannot end in StopAsyncIteration)."""
    return await anext(stream, None)


async def wait_for(
    client: AsyncCRIClient,
    what: str,
    reached: Callable[[], Awaitable[bool]],
    relevant: Callable[[ContainerEvent], bool],
    timeout: float | None,
) -> None:
    """Return once ``await reached()`` is true, or raise WaitTimeoutError after ``timeout``.

    :func:`cri_client._sync.events.wait_for` for asyncio: a ``relevant`` event or a
    resubscription wakes the wait at once, the state is also re-checked every second,
    and every 0.2 s when the runtime has no events; a runtime that restarts during the
    wait is waited for (until the timeout). The task that reads the events ends with
    the wait, however it ends (reached, timed out, or cancelled).
    """
    clock = WaitClock(what, timeout)
    wake = asyncio.Event()
    events = None if client._events_unimplemented else AsyncEventStream(client)
    pump = None if events is None else asyncio.create_task(_pump(events, relevant, wake))
    try:
        while not await _check(clock, reached):
            interval = clock.next_check(pump is not None)  # outside: a WaitTimeoutError
            with contextlib.suppress(asyncio.TimeoutError):  # is a TimeoutError too
                await asyncio.wait_for(wake.wait(), interval)
            wake.clear()
            if pump is not None and pump.done():
                # No events after all (or the stream failed): poll from here on.
                error = pump.result()
                pump = None
                if error is not None:
                    events_failed(client, error)
    finally:
        if events is not None:
            await events.close()
        if pump is not None:
            pump.cancel()
            await asyncio.wait([pump])


async def _check(clock: WaitClock, reached: Callable[[], Awaitable[bool]]) -> bool:
    """One look at the state; False while the runtime is away (restarting)."""
    try:
        done = await reached()
    except CRIError as err:
        clock.check_failed(err)
        return False
    clock.check_passed()
    return done


async def _pump(
    events: AsyncEventStream,
    relevant: Callable[[ContainerEvent], bool],
    wake: asyncio.Event,
) -> CRIError | None:
    """The task half of :func:`wait_for`: wake it on relevant events and
    resubscriptions; the error that ended the events, if any."""
    try:
        async for item in events:
            if wakes_wait(item, relevant):
                wake.set()
    except CRIError as err:
        wake.set()
        return err
    return None


publish(AsyncEventStream)
