"""Every default the library applies, in one place: deadlines, grace periods, poll
and sample intervals, stream timeouts. The modules that use one import it from here,
so a default is changed (and documented) once."""

from __future__ import annotations

DEFAULT_TIMEOUT = 60.0
"""Seconds: the client-wide default deadline of a call, as kubelet's 2-minute runtime
timeout shortened for interactive use. Per-operation deadlines derive from it
(``cri_client._rpc.DeadlinePolicy``)."""

DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024
"""Bytes: the largest reply the client accepts (gRPC's own default is 4 MiB, too
small for a verbose status or a list on a busy node); ``max_message_size=`` changes it."""

DEFAULT_STOP_TIMEOUT = 10
"""Seconds between SIGTERM and SIGKILL in ``Container.stop()``, as ``docker stop``, and
for each container in ``Pod.stop()`` (kubelet's pod default is 30 s, set per pod spec;
one number for every graceful stop here). A forced pod removal uses 0."""

SAMPLE_INTERVAL = 0.5
"""Seconds between the two stats samples when the runtime does not compute CPU usage."""

WAIT_POLL_INTERVAL = 0.2
"""Seconds between status checks of a wait when the runtime has no events."""

WAIT_SAFETY_POLL_INTERVAL = 1.0
"""Seconds between status checks while events are watched (covers the moment
between subscribing and the runtime registering the subscription)."""

RESUBSCRIBE_BACKOFF = (0.1, 0.2, 0.5)
"""Seconds to wait before each new event subscription after the stream broke or ended,
the last repeated. Capped at half a second so that a restarted runtime is seen again
within about a second (the channel's own reconnect backoff is capped at 1 s, see
``cri_client.endpoint``); a failed attempt on a unix socket costs next to nothing."""

RESUBSCRIBED_SETTLE = 0.2
"""Seconds a new subscription must stay open, without failing or ending, before the
stream says it resubscribed (when no event proves it earlier): a runtime that is still
down fails an attempt within milliseconds, one with events switched off ends it as fast."""

EVENTS_OFF_AFTER = 3
"""Subscriptions in a row that the runtime ended at once, without an event, after
which the stream concludes that the runtime's events are switched off (CRI-O's
``enable_pod_events = false``) and raises ``EventsDisabledError``."""

EVENTS_OFF_WITHIN = 1.0
"""Seconds: a subscription that ended without an event sooner than this after it was
made counts towards :data:`EVENTS_OFF_AFTER`."""

BACKLOG_CLOCK_TOLERANCE = 0.5
"""Seconds: an event created earlier than this before the stream first subscribed is
backlog (the runtime kept it for a subscriber that was not there: containerd keeps up
to 1000 (1.7) or those of the last 5 minutes (2.x)). The margin allows for a clock
step between reading the client's clock and the runtime stamping the event."""

LOG_POLL_INTERVAL = 0.1
"""Seconds between looks at a followed log file when nothing new was there."""

STREAM_OPEN_TIMEOUT = 10.0
"""Seconds to open an exec, attach or port-forward WebSocket."""

STREAM_CLOSE_TIMEOUT = 5.0
"""Seconds to wait for the streaming server's close frame, and for pumps to end."""

ATTACH_EXIT_GRACE = 10.0
"""How long after an attach stream ends to wait for the runtime to report the exit."""

ATTACH_EXIT_POLL = 0.05
"""Seconds between looks at the container's status during :data:`ATTACH_EXIT_GRACE`."""

BULK_PARALLELISM = 4
"""How many removals or execs bulk work (prune, removal by selector, exec on many
containers) runs at once unless told; see docs/performance.md for the measurement."""

STATUS_PARALLELISM = 8
"""How many ContainerStatus calls ``containers.list(with_status=True)`` makes at once
unless told (docs/performance.md: the measurement)."""

PULL_PROGRESS_INTERVAL = 0.25
"""Seconds between looks at a running pull's downloads (containerd's content
``ListStatuses``, one small unary RPC on the runtime's socket). Four looks a second
move a progress bar smoothly and cost nothing measurable: docs/performance.md has the
pull with and without progress."""

PULL_PROGRESS_RPC_TIMEOUT = 2.0
"""Seconds a look at a running pull may take; a slower one is skipped, not fatal."""
