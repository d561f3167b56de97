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

from cri_client._core.events import STREAM_BREAKS, Resubscriptions, WaitClock, events_failed
from cri_client._core.public import publish
from cri_client._proto import api_pb2 as pb
from cri_client.errors import CRIError
from cri_client.types import ContainerEvent

if TYPE_CHECKING:
    from cri_client._rpc import ResponseStream
    from cri_client._sync.client import CRIClient


class EventStream(Iterator[ContainerEvent]):
    """``cri.events()``: typed events, resubscribing when the stream breaks (a runtime
    restart), until :meth:`close` (from any thread) or the end of a ``with`` block.

    Events that happen while the stream is re-established are not replayed (the CRI
    has no cursor); waits built on this re-check the state after each reconnection.
    UNIMPLEMENTED (containerd 1.6) is raised on the first ``next()``.
    """

    def __init__(self, client: CRIClient, resubscribe: bool = True) -> None:
        self._client = client
        self._plan = Resubscriptions(resubscribe)
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
            stream = self._client.api.get_container_events()
            self._current = stream
        if self._closed.is_set():
            stream.close()
        return stream

    def _generate(self) -> Iterator[ContainerEvent]:
        while not self._closed.is_set():
            try:
                for message in self._subscribe():
                    self._plan.event_received()
                    yield ContainerEvent.from_message(message)
            except STREAM_BREAKS as err:
                delay = self._plan.delay(err, self._closed.is_set())
            else:  # the runtime ended the stream
                delay = self._plan.delay(None, self._closed.is_set())
            if delay is None:
                return
            self._closed.wait(delay)

    def __iter__(self) -> EventStream:
        return self

    def __next__(self) -> ContainerEvent:
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
    arrives; the state is also re-checked every second, and every 0.2 s when the
    runtime has no events. Callers never write a polling loop.
    """
    clock = WaitClock(what, timeout)
    wake: queue.Queue[ContainerEvent | CRIError] = queue.Queue()
    events = None if client._events_unimplemented else EventStream(client)
    if events is not None:
        threading.Thread(target=_pump, args=(events, relevant, wake), daemon=True).start()
    try:
        while not reached():
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


def _pump(
    events: EventStream,
    relevant: Callable[[ContainerEvent], bool],
    wake: queue.Queue[ContainerEvent | CRIError],
) -> None:
    """Background half of :func:`wait_for`: forward relevant events, or the error."""
    try:
        for event in events:
            if relevant(event):
                wake.put(event)
    except CRIError as err:
        wake.put(err)


publish(EventStream)
