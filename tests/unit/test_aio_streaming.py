"""The asyncio exec session, interact() and port-forward on small local WebSocket
servers (websockets.asyncio.server): v5, which containerd (v4 only) cannot show, a
v4 server that behaves as containerd does, and faults. Each test runs its own event
loop with asyncio.run()."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from cri_client._async import sessions as aio_sessions
from cri_client.aio import AsyncExecSession, AsyncPortForward
from cri_client.errors import CRIError, StreamError

V4, V5 = "v4.channel.k8s.io", "v5.channel.k8s.io"
TIMEOUT = 10.0

NON_ZERO = (
    b'{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit '
    b'code: error executing command [sh -c exit 3], exit code 3","reason":"NonZeroExitCode",'
    b'"details":{"causes":[{"reason":"ExitCode","message":"3"}]}}'
)
SUCCESS = b'{"metadata":{},"status":"Success"}'
INTERNAL = (
    b'{"metadata":{},"status":"Failure","message":"Internal error occurred: exec: \\"nope\\": '
    b'executable file not found in $PATH","reason":"InternalError","details":{"causes":[]},'
    b'"code":500}'
)

Handler = Callable[[ServerConnection], Awaitable[None]]


@asynccontextmanager
async def serving(handler: Handler, **options: Any) -> AsyncIterator[str]:
    """A WebSocket server on 127.0.0.1 for the block; yields its base URL."""
    async with serve(handler, "127.0.0.1", 0, **options) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"http://127.0.0.1:{port}"


def run(coro: Awaitable[Any]) -> Any:
    async def bounded() -> Any:
        return await asyncio.wait_for(coro, 60)

    return asyncio.run(bounded())


# --- servers ------------------------------------------------------------------------------


async def v5_shell(ws: ServerConnection) -> None:
    """Upper-cases stdin to stdout until stdin is closed, then reports on stderr and
    exits 7, the way a v5 server lets a command finish after stdin EOF."""
    await ws.send(b"\x01")
    received = b""
    async for message in ws:
        assert isinstance(message, bytes)
        if message == b"\xff\x00":
            break
        if message[0] == 0:
            received += message[1:]
            await ws.send(b"\x01" + message[1:].upper())
    with suppress(ConnectionClosed):  # the client may close first
        await ws.send(b"\x02eof after %d bytes" % len(received))
        await ws.send(b"\x03" + NON_ZERO.replace(b'"3"', b'"7"'))
        await ws.close()


class V4Cat:
    """Echoes stdin to stdout and records every message, as containerd (v4) does with
    ``cat``: the client's close frame ends stdin and the session at once."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.closed = asyncio.Event()

    async def __call__(self, ws: ServerConnection) -> None:
        await ws.send(b"\x01")
        async for message in ws:
            assert isinstance(message, bytes)
            self.received.append(message)
            if message[0] == 0:
                with suppress(ConnectionClosed):  # the client closed meanwhile
                    await ws.send(b"\x01" + message[1:])
        self.closed.set()


def scripted(*messages: bytes, then_wait: bool = False) -> Handler:
    """Sends ``messages`` and closes (or waits for the client to close)."""

    async def handler(ws: ServerConnection) -> None:
        for message in messages:
            await ws.send(message)
        if then_wait:
            await ws.wait_closed()
        else:
            await ws.close()

    return handler


def refuse(connection: ServerConnection, request: Request) -> Response:
    return connection.respond(HTTPStatus.NOT_FOUND, "404 page not found\n")


# --- sessions --------------------------------------------------------------------------


def test_nothing_happens_until_the_session_is_opened() -> None:
    calls: list[str] = []

    async def main() -> None:
        async with serving(v5_shell, subprotocols=[V5]) as base:

            async def open_url() -> str:
                calls.append("exec")
                return base + "/exec/tok"

            session = AsyncExecSession(open_url, stdin=True)
            assert calls == []  # no RPC, no connection in the constructor
            assert repr(session) == "<AsyncExecSession tty=False not open>"
            assert session.exit_code is None
            for use in (
                lambda: session.write(b"x"),
                session.close_stdin,
                session.read_all,
                session.wait,
                lambda: session.resize(24, 80),
            ):
                with pytest.raises(RuntimeError, match=r"not open yet: await it .* 'async with'"):
                    await use()
            with pytest.raises(RuntimeError, match="not open yet"):
                session.protocol  # noqa: B018
            with pytest.raises(RuntimeError, match="not open yet"):
                async for _ in session:
                    pass
            assert await session is session
            assert await session is session  # opening twice is a no-op
            assert calls == ["exec"]
            assert session.protocol == V5
            await session.write(b"abc")
            await session.close_stdin()
            assert await session.read_all() == (b"ABC", b"eof after 3 bytes")
            assert await session.wait(timeout=TIMEOUT) == 7
            assert repr(session) == f"<AsyncExecSession {V5} tty=False ended exit_code=7>"
            await session.close()

    run(main())


def test_v5_close_stdin_keeps_the_session() -> None:
    async def main() -> None:
        async with serving(v5_shell, subprotocols=[V5]) as base:
            async with AsyncExecSession(base + "/exec/tok", stdin=True) as session:
                assert session.protocol == V5
                assert repr(session) == f"<AsyncExecSession {V5} tty=False open exit_code=None>"
                await session.write(b"abc")
                await session.write(b"")  # nothing to send
                await session.close_stdin()
                await session.close_stdin()  # a no-op the second time
                with pytest.raises(ValueError, match="stdin is closed"):
                    await session.write(b"more")
                chunks = [chunk async for chunk in session]
                assert await session.wait(timeout=TIMEOUT) == 7
                assert session.exit_code == 7
            assert chunks == [("stdout", b"ABC"), ("stderr", b"eof after 3 bytes")]

    run(main())


def test_stdout_stderr_and_the_exit_code_from_the_status() -> None:
    server = scripted(b"\x01", b"\x01out", b"\x02err", b"\x01more", b"\x03" + NON_ZERO)

    async def main() -> None:
        async with serving(server, subprotocols=[V4]) as base:
            session = await AsyncExecSession(base + "/exec/tok")
            try:
                assert session.protocol == V4
                assert await session.wait(timeout=TIMEOUT) == 3  # output kept for later
                assert [c async for c in session] == [
                    ("stdout", b"out"),
                    ("stderr", b"err"),
                    ("stdout", b"more"),
                ]
                assert await session.read_all() == (b"", b"")  # nothing left
                with pytest.raises(ValueError, match="no stdin"):
                    await session.write(b"x")
                with pytest.raises(ValueError, match="TTY"):
                    await session.resize(24, 80)
            finally:
                await session.close()
            assert session.exit_code == 3
            assert await session.wait() == 3  # still known after close()

    run(main())


def test_output_and_status_read_late_are_kept() -> None:
    """The server sends everything and closes before the client reads: nothing is lost
    (websockets before 14.1 dropped it)."""
    lines = [b"\x01line %d\n" % i for i in range(40)]  # more than websockets' queue
    server = scripted(b"\x01", *lines, b"\x02", b"\x03" + NON_ZERO)

    async def main() -> None:
        async with serving(server, subprotocols=[V4]) as base:
            async with AsyncExecSession(base + "/exec/tok") as session:
                await asyncio.sleep(0.3)
                out, err = await session.read_all()
                assert await session.wait(timeout=TIMEOUT) == 3
        assert out == b"".join(line[1:] for line in lines) and err == b""

    run(main())


def test_close_reads_what_is_unread_instead_of_stalling() -> None:
    """websockets stops reading while its queue is full, which would hold the closing
    handshake up for the whole close timeout: close() reads the rest into the buffer."""
    lines = [b"\x01%03d" % i for i in range(100)]
    server = scripted(b"\x01", *lines, then_wait=True)

    async def main() -> None:
        async with serving(server, subprotocols=[V4]) as base:
            session = await AsyncExecSession(base + "/exec/tok")
            await asyncio.sleep(0.2)  # the server has sent it all; nobody read it
            started = time.monotonic()
            await session.close()
            assert time.monotonic() - started < 2  # not CLOSE_TIMEOUT (5 s)
            assert await session.read_all() == (b"".join(line[1:] for line in lines), b"")

    run(main())


def test_old_websockets_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import websockets.version

    monkeypatch.setattr(websockets.version, "tag", "14.0")

    async def main() -> None:
        async with serving(v5_shell, subprotocols=[V5]) as base:
            with pytest.raises(StreamError, match=r"need websockets 14\.1 or newer, not 14\.0"):
                await AsyncExecSession(base + "/exec/tok")

    run(main())


def test_runtime_error_and_missing_status_are_stream_errors() -> None:
    async def main() -> None:
        async with serving(scripted(b"\x01", b"\x03" + INTERNAL), subprotocols=[V4]) as base:
            async with AsyncExecSession(base + "/exec/a") as session:
                assert await session.read_all() == (b"", b"")
                with pytest.raises(StreamError, match=r"runtime reported: .*nope.*not found"):
                    await session.wait(timeout=TIMEOUT)
                assert session.exit_code is None
        async with serving(scripted(b"\x01", b"\x01partial"), subprotocols=[V4]) as base:
            async with AsyncExecSession(base + "/exec/b") as session:
                assert await session.read_all() == (b"partial", b"")
                with pytest.raises(StreamError, match="closed the connection without an exit"):
                    await session.wait()

    run(main())


def test_v4_close_stdin_ends_the_session() -> None:
    cat = V4Cat()

    async def main() -> None:
        async with serving(cat, subprotocols=[V4]) as base:
            async with AsyncExecSession(base + "/exec/tok", stdin=True) as session:
                assert session.protocol == V4  # the client offered v5 first
                await session.write(b"line\n")
                async for chunk in session:
                    assert chunk == ("stdout", b"line\n")
                    break
                await session.close_stdin()
                assert cat.closed.is_set()  # v4 has only the close frame for it
                assert await session.read_all() == (b"", b"")
                with pytest.raises(StreamError, match=r"close_stdin\(\) on v4.channel.k8s.io"):
                    await session.wait(timeout=TIMEOUT)
                assert session.exit_code is None
                with pytest.raises(ValueError, match="stdin is closed"):
                    await session.write(b"x")
        assert cat.received == [b"\x00line\n"]

    run(main())


def test_tty_close_stdin_types_ctrl_d_and_resize_sends_the_size() -> None:
    cat = V4Cat()

    async def main() -> None:
        async with serving(cat, subprotocols=[V4]) as base:
            async with AsyncExecSession(base + "/exec/tok", stdin=True, tty=True) as session:
                await session.resize(33, 101)
                with pytest.raises(ValueError, match="must be an integer"):
                    await session.resize(0, 80)
                await session.write(b"partial")
                await session.close_stdin()  # the session goes on
                assert not cat.closed.is_set()
                await session.close()
                with pytest.raises(StreamError, match="closed before the command ended"):
                    await session.wait()
                with pytest.raises(StreamError, match="nothing more can be sent"):
                    await session.resize(24, 80)
        resize, data, eof = cat.received
        assert resize[0] == 4 and json.loads(resize[1:]) == {"Width": 101, "Height": 33}
        assert (data, eof) == (b"\x00partial", b"\x00\x04\x04")  # ends the line, then EOF

    run(main())


def test_wait_times_out_and_keeps_the_output() -> None:
    server = scripted(b"\x01", b"\x01hello", then_wait=True)

    async def main() -> None:
        async with serving(server, subprotocols=[V4]) as base:
            async with AsyncExecSession(base + "/exec/tok") as session:
                with pytest.raises(TimeoutError, match=r"did not end within 0\.2 s"):
                    await session.wait(timeout=0.2)
                assert session.exit_code is None
                await session.close()
                assert await session.read_all() == (b"hello", b"")
                with pytest.raises(StreamError, match="closed before the command ended"):
                    await session.wait(timeout=TIMEOUT)

    run(main())


def test_attach_takes_the_exit_code_from_the_container(monkeypatch: pytest.MonkeyPatch) -> None:
    """Attach's status says Success whatever the code: the code comes from the source,
    which may need a moment, and a source that never knows it is an error."""
    answers = [None, None, 9]
    server = scripted(b"\x01", b"\x01bye", b"\x03" + SUCCESS)

    async def source() -> int | None:
        return answers.pop(0)

    async def never() -> int | None:
        return None

    async def main() -> None:
        async with serving(server, subprotocols=[V4]) as base:

            async def open_url() -> tuple[str, bool]:
                return base + "/attach/tok", True  # the TTY setting known only now

            async with AsyncExecSession(open_url, exit_code_source=source) as session:
                assert session.tty
                assert await session.read_all() == (b"bye", b"")
                assert await session.wait(timeout=TIMEOUT) == 9
                assert answers == []
            monkeypatch.setattr(aio_sessions, "ATTACH_EXIT_GRACE", 0.2)
            async with AsyncExecSession(base + "/attach/2", exit_code_source=never) as session:
                with pytest.raises(StreamError, match="container is still running"):
                    await session.wait(timeout=TIMEOUT)
                assert session.exit_code is None

    run(main())


def test_refused_url_is_a_stream_error() -> None:
    async def main() -> None:
        async with serving(v5_shell, subprotocols=[V5], process_request=refuse) as base:
            with pytest.raises(StreamError, match=r"HTTP 404.*already used or has expired"):
                await AsyncExecSession(base + "/exec/used")

    run(main())


def test_server_without_our_subprotocol() -> None:
    async def main() -> None:
        async with serving(v5_shell) as base:  # picks no subprotocol
            with pytest.raises(StreamError, match="accepted none of the subprotocols"):
                await AsyncExecSession(base + "/exec/tok")
        async with serving(v5_shell, subprotocols=["base64.channel.k8s.io"]) as base:
            with pytest.raises(StreamError, match=r"HTTP 400: .*invalid subprotocol.*already"):
                await AsyncExecSession(base + "/exec/tok")

    run(main())


def free_port() -> int:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_connection_failure_and_bad_urls() -> None:
    port = free_port()

    async def main() -> None:
        with pytest.raises(StreamError, match=f"cannot connect to the streaming server .*:{port}"):
            await AsyncExecSession(f"http://127.0.0.1:{port}/exec/tok")
        with pytest.raises(StreamError, match="not absolute http"):
            await AsyncExecSession("/exec/tok")

    run(main())


def test_close_before_opening_makes_opening_fail() -> None:
    calls: list[str] = []

    async def open_url() -> str:
        calls.append("exec")
        return "http://127.0.0.1:1/exec/tok"

    async def main() -> None:
        session = AsyncExecSession(open_url)
        await session.close()
        with pytest.raises(StreamError, match="closed before it was opened"):
            await session

    run(main())
    assert calls == []


# --- interact --------------------------------------------------------------------------

CHILD = """
import asyncio, sys
from cri_client._async.terminal import interact
from cri_client.aio import AsyncExecSession
code = asyncio.run(interact(AsyncExecSession(sys.argv[1], stdin=True)))
sys.exit(code)
"""


@pytest.mark.parametrize("stdin_kind", ["pipe", "file"])
def test_interact_pipes_stdin_and_output(tmp_path: Path, stdin_kind: str) -> None:
    """A pipe is watched by the event loop, a regular file read in a thread; either way
    its end becomes close_stdin() (v5: the session goes on to its exit code)."""
    data = b"hello " * 20000  # more than one read

    async def main() -> tuple[int, bytes, bytes]:
        async with serving(v5_shell, subprotocols=[V5]) as base:
            (tmp_path / "in").write_bytes(data)
            with (tmp_path / "in").open("rb") as file:
                child = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-c",
                    CHILD,
                    base + "/exec/tok",
                    stdin=file if stdin_kind == "file" else asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                )
                out, err = await child.communicate(data if stdin_kind == "pipe" else None)
            assert child.returncode is not None
            return child.returncode, out, err

    code, out, err = run(main())
    assert (code, out, err) == (7, data.upper(), b"eof after %d bytes" % len(data))


# --- port-forward ------------------------------------------------------------------------

PORT = (8080).to_bytes(2, "little")


async def pf_upper(ws: ServerConnection) -> None:
    """A port-forward stream to a pod port whose server upper-cases what it gets."""
    await ws.send(b"\x00" + PORT)
    await ws.send(b"\x01" + PORT)
    async for message in ws:
        assert isinstance(message, bytes) and message[0] == 0
        await ws.send(b"\x00" + message[1:].upper())


async def pf_refused(ws: ServerConnection) -> None:
    await ws.send(b"\x00" + PORT)
    await ws.send(b"\x01" + PORT + b"dial tcp4 127.0.0.1:8080: connect: connection refused")
    await ws.close()


def test_port_forward_checks_ports_before_anything() -> None:
    async def never() -> str:
        raise AssertionError("no RPC for a bad port")

    for remote, local in ((0, 0), (70000, 0), (8080, -1), (True, 0), (8080, 65536)):
        with pytest.raises(ValueError, match="must be an integer"):
            AsyncPortForward(never, remote, local)


def our_tasks() -> list[asyncio.Task[Any]]:
    return [
        t
        for t in asyncio.all_tasks()
        if getattr(t.get_coro(), "__qualname__", "").startswith(("AsyncPortForward.", "_upstream"))
    ]


def test_port_forward_pumps_concurrent_connections_and_close_ends_them() -> None:
    urls: list[str] = []

    async def main() -> None:
        async with serving(pf_upper, subprotocols=[V4]) as base:

            async def open_url() -> str:
                urls.append(f"{base}/portforward/{len(urls)}")
                return urls[-1]

            forward = AsyncPortForward(open_url, 8080)
            assert forward.local_port > 0  # bound at once, before serving
            assert forward.address == ("127.0.0.1", forward.local_port)
            assert repr(forward) == f"<AsyncPortForward 127.0.0.1:{forward.local_port} -> pod:8080>"
            async with forward as same:
                assert same is forward
                assert await forward is forward  # starting twice is a no-op
                first = await asyncio.open_connection(*forward.address)
                second = await asyncio.open_connection(*forward.address)
                for _, writer in (second, first):
                    writer.write(b"hello")
                    await writer.drain()
                for reader, _ in (first, second):
                    assert await asyncio.wait_for(reader.readexactly(5), TIMEOUT) == b"HELLO"
                assert len(urls) == 2  # a fresh URL per connection
                assert len(our_tasks()) == 6  # the server's, pod-to-local, local-to-pod: each
                assert forward.errors == []
            assert repr(forward).endswith(" closed>")
            assert our_tasks() == []  # close() ended the connections and their tasks
            for reader, writer in (first, second):
                assert await asyncio.wait_for(reader.read(), TIMEOUT) == b""
                writer.close()
            with pytest.raises(ConnectionRefusedError):
                await asyncio.open_connection(*forward.address)
            await forward.close()  # a no-op the second time
            with pytest.raises(StreamError, match="was closed"):
                await forward

    run(main())


async def failed_connection(forward: AsyncPortForward) -> list[str]:
    """Connect once; the forward closes the connection and records why."""
    reader, writer = await asyncio.open_connection(*forward.address)
    assert await asyncio.wait_for(reader.read(), TIMEOUT) == b""
    writer.close()
    for _ in range(500):
        if forward.errors:
            break
        await asyncio.sleep(0.01)
    assert all(isinstance(e, CRIError) for e in forward.errors)
    return [str(e) for e in forward.errors]


def test_port_forward_records_failures() -> None:
    async def main() -> None:
        async with serving(pf_refused, subprotocols=[V4]) as base:

            async def open_url() -> str:
                return base + "/portforward/x"

            async with AsyncPortForward(open_url, 8080) as forward:
                assert await failed_connection(forward) == [
                    "port-forward to port 8080 failed: dial tcp4 127.0.0.1:8080: connect: "
                    "connection refused"
                ]

    run(main())


def test_port_forward_unreachable_streaming_server() -> None:
    port = free_port()

    async def open_url() -> str:
        return f"http://127.0.0.1:{port}/portforward/x"

    async def main() -> None:
        async with AsyncPortForward(open_url, 8080) as forward:
            (error,) = await failed_connection(forward)
            assert error.startswith(f"cannot connect to the streaming server at {await open_url()}")

    run(main())


def test_port_forward_closed_before_it_was_started() -> None:
    async def open_url() -> str:
        raise AssertionError("never asked")

    async def main() -> None:
        forward = AsyncPortForward(open_url, 8080)
        address = forward.address
        await forward.close()
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection(*address)

    run(main())


def test_import_loads_neither_websockets_nor_asyncio_servers() -> None:
    code = textwrap.dedent(
        """
        import sys
        import cri_client._async.sessions
        print(any(m.startswith("websockets") for m in sys.modules))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
