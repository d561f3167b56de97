"""A followed log with asyncio tasks: :class:`AsyncLogStream` (``ctr.logs(follow=True)``,
``cri_client.logs.follow_async``), which another task can close.

The twin of :mod:`cri_client._sync.logstream`. What is read and when is the
generator's in ``cri_client._async.support.follow_lines`` (over
:mod:`cri_client._core.logfile`); this module only owns its stopping: an
asynchronous generator cannot be closed while another task waits in it
("asynchronous generator is already running").
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable

from cri_client._core.public import publish

__all__ = ["AsyncLogStream"]


class AsyncLogStream(AsyncIterator[str]):
    """The lines of a followed log, as they are written, until the container stops
    or :meth:`aclose` (from any task) or the end of an ``async with`` block::

        async with ctr.logs(follow=True) as lines:
            async for line in lines:
                print(line, end="")

    An ``__anext__`` waiting in another task for output ends promptly
    (StopAsyncIteration) once closed, and the log files are closed then. Cancelling
    the task that iterates ends the stream too. One task reads at a time: a second
    one calling ``__anext__`` meanwhile gets RuntimeError.
    """

    def __init__(
        self, lines: Callable[[Callable[[float], Awaitable[bool]]], AsyncGenerator[str]]
    ) -> None:
        self._closed = False
        self._reading = False
        self._wake: asyncio.Future[None] | None = None  # the idle wait in progress
        self._lines = lines(self._pause)

    async def _pause(self, seconds: float) -> bool:
        """The follower's idle wait: True once the stream is closed (at once then)."""
        if not self._closed:
            loop = asyncio.get_running_loop()
            wake = self._wake = loop.create_future()
            timer = loop.call_later(seconds, _resolve, wake)
            try:
                await wake
            finally:
                timer.cancel()
                self._wake = None
        return self._closed

    def __aiter__(self) -> AsyncLogStream:
        return self

    async def __anext__(self) -> str:
        if self._closed:
            raise StopAsyncIteration
        if self._reading:
            raise RuntimeError("another task is already reading this log stream")
        self._reading = True
        try:
            return await self._lines.__anext__()
        finally:
            self._reading = False
            if self._closed:
                await self._lines.aclose()  # closed meanwhile: release the files now

    async def aclose(self) -> None:
        """Stop following and close the log files; an ``__anext__`` waiting in another
        task ends (StopAsyncIteration) promptly and closes them as it does."""
        self._closed = True
        if self._wake is not None:
            _resolve(self._wake)
        if not self._reading:
            await self._lines.aclose()

    async def __aenter__(self) -> AsyncLogStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def _resolve(future: asyncio.Future[None]) -> None:
    """End an idle wait, once: by its timer or by ``aclose()``, whichever comes first."""
    if not future.done():
        future.set_result(None)


publish(AsyncLogStream)
