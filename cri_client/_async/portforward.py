"""Port-forward for asyncio: :class:`AsyncPortForward`, served by the event loop.

The twin of :mod:`cri_client._sync.portforward`; the checks, the listener and the
protocol are :mod:`cri_client._core.channel`'s. It serves on ``await forward`` or
``async with forward``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import suppress

from cri_client._async.sessions import OpensOnAwait, _AsyncWebSocket
from cri_client._core.channel import (
    PORT_FORWARD_PROTOCOLS,
    ForwardCore,
    PortForwardProtocol,
    check_websockets_version,
)
from cri_client._core.defaults import STREAM_CLOSE_TIMEOUT, STREAM_OPEN_TIMEOUT
from cri_client._core.public import publish
from cri_client.errors import CRIError, StreamError


class AsyncPortForward(ForwardCore, OpensOnAwait):
    """Forwards connections to ``127.0.0.1:<local_port>`` to a port inside a pod, for
    asyncio: :class:`PortForward <cri_client.PortForward>`'s surface.

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
        open_timeout: float = STREAM_OPEN_TIMEOUT,
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
                check_websockets_version()
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
            await asyncio.wait(connections, timeout=STREAM_CLOSE_TIMEOUT)
        if self._server is not None:
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), STREAM_CLOSE_TIMEOUT)

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
                url, PORT_FORWARD_PROTOCOLS, self._open_timeout, STREAM_CLOSE_TIMEOUT
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


publish(AsyncPortForward)
