"""Following a container's log from asyncio: :func:`cri_client.logs.follow`, awaited.

Reading and parsing are the sync module's (:class:`~cri_client.logs.LogFollower`);
the loop is :func:`cri_client.aio._follow.follow_lines`, from which the sync one is
generated.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from cri_client.aio._follow import follow_lines
from cri_client.logs import POLL_INTERVAL, LogFollower, Since

__all__ = ["follow"]


def follow(
    path: str,
    *,
    is_running: Callable[[], Awaitable[bool]],
    tail: int | None = None,
    since: Since | None = None,
    stream: str | None = None,
    timestamps: bool = False,
    limit_bytes: int | None = None,
    poll_interval: float = POLL_INTERVAL,
) -> AsyncIterator[str]:
    """The asyncio twin of :func:`cri_client.logs.follow`: the same lines, the same
    end, arguments checked and the file looked up now. Close it early with
    ``await lines.aclose()`` (or ``contextlib.aclosing``) to release the file at once."""
    follower = LogFollower(path, tail, since, stream, timestamps, limit_bytes, poll_interval)

    async def opened() -> LogFollower:
        return follower

    return follow_lines(opened, is_running)
