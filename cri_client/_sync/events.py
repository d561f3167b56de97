"""Container events with threads: :class:`EventStream` (``cri.events()``) and
:func:`wait_for`, which waits for a state without a polling loop.

The twin of :mod:`cri_client._async.events`; the decisions are
:mod:`cri_client._core.events`'.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
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
    from cri_client._rpc import ResponseStream
    from cri_client._sync.client import CRIClient


class EventStream(Iterator[ContainerEvent | Resubscribed]):
    """``cri.events()``: typed events, resubscribing when the stream breaks (a runtime
    restart), until :meth:`close` (from any thread) or the end of a ``with`` block.

    Events that happen while the stream is re-established may be lost (the CRI has no
    cursor): after each resubscription the stream yields a
    :class:`~cri_client.types.Resubscribed` marker, and every event after it, so a
    consumer knows to list again. The runtime's backlog (events from before the
    subscription) is skipped unless ``include_backlog=True``. UNIMPLEMENTED
    (containerd 1.6) is raised on the first ``next()``, and
    :class:`~cri_client.errors.EventsDisabledError` once the runtime has ended a few
    subscriptions in a row at once without an event (CRI-O with its events off).
    """

    def __init__(
        self, client: CRIClient, resubscribe: bool = True, include_backlog: bool = False
    ) -> None:
        self._client = client
        self._plan = Subscriptions(resubscribe, include_backlog)
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._current: ResponseStream[pb.ContainerEventResponse] | None = None
        self._events = self._generate()

    @property
    def reconnections(self) -> int:
        """How often the stream was re-established."""
        return self._plan.reconnections

    def _subscribe(self) -> ResponseStream[pb.ContainerEventResponse]:
        with self._lock:
            self._plan.subscribing()
            stream = self._client.api.get_container_events()
            self._current = stream
        if self._closed.is_set():
            stream.close()
        return stream

    def _generate(self) -> Iterator[ContainerEvent | Resubscribed]:
        while not self._closed.is_set():
            try:
                stream = self._subscribe()
                settle = self._plan.settle_time()
                if settle is not None and not stream._ended_within(settle):
                    marker = self._plan.settled()  # open and quiet: it works
                    if marker is not None and not self._closed.is_set():
                        yield marker
                for message in stream:
                    yield from self._plan.received(message)
            except STREAM_BREAKS as err:
                delay = self._plan.ended(err, self._closed.is_set())
            else:  # the runtime ended the stream
                delay = self._plan.ended(None, self._closed.is_set())
            if delay is None:
                return
            self._closed.wait(delay)

    def __iter__(self) -> EventStream:
        return self

    def __next__(self) -> ContainerEvent | Resubscribed:
        return next(self._events)

    def close(self) -> None:
        """Stop: a ``next()`` blocked in another thread returns (StopIteration) promptly."""
        self._closed.set()
        with self._lock:
            if self._current is not None:
                self._current.close()

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def wait_for(
    client: CRIClient,
    what: str,
    reached: Callable[[], bool],
    relevant: Callable[[ContainerEvent], bool],
    timeout: float | None,
) -> None:
    """Return once ``reached()`` is true, or raise WaitTimeoutError after ``timeout``.

    Events (where the runtime has them) wake the wait as soon as a ``relevant`` one
    arrives, or the stream resubscribes (the awaited event may have been lost while
    it was down); the state is also re-checked every second, and every 0.2 s when the
    runtime has no events. A runtime that restarts during the wait is waited for (until
    the timeout). Callers never write a polling loop.
    """
    clock = WaitClock(what, timeout)
    wake: queue.Queue[ContainerEvent | Resubscribed | CRIError] = queue.Queue()
    events = None if client._events_unimplemented else EventStream(client)
    if events is not None:
        threading.Thread(target=_pump, args=(events, relevant, wake), daemon=True).start()
    try:
        while not _check(clock, reached):
            try:
                woke = wake.get(timeout=clock.next_check(events is not None))
            except queue.Empty:
                continue
            if isinstance(woke, CRIError) and events is not None:
                # No events after all (or the stream failed): poll from here on.
                events_failed(client, woke)
                events.close()
                events = None
    finally:
        if events is not None:
            events.close()


def _check(clock: WaitClock, reached: Callable[[], bool]) -> bool:
    """One look at the state; False while the runtime is away (restarting)."""
    try:
        done = reached()
    except CRIError as err:
        clock.check_failed(err)
        return False
    clock.check_passed()
    return done


def _pump(
    events: EventStream,
    relevant: Callable[[ContainerEvent], bool],
    wake: queue.Queue[ContainerEvent | Resubscribed | CRIError],
) -> None:
    """Background half of :func:`wait_for`: forward what should wake it, or the error."""
    try:
        for item in events:
            if wakes_wait(item, relevant):
                wake.put(item)
    except CRIError as err:
        wake.put(err)


publish(EventStream)
