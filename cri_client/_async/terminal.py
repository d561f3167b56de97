"""A session on this process's terminal for asyncio: :func:`interact` (``exec -it``).

The twin of :mod:`cri_client._sync.terminal`.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import TYPE_CHECKING

from cri_client._core.channel import terminal_size
from cri_client.errors import StreamError

if TYPE_CHECKING:
    from cri_client._async.sessions import AsyncExecSession


async def interact(session: AsyncExecSession) -> int:
    """Wire ``session`` to this process's terminal until the command ends; return its
    exit code. The asyncio twin of :func:`cri_client._sync.terminal.interact`; the session is
    opened first if it is not yet.

    stdin goes to the command (read when the event loop sees it readable, or in a thread
    where it cannot watch it, e.g. a regular file), and its end to
    :meth:`AsyncExecSession.close_stdin`; output goes to ``sys.stdout.buffer`` and
    ``sys.stderr.buffer``. For a TTY session on a terminal, the terminal is put in raw
    mode (Ctrl-C and Ctrl-D go to the command) and restored on return, whatever
    happens; its size is sent at the start and on every SIGWINCH (when the loop can
    handle signals: it runs in the main thread).
    """
    import termios
    import tty

    await session
    loop = asyncio.get_running_loop()
    in_fd = sys.stdin.fileno()
    out, err = sys.stdout.buffer, sys.stderr.buffer
    sys.stdout.flush()
    raw = session.tty and os.isatty(in_fd)
    saved = termios.tcgetattr(in_fd) if raw else None
    events: asyncio.Queue[bytes | None] = asyncio.Queue()  # stdin data, None: resized
    tasks: list[asyncio.Task[None]] = []
    reading = winch = False
    previous_handler = signal.getsignal(signal.SIGWINCH) if session.tty else None
    try:
        if raw:
            tty.setraw(in_fd)
        if session.tty:
            await _send_terminal_size(session, in_fd)
            try:
                loop.add_signal_handler(signal.SIGWINCH, events.put_nowait, None)
                winch = True
            except (ValueError, RuntimeError, NotImplementedError):
                pass  # not the main thread, or a loop without signal support
        if session.stdin and not (reading := _watch_stdin(loop, in_fd, events)):
            # A file the loop cannot watch (a regular file: epoll refuses those) does
            # not block its readers, so no thread is left waiting for a keystroke.
            tasks.append(asyncio.create_task(_read_in_thread(in_fd, events)))
        tasks.append(asyncio.create_task(_pump_stdin(session, in_fd, events)))
        async for stream, data in session:
            target = out if stream == "stdout" else err
            target.write(data)
            target.flush()
        return await session.wait()
    finally:
        if winch:
            loop.remove_signal_handler(signal.SIGWINCH)
            # None: a handler not set from Python, which cannot be put back; use the default.
            signal.signal(signal.SIGWINCH, previous_handler or signal.SIG_DFL)
        if reading:
            loop.remove_reader(in_fd)
        for task in tasks:
            task.cancel()
        ended = await asyncio.gather(*tasks, return_exceptions=True)
        if saved is not None:
            termios.tcsetattr(in_fd, termios.TCSADRAIN, saved)
        # The pumps end quietly on a closed session; anything else is a bug to show.
        failures = [result for result in ended if isinstance(result, Exception)]
        if failures:
            raise failures[0]


def _watch_stdin(
    loop: asyncio.AbstractEventLoop, in_fd: int, events: asyncio.Queue[bytes | None]
) -> bool:
    """Queue what arrives on stdin, b"" at its end; False when the loop cannot watch it."""

    def readable() -> None:
        try:
            data = os.read(in_fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            loop.remove_reader(in_fd)
        events.put_nowait(data)

    try:
        loop.add_reader(in_fd, readable)
    except (OSError, ValueError, NotImplementedError):
        return False
    return True


async def _pump_stdin(
    session: AsyncExecSession, in_fd: int, events: asyncio.Queue[bytes | None]
) -> None:
    """Send stdin (b"": its end) and terminal sizes (None) to the session, in order."""
    try:
        while True:
            event = await events.get()
            if event is None:
                await _send_terminal_size(session, in_fd)
            elif event:
                await session.write(event)
            else:
                await session.close_stdin()
    except (StreamError, OSError):
        return


async def _read_in_thread(in_fd: int, events: asyncio.Queue[bytes | None]) -> None:
    """Queue what stdin holds, b"" at its end, read in a thread."""
    while True:
        try:
            data = await asyncio.to_thread(os.read, in_fd, 65536)
        except OSError:
            data = b""
        events.put_nowait(data)
        if not data:
            return


async def _send_terminal_size(session: AsyncExecSession, in_fd: int) -> None:
    size = terminal_size(in_fd)
    if size is not None:
        await session.resize(*size)
