"""``cri-client events`` against a fake runtime that replays what other runtimes do
(CRI-O's events switched off, a stream that breaks), run as a subprocess so that a
command that hangs fails the test after its timeout instead of blocking it."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from typing import Any

import grpc

from .fake_runtime import FakeRuntime, stream_of
from .test_events_stats import MINUTES_AGO, event, until_cancelled


def cli(endpoint: str, *argv: str) -> list[str]:
    return [sys.executable, "-m", "cri_client", "-r", endpoint, *argv]


def env() -> dict[str, str]:
    return {**os.environ, "CRI_CONFIG_FILE": os.devnull, "PYTHONUNBUFFERED": "1"}


def test_events_switched_off_exit_1_with_the_setting_to_change(sock: str) -> None:
    """CRI-O's default (enable_pod_events = false): GetContainerEvents ends at once, OK
    and empty. crictl would print nothing and exit; cri-client used to hang."""
    with FakeRuntime(sock, {"GetContainerEvents": stream_of()}) as fake:
        done = subprocess.run(
            cli(fake.endpoint, "events"), env=env(), capture_output=True, text=True, timeout=60
        )
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("cri-client: ")
    assert "container events are switched off" in done.stderr
    assert "enable_pod_events = true" in done.stderr
    assert fake.calls == ["GetContainerEvents"] * 3


def test_events_skip_the_backlog_and_warn_on_stderr_after_resubscribing(sock: str) -> None:
    """stdout stays crictl's (one document per event, no backlog); the resubscription
    is one warning line on stderr."""
    subscriptions = []

    def events(request: Any, context: grpc.ServicerContext) -> Any:
        subscriptions.append(1)
        if len(subscriptions) == 1:
            yield event("old", created_at=MINUTES_AGO)
            yield event("first")
            context.abort(grpc.StatusCode.UNAVAILABLE, "restarting")
        yield event("second")
        until_cancelled(context)

    with FakeRuntime(sock, {"GetContainerEvents": events}) as fake:
        process = subprocess.Popen(
            cli(fake.endpoint, "events", "-o", "json"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env(),
        )
        try:
            documents = read_documents(process, 2)
        finally:
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0
    assert [d["containerId"] for d in documents] == ["first", "second"]
    lines = stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("cri-client: warning: events: subscribed again after: ")
    assert "UNAVAILABLE: restarting" in lines[0] and "may be missing" in lines[0]


def read_documents(process: subprocess.Popen[bytes], count: int) -> list[Any]:
    """``count`` concatenated JSON documents from the process's stdout (30 s at most)."""
    assert process.stdout is not None
    decoder = json.JSONDecoder()
    buffer, documents = "", list[Any]()
    deadline = time.monotonic() + 30
    while len(documents) < count and time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.5)
        if not ready:
            continue
        chunk = os.read(process.stdout.fileno(), 65536).decode()
        if not chunk:
            break
        buffer += chunk
        while buffer.strip():
            try:
                document, end = decoder.raw_decode(buffer.lstrip())
            except ValueError:
                break
            buffer = buffer.lstrip()[end:]
            documents.append(document)
    return documents
