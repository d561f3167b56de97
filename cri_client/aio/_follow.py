"""The loop that follows a log: polls, waits, and asks whether the container runs.

Written once for asyncio; ``cri_client/_follow.py`` is generated from it for the
sync client by ``scripts/unasync.py``. Reading and parsing are
:class:`~cri_client.logs.LogFollower`'s; the first read (the whole file) runs in a
worker thread in the asyncio flavour, the polls after it read only what is new.
"""

from __future__ import annotations

from asyncio import sleep
from collections.abc import AsyncIterator, Awaitable, Callable

from cri_client.aio._io import blocking
from cri_client.logs import LogFollower


async def follow_lines(
    open_follower: Callable[[], Awaitable[LogFollower]], is_running: Callable[[], Awaitable[bool]]
) -> AsyncIterator[str]:
    """Lines from the follower (made on the first step: finding the file may take an
    RPC) until it is done, or the container stopped and one more poll brought nothing;
    the files are closed when this ends or is closed."""
    follower = await open_follower()
    with follower:
        for line in await blocking(follower.start):  # the whole file, maybe rotated ones
            yield line
        while not follower.done:
            lines = follower.poll()
            if lines is None:
                if follower.stopping:
                    break
                follower.stopping = not await is_running()
                await sleep(follower.interval)
            else:
                for line in lines:
                    yield line
        for line in follower.finish():
            yield line
