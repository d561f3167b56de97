"""Interactive exec and attach sessions on ``websockets.sync.client``: :class:`ExecSession`.

The thread-based twin of :mod:`cri_client._async.sessions`; the protocol and the
session's state are :mod:`cri_client._core.channel`'s, only the transport is here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, suppress
from typing import TYPE_CHECKING

from cri_client._core.channel import (
    EXEC_PROTOCOLS,
    ExecProtocol,
    SessionCore,
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

    from websockets.sync.client import ClientConnection


class _WebSocket:
    """A WebSocket to the streaming server: the only code here that touches ``websockets``."""

    def __init__(
        self, url: str, protocols: Sequence[str], open_timeout: float, close_timeout: float
    ) -> None:
        from websockets.sync.client import connect

        target = websocket_url(url)
        self._stack = ExitStack()
        try:
            # Entered as a context manager: websockets >= 17.1 deprecates plain calls,
            # and older versions return a connection that is its own context manager.
            self._ws: ClientConnection = self._stack.enter_context(
                connect(target, **connect_options(connect, protocols, open_timeout, close_timeout))
            )
        except Exception as err:
            raise handshake_error(url, err) from None
        try:
            self.protocol = negotiate(self._ws.subprotocol, protocols)
        except StreamError:
            self.close()
            raise
        self.url = url

    def recv(self, timeout: float | None) -> bytes | str | None:
        """The next message; None once the connection is closed. TimeoutError on timeout."""
        from websockets.exceptions import ConnectionClosed

        try:
            return self._ws.recv(timeout)
        except ConnectionClosed:
            return None

    def send(self, message: bytes) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            self._ws.send(message)
        except ConnectionClosed:
            raise StreamError("the session has ended: nothing more can be sent") from None

    def close(self) -> None:
        """Send the close frame and wait (up to the close timeout) for the server's. A
        close frame, unlike a dropped TCP connection, is what makes containerd 2.1 close
        the command's stdin."""
        self._stack.close()


class ExecSession(SessionCore):
    """An interactive exec or attach session (from :meth:`Container.exec_stream` and
    :meth:`Container.attach`, or on a URL from ``cri.api.exec``/``attach``).

    Iterate for ``("stdout" | "stderr", bytes)`` chunks as they arrive; ``write()``
    feeds stdin; ``wait()`` returns the exit code. In TTY mode the runtime merges stderr
    into stdout (and the terminal turns ``\\n`` into ``\\r\\n``); otherwise they stay
    apart. ``close()`` (or leaving the ``with`` block) ends the session but not the
    command: it sees end-of-file on stdin and keeps running, as after ``kubectl exec``
    is interrupted.

    ``close_stdin()`` depends on the negotiated :attr:`protocol`:

    * TTY (any protocol): types Ctrl-D, the terminal's end-of-file (twice if the last
      line written was not finished). Programs reading the terminal line by line (``sh``,
      ``cat``, ``read``) see EOF; a program in raw mode just gets the byte 0x04. The
      session goes on: output and the exit code still arrive.
    * ``v5.channel.k8s.io``: sends the close signal for stdin; the command sees EOF and
      output and the exit code still arrive.
    * ``v4.channel.k8s.io`` (containerd) without TTY: v4 cannot close stdin alone, so
      this closes the WebSocket. The runtime closes the command's stdin (it sees EOF
      and runs on), but the session is over: output the command writes afterwards is
      lost, ``exit_code`` stays None and ``wait()`` raises :class:`StreamError`.
    """

    def __init__(
        self,
        url: str | Callable[[], str | tuple[str, bool]],
        *,
        stdin: bool = False,
        tty: bool = False,
        open_timeout: float = STREAM_OPEN_TIMEOUT,
        exit_code_source: Callable[[], int | None] | None = None,
    ) -> None:
        """Open the session on ``url`` (single-use), or on the URL that ``url()`` returns
        (called once, here: e.g. a function that makes the CRI Exec call; it may return
        ``(url, tty)`` when the TTY setting is known only then). ``stdin``: whether
        ``write()`` may be used (the request must have asked for stdin); ``tty``: as
        requested. ``exit_code_source`` is for attach, whose status says Success
        whatever the container did: it returns the container's exit code, or None while
        it runs."""
        super().__init__(stdin, tty, exit_code_source)
        self._exit_code_source = exit_code_source
        self._read_lock = threading.Lock()
        self._ws = _WebSocket(
            self._opened(url if isinstance(url, str) else url()),
            EXEC_PROTOCOLS,
            open_timeout,
            STREAM_CLOSE_TIMEOUT,
        )
        self._state = ExecProtocol(self._ws.protocol, tty=self.tty)

    def write(self, data: bytes) -> None:
        """Send ``data`` to the command's stdin."""
        message = self._stdin_message(data)
        if message is not None:
            self._ws.send(message)

    def close_stdin(self) -> None:
        """Signal end-of-file on stdin; what that means per protocol is in the class
        docstring (on v4 without TTY it ends the session). A no-op the second time."""
        action = self._stdin_close()
        if action is None:
            return
        if action.message is not None:
            self._ws.send(action.message)
        if action.end_session:
            self._close_websocket()

    def resize(self, rows: int, cols: int) -> None:
        """Set the terminal size (TTY sessions only)."""
        self._ws.send(self._resize_message(rows, cols))

    def __iter__(self) -> Iterator[tuple[str, bytes]]:
        """``("stdout" | "stderr", data)`` chunks until the session ends."""
        while True:
            with self._read_lock:
                while not self._unread and not self._ended:
                    self._receive(None)
                if not self._unread:
                    return
                chunk = self._unread.popleft()
            yield chunk

    def read_all(self) -> tuple[bytes, bytes]:
        """All (remaining) output until the session ends, as ``(stdout, stderr)``."""
        out: dict[str, list[bytes]] = {"stdout": [], "stderr": []}
        for stream, data in self:
            out[stream].append(data)
        return b"".join(out["stdout"]), b"".join(out["stderr"])

    def interact(self) -> int:
        """Wire this session to this process's terminal until the command ends, as
        ``kubectl exec -it`` and ``kubectl attach -it`` do, and return its exit code.

        stdin goes to the command (its end closes the command's stdin); output goes to
        ``sys.stdout.buffer`` and ``sys.stderr.buffer``. For a TTY session on a
        terminal, the terminal is put in raw mode (Ctrl-C and Ctrl-D go to the command)
        and restored on return, whatever happens; its size is sent at the start and on
        every SIGWINCH (from the main thread, which alone may set signal handlers).

        >>> with ctr.attach(stdin=True) as session:
        ...     sys.exit(session.interact())
        """
        from cri_client._sync.terminal import interact

        return interact(self)

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the command to end and return its exit code (non-zero included).

        Output not read yet is kept for iteration. Raises ``TimeoutError`` when
        ``timeout`` seconds pass, and :class:`StreamError` when the exit code cannot be
        known: the runtime reported an error instead (e.g. the program does not exist),
        the connection broke, or the session was closed first (``close()``, or
        ``close_stdin()`` on v4 without TTY).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._ended:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise TimeoutError(f"the command did not end within {timeout} s")
            if not self._read_lock.acquire(timeout=-1 if remaining is None else remaining):
                continue
            try:
                if not self._ended:
                    self._receive(remaining)
            except TimeoutError:
                continue
            finally:
                self._read_lock.release()
        return self._outcome()

    def close(self) -> None:
        """End the session (not the command). Output that arrived can still be read."""
        if not self._ended and self._ending is None:
            self._ending = "close"
        self._close_websocket()

    def _close_websocket(self) -> None:
        """Close the WebSocket, reading what still arrives meanwhile into the unread
        buffer: websockets 13 hands messages over one at a time and its reader waits until
        each is taken, so an unread one would hold up the closing handshake for the whole
        close timeout. When another thread holds the read lock, it is reading already."""
        closer = threading.Thread(target=self._ws.close, name="cri-client close", daemon=True)
        closer.start()
        if self._read_lock.acquire(blocking=False):
            try:
                while closer.is_alive() and not self._ended:
                    with suppress(TimeoutError):
                        self._receive(0.05)
            finally:
                self._read_lock.release()
        closer.join()

    def _receive(self, timeout: float | None) -> None:
        """Receive one message (caller holds the read lock); at the end, settle the outcome."""
        message = self._ws.recv(timeout)
        if message is None:
            self._end()
        else:
            self._take(message)

    def _end(self) -> None:
        if self._settle():
            self._exit_code = self._container_exit_code()
        self._ended = True

    def _container_exit_code(self) -> int | None:
        assert self._exit_code_source is not None
        deadline = time.monotonic() + ATTACH_EXIT_GRACE
        while (code := self._exit_code_source()) is None:
            if time.monotonic() >= deadline:
                self._no_exit_code()
                break
            time.sleep(ATTACH_EXIT_POLL)
        return code

    def __enter__(self) -> ExecSession:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


publish(ExecSession)
