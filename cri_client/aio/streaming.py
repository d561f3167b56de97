"""Interactive exec, attach and port-forward for asyncio: :class:`AsyncExecSession`,
:func:`interact` and :class:`AsyncPortForward`, the twins of
:mod:`cri_client.streaming`'s sync classes on ``websockets.asyncio.client``.

The protocol, the argument checks, the error messages and how a session's end is
settled are the sync module's own I/O-free code; only the transport is here. Nothing
does I/O when it is made: a session opens on ``await session`` or ``async with
session``, a port-forward starts serving on ``await forward`` or ``async with
forward``. ``websockets`` is imported on first use.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Sequence
from contextlib import suppress
from typing import TYPE_CHECKING, TypeVar

from cri_client.errors import CRIError, StreamError
from cri_client.streaming import (
    ATTACH_EXIT_GRACE,
    ATTACH_EXIT_POLL,
    CLOSE_TIMEOUT,
    DEFAULT_OPEN_TIMEOUT,
    EXEC_PROTOCOLS,
    PORT_FORWARD_PROTOCOLS,
    ExecProtocol,
    PortForwardProtocol,
    _connect_options,
    _ForwardCore,
    _handshake_error,
    _SessionCore,
    _terminal_size,
    negotiate,
    websocket_url,
)

if TYPE_CHECKING:
    from types import TracebackType

    from websockets.asyncio.client import ClientConnection

__all__ = ["AsyncExecSession", "AsyncPortForward", "interact"]


_OLDEST_WEBSOCKETS = (14, 1)
"""The oldest websockets whose asyncio client keeps the messages received before the
connection closed until they are read. 13.x and 14.0 drop them when the connection
closes: a session read a moment late lost its last output and its exit status."""


def _check_websockets_version() -> None:
    """Refuse a websockets that would lose data, before any RPC is made for a URL."""
    from websockets.version import tag

    found = tuple(int(part) for part in tag.split(".")[:2] if part.isdigit())
    if found < _OLDEST_WEBSOCKETS:
        wanted = ".".join(map(str, _OLDEST_WEBSOCKETS))
        raise StreamError(
            f"the asyncio streams need websockets {wanted} or newer, not {tag}: older "
            "versions drop the output and exit status that arrive just before the "
            f"connection closes (pip install 'websockets>={wanted}')"
        )


class _AsyncWebSocket:
    """A WebSocket to the streaming server: the only code here that touches ``websockets``."""

    def __init__(self, ws: ClientConnection, url: str, protocol: str) -> None:
        self._ws = ws
        self.url = url
        self.protocol = protocol

    @classmethod
    async def open(
        cls, url: str, protocols: Sequence[str], open_timeout: float, close_timeout: float
    ) -> _AsyncWebSocket:
        from websockets.asyncio.client import connect

        target = websocket_url(url)
        try:
            ws = await connect(
                target, **_connect_options(connect, protocols, open_timeout, close_timeout)
            )
        except Exception as err:
            if isinstance(err, asyncio.TimeoutError):  # not the builtin one before 3.11
                err = TimeoutError(*err.args)
            raise _handshake_error(url, err) from None
        try:
            protocol = negotiate(ws.subprotocol, protocols)
        except StreamError:
            await ws.close()
            raise
        return cls(ws, url, protocol)

    async def recv(self) -> bytes | str | None:
        """The next message; None once the connection is closed. Safe to cancel: no
        message is lost (websockets guarantees it)."""
        from websockets.exceptions import ConnectionClosed

        try:
            return await self._ws.recv()
        except ConnectionClosed:
            return None

    async def send(self, message: bytes) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            await self._ws.send(message)
        except ConnectionClosed:
            raise StreamError("the session has ended: nothing more can be sent") from None

    async def close(self) -> None:
        """Send the close frame and wait (up to the close timeout) for the server's. A
        close frame, unlike a dropped TCP connection, is what makes containerd 2.1 close
        the command's stdin."""
        await self._ws.close()


_Opened = TypeVar("_Opened", bound="_OpensOnAwait")


class _OpensOnAwait:
    """``await x`` and ``async with x`` open it (once); leaving the block closes it.
    (``__aenter__`` is each class's own: its signature names the class, as the sync
    twin's ``__enter__`` does.)"""

    async def _open(self: _Opened) -> _Opened:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    def __await__(self: _Opened) -> Generator[object, None, _Opened]:
        return self._open().__await__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()


class AsyncExecSession(_SessionCore, _OpensOnAwait):
    """An interactive exec or attach session, for asyncio: :class:`ExecSession
    <cri_client.streaming.ExecSession>`'s surface, awaited.

    Making it does no I/O; it opens (the URL is fetched, the WebSocket connected) on
    ``await session`` or ``async with session``::

        async with AsyncExecSession(url, stdin=True) as s:    # closed on leaving
            await s.write(b"hi\\n")
            async for stream, data in s:                      # ("stdout", b"...")
                ...
            code = await s.wait()

        s = await AsyncExecSession(url)                       # open; close() is yours

    ``close_stdin()`` means what it means for the sync session (see its docstring and
    docs/streaming.md): on v4 without TTY, containerd's case, it ends the session.
    """

    def __init__(
        self,
        url: str | Callable[[], Awaitable[str | tuple[str, bool]]],
        *,
        stdin: bool = False,
        tty: bool = False,
        open_timeout: float = DEFAULT_OPEN_TIMEOUT,
        exit_code_source: Callable[[], Awaitable[int | None]] | None = None,
    ) -> None:
        """``url``: the single-use streaming URL, or a coroutine function that returns
        one (awaited when the session opens, e.g. one that makes the CRI Exec call), or
        ``(url, tty)`` when the TTY setting is known only then (attach with tty=None).
        ``stdin``: whether ``write()`` may be used (the request must have asked for
        stdin); ``tty``: as requested. ``exit_code_source`` is for attach, whose status
        says Success whatever the container did: it returns the container's exit code,
        or None while it runs."""
        super().__init__(stdin, tty, exit_code_source)
        self._url = url
        self._open_timeout = open_timeout
        self._exit_code_source = exit_code_source
        self._ws: _AsyncWebSocket | None = None
        self._closed = False
        self._open_lock = asyncio.Lock()  # bound to the event loop on first use
        self._read_lock = asyncio.Lock()

    async def __aenter__(self) -> AsyncExecSession:
        return await self._open()

    async def _open(self) -> AsyncExecSession:
        async with self._open_lock:
            if self._closed:
                raise StreamError("the session was closed before it was opened")
            if self._ws is None:
                _check_websockets_version()
                url = self._opened(self._url if isinstance(self._url, str) else await self._url())
                ws = await _AsyncWebSocket.open(
                    url, EXEC_PROTOCOLS, self._open_timeout, CLOSE_TIMEOUT
                )
                if self._closed:  # close() came while the URL or the handshake was awaited
                    await ws.close()
                    raise StreamError("the session was closed before it was opened")
                self._state = ExecProtocol(ws.protocol, tty=self.tty)
                self._ws = ws
        return self

    def _websocket(self) -> _AsyncWebSocket:
        self._open_state()  # raises the "not open yet" error
        assert self._ws is not None
        return self._ws

    # --- the session

    async def write(self, data: bytes) -> None:
        """Send ``data`` to the command's stdin."""
        message = self._stdin_message(data)
        if message is not None:
            await self._websocket().send(message)

    async def close_stdin(self) -> None:
        """Signal end-of-file on stdin; as :meth:`ExecSession.close_stdin
        <cri_client.streaming.ExecSession.close_stdin>` (on v4 without TTY it ends the
        session). A no-op the second time."""
        action = self._stdin_close()
        if action is None:
            return
        if action.message is not None:
            await self._websocket().send(action.message)
        if action.end_session:
            await self._close_websocket()

    async def resize(self, rows: int, cols: int) -> None:
        """Set the terminal size (TTY sessions only)."""
        await self._websocket().send(self._resize_message(rows, cols))

    async def __aiter__(self) -> AsyncIterator[tuple[str, bytes]]:
        """``("stdout" | "stderr", data)`` chunks until the session ends."""
        self._open_state()
        while True:
            async with self._read_lock:
                while not self._unread and not self._ended:
                    await self._receive()
                if not self._unread:
                    return
                chunk = self._unread.popleft()
            yield chunk

    async def read_all(self) -> tuple[bytes, bytes]:
        """All (remaining) output until the session ends, as ``(stdout, stderr)``."""
        out: dict[str, list[bytes]] = {"stdout": [], "stderr": []}
        async for stream, data in self:
            out[stream].append(data)
        return b"".join(out["stdout"]), b"".join(out["stderr"])

    async def wait(self, timeout: float | None = None) -> int:
        """Wait for the command to end and return its exit code (non-zero included).

        Output not read yet is kept for iteration. Raises ``TimeoutError`` when
        ``timeout`` seconds pass, and :class:`StreamError` when the exit code cannot be
        known: the runtime reported an error instead (e.g. the program does not exist),
        the connection broke, or the session was closed first (``close()``, or
        ``close_stdin()`` on v4 without TTY).
        """
        self._open_state()
        try:
            await asyncio.wait_for(self._read_to_end(), timeout)
        except asyncio.TimeoutError:  # the builtin TimeoutError from Python 3.11
            raise TimeoutError(f"the command did not end within {timeout} s") from None
        return self._outcome()

    async def close(self) -> None:
        """End the session (not the command). Output that arrived can still be read.
        Before the session was opened, it makes opening it fail."""
        if self._ws is None:
            self._closed = True
            return
        if not self._ended and self._ending is None:
            self._ending = "close"
        await self._close_websocket()

    async def _read_to_end(self) -> None:
        async with self._read_lock:
            while not self._ended:
                await self._receive()

    async def _close_websocket(self) -> None:
        """Close the WebSocket, reading what still arrives meanwhile into the unread
        buffer: websockets stops reading the connection while its queue of messages is
        full, so unread ones would hold up the closing handshake for the whole close
        timeout. When another task holds the read lock, it is reading already."""
        closing = asyncio.ensure_future(self._websocket().close())
        try:
            if not self._read_lock.locked():
                await self._read_to_end()  # the close ends the connection, so this ends
        finally:
            await closing

    async def _receive(self) -> None:
        """Receive one message (caller holds the read lock); at the end, settle the outcome."""
        message = await self._websocket().recv()
        if message is None:
            await self._end()
        else:
            self._take(message)

    async def _end(self) -> None:
        if self._settle():
            self._exit_code = await self._container_exit_code()
        self._ended = True

    async def _container_exit_code(self) -> int | None:
        assert self._exit_code_source is not None
        deadline = asyncio.get_running_loop().time() + ATTACH_EXIT_GRACE
        while (code := await self._exit_code_source()) is None:
            if asyncio.get_running_loop().time() >= deadline:
                self._no_exit_code()
                break
            await asyncio.sleep(ATTACH_EXIT_POLL)
        return code


# --- a session on the local terminal ----------------------------------------------------


async def interact(session: AsyncExecSession) -> int:
    """Wire ``session`` to this process's terminal until the command ends; return its
    exit code. The asyncio twin of :func:`cri_client.streaming.interact`; the session is
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
    size = _terminal_size(in_fd)
    if size is not None:
        await session.resize(*size)


# --- port-forward ------------------------------------------------------------------------


class AsyncPortForward(_ForwardCore, _OpensOnAwait):
    """Forwards connections to ``127.0.0.1:<local_port>`` to a port inside a pod, for
    asyncio: :class:`PortForward <cri_client.streaming.PortForward>`'s surface.

    The ports are checked and the socket bound when it is made (so :attr:`local_port`
    is known at once, and a bad port raises ValueError before any RPC); connections are
    served from ``await forward`` or ``async with forward`` on. Every accepted
    connection awaits ``open_url()`` for a fresh URL (they are single-use) and pumps
    bytes both ways in its own tasks, so several connections run at the same time.
    ``close()`` (or leaving the ``async with`` block) stops listening and ends the open
    connections. A connection that fails is closed, and the error is appended to
    :attr:`errors`. As for the sync one, v4 cannot half-close: after the local client's
    EOF, replies pass until the pod side closes.
    """

    def __init__(
        self,
        open_url: Callable[[], Awaitable[str]],
        remote_port: int,
        local_port: int = 0,
        *,
        open_timeout: float = DEFAULT_OPEN_TIMEOUT,
    ) -> None:
        """``open_url`` asks the runtime for a new port-forward URL for ``remote_port``."""
        super().__init__(remote_port, local_port)
        self._open_url = open_url
        self._open_timeout = open_timeout
        self._server: asyncio.Server | None = None
        self._open_lock = asyncio.Lock()  # bound to the event loop on first use
        self._connections: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> AsyncPortForward:
        return await self._open()

    async def _open(self) -> AsyncPortForward:
        if self._closed:
            raise StreamError("the port-forward was closed")
        async with self._open_lock:  # two `await forward` at once start one server
            if self._server is None:
                _check_websockets_version()
                self._server = await asyncio.start_server(self._serve, sock=self._listener)
        return self

    async def close(self) -> None:
        """Stop listening and end every open connection."""
        if self._closed:
            return
        self._closed = True
        if self._server is not None:
            self._server.close()  # closes the listening socket
        self._listener.close()
        connections = list(self._connections)
        for task in connections:
            task.cancel()
        if connections:
            await asyncio.wait(connections, timeout=CLOSE_TIMEOUT)
        if self._server is not None:
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), CLOSE_TIMEOUT)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """The server's task for one local connection. The work is a task of our own,
        which close() cancels: a cancelled server task is reported as an error by
        asyncio before Python 3.12."""
        if self._closed:
            writer.close()
            return
        task = asyncio.create_task(self._forward(reader, writer))
        self._connections.add(task)
        task.add_done_callback(self._connections.discard)
        try:
            await asyncio.wait({task})
        finally:
            task.cancel()  # this one was cancelled: end the connection too

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One local connection and its WebSocket: pod-to-local here, local-to-pod in a
        second task."""
        error: CRIError | None = None
        ws: _AsyncWebSocket | None = None
        upstream: asyncio.Task[None] | None = None
        try:
            url = await self._open_url()
            ws = await _AsyncWebSocket.open(
                url, PORT_FORWARD_PROTOCOLS, self._open_timeout, CLOSE_TIMEOUT
            )
            state = PortForwardProtocol(self.remote_port)
            upstream = asyncio.create_task(_upstream(reader, ws, state))
            while (message := await ws.recv()) is not None:
                data = state.receive(message)
                if data:
                    writer.write(data)
                    await writer.drain()
            error = state.error
        except CRIError as err:
            error = err
        except OSError:
            pass  # the local side is gone
        finally:
            if upstream is not None:
                upstream.cancel()
            writer.close()
            if ws is not None:
                await ws.close()
            if upstream is not None:
                await asyncio.wait({upstream})
            with suppress(OSError):
                await writer.wait_closed()
            self._failed(error)


async def _upstream(
    reader: asyncio.StreamReader, ws: _AsyncWebSocket, state: PortForwardProtocol
) -> None:
    try:
        while data := await reader.read(65536):
            await ws.send(state.data(data))
    except OSError:
        await ws.close()  # reset by the local client: end the pod side too
    except StreamError:
        pass  # the pod side ended first
