"""Container logs (Container.logs / log_records / reopen_log) against real containerd."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from cri_client import Container, ContainerState, CRIClient, LogRecord
from cri_client.configs import container_config
from cri_client.errors import NotFoundError

from .conftest import RuntimeUnderTest

LONG = 20_000  # containerd cuts lines longer than max_container_log_line_size (16 KiB)
OUTPUT = (
    'for i in 1 2 3 4 5; do echo "out $i"; echo "err $i" >&2; done; '
    f"head -c {LONG} /dev/zero | tr '\\0' x; echo; "
    "sleep 2; "
    'for i in 6 7 8; do echo "out $i"; done; '
    "trap 'exit 0' TERM; while :; do sleep 1; done"
)
STDOUT = ["out 1", "out 2", "out 3", "out 4", "out 5", "x" * LONG, "out 6", "out 7", "out 8"]
STDERR = ["err 1", "err 2", "err 3", "err 4", "err 5"]
STAMPED = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{9})Z (.*)")


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def exited(ctr: Container) -> bool:
    return ctr.reload().state is ContainerState.EXITED


def test_logs_text_tail_since_timestamps_stream(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    pod = cri.pods.run("logs-" + suite["suite"], labels=suite, log_directory=log_dir)
    ctr = cri.containers.create(pod, "talker", runtime.busybox_image, command=["sh", "-c", OUTPUT])
    ctr.start()
    wait_until(lambda: ctr.logs(tail=1, stream="stdout") == "out 8\n", "the last line")

    assert ctr.logs(stream="stdout").splitlines() == STDOUT
    assert ctr.logs(stream="stderr") == "".join(f"{line}\n" for line in STDERR)
    text = ctr.logs()
    assert text.endswith("\n") and sorted(text.splitlines()) == sorted(STDOUT + STDERR)
    # The long line really was cut into partial records in the file, and comes back whole.
    raw = Path(ctr.log_path).read_bytes()
    assert b" stdout P xxxx" in raw
    assert "x" * LONG in text.splitlines()

    # Listed containers carry no log path: logs() fetches the status itself.
    listed = cri.containers.list(pod=pod)[0]
    assert listed.log_path == ""
    assert listed.logs(tail=3) == "out 6\nout 7\nout 8\n"
    assert ctr.logs(tail=4, stream="stdout").splitlines() == STDOUT[-4:]
    assert ctr.logs(tail=2, stream="stderr") == "err 4\nerr 5\n"
    assert ctr.logs(tail=0) == ""
    assert ctr.logs(tail=1000) == text

    records = ctr.log_records()
    assert [r.message for r in records] == text.splitlines()
    assert all(isinstance(r, LogRecord) and r.timestamp.tzinfo is timezone.utc for r in records)
    now = datetime.now(timezone.utc)
    assert all(now - timedelta(minutes=5) < r.timestamp <= now for r in records)
    assert {r.stream for r in records} == {"stdout", "stderr"}
    assert [r.message for r in records if r.stream == "stderr"] == STDERR
    assert ctr.log_records(tail=1) == records[-1:]

    # The last three lines come 2 s after the others.
    sixth = next(r for r in records if r.message == "out 6")
    assert ctr.logs(since=sixth.timestamp) == "out 6\nout 7\nout 8\n"
    assert ctr.logs(since=sixth.timestamp - timedelta(seconds=1)) == "out 6\nout 7\nout 8\n"
    ago = (datetime.now(timezone.utc) - sixth.timestamp).total_seconds() + 1
    assert ctr.logs(since=ago) == "out 6\nout 7\nout 8\n"
    assert ctr.logs(since=timedelta(hours=1)) == text
    assert ctr.logs(since=now + timedelta(hours=1)) == ""
    early = ctr.logs(until=sixth.timestamp - timedelta(seconds=1)).splitlines()
    assert sorted(early) == sorted(STDOUT[:6] + STDERR)
    assert ctr.log_records(since=sixth.timestamp, stream="stderr") == []

    stamped = ctr.logs(timestamps=True, stream="stdout").splitlines()
    matches = [STAMPED.fullmatch(line) for line in stamped]
    assert all(matches) and [m[3] for m in matches if m] == STDOUT
    # The exact time the runtime wrote (Go's RFC3339Nano drops trailing zeros).
    first_raw = next(line for line in raw.splitlines() if line.endswith(b" stdout F out 1"))
    second, _, fraction = first_raw.split(b" ")[0].decode().rstrip("Z").partition(".")
    first = matches[0]
    assert first is not None and (first[1], first[2]) == (second, fraction.ljust(9, "0"))

    assert ctr.logs(limit_bytes=10) == text[:10]
    assert ctr.logs(limit_bytes=len(text) + 100) == text

    for kwargs, message in (
        ({"tail": -1}, "tail"),
        ({"stream": "both"}, "'both'"),
        ({"limit_bytes": 0}, "limit_bytes"),
        ({"since": datetime(2026, 1, 1)}, "timezone-aware"),
    ):
        with pytest.raises(ValueError, match=message):
            ctr.logs(**kwargs)  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="until"):
        ctr.logs(follow=True, until=now)
    with pytest.raises(NotFoundError, match="no previous attempt's log"):
        ctr.logs(previous=True)


def test_follow_survives_rotation_and_ends_when_the_container_exits(
    cri: CRIClient,
    runtime: RuntimeUnderTest,
    suite: dict[str, str],
    log_dir: str,
    tmp_path: Path,
) -> None:
    signals = tmp_path / "signals"
    signals.mkdir()
    script = (
        'i=1; while [ $i -le 10 ]; do echo "line $i"; i=$((i+1)); done; '
        "until [ -e /signals/rotated ]; do sleep 0.05; done; "
        'while [ $i -le 40 ]; do echo "line $i"; i=$((i+1)); sleep 0.05; done'
    )
    pod = cri.pods.run("follow-" + suite["suite"], labels=suite, log_directory=log_dir)
    ctr = cri.containers.create(
        pod,
        "printer",
        runtime.busybox_image,
        command=["sh", "-c", script],
        mounts=[(str(signals), "/signals", True)],
    ).start()
    log = ctr.log_path
    # A follower that never ended would hang the suite: stop the container then.
    watchdog = threading.Timer(120, lambda: cri.api.stop_container(container_id=ctr.id, timeout=0))
    watchdog.start()
    got: list[str] = []
    try:
        lines = ctr.logs(follow=True)
        for line in lines:
            got.append(line)
            if line == "line 10\n":
                os.rename(log, log + ".1")  # as logrotate does; runtime still writes there
                (signals / "rotated").touch()
                time.sleep(0.3)
                ctr.reopen_log()  # now a new file at the same path
    finally:
        watchdog.cancel()
    assert got == [f"line {i}\n" for i in range(1, 41)]
    assert ctr.reload().state is ContainerState.EXITED and ctr.exit_code == 0
    assert "stdout F line 10\n" in Path(log + ".1").read_text()
    assert "stdout F line 40\n" in Path(log).read_text()
    assert "stdout F line 1\n" not in Path(log).read_text()
    # Reading (not following) spans the rotated file too.
    assert ctr.logs() == "".join(got)
    assert ctr.logs(tail=35) == "".join(got[5:])
    # Following an exited container gives what there is, and ends.
    assert list(ctr.logs(follow=True, tail=2)) == ["line 39\n", "line 40\n"]


def test_another_thread_stops_a_follower_of_a_quiet_container(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    """A thread iterating ``logs(follow=True)`` of a running container that writes
    nothing more is ended by ``close()`` from another thread; the container runs on."""
    pod = cri.pods.run("quiet-" + suite["suite"], labels=suite, log_directory=log_dir)
    ctr = cri.containers.create(
        pod,
        "quiet",
        runtime.busybox_image,
        command=["sh", "-c", "echo hello; trap 'exit 0' TERM; while :; do sleep 1; done"],
    ).start()
    wait_until(lambda: ctr.logs() == "hello\n", "the first line")
    lines = ctr.logs(follow=True)
    got: list[str] = []
    started, ended = threading.Event(), threading.Event()

    def reader() -> None:
        started.set()
        got.extend(lines)
        ended.set()

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    assert started.wait(10)
    wait_until(lambda: got == ["hello\n"], "the line to be read")
    assert not ended.wait(1.5)  # still following: the container runs
    lines.close()
    thread.join(30)
    assert ended.is_set() and got == ["hello\n"]
    assert ctr.reload().state is ContainerState.RUNNING


def test_previous_attempt_and_missing_files(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    pod = cri.pods.run("prev-" + suite["suite"], labels=suite, log_directory=log_dir)
    first = cri.containers.create(
        pod, "job", runtime.busybox_image, command=["sh", "-c", "echo first run"]
    ).start()
    wait_until(lambda: exited(first), "the first attempt to exit")
    assert first.logs() == "first run\n"
    assert list(first.logs(follow=True)) == ["first run\n"]
    with pytest.raises(NotFoundError, match="no previous attempt's log"):
        first.logs(previous=True)

    config = container_config(
        "job",
        runtime.busybox_image,
        pod=pod.config(),
        command=["sh", "-c", "echo second run"],
        attempt=1,
    )
    second = cri.containers.create(pod, "job", runtime.busybox_image, config=config).start()
    wait_until(lambda: exited(second), "the second attempt to exit")
    assert second.attempt == 1 and second.log_path.endswith("job/1.log")
    assert second.logs() == "second run\n"
    assert second.logs(previous=True) == "first run\n"
    assert [r.message for r in second.log_records(previous=True)] == ["first run"]
    assert list(second.logs(previous=True, follow=True)) == ["first run\n"]

    previous_log = first.log_path
    os.rename(previous_log, previous_log + ".gone")
    with pytest.raises(NotFoundError, match=re.escape(f"log file {previous_log} does not exist")):
        second.logs(previous=True)
    with pytest.raises(NotFoundError, match=re.escape(previous_log)):
        first.logs(follow=True)  # the status is known: the file is looked up at once
    listed = cri.containers.list(id=first.id, all=True)[0]
    following = listed.logs(follow=True)  # a listed container's path needs an RPC first
    with pytest.raises(NotFoundError, match=re.escape(previous_log)):
        next(following)
