"""The Kubernetes streaming protocols (remote-command v4/v5, port-forward v4) without I/O.

CRI ``Exec``, ``Attach`` and ``PortForward`` stream nothing themselves: each returns a
single-use URL on the runtime's streaming server (``http://127.0.0.1:<port>/exec/<token>``)
where the client speaks the Kubernetes remote-command or port-forward protocol over
WebSocket. Here is everything about that protocol both flavours share: frames, channel
numbers, the exit status JSON, resize messages, subprotocol negotiation, the port
header, the handshake's errors, and the state of a session and of a port-forward
(:class:`SessionCore`, :class:`ForwardCore`) that the transports in
``cri_client/_sync/`` and ``cri_client/_async/`` drive. ``websockets`` is imported only
by the transports, when a stream is opened.
"""

from __future__ import annotations

import inspect
import json
import os
import socket
import sys
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from cri_client.errors import CRIError, StreamError

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


def refused(url: str, status: int, body: bytes) -> StreamError:
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


def connect_options(
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


def handshake_error(url: str, err: Exception) -> Exception:
    """What to raise when connecting to ``url`` failed with ``err``: a StreamError that
    says why, or ``err`` itself when it is not a connection or handshake failure."""
    from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI

    if isinstance(err, InvalidStatus):
        return refused(url, err.response.status_code, bytes(err.response.body or b""))
    if isinstance(err, (InvalidHandshake, InvalidURI)):
        return StreamError(f"WebSocket handshake with {url} failed: {err}")
    if isinstance(err, (OSError, TimeoutError)):
        return StreamError(f"cannot connect to the streaming server at {url}: {err}")
    return err


class SessionCore:
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


def terminal_size(in_fd: int) -> tuple[int, int] | None:
    """``(rows, cols)`` of the terminal on stdout, else on ``in_fd``; None without one
    (or while it has no size)."""
    for fd in (sys.stdout.fileno(), in_fd):
        try:
            size = os.get_terminal_size(fd)
        except OSError:
            continue
        return (size.lines, size.columns) if size.lines > 0 and size.columns > 0 else None
    return None


class ForwardCore:
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


OLDEST_WEBSOCKETS = (14, 1)
"""The oldest websockets whose asyncio client keeps the messages received before the
connection closed until they are read. 13.x and 14.0 drop them when the connection
closes: a session read a moment late lost its last output and its exit status."""


def check_websockets_version() -> None:
    """Refuse a websockets that would lose data, before any RPC is made for a URL."""
    from websockets.version import tag

    found = tuple(int(part) for part in tag.split(".")[:2] if part.isdigit())
    if found < OLDEST_WEBSOCKETS:
        wanted = ".".join(map(str, OLDEST_WEBSOCKETS))
        raise StreamError(
            f"the asyncio streams need websockets {wanted} or newer, not {tag}: older "
            "versions drop the output and exit status that arrive just before the "
            f"connection closes (pip install 'websockets>={wanted}')"
        )
