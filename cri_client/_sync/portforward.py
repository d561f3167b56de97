"""Port-forward with threads: :class:`PortForward`, one listener, two pumps per connection.

The twin of :mod:`cri_client._async.portforward`; the checks, the listener and the
protocol are :mod:`cri_client._core.channel`'s.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING

from cri_client._core.channel import PORT_FORWARD_PROTOCOLS, ForwardCore, PortForwardProtocol
from cri_client._core.defaults import STREAM_CLOSE_TIMEOUT, STREAM_OPEN_TIMEOUT
from cri_client._core.public import publish
from cri_client.errors import CRIError, StreamError

if TYPE_CHECKING:
    from types import TracebackType


from cri_client._sync.sessions import _WebSocket


class PortForward(ForwardCore):
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
        open_timeout: float = STREAM_OPEN_TIMEOUT,
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
        self._acceptor.join(STREAM_CLOSE_TIMEOUT)
        for connection in connections:
            connection.join(STREAM_CLOSE_TIMEOUT)

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
            ws = _WebSocket(url, PORT_FORWARD_PROTOCOLS, self._open_timeout, STREAM_CLOSE_TIMEOUT)
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
                upstream.join(STREAM_CLOSE_TIMEOUT)
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


publish(PortForward)
