"""The decisions an event stream and a wait make, without I/O: when to subscribe again
and how long to wait first, when a wait checks the state next and when it gives up.

containerd 1.7 and 2.x stream events; 1.6 answers UNIMPLEMENTED. containerd also
reports each pod sandbox's own lifecycle as container events whose
``container_id`` is the sandbox id (``ContainerEvent.is_sandbox``). The streams that
use these decisions are :mod:`cri_client._sync.events` and :mod:`cri_client._async.events`.
"""

from __future__ import annotations

import time
from typing import Protocol

from cri_client._core.defaults import (
    RESUBSCRIBE_BACKOFF,
    WAIT_POLL_INTERVAL,
    WAIT_SAFETY_POLL_INTERVAL,
)
from cri_client.errors import (
    CancelledError,
    CRIError,
    UnavailableError,
    UnimplementedError,
    WaitTimeoutError,
)

STREAM_BREAKS = (UnavailableError, CancelledError)
"""Errors after which a stream subscribes again (the runtime restarted or went away)."""


class Resubscriptions:
    """When an event stream subscribes again and how long it waits first: the
    decisions ``EventStream`` and ``AsyncEventStream`` share."""

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
    flavours of ``wait_for`` make."""

    def __init__(self, what: str, timeout: float | None) -> None:
        self._message = f"{what} within {timeout} s"
        self._deadline = None if timeout is None else time.monotonic() + timeout

    def next_check(self, watching_events: bool) -> float:
        """Seconds until the next check; WaitTimeoutError once the timeout has passed."""
        interval = WAIT_SAFETY_POLL_INTERVAL if watching_events else WAIT_POLL_INTERVAL
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
