"""The streaming protocol without a runtime: frames, status JSON, resize, negotiation,
port headers; and the session on a small local WebSocket server that speaks v5, which
containerd (v4 only) cannot show."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http import HTTPStatus

import pytest
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

from cri_client import ExecSession, PortForward
from cri_client._core.channel import (
    EXEC_PROTOCOLS,
    PORT_FORWARD_PROTOCOLS,
    ExecProtocol,
    PortForwardProtocol,
    StdinClose,
    exit_code_from_status,
    frame,
    negotiate,
    parse_frame,
    resize_frame,
    strip_port_header,
    websocket_url,
)
from cri_client.errors import CRIError, StreamError

V4, V5 = "v4.channel.k8s.io", "v5.channel.k8s.io"

NON_ZERO = (
    b'{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit '
    b'code: error executing command [sh -c exit 3], exit code 3","reason":"NonZeroExitCode",'
    b'"details":{"causes":[{"reason":"ExitCode","message":"3"}]}}'
)
INTERNAL = (
    b'{"metadata":{},"status":"Failure","message":"Internal error occurred: exec: \\"nope\\": '
    b'executable file not found in $PATH","reason":"InternalError","details":{"causes":[]},'
    b'"code":500}'
)


def test_frames_carry_one_channel_byte() -> None:
    assert frame(0, b"hi") == b"\x00hi"
    assert frame(4) == b"\x04"
    assert parse_frame(b"\x01out\n") == (1, b"out\n")
    assert parse_frame(b"\x02") == (2, b"")
    assert parse_frame(b"") == (-1, b"")
    with pytest.raises(StreamError, match="unexpected text message"):
        parse_frame("1aGk=")
    with pytest.raises(ValueError, match="channel must be"):
        frame(256, b"")


def test_status_json_to_exit_code() -> None:
    assert exit_code_from_status(b'{"metadata":{},"status":"Success"}') == 0
    assert exit_code_from_status(NON_ZERO) == 3
    with pytest.raises(StreamError, match="executable file not found"):
        exit_code_from_status(INTERNAL)
    with pytest.raises(StreamError, match="without its code"):
        exit_code_from_status(b'{"status":"Failure","reason":"NonZeroExitCode","message":"x"}')
    with pytest.raises(StreamError, match="malformed status"):
        exit_code_from_status(b"not json")
    with pytest.raises(StreamError, match="malformed status"):
        exit_code_from_status(b"[1]")


def test_resize_message() -> None:
    message = resize_frame(rows=24, cols=80)
    assert message[0] == 4
    assert json.loads(message[1:]) == {"Width": 80, "Height": 24}
    for rows, cols in ((0, 80), (24, 70000), (True, 80)):
        with pytest.raises(ValueError, match="must be an integer"):
            resize_frame(rows, cols)


def test_negotiation_needs_one_of_ours() -> None:
    assert EXEC_PROTOCOLS == (V5, V4)
    assert PORT_FORWARD_PROTOCOLS == (V4,)
    assert negotiate(V4, EXEC_PROTOCOLS) == V4
    assert negotiate(V5, EXEC_PROTOCOLS) == V5
    with pytest.raises(StreamError, match=r"accepted none .* answered none"):
        negotiate(None, EXEC_PROTOCOLS)
    with pytest.raises(StreamError, match=r"answered channel\.k8s\.io"):
        negotiate("channel.k8s.io", EXEC_PROTOCOLS)


def test_websocket_url() -> None:
    assert websocket_url("http://127.0.0.1:3456/exec/Ab_c-1") == "ws://127.0.0.1:3456/exec/Ab_c-1"
    assert websocket_url("https://node:10250/attach/x") == "wss://node:10250/attach/x"
    with pytest.raises(StreamError, match="not absolute"):
        websocket_url("/exec/abc")


def test_exec_protocol_streams_and_status() -> None:
    state = ExecProtocol(V4, tty=False)
    assert state.receive(b"\x01") is None  # "connection established"
    assert state.receive(b"\x01out") == ("stdout", b"out")
    assert state.receive(b"\x02err") == ("stderr", b"err")
    assert not state.finished
    assert state.receive(b"\x03" + NON_ZERO) is None
    assert state.finished and state.exit_code == 3 and state.error is None
    failed = ExecProtocol(V4, tty=False)
    failed.receive(b"\x03" + INTERNAL)
    assert failed.exit_code is None and isinstance(failed.error, StreamError)
    with pytest.raises(StreamError):
        ExecProtocol("channel.k8s.io", tty=False)


def test_close_stdin_per_protocol() -> None:
    assert ExecProtocol(V5, tty=False).close_stdin() == StdinClose(b"\xff\x00", False)
    assert ExecProtocol(V4, tty=False).close_stdin() == StdinClose(None, True)
    for protocol in (V4, V5):
        tty = ExecProtocol(protocol, tty=True)
        assert tty.close_stdin() == StdinClose(b"\x00\x04", False)
        assert tty.stdin(b"partial") == b"\x00partial"
        assert tty.close_stdin() == StdinClose(b"\x00\x04\x04", False)  # ends the line, then EOF
        tty.stdin(b"whole line\r")
        assert tty.close_stdin().message == b"\x00\x04"
    assert ExecProtocol(V4, tty=True).resize(rows=10, cols=20) == resize_frame(10, 20)


def test_port_forward_protocol_strips_the_port_header() -> None:
    state = PortForwardProtocol(8080)
    port = (8080).to_bytes(2, "little")
    assert state.receive(b"\x00" + port) == b""
    assert state.receive(b"\x01" + port) == b""
    assert state.receive(b"\x00HTTP/1.0 200 OK\r\n") == b"HTTP/1.0 200 OK\r\n"
    assert state.receive(b"\x00" + port) == port  # only the first message has the header
    assert state.error is None
    assert state.data(b"GET /") == b"\x00GET /"
    refused = PortForwardProtocol(9999)
    refused.receive(b"\x00" + (9999).to_bytes(2, "little") + b"")
    refused.receive(b"\x01" + (9999).to_bytes(2, "little") + b"connection refused ")
    assert isinstance(refused.error, StreamError)
    assert str(refused.error) == "port-forward to port 9999 failed: connection refused"
    with pytest.raises(StreamError, match="for port 8080, not 9999"):
        PortForwardProtocol(9999).receive(b"\x00" + port)
    with pytest.raises(StreamError, match="without its port header"):
        strip_port_header(b"\x90", 8080)
    with pytest.raises(StreamError, match="unexpected channel 2"):
        PortForwardProtocol(8080).receive(b"\x02xx")


def test_stream_error_is_a_cri_error() -> None:
    err = StreamError("the URL was already used")
    assert isinstance(err, CRIError) and err.code is None and err.rpc is None
    assert str(err) == "the URL was already used"


def test_port_forward_checks_ports_before_listening() -> None:
    for remote, local in ((0, 0), (70000, 0), (8080, -1), (True, 0)):
        with pytest.raises(ValueError, match="must be an integer"):
            PortForward(lambda: "", remote, local)


def test_import_does_not_load_websockets() -> None:
    code = "import sys, cri_client; print(any(m.startswith('websockets') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- the session on a local v5 server -------------------------------------------------


def _v5_shell(ws: ServerConnection) -> None:
    """Upper-cases stdin to stdout until stdin is closed, then reports on stderr and
    exits 7, the way a v5 server lets a command finish after stdin EOF."""
    ws.send(b"\x01")
    received = b""
    for message in ws:
        assert isinstance(message, bytes)
        if message == b"\xff\x00":
            break
        if message[0] == 0:
            received += message[1:]
            ws.send(b"\x01" + message[1:].upper())
    ws.send(b"\x02eof after %d bytes" % len(received))
    ws.send(b"\x03" + NON_ZERO.replace(b'"3"', b'"7"'))
    ws.close()


def _refuse(connection: ServerConnection, request: Request) -> Response:
    return connection.respond(HTTPStatus.NOT_FOUND, "404 page not found\n")


@pytest.fixture
def server() -> Iterator[Callable[..., str]]:
    """Starts a WebSocket server on 127.0.0.1; returns the base URL."""
    started: list[Server] = []

    def start(handler: Callable[[ServerConnection], None], **options: object) -> str:
        srv = serve(handler, "127.0.0.1", 0, **options)  # type: ignore[arg-type]
        started.append(srv)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{srv.socket.getsockname()[1]}"

    yield start
    for srv in started:
        srv.shutdown()


def test_v5_close_stdin_keeps_the_session(server: Callable[..., str]) -> None:
    base = server(_v5_shell, subprotocols=[V5])
    with ExecSession(base + "/exec/tok", stdin=True) as session:
        assert session.protocol == V5
        session.write(b"abc")
        session.close_stdin()
        session.close_stdin()  # a no-op the second time
        with pytest.raises(ValueError, match="stdin is closed"):
            session.write(b"more")
        assert session.read_all() == (b"ABC", b"eof after 3 bytes")
        assert session.wait(timeout=10) == 7
        assert session.exit_code == 7


def test_a_node_wide_proxy_setting_is_not_used(
    server: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The streaming server is on this node: HTTP(S)_PROXY (which websockets 15+ follows
    by default) must not send the session to a proxy that cannot reach it."""
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nothing listens on the discard port
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    base = server(_v5_shell, subprotocols=[V5])
    with ExecSession(base + "/exec/tok", stdin=True) as session:
        session.write(b"via no proxy")
        session.close_stdin()
        assert session.read_all() == (b"VIA NO PROXY", b"eof after 12 bytes")


def test_refused_url_is_a_stream_error(server: Callable[..., str]) -> None:
    base = server(_v5_shell, subprotocols=[V5], process_request=_refuse)
    with pytest.raises(StreamError, match=r"HTTP 404.*already used or has expired"):
        ExecSession(base + "/exec/used")


def test_server_without_our_subprotocol(server: Callable[..., str]) -> None:
    base = server(_v5_shell)  # picks no subprotocol
    with pytest.raises(StreamError, match="accepted none of the subprotocols"):
        ExecSession(base + "/exec/tok")
    base = server(_v5_shell, subprotocols=["base64.channel.k8s.io"])  # refuses ours: 400
    with pytest.raises(StreamError, match=r"HTTP 400: .*invalid subprotocol.*already used"):
        ExecSession(base + "/exec/tok")


def test_connection_failure_is_a_stream_error() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(StreamError, match=f"cannot connect to the streaming server at .*:{port}"):
        ExecSession(f"http://127.0.0.1:{port}/exec/tok")
