"""Interactive exec and attach sessions for asyncio: :class:`AsyncExecSession`.

The twin of :mod:`cri_client._sync.sessions` on ``websockets.asyncio.client``; the
protocol and the session's state are :mod:`cri_client._core.channel`'s. Nothing does
I/O when a session is made: it opens on ``await session`` or ``async with session``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Sequence
from typing import TYPE_CHECKING, TypeVar

from cri_client._core.channel import (
    EXEC_PROTOCOLS,
    ExecProtocol,
    SessionCore,
    check_websockets_version,
    connect_options,
    handshake_error,
    negotiate,
    websocket_url,
)
from cri_client._core.defaults import (
    ATTACH_EXIT_GRACE,
    ATTACH_EXIT_POLL,
    STREAM_CLOSE_TIMEOUT,
    STREAM_OPEN_TIMEOUT,
)
from cri_client._core.public import publish
from cri_client.errors import StreamError

if TYPE_CHECKING:
    from types import TracebackType

    from websockets.asyncio.client import ClientConnection


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
                target, **connect_options(connect, protocols, open_timeout, close_timeout)
            )
        except Exception as err:
            if isinstance(err, asyncio.TimeoutError):  # not the builtin one before 3.11
                err = TimeoutError(*err.args)
            raise handshake_error(url, err) from None
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


Opened = TypeVar("Opened", bound="OpensOnAwait")


class OpensOnAwait:
    """``await x`` and ``async with x`` open it (once); leaving the block closes it.
    (``__aenter__`` is each class's own: its signature names the class, as the sync
    twin's ``__enter__`` does.)"""

    async def _open(self: Opened) -> Opened:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    def __await__(self: Opened) -> Generator[object, None, Opened]:
        return self._open().__await__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()


class AsyncExecSession(SessionCore, OpensOnAwait):
    """An interactive exec or attach session, for asyncio: :class:`ExecSession
    <cri_client.ExecSession>`'s surface, awaited.

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
        open_timeout: float = STREAM_OPEN_TIMEOUT,
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
                check_websockets_version()
                url = self._opened(self._url if isinstance(self._url, str) else await self._url())
                ws = await _AsyncWebSocket.open(
                    url, EXEC_PROTOCOLS, self._open_timeout, STREAM_CLOSE_TIMEOUT
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
        <cri_client.ExecSession.close_stdin>` (on v4 without TTY it ends the
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

    async def interact(self) -> int:
        """Wire this session to this process's terminal until the command ends, as
        ``kubectl exec -it`` and ``kubectl attach -it`` do, and return its exit code;
        the session is opened first if it is not yet.

        stdin goes to the command (its end closes the command's stdin); output goes to
        ``sys.stdout.buffer`` and ``sys.stderr.buffer``. For a TTY session on a
        terminal, the terminal is put in raw mode (Ctrl-C and Ctrl-D go to the command)
        and restored on return, whatever happens; its size is sent at the start and on
        every SIGWINCH (when the loop runs in the main thread).

        >>> async with ctr.attach(stdin=True) as session:
        ...     sys.exit(await session.interact())
        """
        from cri_client._async.terminal import interact

        return await interact(self)

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


publish(AsyncExecSession)
