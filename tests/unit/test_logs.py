"""Container log files: parsing, rotation, tail/since/until/stream, rendering, following."""

from __future__ import annotations

import asyncio
import gzip
import os
import re
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from cri_client import LogRecord
from cri_client._core import logfile
from cri_client._core.logfile import check_log_options, previous_log_path
from cri_client.errors import NotFoundError
from cri_client.logs import (
    follow,
    follow_async,
    parse_lines,
    read_records,
    render,
)

BASE = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def at(second: float) -> datetime:
    return BASE + timedelta(seconds=second)


def cri(second: int, message: str, stream: str = "stdout", tag: str = "F", nanos: int = 0) -> bytes:
    """One CRI record, ``second`` seconds after BASE plus ``nanos``."""
    stamp = at(second).strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos:09d}Z"
    return f"{stamp} {stream} {tag} {message}\n".encode()


def record(second: int, message: str, stream: str = "stdout", nanos: int = 0) -> LogRecord:
    when = at(second) + timedelta(microseconds=nanos // 1000)
    return LogRecord(when, stream, message, nanos % 1000)


def write(path: Path, *lines: bytes, gz: bool = False) -> None:
    data = b"".join(lines)
    path.write_bytes(gzip.compress(data) if gz else data)


def messages(records: list[LogRecord]) -> list[str]:
    return [r.message for r in records]


# --- parsing -----------------------------------------------------------------------


def test_cri_lines_keep_time_to_the_nanosecond_and_both_streams() -> None:
    parsed = list(
        parse_lines(
            [
                cri(0, "hello", nanos=123_456_789),
                cri(1, "oops", "stderr", nanos=5),
                cri(2, " two  spaces kept "),
                cri(3, "", "stderr"),
            ]
        )
    )
    assert parsed == [
        LogRecord(at(0).replace(microsecond=123_456), "stdout", "hello", 789),
        LogRecord(at(1), "stderr", "oops", 5),
        LogRecord(at(2), "stdout", " two  spaces kept "),
        LogRecord(at(3), "stderr", ""),
    ]
    assert parsed[0].timestamp.tzinfo is timezone.utc


def test_partial_records_are_joined_per_stream_while_streams_interleave() -> None:
    parsed = list(
        parse_lines(
            [
                cri(0, "out-a ", tag="P"),
                cri(1, "err-a", "stderr", tag="P"),
                cri(2, "whole err", "stderr", tag="F").replace(b"whole err", b"+err-b"),
                cri(3, "out-b ", tag="P"),
                cri(4, "out-c"),
                cri(5, "next"),
            ]
        )
    )
    # A joined line carries its first record's time and comes out when it ends.
    assert parsed == [
        record(1, "err-a+err-b", "stderr"),
        record(0, "out-a out-b out-c"),
        record(5, "next"),
    ]


def test_utf8_split_across_partials_is_joined_before_decoding() -> None:
    word = "héllo ✓".encode()
    lines = [
        cri(0, "x", tag="P").replace(b"x", word[:2]),
        cri(0, "x").replace(b"x", word[2:] + b" \xff"),
    ]
    assert messages(list(parse_lines(lines))) == ["héllo ✓ \ufffd"]


def test_offsets_short_fractions_and_future_tags_are_understood() -> None:
    lines = [
        b"2026-01-02T05:04:05.5+02:00 stdout F east\n",
        b"2026-01-02T03:04:05Z stderr F:x=1 no fraction\n",
        b"2026-01-01T22:04:05.000000001-05:00 stdout F west\n",
    ]
    assert list(parse_lines(lines)) == [
        LogRecord(at(0.5), "stdout", "east"),
        LogRecord(at(0), "stderr", "no fraction"),
        LogRecord(at(0), "stdout", "west", 1),
    ]


def test_docker_json_lines_are_the_fallback_chosen_per_line() -> None:
    lines = [
        b'{"log":"from docker\\n","stream":"stdout","time":"2026-01-02T03:04:05.000000007Z"}\n',
        cri(1, "from cri", "stderr"),
        b'{"log":"long ","stream":"stderr","time":"2026-01-02T03:04:07Z"}\n',
        b'{"log":"line \\u00e9\\n","stream":"stderr","time":"2026-01-02T03:04:08Z"}\n',
    ]
    assert list(parse_lines(lines)) == [
        record(0, "from docker", nanos=7),
        record(1, "from cri", "stderr"),
        record(2, "long line é", "stderr"),
    ]


def test_malformed_lines_are_skipped_and_an_unfinished_line_is_kept() -> None:
    lines = [
        b"garbage\n",
        b"\n",
        b"2026-13-45T03:04:05Z stdout F bad date\n",
        b"2026-01-02T03:04:05Z stdin F bad stream\n",
        b"2026-01-02T03:04:05Z stdout X bad tag\n",
        b"2026-01-02T03:04:05Z stdout\n",
        b'{"log":"no time","stream":"stdout"}\n',
        b'{"log":1,"stream":"stdout","time":"2026-01-02T03:04:05Z"}\n',
        b"[1, 2]\n",
        b"{not json\n",
        cri(0, "good"),
        cri(1, "cut short", tag="P"),
    ]
    assert list(parse_lines(lines)) == [record(0, "good"), record(1, "cut short")]


# --- reading files -----------------------------------------------------------------


@pytest.fixture
def rotated_log(tmp_path: Path) -> Path:
    """kubelet's compressed rotation (oldest), a logrotate ``.1``, and the current file;
    one line is cut by the rotation between ``.1`` and the current file."""
    log = tmp_path / "0.log"
    write(
        tmp_path / "0.log.20260101-000000.gz",
        *(cri(i, f"line {i}", "stderr" if i == 2 else "stdout") for i in (1, 2, 3)),
        gz=True,
    )
    write(log.with_name("0.log.1"), cri(4, "line 4"), cri(5, "line 5"), cri(6, "line ", tag="P"))
    write(log, cri(7, "6+7"), cri(8, "line 8"), cri(9, "line 9", "stderr"))
    # .1 was last written after kubelet's rotation (named by its local time) was made.
    rotated = time.mktime(time.strptime("20260101-000000", "%Y%m%d-%H%M%S")) + 3600
    os.utime(log.with_name("0.log.1"), (rotated, rotated))
    # Noise that is not a rotation of this log.
    write(tmp_path / "0.log.20260101-000000.tmp", cri(0, "compressing"))
    write(tmp_path / "1.log", cri(0, "other attempt"))
    return log


ALL_LINES = ["line 1", "line 2", "line 3", "line 4", "line 5", "line 6+7", "line 8", "line 9"]


def test_read_records_reads_rotated_files_oldest_first(rotated_log: Path) -> None:
    records = read_records(str(rotated_log))
    assert messages(records) == ALL_LINES
    assert records[5] == record(6, "line 6+7")
    assert render(records) == "".join(f"{m}\n" for m in ALL_LINES)


def test_tail_reaches_into_rotated_files_only_as_far_as_needed(rotated_log: Path) -> None:
    for n in range(len(ALL_LINES) + 3):
        assert messages(read_records(str(rotated_log), tail=n)) == (ALL_LINES[-n:] if n else [])
    assert messages(read_records(str(rotated_log), tail=2, stream="stderr")) == [
        "line 2",
        "line 9",
    ]


def test_tail_in_the_current_file_does_not_open_older_content(rotated_log: Path) -> None:
    # A damaged rotated file would only matter if it were read.
    rotated_log.with_name("0.log.1").write_bytes(b"\x00" * 100)
    assert messages(read_records(str(rotated_log), tail=2)) == ["line 8", "line 9"]


def test_logrotate_numbers_and_compressed_numbers_order_by_age(tmp_path: Path) -> None:
    log = tmp_path / "c.log"
    write(log.with_name("c.log.3.gz"), cri(1, "a"), gz=True)
    write(log.with_name("c.log.2"), cri(2, "b"))
    write(log.with_name("c.log.1"), cri(3, "c"))
    write(log, cri(4, "d"))
    now = time.time()
    for age, name in ((30, "c.log.3.gz"), (20, "c.log.2"), (10, "c.log.1")):
        os.utime(log.with_name(name), (now - age, now - age))
    assert messages(read_records(str(log))) == ["a", "b", "c", "d"]


@pytest.mark.parametrize("block", [1, 2, 7, 64])
def test_tail_reads_backwards_in_blocks_of_any_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    monkeypatch.setattr(logfile, "_BLOCK", block)
    log = tmp_path / "0.log"
    lines = [cri(i, "x" * (i * 7 % 40), "stderr" if i % 3 else "stdout") for i in range(30)]
    lines[10] = cri(10, "part ", tag="P")
    lines[12] = cri(12, "end")  # stdout: 10 and 12 make one line, 11 is stderr
    write(log, *lines)
    full = read_records(str(log))
    assert len(full) == 29 and full[11].message == "part end"
    for n in range(31):
        assert read_records(str(log), tail=n) == (full[-n:] if n else [])


def test_a_last_line_without_newline_is_read(tmp_path: Path) -> None:
    log = tmp_path / "0.log"
    write(log, cri(0, "one"), cri(1, "two").rstrip(b"\n"))
    assert messages(read_records(str(log))) == ["one", "two"]
    assert messages(read_records(str(log), tail=1)) == ["two"]


def test_since_and_until_are_inclusive_and_compare_the_first_record(tmp_path: Path) -> None:
    log = tmp_path / "0.log"
    write(
        log,
        cri(0, "zero"),
        cri(1, "one", nanos=500),
        cri(2, "two "),
        cri(3, "three", "stderr"),
        cri(4, "two+"),
    )
    path = str(log)
    assert messages(read_records(path, since=at(1))) == ["one", "two ", "three", "two+"]
    assert messages(read_records(path, since=at(1) + timedelta(microseconds=1))) == [
        "two ",
        "three",
        "two+",
    ]
    assert messages(read_records(path, until=at(2))) == ["zero", "one", "two "]
    # until is a microsecond datetime; "one" is 500 ns after at(1).
    assert messages(read_records(path, until=at(1))) == ["zero"]
    assert messages(read_records(path, since=at(1), until=at(3), stream="stdout")) == [
        "one",
        "two ",
    ]
    assert read_records(path, since=at(5)) == []
    assert messages(read_records(path, since=at(2), tail=1, stream="stdout")) == ["two+"]


def test_joined_line_is_selected_by_its_first_record_time(tmp_path: Path) -> None:
    log = tmp_path / "0.log"
    write(log, cri(0, "a", tag="P"), cri(2, "b"))
    assert read_records(str(log), since=at(1)) == []
    assert messages(read_records(str(log), until=at(1))) == ["ab"]


def test_since_as_seconds_or_timedelta_counts_back_from_now(tmp_path: Path) -> None:
    log = tmp_path / "0.log"
    now = datetime.now(timezone.utc)
    stamps = [(now - timedelta(seconds=s)).strftime("%Y-%m-%dT%H:%M:%S.%fZ") for s in (600, 5)]
    log.write_text(f"{stamps[0]} stdout F old\n{stamps[1]} stdout F new\n")
    assert messages(read_records(str(log), since=300.0)) == ["new"]
    assert messages(read_records(str(log), since=300)) == ["new"]
    assert messages(read_records(str(log), since=timedelta(hours=1))) == ["old", "new"]
    assert read_records(str(log), since=0.0) == []
    assert read_records(str(log), since=now + timedelta(hours=1)) == []  # future: fine, empty
    assert messages(read_records(str(log), since=1e300)) == ["old", "new"]


def test_render_timestamps_and_limit_bytes() -> None:
    records = [record(0, "héllo", nanos=123_456_789), record(1, "second", "stderr", nanos=7)]
    assert render(records) == "héllo\nsecond\n"
    assert render(records, timestamps=True) == (
        "2026-01-02T03:04:05.123456789Z héllo\n2026-01-02T03:04:06.000000007Z second\n"
    )
    assert render(records, limit_bytes=9) == "héllo\nse"  # é is two bytes
    assert render(records, limit_bytes=2) == "h"  # never half a character
    assert render(records, limit_bytes=7) == "héllo\n"
    assert render(records, limit_bytes=1000) == "héllo\nsecond\n"
    assert render(records, timestamps=True, limit_bytes=12) == "2026-01-02T0"
    assert render([]) == ""


def test_bad_arguments_raise_value_error_naming_the_value(tmp_path: Path) -> None:
    path = str(tmp_path / "0.log")  # never created: arguments are checked first
    cases: list[tuple[dict[str, object], str]] = [
        ({"tail": -1}, "-1"),
        ({"tail": True}, "True"),
        ({"tail": 1.5}, "1.5"),
        ({"stream": "both"}, "'both'"),
        ({"since": -5}, "-5"),
        ({"since": timedelta(seconds=-1)}, "since"),
        ({"since": "yesterday"}, "'yesterday'"),
        ({"since": datetime(2026, 1, 1)}, "timezone-aware"),
        ({"until": 5}, "until"),
    ]
    for kwargs, text in cases:
        with pytest.raises(ValueError, match=text):
            read_records(path, **kwargs)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match=text):
            check_log_options(**kwargs)  # type: ignore[arg-type]
    for limit in (0, -3, 2.5):
        with pytest.raises(ValueError, match="limit_bytes"):
            check_log_options(limit_bytes=limit)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="limit_bytes"):
            render([], limit_bytes=limit)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="poll_interval"):
        follow(path, is_running=lambda: False, poll_interval=0)


def test_a_missing_log_file_is_not_found_naming_the_path(tmp_path: Path) -> None:
    path = str(tmp_path / "ctr" / "0.log")
    with pytest.raises(NotFoundError, match=re.escape(f"log file {path} does not exist")):
        read_records(path)
    with pytest.raises(NotFoundError, match=re.escape(f"log file {path} does not exist")):
        follow(path, is_running=lambda: False)


def test_previous_log_path_is_the_attempt_before() -> None:
    assert previous_log_path("/var/log/pods/p/web/2.log", 2) == "/var/log/pods/p/web/1.log"
    with pytest.raises(NotFoundError, match=re.escape("no previous attempt's log: /x/web/0.log")):
        previous_log_path("/x/web/0.log", 0)


# --- following ---------------------------------------------------------------------


class Script:
    """``is_running`` for follow(): each time the follower is idle it runs the next
    step (and the container is "running"); when the steps are done it has stopped.
    The follower's timing then cannot change the outcome."""

    def __init__(self, *steps: Callable[[], object]) -> None:
        self.steps = list(steps)
        self.calls = 0

    def __call__(self) -> bool:
        self.calls += 1
        if not self.steps:
            return False
        self.steps.pop(0)()
        return True


def append(path: Path, *lines: bytes) -> Callable[[], None]:
    def step() -> None:
        with open(path, "ab") as file:
            file.write(b"".join(lines))

    return step


def test_follow_starts_with_the_content_then_waits_for_more_and_ends(tmp_path: Path) -> None:
    log = tmp_path / "0.log"
    write(log, cri(0, "one"), cri(1, "two", "stderr"))
    script = Script(
        append(log, cri(2, "three")),
        lambda: None,  # a poll with nothing new
        append(log, cri(3, "four", tag="P")),
        append(log, cri(4, " and more")),
        append(log, cri(5, "cut short: the container died", tag="P")),
    )
    lines = list(follow(str(log), is_running=script, poll_interval=0.001))
    assert lines == [
        "one\n",
        "two\n",
        "three\n",
        "four and more\n",
        "cut short: the container died\n",
    ]
    assert script.calls == 6  # one "not running", then one more quiet poll, then the end


def test_follow_reads_data_that_arrives_after_the_container_stopped(tmp_path: Path) -> None:
    log = tmp_path / "0.log"
    write(log)
    late = [append(log, cri(0, "late but whole"))]

    def stopped() -> bool:
        while late:
            late.pop()()  # written while the follower waits its one more poll
        return False

    assert list(follow(str(log), is_running=stopped, poll_interval=0.001)) == ["late but whole\n"]


def test_follow_waits_for_the_rest_of_a_line_being_written(tmp_path: Path) -> None:
    log = tmp_path / "0.log"
    record_bytes = cri(0, "written in two pieces")
    write(log, cri(0, "before"), record_bytes[:20])
    script = Script(append(log, record_bytes[20:]))
    assert list(follow(str(log), is_running=script, poll_interval=0.001)) == [
        "before\n",
        "written in two pieces\n",
    ]


def test_follow_with_tail_since_stream_timestamps_and_limit(tmp_path: Path) -> None:
    log = tmp_path / "0.log"

    def run(**kwargs: object) -> list[str]:
        """Ten lines there, two more written while following (odd ones on stderr)."""
        write(log, *(cri(i, f"line {i}", "stderr" if i % 2 else "stdout") for i in range(10)))
        script = Script(append(log, cri(10, "line 10"), cri(11, "line 11", "stderr")))
        options: dict[str, Any] = {"is_running": script, "poll_interval": 0.001, **kwargs}
        return list(follow(str(log), **options))

    assert run(tail=2) == ["line 8\n", "line 9\n", "line 10\n", "line 11\n"]
    assert run(tail=0) == ["line 10\n", "line 11\n"]
    assert run(tail=2, stream="stderr") == ["line 7\n", "line 9\n", "line 11\n"]
    assert run(since=at(9)) == ["line 9\n", "line 10\n", "line 11\n"]
    assert run(tail=1, timestamps=True) == [
        "2026-01-02T03:04:14.000000000Z line 9\n",
        "2026-01-02T03:04:15.000000000Z line 10\n",
        "2026-01-02T03:04:16.000000000Z line 11\n",
    ]
    assert run(tail=1, limit_bytes=10) == ["line 9\n", "lin"]
    assert run(limit_bytes=14) == ["line 0\n", "line 1\n"]


def test_follow_after_a_truncation_reads_the_file_again(tmp_path: Path) -> None:
    log = tmp_path / "0.log"
    write(log, cri(0, "before copytruncate"), cri(1, "and more"))
    script = Script(lambda: write(log, cri(2, "after")))
    assert list(follow(str(log), is_running=script, poll_interval=0.001)) == [
        "before copytruncate\n",
        "and more\n",
        "after\n",
    ]


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def test_closing_the_iterator_releases_its_files(tmp_path: Path) -> None:
    log = tmp_path / "0.log"
    write(log.with_name("0.log.1"), cri(0, "rotated"))
    write(log, cri(1, "current"))
    before = open_fds()
    lines = follow(str(log), is_running=lambda: True, poll_interval=0.001)
    assert open_fds() == before  # nothing is open before the first next()
    assert next(lines) == "rotated\n"
    assert open_fds() != before
    assert next(lines) == "current\n"
    lines.close()
    assert open_fds() == before
    unused = follow(str(log), is_running=lambda: True, limit_bytes=5)
    unused.close()
    assert open_fds() == before


def test_another_thread_closes_a_follower_waiting_on_a_quiet_log(tmp_path: Path) -> None:
    """A reader blocked in next() (the log is quiet, the container runs) ends with
    StopIteration when another thread closes the stream, and the files are closed."""
    log = tmp_path / "0.log"
    write(log, cri(0, "only line"))
    before = open_fds()
    lines = follow(str(log), is_running=lambda: True, poll_interval=3600)
    assert next(lines) == "only line\n"
    waiting, ended = threading.Event(), threading.Event()
    read: list[str] = []

    def reader() -> None:
        waiting.set()
        read.extend(lines)  # blocks: nothing more is written
        ended.set()

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    assert waiting.wait(5)
    assert not ended.wait(0.3)  # it does wait for more
    with pytest.raises(RuntimeError, match="another thread is already reading"):
        next(lines)
    lines.close()  # from this thread, while the reader waits in next()
    thread.join(30)
    assert ended.is_set() and read == []
    assert open_fds() == before
    with pytest.raises(StopIteration):
        next(lines)
    lines.close()  # again: nothing to do


def test_a_follower_closed_between_lines_ends_and_works_as_a_context_manager(
    tmp_path: Path,
) -> None:
    log = tmp_path / "0.log"
    write(log, cri(0, "one"), cri(1, "two"))
    before = open_fds()
    with follow(str(log), is_running=lambda: True, poll_interval=3600) as lines:
        assert next(lines) == "one\n"
    assert open_fds() == before
    assert list(lines) == []


def test_another_task_closes_an_async_follower_waiting_on_a_quiet_log(tmp_path: Path) -> None:
    """The asyncio twin: ``aclose()`` from another task ends a pending ``__anext__``."""
    log = tmp_path / "0.log"
    write(log, cri(0, "only line"))
    before = open_fds()

    async def running() -> bool:
        return True

    async def scenario() -> list[str]:
        lines = follow_async(str(log), is_running=running, poll_interval=3600)
        assert await lines.__anext__() == "only line\n"
        reader = asyncio.create_task(collect(lines))
        await asyncio.sleep(0.3)
        assert not reader.done()  # it does wait for more
        with pytest.raises(RuntimeError, match="another task is already reading"):
            await lines.__anext__()
        await lines.aclose()
        read = await asyncio.wait_for(reader, 30)
        with pytest.raises(StopAsyncIteration):
            await lines.__anext__()
        async with follow_async(str(log), is_running=running) as other:
            assert await other.__anext__() == "only line\n"
        return read

    async def collect(lines: Any) -> list[str]:
        return [line async for line in lines]

    assert asyncio.run(scenario()) == []
    assert open_fds() == before


def test_follow_survives_rotation_by_a_writer_thread(tmp_path: Path) -> None:
    """The writer does what containerd and kubelet do: rename the log, keep writing to
    the renamed file until the runtime reopens, then write to a new file; later a
    rotation without that delay. Nothing may be lost or repeated, and following ends once
    the writer is done."""
    log = tmp_path / "0.log"
    total = 600
    done = threading.Event()
    deadline = time.monotonic() + 60  # a stuck follower fails on values, not by hanging

    def writer() -> None:
        out = open(log, "ab", buffering=0)  # noqa: SIM115
        try:
            for i in range(1, total + 1):
                if i == 150:
                    os.rename(log, log.with_name("0.log.1"))  # still written until reopened
                if i == 170:
                    out.close()
                    out = open(log, "ab", buffering=0)  # noqa: SIM115
                if i == 400:  # logrotate: .1 becomes .2
                    os.rename(log.with_name("0.log.1"), log.with_name("0.log.2"))
                    os.rename(log, log.with_name("0.log.1"))
                    out.close()
                    out = open(log, "ab", buffering=0)  # noqa: SIM115
                if i % 50 == 0:
                    out.write(cri(i, f"line {i} begins", tag="P"))
                    time.sleep(0.002)
                    out.write(cri(i, f", ends {i}"))
                else:
                    out.write(cri(i, f"line {i}", "stderr" if i % 7 == 0 else "stdout"))
                if i % 25 == 0:
                    time.sleep(0.01)
        finally:
            out.close()
            done.set()

    write(log, cri(0, "line 0"))
    thread = threading.Thread(target=writer)
    thread.start()
    try:
        lines = list(
            follow(
                str(log),
                is_running=lambda: not done.is_set() and time.monotonic() < deadline,
                poll_interval=0.005,
            )
        )
    finally:
        thread.join()
    expected = [
        f"line {i} begins, ends {i}\n" if i and i % 50 == 0 else f"line {i}\n"
        for i in range(total + 1)
    ]
    assert lines == expected
    # The same content read afterwards, across the two rotated files.
    assert render(read_records(str(log))) == "".join(expected)
    assert render(read_records(str(log), tail=300)) == "".join(expected[-300:])


def test_follow_of_a_file_renamed_away_and_never_replaced_ends(tmp_path: Path) -> None:
    log = tmp_path / "0.log"
    write(log, cri(0, "one"))
    moved = tmp_path / "0.log.1"
    script = Script(lambda: log.rename(moved), append(moved, cri(1, "two")))
    assert list(follow(str(log), is_running=script, poll_interval=0.001)) == ["one\n", "two\n"]
