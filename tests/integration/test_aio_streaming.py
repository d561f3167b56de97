"""The asyncio exec session, attach, interact() and port-forward against real containerd
(v4.channel.k8s.io over WebSocket). Pods and containers are made with the sync client;
the streaming URLs come from AsyncCRIClient's low-level calls, as the high-level async
code will get them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from cri_client import Container, CRIClient, Pod
from cri_client._proto import api_pb2 as pb
from cri_client.aio import AsyncCRIClient, AsyncExecSession, AsyncPortForward
from cri_client.errors import StreamError

from . import test_streaming as sync_tests
from .conftest import RuntimeUnderTest
from .test_streaming import start, wait_for_file

V4 = "v4.channel.k8s.io"
TIMEOUT = 30.0
T = TypeVar("T")

pod = sync_tests.pod  # the sync tests' fixtures: a pod, a container that sleeps in it
sleeper = sync_tests.sleeper


def run(runtime: RuntimeUnderTest, scenario: Callable[[AsyncCRIClient], Awaitable[T]]) -> T:
    """``scenario(cri)`` in a fresh event loop with its own AsyncCRIClient."""

    async def main() -> T:
        async with AsyncCRIClient(runtime.endpoint) as cri:
            return await asyncio.wait_for(scenario(cri), 120)

    return asyncio.run(main())


def exec_url(
    cri: AsyncCRIClient, ctr: Container, cmd: list[str], *, stdin: bool = False, tty: bool = False
) -> Callable[[], Awaitable[str]]:
    """What the high-level exec_stream passes: a coroutine function making the RPC. A TTY
    session always has stdin at the runtime (docs/streaming.md)."""

    async def open_url() -> str:
        reply = await cri.api.exec(
            container_id=ctr.id,
            cmd=cmd,
            stdin=stdin or tty,
            tty=tty,
            stdout=True,
            stderr=not tty,
        )
        return str(reply.url)

    return open_url


async def read_until(session: AsyncExecSession, needle: bytes, timeout: float = TIMEOUT) -> bytes:
    got = b""

    async def collect() -> bytes:
        nonlocal got
        async for _, data in session:
            got += data
            if needle in got:
                return got
        raise AssertionError(f"{needle!r} not in the output: {got!r}")

    try:
        return await asyncio.wait_for(collect(), timeout)
    except asyncio.TimeoutError:
        raise AssertionError(f"{needle!r} not in the output within {timeout} s: {got!r}") from None


def test_exec_session_stdin_stdout_stderr_and_exit_code(
    runtime: RuntimeUnderTest, sleeper: Container
) -> None:
    async def scenario(cri: AsyncCRIClient) -> None:
        cmd = ["sh", "-c", "read x; echo got:$x; echo err:$x >&2; exit 3"]
        session = AsyncExecSession(exec_url(cri, sleeper, cmd, stdin=True), stdin=True)
        async with session as s:
            assert s is session
            assert s.protocol == V4  # containerd accepts v4 only
            assert s.exit_code is None
            await s.write(b"hello\n")
            chunks = [chunk async for chunk in s]
            assert await s.wait(timeout=TIMEOUT) == 3
            assert s.exit_code == 3
        assert {stream for stream, _ in chunks} == {"stdout", "stderr"}
        assert b"".join(d for s_, d in chunks if s_ == "stdout") == b"got:hello\n"
        assert b"".join(d for s_, d in chunks if s_ == "stderr") == b"err:hello\n"

        # The other way to open: await it; close() is then the caller's.
        s = await AsyncExecSession(exec_url(cri, sleeper, ["sh", "-c", "echo out; echo err >&2"]))
        try:
            assert await s.read_all() == (b"out\n", b"err\n")
            assert await s.wait(timeout=TIMEOUT) == 0
            with pytest.raises(ValueError, match="no stdin"):
                await s.write(b"x")
        finally:
            await s.close()

        # A plain URL works too, and a non-zero exit is an exit code.
        reply = await cri.api.exec(
            container_id=sleeper.id, cmd=["sh", "-c", "kill -9 $$"], stdout=True
        )
        async with AsyncExecSession(reply.url) as s:
            assert await s.wait(timeout=TIMEOUT) == 137

        # Sessions run side by side in one loop.
        async def one(i: int) -> tuple[tuple[bytes, bytes], int]:
            cmd = ["sh", "-c", f"sleep 0.5; echo {i}; exit {i}"]
            async with AsyncExecSession(exec_url(cri, sleeper, cmd)) as s:
                return await s.read_all(), await s.wait(timeout=TIMEOUT)

        started = time.monotonic()
        results = await asyncio.gather(*(one(i) for i in range(4)))
        assert results == [((f"{i}\n".encode(), b""), i) for i in range(4)]
        assert time.monotonic() - started < 0.5 * 4  # not one after the other

    run(runtime, scenario)


def test_close_stdin_on_v4_ends_the_session_but_delivers_eof(
    runtime: RuntimeUnderTest, sleeper: Container, unique: str
) -> None:
    marker = f"/tmp/eof-{unique}"

    async def scenario(cri: AsyncCRIClient) -> None:
        cmd = ["sh", "-c", f"cat; echo eof > {marker}; echo after-eof; exit 4"]
        async with AsyncExecSession(exec_url(cri, sleeper, cmd, stdin=True), stdin=True) as s:
            assert s.protocol == V4
            await s.write(b"line\n")
            assert await read_until(s, b"line\n") == b"line\n"
            await s.close_stdin()
            assert await s.read_all() == (b"", b"")  # "after-eof" is not delivered on v4
            with pytest.raises(StreamError, match=r"close_stdin\(\) on v4.channel.k8s.io"):
                await s.wait(timeout=TIMEOUT)
            assert s.exit_code is None

    run(runtime, scenario)
    assert wait_for_file(sleeper, marker) == b"eof\n"  # but cat saw end-of-file


def test_tty_exec_output_close_stdin_and_resize(
    runtime: RuntimeUnderTest, sleeper: Container
) -> None:
    async def scenario(cri: AsyncCRIClient) -> None:
        for _ in range(3):
            cmd = ["sh", "-c", "tty; echo hi; echo err >&2"]
            async with AsyncExecSession(exec_url(cri, sleeper, cmd, tty=True), tty=True) as s:
                out, err = await s.read_all()
                assert await s.wait(timeout=TIMEOUT) == 0
            assert out.startswith(b"/dev/pts/"), out
            assert out.endswith(b"\r\nhi\r\nerr\r\n"), out  # stderr merged into the terminal
            assert err == b""

        cmd = ["sh", "-c", "cat; echo done; exit 4"]
        url = exec_url(cri, sleeper, cmd, stdin=True, tty=True)
        async with AsyncExecSession(url, stdin=True, tty=True) as s:
            await s.write(b"partial")
            await s.close_stdin()  # Ctrl-D twice: ends the line, then end-of-file
            out, _ = await s.read_all()
            assert await s.wait(timeout=TIMEOUT) == 4  # the session outlived close_stdin
        assert out == b"partialpartialdone\r\n"

        cmd = ["sh", "-c", "while read x; do stty size; done"]
        url = exec_url(cri, sleeper, cmd, stdin=True, tty=True)
        async with AsyncExecSession(url, stdin=True, tty=True) as s:
            with pytest.raises(ValueError, match="must be an integer"):
                await s.resize(0, 80)
            await s.resize(33, 101)
            deadline = time.monotonic() + TIMEOUT
            got = b""
            while b"33 101" not in got:  # the size and stdin travel apart: ask again
                assert time.monotonic() < deadline, got
                await s.write(b"\n")
                got += await read_until(s, b"\r\n")
            await s.close_stdin()
            assert await s.wait(timeout=TIMEOUT) == 0

    run(runtime, scenario)


def test_attach_echoes_and_reports_the_exit_code(
    cri: CRIClient, pod: Pod, runtime: RuntimeUnderTest
) -> None:
    image = runtime.busybox_image
    cat = start(cri, pod, image, "cat", ["cat"], stdin=True)
    shell = start(cri, pod, image, "shell", ["sh"], stdin=True, tty=True)

    def attach_url(acri: AsyncCRIClient, ctr: Container, tty: bool) -> Callable[[], Any]:
        async def open_url() -> tuple[str, bool]:
            reply = await acri.api.attach(
                container_id=ctr.id, stdin=True, tty=tty, stdout=True, stderr=not tty
            )
            return reply.url, tty  # the TTY setting as attach learns it, at open

        return open_url

    def exit_code_of(acri: AsyncCRIClient, ctr: Container) -> Callable[[], Awaitable[int | None]]:
        async def exit_code() -> int | None:
            status = (await acri.api.container_status(container_id=ctr.id)).status
            return status.exit_code if status.state == pb.CONTAINER_EXITED else None

        return exit_code

    async def scenario(acri: AsyncCRIClient) -> None:
        async with AsyncExecSession(
            attach_url(acri, cat, False), stdin=True, exit_code_source=exit_code_of(acri, cat)
        ) as s:
            assert s.protocol == V4 and not s.tty
            await s.write(b"hello attach\n")
            assert await read_until(s, b"hello attach\n") == b"hello attach\n"
        with pytest.raises(StreamError, match="closed before the command ended"):
            await s.wait()

        async with AsyncExecSession(
            attach_url(acri, shell, True), stdin=True, exit_code_source=exit_code_of(acri, shell)
        ) as s:
            assert s.tty  # from what the URL function returned
            await s.write(b"echo $((6 * 7))\n")
            assert b"42\r\n" in await read_until(s, b"42\r\n")
            await s.write(b"exit 7\n")
            await s.read_all()
            assert await s.wait(timeout=TIMEOUT) == 7  # from the container's status

    run(runtime, scenario)
    assert cat.reload().state.value == "running"  # close() detached only


def test_used_url_unreachable_server_and_missing_program(
    runtime: RuntimeUnderTest, sleeper: Container
) -> None:
    async def scenario(cri: AsyncCRIClient) -> None:
        url = (await cri.api.exec(container_id=sleeper.id, cmd=["true"], stdout=True)).url
        await (await AsyncExecSession(url)).close()
        with pytest.raises(StreamError, match=r"HTTP 404.*already used or has expired"):
            await AsyncExecSession(url)
        listener = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        listener.close()
        await listener.wait_closed()
        with pytest.raises(StreamError, match="cannot connect to the streaming server"):
            await AsyncExecSession(f"http://127.0.0.1:{port}/exec/abcdefgh")
        async with AsyncExecSession(exec_url(cri, sleeper, ["no-such-program"])) as s:
            await s.read_all()
            with pytest.raises(StreamError, match=r"no-such-program.*not found"):
                await s.wait(timeout=TIMEOUT)
            assert s.exit_code is None

    run(runtime, scenario)


# --- port-forward ------------------------------------------------------------------------


async def http_get(address: tuple[str, int], path: str) -> bytes:
    reader, writer = await asyncio.open_connection(*address)
    try:
        writer.write(f"GET {path} HTTP/1.0\r\n\r\n".encode())
        await writer.drain()
        return await asyncio.wait_for(reader.read(), TIMEOUT)
    finally:
        writer.close()


def forward_tasks() -> list[asyncio.Task[Any]]:
    """The port-forward's own tasks (servers, pumps) still running."""
    return [
        t
        for t in asyncio.all_tasks()
        if getattr(t.get_coro(), "__qualname__", "").startswith(("AsyncPortForward.", "_upstream"))
    ]


def test_port_forward_serves_http_over_concurrent_connections(
    cri: CRIClient, pod: Pod, runtime: RuntimeUnderTest
) -> None:
    httpd = start(
        cri,
        pod,
        runtime.busybox_image,
        "httpd",
        ["sh", "-c", "mkdir -p /tmp/www && exec httpd -f -p 8080 -h /tmp/www"],
    )
    httpd.exec(["sh", "-c", "echo hello from the pod > /tmp/www/index.html"], check=True)
    urls: list[str] = []

    async def scenario(acri: AsyncCRIClient) -> None:
        async def open_url() -> str:
            urls.append((await acri.api.port_forward(pod_sandbox_id=pod.id, port=[8080])).url)
            return urls[-1]

        forward = AsyncPortForward(open_url, 8080)
        assert forward.address == ("127.0.0.1", forward.local_port) and forward.local_port > 0
        async with forward:
            first = await asyncio.open_connection(*forward.address)
            second = await asyncio.open_connection(*forward.address)
            for _, writer in (second, first):  # both open at once, answered in any order
                writer.write(b"GET /index.html HTTP/1.0\r\n\r\n")
                await writer.drain()
            for reader, writer in (first, second):
                reply = await asyncio.wait_for(reader.read(), TIMEOUT)
                writer.close()
                assert reply.startswith(b"HTTP/1.") and b" 200 OK\r\n" in reply
                assert reply.endswith(b"\r\n\r\nhello from the pod\n")
            assert len(set(urls)) == 2  # a fresh URL per connection
            replies = await asyncio.gather(
                *(http_get(forward.address, p) for p in ("/index.html", "/missing.html"))
            )
            assert replies[0].endswith(b"hello from the pod\n")
            assert b"404" in replies[1].split(b"\r\n")[0]
            idle_reader, idle_writer = await asyncio.open_connection(*forward.address)
            deadline = time.monotonic() + TIMEOUT
            while len(urls) < 5:  # the idle connection has its stream open
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
            assert forward_tasks()
            assert forward.errors == []
        assert forward_tasks() == []  # close() ended the connections and their tasks
        assert await asyncio.wait_for(idle_reader.read(), TIMEOUT) == b""
        idle_writer.close()
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection(*forward.address)

    run(runtime, scenario)


def test_port_forward_to_a_closed_port_records_the_error(
    pod: Pod, runtime: RuntimeUnderTest
) -> None:
    async def scenario(acri: AsyncCRIClient) -> None:
        async def open_url() -> str:
            return str((await acri.api.port_forward(pod_sandbox_id=pod.id, port=[9999])).url)

        async with AsyncPortForward(open_url, 9999) as forward:
            reader, writer = await asyncio.open_connection(*forward.address)
            assert await asyncio.wait_for(reader.read(), TIMEOUT) == b""
            writer.close()
            deadline = time.monotonic() + TIMEOUT
            while not forward.errors:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
        assert isinstance(forward.errors[0], StreamError)
        assert "port-forward to port 9999 failed" in str(forward.errors[0])
        assert "connection refused" in str(forward.errors[0])

    run(runtime, scenario)


# --- interact under a pseudo-terminal ----------------------------------------------------

CHILD = """
import asyncio, sys, termios
from cri_client.aio import AsyncCRIClient
from cri_client._async.terminal import interact
from cri_client.aio import AsyncExecSession

async def main():
    async with AsyncCRIClient(sys.argv[1]) as cri:
        async def open_url():
            reply = await cri.api.exec(
                container_id=sys.argv[2], cmd=["sh"], stdin=True, tty=True, stdout=True
            )
            return reply.url
        async with AsyncExecSession(open_url, stdin=True, tty=True) as session:
            return await interact(session)

before = termios.tcgetattr(0)
code = asyncio.run(main())
restored = termios.tcgetattr(0) == before
print("terminal restored" if restored else "terminal NOT restored", flush=True)
sys.exit(code)
"""


def test_interact_under_a_pseudo_terminal(
    runtime: RuntimeUnderTest, sleeper: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sync test's terminal, size changes and checks, with the asyncio child."""
    monkeypatch.setattr(sync_tests, "CHILD", CHILD)
    sync_tests.test_exec_interactive_under_a_pseudo_terminal(runtime, sleeper)
