"""A TCP proxy on 127.0.0.1 that slows what a server sends: pulls long enough to watch.

The local registry answers a pull of tens of megabytes in a fraction of a second; put
this in front of it and the same pull takes seconds, so progress can be observed
(tests, ``benchmarks/run.py``). It runs its own event loop in a daemon thread and
limits each connection's server-to-client bytes per second; the other direction and
the number of connections are not limited.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time

_CHUNK = 64 * 1024


class ThrottledProxy:
    """``with ThrottledProxy("127.0.0.1:5000", bytes_per_second=8_000_000) as proxy:``
    then pull from ``proxy.address`` (``127.0.0.1:<port>``) instead of the registry.
    Each connection gets ``bytes_per_second`` on its own (a registry client downloads
    layers on several connections at once)."""

    def __init__(self, target: str, *, bytes_per_second: int) -> None:
        if bytes_per_second <= 0:
            raise ValueError(f"bytes_per_second must be positive, not {bytes_per_second!r}")
        host, _, port = target.rpartition(":")
        self._target = (host, int(port))
        self._rate = bytes_per_second
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="throttled-proxy", daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self.address = ""
        self.bytes_sent = 0
        """Bytes passed from the server to clients so far, all connections together:
        a download that goes on after it should have stopped shows here."""

    def start(self) -> ThrottledProxy:
        self._thread.start()
        if not self._ready.wait(10) or not self.address:
            raise RuntimeError("the throttled proxy did not start")
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def __enter__(self) -> ThrottledProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<ThrottledProxy {self.address} -> {self._target[0]}:{self._target[1]}>"

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._connection, "127.0.0.1", 0)
            )
            port = self._server.sockets[0].getsockname()[1]
            self.address = f"127.0.0.1:{port}"
        finally:
            self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._server.close()
            # Connections still open are cut: asyncio's reports of them are noise.
            self._loop.set_exception_handler(lambda loop, context: None)
            tasks = asyncio.all_tasks(self._loop)
            for task in tasks:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            self._loop.close()

    async def _connection(
        self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter
    ) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(*self._target)
        except OSError:
            client_w.close()
            return
        upstream = asyncio.ensure_future(self._pipe(client_r, server_w, None))
        downstream = asyncio.ensure_future(self._pipe(server_r, client_w, self._rate))
        await asyncio.wait({upstream, downstream}, return_when=asyncio.FIRST_COMPLETED)
        for task in (upstream, downstream):
            task.cancel()
        for writer in (client_w, server_w):
            writer.close()

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, rate: int | None
    ) -> None:
        """Copy until end of stream; with a rate (server to client), never ahead of
        ``rate`` bytes/s, and counted in :attr:`bytes_sent`."""
        started, sent = time.monotonic(), 0
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(_CHUNK if rate is None else min(_CHUNK, rate)):
                writer.write(data)
                await writer.drain()
                if rate is not None:
                    sent += len(data)
                    self.bytes_sent += len(data)
                    ahead = sent / rate - (time.monotonic() - started)
                    if ahead > 0:
                        await asyncio.sleep(ahead)
            if writer.can_write_eof():
                writer.write_eof()
