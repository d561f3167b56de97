"""Interactive exec, attach and port-forward over the runtime's streaming server.

CRI ``Exec``, ``Attach`` and ``PortForward`` stream nothing themselves: each returns a
single-use URL on the runtime's streaming server (``http://127.0.0.1:<port>/exec/<token>``)
where the client speaks the Kubernetes remote-command or port-forward protocol. Any
request consumes the token; the URL is 404 afterwards. This module speaks the protocol
over WebSocket, in two layers:

* the protocol without I/O (frames, channel numbers, the exit status JSON, resize
  messages, subprotocol negotiation, the port header): :class:`ExecProtocol`,
  :class:`PortForwardProtocol` and the functions before them, shared with the asyncio
  transport (:mod:`cri_client.aio.streaming`), as are the session's and port-forward's
  checks and outcomes (``_SessionCore``, ``_ForwardCore``);
* a thin synchronous transport on ``websockets.sync.client``: :class:`ExecSession`,
  :func:`interact` (a session on the local terminal) and :class:`PortForward`.

``websockets`` is imported on first use, so ``import cri_client`` does not load it.
"""

from __future__ import annotations

import inspect
import json
import os
import select
import signal
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, suppress
from typing import TYPE_CHECKING, Any, NamedTuple

from cri_client.errors import CRIError, StreamError

if TYPE_CHECKING:
    from types import TracebackType

    from websockets.sync.client import ClientConnection

__all__ = [
    "EXEC_PROTOCOLS",
    "PORT_FORWARD_PROTOCOLS",
    "ExecProtocol",
    "ExecSession",
    "PortForward",
    "PortForwardProtocol",
    "StdinClose",
    "exit_code_from_status",
    "frame",
    "interact",
    "negotiate",
    "parse_frame",
    "resize_frame",
    "strip_port_header",
    "websocket_url",
]

# Channels of the remote-command protocol (exec and attach).
STDIN, STDOUT, STDERR, ERROR, RESIZE = 0, 1, 2, 3, 4
# Channels of one forwarded port (the i-th port of a request has 2i and 2i+1).
PORT_DATA, PORT_ERROR = 0, 1
CLOSE_SIGNAL = 255
"""v5 only: ``[255, channel]`` closes that channel (stdin) and nothing else."""

V5_PROTOCOL = "v5.channel.k8s.io"
V4_PROTOCOL = "v4.channel.k8s.io"
EXEC_PROTOCOLS = (V5_PROTOCOL, V4_PROTOCOL)
"""Offered for exec and attach, preferred first. containerd (1.6 to 2.1) picks v4."""
PORT_FORWARD_PROTOCOLS = (V4_PROTOCOL,)
"""Offered for port-forward; containerd refuses ``portforward.k8s.io`` (403)."""

TERMINAL_EOF = b"\x04"
"""Ctrl-D, the default VEOF: what ends a terminal's input in canonical mode."""

DEFAULT_OPEN_TIMEOUT = 10.0
CLOSE_TIMEOUT = 5.0
ATTACH_EXIT_GRACE = 10.0
"""How long after an attach stream ends to wait for the runtime to report the exit."""
ATTACH_EXIT_POLL = 0.05

_STREAMS = {STDOUT: "stdout", STDERR: "stderr"}


# --- the protocol, without I/O --------------------------------------------------------


def frame(channel: int, data: bytes = b"") -> bytes:
    """A binary WebSocket message: one channel byte, then the data."""
    if not 0 <= channel <= 255:
        raise ValueError(f"channel must be 0..255, not {channel}")
    return bytes((channel,)) + data


def parse_frame(message: bytes | str) -> tuple[int, bytes]:
    """``(channel, data)`` of a message from the server. The binary protocols negotiated
    here never send text; an empty message carries nothing (returned as channel -1)."""
    if isinstance(message, str):
        raise StreamError(f"unexpected text message from the streaming server: {message[:80]!r}")
    if not message:
        return -1, b""
    return message[0], bytes(message[1:])


def resize_frame(rows: int, cols: int) -> bytes:
    """The resize message (channel 4): JSON ``{"Width": cols, "Height": rows}``."""
    for name, value in (("rows", rows), ("cols", cols)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 0xFFFF:
            raise ValueError(f"{name} must be an integer in 1..65535, not {value!r}")
    return frame(RESIZE, json.dumps({"Width": cols, "Height": rows}).encode())


def exit_code_from_status(payload: bytes) -> int:
    """The exit code in the status message (channel 3) that ends a session.

    ``{"status":"Success"}`` is 0; a ``NonZeroExitCode`` failure carries the code in
    ``details.causes[reason=ExitCode].message``. Any other failure (the program does not
    exist, the container stopped...) raises :class:`StreamError` with the runtime's text.
    """
    try:
        status = json.loads(payload)
    except ValueError:
        raise StreamError(
            f"malformed status from the streaming server: {payload[:200]!r}"
        ) from None
    if not isinstance(status, dict):
        raise StreamError(f"malformed status from the streaming server: {payload[:200]!r}")
    if status.get("status") == "Success":
        return 0
    message = str(status.get("message") or status.get("reason") or "unknown failure")
    if status.get("reason") == "NonZeroExitCode":
        details = status.get("details")
        causes = details.get("causes", []) if isinstance(details, dict) else []
        for cause in causes:
            if isinstance(cause, dict) and cause.get("reason") == "ExitCode":
                try:
                    return int(cause.get("message", ""))
                except ValueError:
                    break
        raise StreamError(f"the runtime reported a non-zero exit without its code: {message}")
    raise StreamError(f"the runtime reported: {message}")


def negotiate(selected: str | None, offered: Sequence[str]) -> str:
    """The subprotocol the server picked in its handshake reply, which must be one of
    ours: without one, frames would have no agreed meaning."""
    if not selected or selected not in offered:
        raise StreamError(
            f"the streaming server accepted none of the subprotocols {', '.join(offered)} "
            f"(it answered {selected or 'none'})"
        )
    return selected


def strip_port_header(data: bytes, port: int) -> bytes:
    """The first message on each port-forward channel starts with the port, 2 bytes
    little-endian; check it and return what follows."""
    if len(data) < 2:
        raise StreamError(f"port-forward stream started without its port header: {data!r}")
    announced = int.from_bytes(data[:2], "little")
    if announced != port:
        raise StreamError(f"port-forward stream is for port {announced}, not {port}")
    return data[2:]


def websocket_url(url: str) -> str:
    """The ``ws://`` (``wss://``) form of the runtime's ``http://`` (``https://``) URL."""
    for http, ws in (("http://", "ws://"), ("https://", "wss://")):
        if url.startswith(http):
            return ws + url[len(http) :]
    if url.startswith(("ws://", "wss://")):
        return url
    raise StreamError(f"the runtime returned a streaming URL that is not absolute http(s): {url!r}")


class StdinClose(NamedTuple):
    """How to close stdin on the negotiated protocol: a message to send (or None), and
    whether the WebSocket must be closed, ending the whole session, instead."""

    message: bytes | None
    end_session: bool


class ExecProtocol:
    """One exec or attach session's protocol state, without I/O.

    Feed it every message received (:meth:`receive` returns ``("stdout"|"stderr",
    data)`` or None) and send what :meth:`stdin`, :meth:`close_stdin` and :meth:`resize`
    return. ``exit_code`` (or ``error``) is set by the status message.
    """

    def __init__(self, protocol: str, *, tty: bool) -> None:
        self.protocol = negotiate(protocol, EXEC_PROTOCOLS)
        self.tty = tty
        self.exit_code: int | None = None
        self.error: StreamError | None = None
        self._line_open = False

    @property
    def supports_stdin_close(self) -> bool:
        """v5 can close stdin alone; v4 cannot (only closing the WebSocket does)."""
        return self.protocol == V5_PROTOCOL

    @property
    def finished(self) -> bool:
        """The status message has arrived."""
        return self.exit_code is not None or self.error is not None

    def receive(self, message: bytes | str) -> tuple[str, bytes] | None:
        channel, data = parse_frame(message)
        if channel == ERROR:
            try:
                self.exit_code = exit_code_from_status(data)
            except StreamError as err:
                self.error = err
            return None
        stream = _STREAMS.get(channel)
        # Empty data: the server's "connection established" message on the first channel.
        return (stream, data) if stream and data else None

    def stdin(self, data: bytes) -> bytes:
        if data:
            self._line_open = data[-1:] not in (b"\n", b"\r")
        return frame(STDIN, data)

    def close_stdin(self) -> StdinClose:
        """TTY: type the terminal's end-of-file (Ctrl-D, twice after a partial line: the
        first one only ends the line), on any protocol: a terminal has no other EOF, and
        containerd stops a TTY session's output when its stdin stream closes.
        v5: the close signal for stdin. v4: nothing but closing the WebSocket."""
        if self.tty:
            eof = TERMINAL_EOF * (2 if self._line_open else 1)
            self._line_open = False
            return StdinClose(frame(STDIN, eof), False)
        if self.supports_stdin_close:
            return StdinClose(bytes((CLOSE_SIGNAL, STDIN)), False)
        return StdinClose(None, True)

    def resize(self, rows: int, cols: int) -> bytes:
        return resize_frame(rows, cols)


class PortForwardProtocol:
    """One forwarded connection's protocol state, without I/O: data on channel 0, errors
    on channel 1, the first message of each prefixed with the port."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._headers_due = {PORT_DATA, PORT_ERROR}
        self._error_text = bytearray()

    def receive(self, message: bytes | str) -> bytes:
        """The data to pass to the local connection (often empty)."""
        channel, data = parse_frame(message)
        if channel == -1:
            return b""
        if channel not in (PORT_DATA, PORT_ERROR):
            raise StreamError(f"port-forward message on unexpected channel {channel}")
        if channel in self._headers_due:
            self._headers_due.discard(channel)
            data = strip_port_header(data, self.port)
        if channel == PORT_ERROR:
            self._error_text += data
            return b""
        return data

    def data(self, data: bytes) -> bytes:
        return frame(PORT_DATA, data)

    @property
    def error(self) -> StreamError | None:
        """What the runtime wrote on the error channel, e.g. nothing listens on the port."""
        if not self._error_text:
            return None
        text = self._error_text.decode(errors="replace").strip()
        return StreamError(f"port-forward to port {self.port} failed: {text}")


# --- the synchronous transport ---------------------------------------------------------


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
                connect(target, **_connect_options(connect, protocols, open_timeout, close_timeout))
            )
        except Exception as err:
            raise _handshake_error(url, err) from None
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


def _refused(url: str, status: int, body: bytes) -> StreamError:
    """404 is what containerd answers for a token it no longer has; 400 for a request it
    cannot serve, which a used token also may get from other servers."""
    text = body.decode(errors="replace").strip()
    fresh = "ask the runtime for a new one (any request consumes a streaming URL)"
    if status == 404:
        return StreamError(
            f"the streaming server refused {url} (HTTP 404: {text}): the URL was already "
            f"used or has expired; {fresh}"
        )
    if status == 400:
        return StreamError(
            f"the streaming server refused {url} (HTTP 400: {text}): the request was "
            f"malformed, or the URL was already used or has expired; {fresh}"
        )
    return StreamError(f"the streaming server refused {url}: HTTP {status}: {text}")


def _connect_options(
    connect: Callable[..., object],
    protocols: Sequence[str],
    open_timeout: float,
    close_timeout: float,
) -> dict[str, Any]:
    """Keyword arguments for ``connect`` of ``websockets.sync.client`` or
    ``websockets.asyncio.client`` (websockets 13 and later)."""
    from websockets.typing import Subprotocol

    options: dict[str, Any] = {
        "subprotocols": [Subprotocol(name) for name in protocols],
        "compression": None,
        "open_timeout": open_timeout,
        "close_timeout": close_timeout,
    }
    # The sync client has ping_interval from websockets 14, the asyncio one from 13.
    if "ping_interval" in inspect.signature(connect).parameters:
        # No keepalive: containerd answers pings only between stdin frames, so while
        # a command does not read what it was sent, the ping times out and the
        # session is killed, exit code and all. containerd's stream_idle_timeout
        # (4 h by default) applies instead.
        options["ping_interval"] = None
    if "proxy" in inspect.signature(connect).parameters:  # websockets >= 15
        # Never through HTTP(S)_PROXY: the streaming server is the runtime on this node
        # (containerd: 127.0.0.1), which a node-wide proxy setting cannot reach.
        options["proxy"] = None
    return options


def _handshake_error(url: str, err: Exception) -> Exception:
    """What to raise when connecting to ``url`` failed with ``err``: a StreamError that
    says why, or ``err`` itself when it is not a connection or handshake failure."""
    from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI

    if isinstance(err, InvalidStatus):
        return _refused(url, err.response.status_code, bytes(err.response.body or b""))
    if isinstance(err, (InvalidHandshake, InvalidURI)):
        return StreamError(f"WebSocket handshake with {url} failed: {err}")
    if isinstance(err, (OSError, TimeoutError)):
        return StreamError(f"cannot connect to the streaming server at {url}: {err}")
    return err


class _SessionCore:
    """What :class:`ExecSession` and the asyncio ``AsyncExecSession`` share, without I/O:
    argument checks, the messages to send, output received but not read yet, and how a
    session's end is settled. The subclasses do the I/O."""

    def __init__(self, stdin: bool, tty: bool, exit_code_source: object | None) -> None:
        self.stdin = stdin
        self.tty = tty
        self._state: ExecProtocol | None = None  # set once the WebSocket is open
        self._has_exit_code_source = exit_code_source is not None
        self._unread: deque[tuple[str, bytes]] = deque()
        self._ended = False
        self._ending: str | None = None  # why we closed the WebSocket ourselves
        self._stdin_closed = False
        self._exit_code: int | None = None
        self._error: StreamError | None = None

    def _opened(self, url: str | tuple[str, bool]) -> str:
        """The URL to open, from the URL or ``(URL, tty)`` that the caller's function
        returned (attach learns the container's TTY setting only then)."""
        if isinstance(url, tuple):
            url, self.tty = url
        return url

    def _open_state(self) -> ExecProtocol:
        if self._state is None:
            raise RuntimeError(
                f"this {type(self).__name__} is not open yet: await it "
                "(session = await ...) or use it in 'async with'"
            )
        return self._state

    @property
    def protocol(self) -> str:
        """The negotiated subprotocol: ``v5.channel.k8s.io`` or ``v4.channel.k8s.io``."""
        return self._open_state().protocol

    @property
    def exit_code(self) -> int | None:
        """The command's exit code; None until the session ended (or when it is unknown)."""
        return self._exit_code

    def _stdin_message(self, data: bytes) -> bytes | None:
        """The message that sends ``data`` to stdin (None: nothing to send)."""
        if not self.stdin:
            raise ValueError("this session has no stdin: open it with stdin=True")
        if self._stdin_closed:
            raise ValueError("stdin is closed")
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data must be bytes, not {type(data).__name__}")
        state = self._open_state()
        return state.stdin(bytes(data)) if data else None

    def _stdin_close(self) -> StdinClose | None:
        """What closing stdin takes (None: nothing, it is closed or was never open)."""
        state = self._open_state()
        if not self.stdin or self._stdin_closed:
            return None
        self._stdin_closed = True
        action = state.close_stdin()
        if action.end_session:
            self._ending = "close_stdin"
        return action

    def _resize_message(self, rows: int, cols: int) -> bytes:
        state = self._open_state()
        if not self.tty:
            raise ValueError("resize needs a TTY session (tty=True)")
        return state.resize(rows, cols)

    def _take(self, message: bytes | str) -> None:
        """A message received: keep its output for the reader."""
        chunk = self._open_state().receive(message)
        if chunk is not None:
            self._unread.append(chunk)

    def _settle(self) -> bool:
        """The connection is over: set the exit code or the error. True when the exit code
        must come from ``exit_code_source`` instead (attach), see :meth:`_no_exit_code`."""
        state = self._open_state()
        if state.error is not None:
            self._error = state.error
        elif state.exit_code is not None:
            self._exit_code = state.exit_code
            return self._has_exit_code_source
        elif self._ending == "close_stdin":
            self._error = StreamError(
                f"close_stdin() on {state.protocol} without a TTY ended the session (v4 "
                "has no way to close stdin alone): output written after it and the exit "
                "code were not delivered"
            )
        elif self._ending == "close":
            self._error = StreamError("the session was closed before the command ended")
        else:
            self._error = StreamError(
                "the streaming server closed the connection without an exit status"
            )
        return False

    def _no_exit_code(self) -> None:
        """``exit_code_source`` still said None after :data:`ATTACH_EXIT_GRACE`."""
        self._exit_code = None
        self._error = StreamError(
            "the attach stream ended but the container is still running: no exit code"
        )

    def _outcome(self) -> int:
        """The exit code of an ended session, or its error raised."""
        if self._error is not None:
            raise self._error
        assert self._exit_code is not None
        return self._exit_code

    def __repr__(self) -> str:
        name = type(self).__name__
        if self._state is None:
            return f"<{name} tty={self.tty} not open>"
        state = "ended" if self._ended else "open"
        return f"<{name} {self._state.protocol} tty={self.tty} {state} exit_code={self.exit_code}>"


class ExecSession(_SessionCore):
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
        open_timeout: float = DEFAULT_OPEN_TIMEOUT,
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
            CLOSE_TIMEOUT,
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


# --- a session on the local terminal ----------------------------------------------------


def interact(session: ExecSession) -> int:
    """Wire ``session`` to this process's terminal until the command ends; return its
    exit code.

    stdin (read as bytes in a thread) goes to the command, and its end to
    :meth:`ExecSession.close_stdin`; output goes to ``sys.stdout.buffer`` and
    ``sys.stderr.buffer``. For a TTY session on a terminal, the terminal is put in raw
    mode (Ctrl-C and Ctrl-D go to the command) and restored on return, whatever
    happens; its size is sent at the start and on every SIGWINCH (when called from the
    main thread, which alone may set signal handlers).
    """
    import termios
    import tty

    in_fd = sys.stdin.fileno()
    out, err = sys.stdout.buffer, sys.stderr.buffer
    sys.stdout.flush()
    raw = session.tty and os.isatty(in_fd)
    saved = termios.tcgetattr(in_fd) if raw else None
    control_r, control_w = os.pipe()
    pump: threading.Thread | None = None
    winch = session.tty and threading.current_thread() is threading.main_thread()
    previous_handler = signal.getsignal(signal.SIGWINCH) if winch else None
    try:
        if raw:
            tty.setraw(in_fd)
        if session.tty:
            _send_terminal_size(session, in_fd)
        if winch:
            signal.signal(signal.SIGWINCH, lambda signum, frame: os.write(control_w, b"w"))
        pump = threading.Thread(
            target=_pump_stdin,
            args=(session, in_fd, control_r),
            name="cri-client stdin",
            daemon=True,
        )
        pump.start()
        for stream, data in session:
            target = out if stream == "stdout" else err
            target.write(data)
            target.flush()
        return session.wait()
    finally:
        if winch:
            # None: a handler not set from Python, which cannot be put back; use the default.
            signal.signal(signal.SIGWINCH, previous_handler or signal.SIG_DFL)
        os.write(control_w, b"q")
        if pump is not None:
            pump.join(CLOSE_TIMEOUT)
        if saved is not None:
            termios.tcsetattr(in_fd, termios.TCSADRAIN, saved)
        os.close(control_r)
        os.close(control_w)


def _pump_stdin(session: ExecSession, in_fd: int, control_fd: int) -> None:
    """Copy stdin to the session until told to stop (``q`` on the control pipe); ``w``
    there means the terminal was resized. select() keeps this thread from sitting in a
    read of the terminal after the session ended, where it would swallow a keystroke."""
    watched = [in_fd, control_fd] if session.stdin else [control_fd]
    try:
        while True:
            ready, _, _ = select.select(watched, [], [])
            if control_fd in ready:
                commands = os.read(control_fd, 64)
                if b"q" in commands:
                    return
                if b"w" in commands:
                    _send_terminal_size(session, in_fd)
            if in_fd in ready:
                data = os.read(in_fd, 65536)
                if data:
                    session.write(data)
                else:
                    session.close_stdin()
                    watched = [control_fd]
    except (StreamError, OSError):
        return


def _send_terminal_size(session: ExecSession, in_fd: int) -> None:
    size = _terminal_size(in_fd)
    if size is not None:
        session.resize(*size)


def _terminal_size(in_fd: int) -> tuple[int, int] | None:
    """``(rows, cols)`` of the terminal on stdout, else on ``in_fd``; None without one
    (or while it has no size)."""
    for fd in (sys.stdout.fileno(), in_fd):
        try:
            size = os.get_terminal_size(fd)
        except OSError:
            continue
        return (size.lines, size.columns) if size.lines > 0 and size.columns > 0 else None
    return None


# --- port-forward ------------------------------------------------------------------------


class _ForwardCore:
    """What :class:`PortForward` and the asyncio ``AsyncPortForward`` share, without
    the forwarding: the checked ports, the listening socket, the errors."""

    def __init__(self, remote_port: int, local_port: int) -> None:
        for name, value, lowest in (("remote_port", remote_port, 1), ("local_port", local_port, 0)):
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not lowest <= value <= 65535
            ):
                raise ValueError(f"{name} must be an integer in {lowest}..65535, not {value!r}")
        self.remote_port = remote_port
        self.errors: list[CRIError] = []
        """Why connections failed, oldest first."""
        self._closed = False
        self._listener = socket.create_server(("127.0.0.1", local_port))
        self.local_port: int = self._listener.getsockname()[1]
        self.address: tuple[str, int] = ("127.0.0.1", self.local_port)
        """Where to connect: ``socket.create_connection(forward.address)``."""

    def _failed(self, error: CRIError | None) -> None:
        """A connection ended, with ``error`` if it failed (not counted after close())."""
        if error is not None and not self._closed:
            self.errors.append(error)

    def __repr__(self) -> str:
        state = " closed" if self._closed else ""
        name = type(self).__name__
        return f"<{name} 127.0.0.1:{self.local_port} -> pod:{self.remote_port}{state}>"


class PortForward(_ForwardCore):
    """Forwards connections to ``127.0.0.1:<local_port>`` to a port inside a pod (from
    :meth:`Pod.port_forward`).

    Listening starts at once; every accepted connection asks the runtime for a fresh
    URL (they are single-use) and pumps bytes both ways in its own threads, so several
    connections run at the same time. ``close()`` (or leaving the ``with`` block) stops
    listening and ends the open connections. A connection that fails (nothing listens
    on the port in the pod, the pod is gone...) is closed, and the error is appended to
    :attr:`errors`.

    v4 cannot half-close: when the local client shuts down its sending side, the
    forwarder keeps the pod-side connection open and passes replies back until the pod
    side closes (as kubectl does while waiting for the remote side).
    """

    def __init__(
        self,
        open_url: Callable[[], str],
        remote_port: int,
        local_port: int = 0,
        *,
        open_timeout: float = DEFAULT_OPEN_TIMEOUT,
    ) -> None:
        """``open_url`` asks the runtime for a new port-forward URL for ``remote_port``."""
        super().__init__(remote_port, local_port)
        self._open_url = open_url
        self._open_timeout = open_timeout
        self._lock = threading.Lock()
        self._connections: set[_ForwardedConnection] = set()
        self._acceptor = threading.Thread(
            target=self._accept, name=f"cri-client port-forward {self.local_port}", daemon=True
        )
        self._acceptor.start()

    def close(self) -> None:
        """Stop listening and end every open connection."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            connections = list(self._connections)
        _shutdown(self._listener)  # wakes accept(), which close() alone does not
        self._listener.close()
        for connection in connections:
            connection.abort()
        self._acceptor.join(CLOSE_TIMEOUT)
        for connection in connections:
            connection.join(CLOSE_TIMEOUT)

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                if self._closed:
                    sock.close()
                    return
                connection = _ForwardedConnection(
                    sock, self._open_url, self.remote_port, self._open_timeout, self._done
                )
                self._connections.add(connection)
            connection.start()

    def _done(self, connection: _ForwardedConnection, error: CRIError | None) -> None:
        with self._lock:
            self._connections.discard(connection)
            self._failed(error)

    def __enter__(self) -> PortForward:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class _ForwardedConnection:
    """One local connection and its WebSocket: pod-to-local in the main thread of the
    connection, local-to-pod in a second one."""

    def __init__(
        self,
        sock: socket.socket,
        open_url: Callable[[], str],
        port: int,
        open_timeout: float,
        done: Callable[[_ForwardedConnection, CRIError | None], None],
    ) -> None:
        self._sock = sock
        self._open_url = open_url
        self._port = port
        self._open_timeout = open_timeout
        self._done = done
        self._lock = threading.Lock()
        self._ws: _WebSocket | None = None
        self._aborted = False
        self._thread = threading.Thread(
            target=self._run, name="cri-client port-forward connection", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def abort(self) -> None:
        with self._lock:
            self._aborted = True
            ws = self._ws
        _shutdown(self._sock)
        if ws is not None:
            ws.close()

    def _run(self) -> None:
        error: CRIError | None = None
        ws: _WebSocket | None = None
        upstream: threading.Thread | None = None
        try:
            url = self._open_url()
            ws = _WebSocket(url, PORT_FORWARD_PROTOCOLS, self._open_timeout, CLOSE_TIMEOUT)
            with self._lock:
                self._ws = ws
                aborted = self._aborted
            if aborted:
                return
            state = PortForwardProtocol(self._port)
            upstream = threading.Thread(
                target=self._upstream, args=(ws, state), name="cri-client port-forward up"
            )
            upstream.daemon = True
            upstream.start()
            while (message := ws.recv(None)) is not None:
                data = state.receive(message)
                if data:
                    self._sock.sendall(data)
            error = state.error
        except CRIError as err:
            error = err
        except OSError:
            pass  # the local side is gone
        finally:
            _shutdown(self._sock)
            if ws is not None:
                ws.close()
            if upstream is not None:
                upstream.join(CLOSE_TIMEOUT)
            self._sock.close()
            self._done(self, error)

    def _upstream(self, ws: _WebSocket, state: PortForwardProtocol) -> None:
        try:
            while data := self._sock.recv(65536):
                ws.send(state.data(data))
        except OSError:
            ws.close()  # reset by the local client: end the pod side too
        except StreamError:
            pass  # the pod side ended first


def _shutdown(sock: socket.socket) -> None:
    """Wake threads blocked on the socket (close() alone does not) and end both ways."""
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
