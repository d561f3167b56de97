"""Exec sessions, attach, exec_interactive and port-forward against real containerd,
whose streaming server speaks v4.channel.k8s.io over WebSocket."""

from __future__ import annotations

import fcntl
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import termios
import threading
import time
import urllib.request

import pytest

from cri_client import Container, CRIClient, ExecSession, Pod
from cri_client.errors import StreamError

from .conftest import RuntimeUnderTest

V4 = "v4.channel.k8s.io"
TIMEOUT = 30.0


@pytest.fixture
def pod(cri: CRIClient, suite: dict[str, str], log_dir: str) -> Pod:
    return cri.pods.run("stream-" + suite["suite"], labels=suite, log_directory=log_dir)


def start(
    cri: CRIClient, pod: Pod, image: str, name: str, command: list[str], **kw: bool
) -> Container:
    return cri.containers.create(pod, name, image, command=command, **kw).start()


@pytest.fixture
def sleeper(cri: CRIClient, pod: Pod, runtime: RuntimeUnderTest) -> Container:
    command = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]
    return start(cri, pod, runtime.busybox_image, "sleeper", command)


def read_until(session: ExecSession, needle: bytes, timeout: float = TIMEOUT) -> bytes:
    """Output until ``needle`` shows up; the timer closes the session if it never does,
    which ends the iteration."""
    got = b""
    timer = threading.Timer(timeout, session.close)
    timer.start()
    try:
        for _, data in session:
            got += data
            if needle in got:
                return got
    finally:
        timer.cancel()
    raise AssertionError(f"{needle!r} not in the output within {timeout} s: {got!r}")


def wait_for_file(ctr: Container, path: str) -> bytes:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        result = ctr.exec(["cat", path], timeout=10)
        if result.exit_code == 0:
            return result.stdout
        time.sleep(0.1)
    raise AssertionError(f"{path} did not appear within {TIMEOUT} s")


def test_exec_session_stdin_stdout_stderr_and_exit_code(sleeper: Container) -> None:
    cmd = ["sh", "-c", "read x; echo got:$x; echo err:$x >&2; exit 3"]
    with sleeper.exec_stream(cmd, stdin=True) as session:
        assert session.protocol == V4  # containerd accepts v4 only
        assert session.exit_code is None
        session.write(b"hello\n")
        chunks = list(session)
        assert session.wait(timeout=TIMEOUT) == 3
        assert session.exit_code == 3
    assert {stream for stream, _ in chunks} == {"stdout", "stderr"}
    assert b"".join(d for s, d in chunks if s == "stdout") == b"got:hello\n"
    assert b"".join(d for s, d in chunks if s == "stderr") == b"err:hello\n"
    with sleeper.exec_stream(["sh", "-c", "echo out; echo err >&2; exit 0"]) as session:
        assert session.read_all() == (b"out\n", b"err\n")
        assert session.wait(timeout=TIMEOUT) == 0
        with pytest.raises(ValueError, match="no stdin"):
            session.write(b"x")
    with sleeper.exec_stream(["sh", "-c", "kill -9 $$"]) as session:
        assert session.wait(timeout=TIMEOUT) == 137


def test_close_stdin_on_v4_ends_the_session_but_delivers_eof(
    sleeper: Container, unique: str
) -> None:
    marker = f"/tmp/eof-{unique}"
    cmd = ["sh", "-c", f"cat; echo eof > {marker}; echo after-eof; exit 4"]
    with sleeper.exec_stream(cmd, stdin=True) as session:
        assert session.protocol == V4
        session.write(b"line\n")
        assert read_until(session, b"line\n") == b"line\n"
        session.close_stdin()
        assert session.read_all() == (b"", b"")  # "after-eof" is not delivered on v4
        with pytest.raises(StreamError, match=r"close_stdin\(\) on v4.channel.k8s.io"):
            session.wait(timeout=TIMEOUT)
        assert session.exit_code is None
    assert wait_for_file(sleeper, marker) == b"eof\n"  # but cat saw end-of-file


def test_tty_exec_output_and_close_stdin(sleeper: Container) -> None:
    for _ in range(5):  # TTY output used to be lost in most runs without stdin
        with sleeper.exec_stream(["sh", "-c", "tty; echo hi; echo err >&2"], tty=True) as session:
            out, err = session.read_all()
            assert session.wait(timeout=TIMEOUT) == 0
        assert out.startswith(b"/dev/pts/"), out
        assert out.endswith(b"\r\nhi\r\nerr\r\n"), out  # stderr is merged into the terminal
        assert err == b""
    with sleeper.exec_stream(["sh", "-c", "cat; echo done; exit 4"], stdin=True, tty=True) as tty:
        tty.write(b"partial")
        tty.close_stdin()  # Ctrl-D twice: ends the line, then end-of-file
        out, _ = tty.read_all()
        assert tty.wait(timeout=TIMEOUT) == 4  # the session outlived close_stdin
    assert out == b"partialpartialdone\r\n"


def test_tty_resize(sleeper: Container) -> None:
    cmd = ["sh", "-c", "while read x; do stty size; done"]
    with sleeper.exec_stream(cmd, stdin=True, tty=True) as session:
        with pytest.raises(ValueError, match="must be an integer"):
            session.resize(0, 80)
        session.resize(33, 101)
        deadline = time.monotonic() + TIMEOUT
        got = b""
        while b"33 101" not in got:  # the size and stdin travel separately: ask again
            assert time.monotonic() < deadline, got
            session.write(b"\n")
            got += read_until(session, b"\r\n")
        session.close_stdin()
        assert session.wait(timeout=TIMEOUT) == 0
    with sleeper.exec_stream(["true"]) as plain, pytest.raises(ValueError, match="TTY"):
        plain.resize(24, 80)


def test_attach_echoes_and_reports_the_exit_code(
    cri: CRIClient, pod: Pod, runtime: RuntimeUnderTest
) -> None:
    image = runtime.busybox_image
    cat = start(cri, pod, image, "cat", ["cat"], stdin=True)
    with cat.attach(stdin=True) as session:
        assert session.protocol == V4 and not session.tty
        session.write(b"hello attach\n")
        assert read_until(session, b"hello attach\n") == b"hello attach\n"
    assert cat.reload().state.value == "running"  # close() detaches only

    shell = start(cri, pod, image, "shell", ["sh"], stdin=True, tty=True)
    with shell.attach(stdin=True) as session:
        assert session.tty  # the container's own setting
        session.write(b"echo $((6 * 7))\n")
        assert b"42\r\n" in read_until(session, b"42\r\n")
        session.write(b"exit 7\n")
        session.read_all()
        assert session.wait(timeout=TIMEOUT) == 7  # from the container's status

    reader = start(
        cri, pod, image, "reader", ["sh", "-c", "read x; echo got:$x; exit 3"], stdin=True
    )
    with reader.attach(stdin=True, tty=False) as session:
        session.write(b"abc\n")
        assert session.read_all() == (b"got:abc\n", b"")
        assert session.wait(timeout=TIMEOUT) == 3


def test_used_url_and_unreachable_server_raise_stream_error(
    cri: CRIClient, sleeper: Container
) -> None:
    reply = cri.api.exec(container_id=sleeper.id, cmd=["true"], stdout=True)
    ExecSession(reply.url).close()
    with pytest.raises(StreamError, match=r"HTTP 404.*already used or has expired"):
        ExecSession(reply.url)
    fresh = cri.api.exec(container_id=sleeper.id, cmd=["true"], stdout=True).url
    with pytest.raises(urllib.error.HTTPError):  # a plain GET consumes the token too
        urllib.request.urlopen(fresh, timeout=TIMEOUT)
    with pytest.raises(StreamError, match="already used or has expired"):
        ExecSession(fresh)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(StreamError, match="cannot connect to the streaming server"):
        ExecSession(f"http://127.0.0.1:{port}/exec/abcdefgh")


def test_exec_of_a_missing_program(sleeper: Container) -> None:
    with sleeper.exec_stream(["no-such-program"]) as session:
        session.read_all()
        with pytest.raises(StreamError, match=r"no-such-program.*not found"):
            session.wait(timeout=TIMEOUT)
        assert session.exit_code is None


def recv_all(conn: socket.socket) -> bytes:
    return b"".join(iter(lambda: conn.recv(65536), b""))


def http_get(address: tuple[str, int], path: str) -> bytes:
    with socket.create_connection(address, timeout=TIMEOUT) as conn:
        conn.sendall(f"GET {path} HTTP/1.0\r\n\r\n".encode())
        return recv_all(conn)


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
    with pod.port_forward(8080) as forward:
        assert forward.address == ("127.0.0.1", forward.local_port) and forward.local_port > 0
        first = socket.create_connection(forward.address, timeout=TIMEOUT)
        second = socket.create_connection(forward.address, timeout=TIMEOUT)
        for conn in (second, first):  # both open at once, answered in any order
            conn.sendall(b"GET /index.html HTTP/1.0\r\n\r\n")
        for conn in (first, second):
            reply = recv_all(conn)
            conn.close()
            assert reply.startswith(b"HTTP/1.") and b" 200 OK\r\n" in reply
            assert reply.endswith(b"\r\n\r\nhello from the pod\n")
        url = f"http://127.0.0.1:{forward.local_port}/index.html"
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            assert response.status == 200 and response.read() == b"hello from the pod\n"
        idle = socket.create_connection(forward.address, timeout=TIMEOUT)
        assert b"404" in http_get(forward.address, "/missing.html").split(b"\r\n")[0]
        assert forward.errors == []
    assert idle.recv(1) == b""  # closing the forward ended the open connection
    idle.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(forward.address, timeout=TIMEOUT)


def test_port_forward_to_a_closed_port_records_the_error(pod: Pod) -> None:
    with pod.port_forward(9999) as forward:
        with socket.create_connection(forward.address, timeout=TIMEOUT) as conn:
            assert conn.recv(1) == b""
        deadline = time.monotonic() + TIMEOUT
        while not forward.errors:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    assert isinstance(forward.errors[0], StreamError)
    assert "port-forward to port 9999 failed" in str(forward.errors[0])
    assert "connection refused" in str(forward.errors[0])


CHILD = """
import sys, termios
from cri_client import CRIClient
with CRIClient(sys.argv[1]) as cri:
    ctr = cri.containers.get(sys.argv[2])
    before = termios.tcgetattr(0)
    code = ctr.exec_interactive(["sh"])
    restored = termios.tcgetattr(0) == before
print("terminal restored" if restored else "terminal NOT restored", flush=True)
sys.exit(code)
"""


def set_size(fd: int, rows: int, cols: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def test_exec_interactive_under_a_pseudo_terminal(
    runtime: RuntimeUnderTest, sleeper: Container
) -> None:
    master, slave = os.openpty()
    set_size(master, 33, 101)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, runtime.endpoint, sleeper.id],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
    )
    os.close(slave)
    output = b""

    def read(timeout: float) -> bool:
        """Add what the child writes within ``timeout`` to ``output``; False at its end."""
        nonlocal output
        if select.select([master], [], [], timeout)[0]:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                return False
            output += data
            return bool(data)
        return True

    def expect(needle: bytes) -> None:
        deadline = time.monotonic() + TIMEOUT
        while needle not in output:
            remaining = deadline - time.monotonic()
            assert remaining > 0 and read(remaining), f"{needle!r} not in {output!r}"

    try:
        expect(b"# ")  # the remote shell's prompt: the terminal is raw by now
        os.write(master, b"stty size; echo marker-$((6 * 7))\n")
        expect(b"marker-42")
        assert b"33 101" in output  # the size sent at the start
        set_size(master, 40, 120)
        child.send_signal(signal.SIGWINCH)  # the kernel's job for a controlling terminal
        mark = len(output)
        deadline = time.monotonic() + TIMEOUT
        while b"40 120" not in output[mark:]:  # the size travels apart from stdin: ask again
            assert time.monotonic() < deadline, output[mark:]
            os.write(master, b"stty size\n")
            read(0.5)
        os.write(master, b"exit 5\n")
        expect(b"terminal restored")
        assert child.wait(timeout=TIMEOUT) == 5
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        os.close(master)
