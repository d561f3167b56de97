"""The decisions an event stream and a wait make, without I/O: when to subscribe again
and how long to wait first, which events are backlog, when the stream says it
resubscribed, when a runtime's events are switched off, and when a wait checks the
state next and when it gives up.

containerd 1.7 and 2.x stream events; 1.6 answers UNIMPLEMENTED; CRI-O with its
default ``enable_pod_events = false`` ends every subscription at once. containerd
also reports each pod sandbox's own lifecycle as container events whose
``container_id`` is the sandbox id (``ContainerEvent.is_sandbox``), and hands a new
subscriber the events nobody received before (its backlog). The streams that use
these decisions are :mod:`cri_client._sync.events` and :mod:`cri_client._async.events`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Protocol

from cri_client._core.defaults import (
    BACKLOG_CLOCK_TOLERANCE,
    EVENTS_OFF_AFTER,
    EVENTS_OFF_WITHIN,
    RESUBSCRIBE_BACKOFF,
    RESUBSCRIBED_SETTLE,
    WAIT_POLL_INTERVAL,
    WAIT_SAFETY_POLL_INTERVAL,
)
from cri_client._proto import api_pb2 as pb
from cri_client.errors import (
    CancelledError,
    CRIError,
    EventsDisabledError,
    UnavailableError,
    UnimplementedError,
    WaitTimeoutError,
)
from cri_client.types import ContainerEvent, Resubscribed

STREAM_BREAKS = (UnavailableError, CancelledError)
"""Errors after which a stream subscribes again (the runtime restarted or went away)."""

ENDED_BY_RUNTIME = "the runtime ended the stream"
"""``Resubscribed.reason`` when the previous subscription ended without an error."""


class Subscriptions:
    """One event stream's decisions, which ``EventStream`` and ``AsyncEventStream``
    share; the twins only move messages. They tell it when they subscribe
    (:meth:`subscribing`), what arrives (:meth:`received`), that a new subscription
    stayed open (:meth:`settled`) and how a subscription ended (:meth:`ended`), and
    yield what it returns.

    * **Backlog.** containerd keeps the events that happen while nobody subscribes
      and hands them to the next subscriber at once, looking like news. An event
      created before the stream first subscribed (less
      :data:`~cri_client._core.defaults.BACKLOG_CLOCK_TOLERANCE`) is backlog: skipped,
      or yielded with ``backlog=True`` when asked for. The cut is the *first*
      subscription's time, so that events a runtime kept while the stream was
      resubscribing (containerd 2.x does, when nobody else listens) are delivered.
    * **Resubscribed.** After a subscription ends or breaks, the next one that works
      is announced by a :class:`~cri_client.types.Resubscribed` marker, so that the
      consumer knows events may be missing and lists again. "Works" means it delivered
      a message, or stayed open :data:`~cri_client._core.defaults.RESUBSCRIBED_SETTLE`
      seconds (the CRI sends no reply before the first event); attempts that fail
      while the runtime is down announce nothing, and several make one marker.
    * **Events switched off.** A runtime that ends
      :data:`~cri_client._core.defaults.EVENTS_OFF_AFTER` subscriptions in a row at
      once and empty (CRI-O with ``enable_pod_events = false``) has no events:
      :class:`~cri_client.errors.EventsDisabledError` instead of resubscribing forever.
    """

    def __init__(self, resubscribe: bool, include_backlog: bool = False) -> None:
        self.resubscribe = resubscribe
        self.include_backlog = include_backlog
        self.reconnections = 0
        self._failures = 0  # subscriptions in a row that brought no event: the backoff
        self._empty_ends = 0  # subscriptions in a row the runtime ended at once, empty
        self._since_ns: int | None = None  # events created earlier are backlog
        self._opened = 0.0  # time.monotonic() of the current subscription
        self._delivered = False  # the current subscription delivered a message
        self._gap: str | None = None  # why a Resubscribed marker is due, if one is

    def subscribing(self) -> None:
        """A subscription is about to be made (the first or a new one)."""
        if self._since_ns is None:  # the CRI's created_at is Unix nanoseconds
            self._since_ns = time.time_ns() - int(BACKLOG_CLOCK_TOLERANCE * 1e9)
        self._opened = time.monotonic()
        self._delivered = False

    def settle_time(self) -> float | None:
        """How long the transport waits for the new subscription's first message or
        end before calling :meth:`settled`; None when no marker is due (the first
        subscription, or one already announced), so nothing waits."""
        return None if self._gap is None else RESUBSCRIBED_SETTLE

    def settled(self) -> Resubscribed | None:
        """The new subscription stayed open :meth:`settle_time` seconds: it works. The
        marker to yield, if one is due."""
        if self._gap is None:
            return None
        marker = Resubscribed(created_at=datetime.now(timezone.utc), reason=self._gap)
        self._gap = None
        return marker

    def received(self, message: pb.ContainerEventResponse) -> list[ContainerEvent | Resubscribed]:
        """What to yield for a message: the marker first if one is due (a message
        proves the subscription works), then the event unless it is skipped backlog."""
        self._delivered = True
        self._failures = self._empty_ends = 0
        out: list[ContainerEvent | Resubscribed] = []
        marker = self.settled()
        if marker is not None:
            out.append(marker)
        since, created = self._since_ns, message.created_at
        backlog = since is not None and 0 < created < since
        if self.include_backlog or not backlog:
            out.append(ContainerEvent.from_message(message, backlog=backlog))
        return out

    def ended(self, error: CRIError | None, closed: bool) -> float | None:
        """Seconds to wait before subscribing again after the subscription ended
        (``error`` None: the runtime ended it) or broke with one of
        :data:`STREAM_BREAKS`; None when the iteration ends instead. Raises ``error``
        when the caller should get it (``resubscribe=False``), and
        :class:`~cri_client.errors.EventsDisabledError` when the runtime keeps ending
        subscriptions at once without an event."""
        if closed:
            return None
        if not self.resubscribe:
            if error is not None:
                raise error
            return None
        quick = time.monotonic() - self._opened < EVENTS_OFF_WITHIN
        if not quick:
            self._failures = 0  # it worked for a while: the backoff starts again
        quick_and_empty = error is None and not self._delivered and quick
        self._empty_ends = self._empty_ends + 1 if quick_and_empty else 0
        if self._empty_ends >= EVENTS_OFF_AFTER:
            raise EventsDisabledError(
                f"the runtime ended {self._empty_ends} subscriptions in a row at once, "
                "without an event: its container events are switched off (CRI-O: set "
                "enable_pod_events = true in the [crio.runtime] table of crio.conf and "
                "restart CRI-O)",
                rpc="GetContainerEvents",
            )
        if self._gap is None:
            self._gap = ENDED_BY_RUNTIME if error is None else str(error)
        delay = RESUBSCRIBE_BACKOFF[min(self._failures, len(RESUBSCRIBE_BACKOFF) - 1)]
        self._failures += 1
        self.reconnections += 1
        return delay


class WaitClock:
    """When a wait checks the state next, what a failed check means and when it gives
    up: the decisions both flavours of ``wait_for`` make."""

    def __init__(self, what: str, timeout: float | None) -> None:
        self._message = f"{what} within {timeout} s"
        self._deadline = None if timeout is None else time.monotonic() + timeout
        self._checked = False  # a check has reached the runtime
        self._failure: CRIError | None = None  # the last check's, if it failed

    def check_passed(self) -> None:
        """A check got the state from the runtime (reached or not)."""
        self._checked = True
        self._failure = None

    def check_failed(self, error: CRIError) -> None:
        """A check could not get the state. The runtime going away during the wait (a
        restart: one of :data:`STREAM_BREAKS` after a check that worked) is waited
        out like the state itself, until the timeout; the wait's event stream says
        when the runtime is back. Anything else, or a runtime that was not there at
        the first check, is raised."""
        if not self._checked or not isinstance(error, STREAM_BREAKS):
            raise error
        self._failure = error

    def next_check(self, watching_events: bool) -> float:
        """Seconds until the next check; WaitTimeoutError once the timeout has passed."""
        interval = WAIT_SAFETY_POLL_INTERVAL if watching_events else WAIT_POLL_INTERVAL
        if self._deadline is None:
            return interval
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            if self._failure is not None:
                raise WaitTimeoutError(f"{self._message}; the last check failed: {self._failure}")
            raise WaitTimeoutError(self._message)
        return min(interval, remaining)


def wakes_wait(
    item: ContainerEvent | Resubscribed, relevant: Callable[[ContainerEvent], bool]
) -> bool:
    """Whether an item of a wait's event stream makes it check the state now: a
    relevant event, or a resubscription (the event it waited for may have been lost
    while the stream was down)."""
    return isinstance(item, Resubscribed) or relevant(item)


class RemembersEvents(Protocol):
    """A client (sync or asyncio) that remembers whether its runtime has events."""

    _events_unimplemented: bool


def events_failed(client: RemembersEvents, error: CRIError) -> None:
    """A wait's event stream failed, so the wait polls from here on. A runtime without
    events (containerd 1.6's UNIMPLEMENTED, CRI-O's events switched off:
    ``EventsDisabledError`` is an ``UnimplementedError``) is remembered so that the
    client's next waits poll at once."""
    client._events_unimplemented = isinstance(error, UnimplementedError)
