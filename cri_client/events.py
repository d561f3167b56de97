"""Container events (``GetContainerEvents``) and waiting for a state without a polling loop.

containerd 1.7 and 2.x stream events; 1.6 answers UNIMPLEMENTED. containerd also
reports each pod sandbox's own lifecycle as container events whose
``container_id`` is the sandbox id (``ContainerEvent.is_sandbox``).
"""

from __future__ import annotations

import enum
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from cri_client._model import timestamp
from cri_client._proto import api_pb2 as pb
from cri_client.errors import (
    CancelledError,
    CRIError,
    UnavailableError,
    UnimplementedError,
    WaitTimeoutError,
)

if TYPE_CHECKING:
    from cri_client._rpc import ResponseStream
    from cri_client.client import CRIClient

__all__ = ["ContainerEvent", "ContainerEventType", "EventStream"]

RESUBSCRIBE_BACKOFF = (0.1, 0.2, 0.5, 1.0, 2.0)
"""Seconds to wait before each new subscription after the stream broke."""

STREAM_BREAKS = (UnavailableError, CancelledError)
"""Errors after which a stream subscribes again (the runtime restarted or went away)."""

POLL_INTERVAL = 0.2
"""Seconds between status checks when the runtime has no events."""

SAFETY_POLL_INTERVAL = 1.0
"""Seconds between status checks while events are watched (covers the moment
between subscribing and the runtime registering the subscription)."""


class ContainerEventType(str, enum.Enum):
    CREATED = "created"
    STARTED = "started"
    STOPPED = "stopped"
    DELETED = "deleted"


_EVENT_TYPES = {
    pb.CONTAINER_CREATED_EVENT: ContainerEventType.CREATED,
    pb.CONTAINER_STARTED_EVENT: ContainerEventType.STARTED,
    pb.CONTAINER_STOPPED_EVENT: ContainerEventType.STOPPED,
    pb.CONTAINER_DELETED_EVENT: ContainerEventType.DELETED,
}


@dataclass(frozen=True)
class ContainerEvent:
    """One container lifecycle event, with the Kubernetes identity of its container."""

    type: ContainerEventType
    container_id: str
    created_at: datetime | None
    pod_id: str
    pod_name: str
    pod_namespace: str
    pod_uid: str
    container_name: str
    """The container's name; ``""`` for a sandbox event and for DELETED (the runtime
    no longer has the container's status then)."""
    raw: pb.ContainerEventResponse = field(repr=False, compare=False)

    @property
    def is_sandbox(self) -> bool:
        """True for the pod sandbox's own lifecycle, which containerd reports too."""
        return self.container_id == self.pod_id

    @classmethod
    def from_message(cls, message: pb.ContainerEventResponse) -> ContainerEvent:
        pod = message.pod_sandbox_status
        name = next(
            (s.metadata.name for s in message.containers_statuses if s.id == message.container_id),
            "",
        )
        return cls(
            type=_EVENT_TYPES.get(message.container_event_type, ContainerEventType.CREATED),
            container_id=message.container_id,
            created_at=timestamp(message.created_at),
            pod_id=pod.id,
            pod_name=pod.metadata.name,
            pod_namespace=pod.metadata.namespace,
            pod_uid=pod.metadata.uid,
            container_name=name,
            raw=message,
        )


class Resubscriptions:
    """When an event stream subscribes again and how long it waits first: the
    decisions :class:`EventStream` and the asyncio ``AsyncEventStream`` share."""

    def __init__(self, resubscribe: bool) -> None:
        self.resubscribe = resubscribe
        self.reconnections = 0
        self._failures = 0  # subscriptions in a row that brought no event

    def event_received(self) -> None:
        self._failures = 0

    def delay(self, error: CRIError | None, closed: bool) -> float | None:
        """Seconds to wait before subscribing again after the stream ended (``error``
        None: the runtime ended it) or broke with one of :data:`STREAM_BREAKS`; None
        when the iteration ends instead. Raises ``error`` when the caller should get it
        (``resubscribe=False``)."""
        if closed:
            return None
        if not self.resubscribe:
            if error is not None:
                raise error
            return None
        delay = RESUBSCRIBE_BACKOFF[min(self._failures, len(RESUBSCRIBE_BACKOFF) - 1)]
        self._failures += 1
        self.reconnections += 1
        return delay


class WaitClock:
    """When a wait checks the state next and when it gives up: the decisions both
    flavours of ``wait_for`` make (this module's and :mod:`cri_client.aio.events`')."""

    def __init__(self, what: str, timeout: float | None) -> None:
        self._message = f"{what} within {timeout} s"
        self._deadline = None if timeout is None else time.monotonic() + timeout

    def next_check(self, watching_events: bool) -> float:
        """Seconds until the next check; WaitTimeoutError once the timeout has passed."""
        interval = SAFETY_POLL_INTERVAL if watching_events else POLL_INTERVAL
        if self._deadline is None:
            return interval
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise WaitTimeoutError(self._message)
        return min(interval, remaining)


class RemembersEvents(Protocol):
    """A client (sync or asyncio) that remembers whether its runtime has events."""

    _events_unimplemented: bool


def events_failed(client: RemembersEvents, error: CRIError) -> None:
    """A wait's event stream failed, so the wait polls from here on; UNIMPLEMENTED
    (containerd 1.6) is remembered so that the client's next waits poll at once."""
    client._events_unimplemented = isinstance(error, UnimplementedError)


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
