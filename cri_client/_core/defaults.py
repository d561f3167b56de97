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

RESUBSCRIBE_BACKOFF = (0.1, 0.2, 0.5, 1.0, 2.0)
"""Seconds to wait before each new event subscription after the stream broke."""

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
